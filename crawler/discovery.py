"""Where a fetched payload leads: the crawler's use of pipelines/links.py and pipelines/pager.py."""

from __future__ import annotations

import logging

from archive.capture import Capture, DecodeError, decode_content, header, is_robots
from archive.state import ArchiveState
from archive.warc import Exchange
from pipelines.decode import decode_html
from pipelines.links import Discovery, html_discovery, page_discovery, sitemap_urls
from pipelines.pager import discover

log = logging.getLogger(__name__)


def discovery(cap: Capture, meta: dict, state: ArchiveState, max_pages: int) -> Discovery:
    """What the spider follows from a capture: the page's links (its list's other pages included),
    or the stored ones when the server said 304; for a pager script fetched for a list page, the
    pages that running it with the page's own scripts writes; a robots.txt's sitemaps."""
    if is_robots(cap.url):
        return Discovery(links=sitemap_urls(cap.payload or b"", cap.url) or [])
    if cap.payload is not None and cap.status == 200 and not cap.error:
        try:
            page_html = meta.get("govarchive_pager_html")
            if page_html is not None:  # this payload is the script a list page's pager needs
                script = decode_html(cap.payload, "text/javascript; charset=utf-8")[0]
                pager = discover(page_html, meta["govarchive_pager_for"], extra_scripts=[script], max_pages=max_pages)
                return Discovery(links=pager.pages, posts=pager.posts, pager=pager)
            found = page_discovery(cap.payload, cap.url, cap.content_type, max_pages)
            if found.scripts:
                meta["govarchive_html"] = decode_html(cap.payload, cap.content_type)[0]
            return found
        except Exception:  # noqa: BLE001 - a page whose links cannot be read still gets archived
            log.warning("could not read the links of %s", cap.url, exc_info=True)
            return Discovery()
    if cap.status == 304:
        # Unchanged: only lists and home pages lead anywhere new (a document's links are known
        # pages, rechecked anyway).
        return Discovery(links=state.stored_links(cap.url))
    return Discovery()


def response_discovery(ex: Exchange, max_pages: int) -> Discovery:
    """Where a response leads when nothing archived it (the archive extension switched off)."""
    try:
        body = decode_content(ex.payload, header(ex.response_headers, "Content-Encoding"))
    except DecodeError:
        return Discovery()
    if is_robots(ex.url):
        return Discovery(links=sitemap_urls(body, ex.url) or [])
    if ex.status != 200:
        return Discovery()
    return page_discovery(body, ex.url, header(ex.response_headers, "Content-Type"), max_pages)


def rendered_discovery(html: str, url: str, browser_links: list[str]) -> Discovery:
    """A page as the browser rendered it: its links, and those of what the browser fetched."""
    found = html_discovery(html, url)
    found.links = list(dict.fromkeys(found.links + browser_links))
    return found
