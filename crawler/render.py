"""Lists that exist only in a browser: render them in Debian's chromium and archive what it fetched.

A column filled by a script from a JSON API (the Vue/React lists of many 集约化 platforms) has no
links in its HTML. Such a page is fetched again through scrapy-playwright with the system's
chromium (``GOVARCHIVE_CHROMIUM``, never a downloaded browser). Every response the browser gets —
the document, its scripts, the XHR/fetch answers — is archived as a response record with its
request record (``WARC-Concurrent-To``) and fed to the history, as Browsertrix does, so `replay`
shows the rendered list; the JSON answers are lists like any other, whose other pages are then
fetched directly (pipelines/pager.py ``json_pages``). Bounded: one browser per crawl process, a
navigation and idle timeout, ``GOVARCHIVE_MAX_RENDERS`` renders per crawl; images, media and fonts
are never loaded.
"""

from __future__ import annotations

import asyncio
import logging
import shutil

from scrapy import Request
from scrapy.crawler import Crawler

from archive.warc import Exchange, warc_date

from .signals import browser_response

log = logging.getLogger(__name__)

KEEP = frozenset({"document", "xhr", "fetch", "script", "stylesheet", "other"})
SKIP = frozenset({"image", "media", "font"})
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def chromium_path(setting: str | None) -> str | None:
    """The browser to render with: the setting, else Debian's chromium on the PATH."""
    return setting or shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_settings(executable: str, timeout_s: float) -> dict:
    """The scrapy-playwright settings of a crawl that may render."""
    return {"PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": executable, "headless": True, "args": CHROMIUM_ARGS},
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_s * 1000, "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
            "PLAYWRIGHT_ABORT_REQUEST": "crawler.render.abort_request"}


def abort_request(request) -> bool:  # noqa: ANN001 - a playwright Request
    """Images, media and fonts are never loaded: a list renders without them."""
    return request.resource_type in SKIP


def render_request(crawler: Crawler, url: str, callback, errback) -> Request:  # noqa: ANN001
    """A request that renders ``url`` in the browser and archives what the browser fetches; the page
    has GOVARCHIVE_RENDER_TIMEOUT to load and to go quiet (no request for half a second)."""
    from scrapy_playwright.page import PageMethod

    timeout_ms = crawler.settings.getfloat("GOVARCHIVE_RENDER_TIMEOUT") * 1000
    tasks: list[asyncio.Task] = []
    request = Request(url, callback=callback, errback=errback, dont_filter=True, meta={
        "playwright": True, "playwright_include_page": True, "govarchive_unconditional": True,
        "govarchive_rendered": True, "handle_httpstatus_all": True, "govarchive_browser_tasks": tasks,
        "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle", timeout=timeout_ms)]})

    def on_response(response) -> None:  # noqa: ANN001 - a playwright Response
        if response.request.resource_type in KEEP:
            tasks.append(asyncio.ensure_future(_capture(crawler, response, request)))

    request.meta["playwright_page_event_handlers"] = {"response": on_response}
    return request


async def settle(request_meta: dict) -> None:
    """Wait for the browser's responses to be archived, then close its page."""
    tasks = request_meta.get("govarchive_browser_tasks") or []
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    page = request_meta.get("playwright_page")
    if page is not None:
        await page.close()


async def _capture(crawler: Crawler, response, request: Request) -> None:  # noqa: ANN001
    try:
        body = await response.body()
    except Exception:  # noqa: BLE001 - redirects and aborted loads have no body
        body = b""
    try:
        headers = await response.headers_array()
        sent = await response.request.headers_array()
        server = await response.server_addr()
    except Exception:  # noqa: BLE001 - the page closed meanwhile: keep what we have
        return
    ex = Exchange(url=response.url, status=response.status, reason=response.status_text or None,
                  response_headers=browser_headers(headers), payload=body, method=response.request.method,
                  request_headers=[(h["name"], h["value"]) for h in sent if not h["name"].startswith(":")],
                  request_body=response.request.post_data_buffer or b"",
                  ip_address=server["ipAddress"] if server else None, date=warc_date())
    for _, found in crawler.signals.send_catch_log(signal=browser_response, exchange=ex, request=request):
        links = getattr(found, "links", None)
        if links:
            request.meta.setdefault("govarchive_browser_links", []).extend(links)


def browser_headers(headers: list[dict]) -> list[tuple[str, str]]:
    """A browser's response headers for a record of the decoded body it hands over: the encodings
    it undid are kept under X-Orig-* names (the WARC writer sets Content-Length to what is stored)."""
    out = []
    for h in headers:
        name = h["name"]
        low = name.lower()
        if low in ("content-encoding", "transfer-encoding"):
            out.append((f"X-Orig-{name.title()}", h["value"]))
        elif not low.startswith(":"):
            out.append((name, h["value"]))
    return out
