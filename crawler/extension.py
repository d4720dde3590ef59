"""The archive extension: every downloaded response goes to the WARC, then into the history.

It listens to ``signals.response_downloaded``, which fires before any downloader middleware's
``process_response``: the body is still content-encoded as sent (HttpCompressionMiddleware, 590,
has not run) and every retried or redirected response is seen, so the WARC holds all of them.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
from collections import Counter
from datetime import UTC, datetime

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload
from scrapy.http import Request, Response

from archive import __version__, frontier
from archive.capture import (
    DecodeError,
    decode_content,
    header,
    is_robots,
    payload_digest,
    request_key,
    to_capture,
)
from archive.db import data_dir, open_db, warc_dir
from archive.history import Capture, History
from archive.ingest import IngestDied, IngestProcess, InlineIngest
from archive.reindex import catch_up
from archive.warc import (
    IDENTICAL_PAYLOAD,
    SERVER_NOT_MODIFIED,
    Exchange,
    WarcWriter,
    repair_open_files,
    warc_date,
)
from pipelines.decode import decode_html
from pipelines.links import Discovery, html_discovery, page_discovery, sitemap_urls
from pipelines.pager import discover

from .handler import wire_extras
from .render import BROWSER_RESPONSE

logger = logging.getLogger(__name__)


def _latin1(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def headers_list(headers) -> list[tuple[str, str]]:  # noqa: ANN001 - scrapy Headers
    """Every header value (repeated Set-Cookie included), decoded as latin-1."""
    out = []
    for key in headers.keys():
        for value in headers.getlist(key):
            out.append((_latin1(key), _latin1(value)))
    return out


def exchange_from(response: Response, request: Request) -> Exchange:
    """Build the on-the-wire Exchange of a Scrapy response (body still content-encoded)."""
    truncated = None
    if "dataloss" in response.flags or "partial" in response.flags:
        truncated = "disconnect"
    elif "download_stopped" in response.flags:
        truncated = "length"
    reason, conn = wire_extras(response)
    return Exchange(
        url=response.url, status=response.status, response_headers=headers_list(response.headers) + conn,
        payload=response.body, method=request.method, request_headers=headers_list(request.headers),
        request_body=request.body or b"", ip_address=str(response.ip_address) if response.ip_address else None,
        protocol=response.protocol or "HTTP/1.1", truncated=truncated, date=warc_date(),
        reason=reason)


def site_of(spider) -> str:  # noqa: ANN001
    """The site a crawl is for: the setting, else the first start URL's host."""
    from urllib.parse import urlsplit

    name = spider.settings.get("GOVARCHIVE_SITE")
    urls = list(getattr(spider, "start_urls", []))
    return name or (urlsplit(urls[0]).netloc if urls else "unknown")


def classify_failure(exc: BaseException) -> str:
    """Name a download failure the way `govarchive history` shows it."""
    name = type(exc).__name__
    text = str(exc).lower()
    if "timeout" in name.lower() or "timed out" in text:
        return "timeout"
    if "maxsize" in text or "exceeds" in text and "size" in text:
        return "too_large"
    if "dns" in name.lower():
        return "dns_error"
    if name in ("ConnectionRefusedError",) or "refused" in text:
        return "connection_refused"
    if name in ("ResponseFailed", "ConnectionLost", "PotentialDataLoss", "ConnectionDone",
                "ResponseNeverReceived", "ConnectionAborted"):
        return "connection_lost"
    return "fetch_error"


class ArchiveExtension:
    """Write WARC records for every fetch and feed the SQLite history from them."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("GOVARCHIVE_ENABLED", True):
            raise NotConfigured("GOVARCHIVE_ENABLED is off")
        self.crawler = crawler
        self.data = data_dir(settings.get("GOVARCHIVE_DATA"))
        self.crawl_id = settings.get("GOVARCHIVE_CRAWL_ID") or (
            datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3))
        self.site = settings.get("GOVARCHIVE_SITE")
        self.start_urls = settings.getlist("GOVARCHIVE_START_URLS")
        self.overrides = settings.getdict("GOVARCHIVE_EXTRACT_OVERRIDES")
        self.prefix = settings.get("GOVARCHIVE_WARC_PREFIX", "govarchive")
        self.max_size = settings.getint("GOVARCHIVE_WARC_MAX_SIZE", 1_000_000_000)
        self.max_bytes = settings.getint("GOVARCHIVE_MAX_BYTES", 32 * 1024 * 1024)
        self._received: dict[int, int] = {}
        self.error_crawls = settings.getint("GOVARCHIVE_ERROR_CRAWLS", 3)
        self.events: Counter[str] = Counter()
        self.latency: dict[str, list[float]] = {}  # host -> [total seconds, responses, slowest]
        self.db = None  # read-only use here: the ingest writer owns the writes
        self.ingest: IngestProcess | InlineIngest | None = None
        self.writer: WarcWriter | None = None
        self.digests: dict[str, tuple[str, str]] = {}
        self.fatal: str | None = None  # why the crawl had to stop (the history writer died)
        self.max_list_pages = settings.getint("GOVARCHIVE_MAX_LIST_PAGES", 500)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.browser_response, signal=BROWSER_RESPONSE)
        if ext.max_bytes:
            crawler.signals.connect(ext.bytes_received, signal=signals.bytes_received)
        return ext

    def bytes_received(self, data: bytes, request: Request, spider) -> None:  # noqa: ANN001
        """Stop an oversize download and keep what came: it is archived with WARC-Truncated."""
        key = id(request)
        total = self._received.get(key, 0) + len(data)
        self._received[key] = total
        if total > self.max_bytes:
            self._received.pop(key, None)
            self.crawler.stats.inc_value("govarchive/errors/too_large")
            raise StopDownload(fail=False)

    # -- lifecycle ----------------------------------------------------------
    def spider_opened(self, spider) -> None:  # noqa: ANN001
        wdir = warc_dir(self.data)
        for name, cut in repair_open_files(wdir) if wdir.exists() else []:
            logger.warning("repaired %s: cut %d bytes of an unfinished record", name, cut)
        self.db = open_db(self.data)
        self.site = self.site or site_of(spider)
        self.start_urls = self.start_urls or list(getattr(spider, "start_urls", []))
        resumed = frontier.unfinished_crawl(self.db, self.site)
        if resumed and not self.crawler.settings.get("GOVARCHIVE_CRAWL_ID"):
            logger.warning("resuming crawl %s of %s, which did not finish", resumed, self.site)
            self.crawl_id = resumed
            self.crawler.stats.set_value("govarchive/resumed", resumed)
            # What the WARCs hold and the history never received (in flight when it was killed).
            caught = catch_up(self.data, self.db, resumed)
            if caught:
                logger.warning("recorded %d captures of crawl %s from its WARC files", caught, resumed)
        for digest, url, date in self.db.execute(
                "SELECT payload_digest, url, fetched_at FROM captures WHERE record_type = 'response' "
                "AND status IS NOT NULL AND payload_digest IS NOT NULL"):
            self.digests.setdefault(digest, (url, date))
        s = self.crawler.settings
        scope = spider.scope.to_dict() if getattr(spider, "scope", None) is not None else None
        info = {"operator": s.get("GOVARCHIVE_OPERATOR", ""), "isPartOf": self.crawl_id,
                "govarchive-scope": scope or "",
                "govarchive-extract": self.overrides or "",
                "govarchive-crawl-id": self.crawl_id, "govarchive-site": self.site or "",
                "robots": "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore",
                "http-header-user-agent": s.get("USER_AGENT"),
                "start-urls": self.start_urls,
                "crawl-settings": {"concurrency": s.getint("CONCURRENT_REQUESTS"),
                                   "per-host": s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                                   "autothrottle": s.getbool("AUTOTHROTTLE_ENABLED"),
                                   "download-timeout": s.getint("DOWNLOAD_TIMEOUT"),
                                   "max-size": s.getint("DOWNLOAD_MAXSIZE"),
                                   "depth-limit": s.getint("DEPTH_LIMIT")}}
        self.writer = WarcWriter(wdir, prefix=self.prefix, max_size=self.max_size, info=info,
                                 host=socket.gethostname())
        started = self.writer.open().date  # the warcinfo's date: a rebuild dates the crawl the same
        if s.getbool("GOVARCHIVE_INGEST_PROCESS", True):
            self.ingest = IngestProcess(self.data, self.error_crawls)
        else:
            self.ingest = InlineIngest(self.data, self.error_crawls)
        # The crawl is in the database before anything else happens: if the history writer dies
        # at once, the next run still finds this crawl unfinished and resumes it.
        History(self.db).begin_crawl(self.crawl_id, started, self.site, self.start_urls, scope)
        self._hand_over("begin", self.crawl_id, started, self.site, self.start_urls, scope)

    def _hand_over(self, *msg: object) -> None:
        """Give the history writer a message; if it died, stop the crawl (once) with one clear line."""
        if self.fatal is not None:
            return
        try:
            self.ingest.put(*msg)
        except IngestDied as exc:
            self.fatal = str(exc)
            logger.error("%s", exc)
            self.crawler.stats.set_value("govarchive/fatal", self.fatal)
            self.ingest.abandon()
            from twisted.internet import reactor

            reactor.callLater(0, self.crawler.engine.close_spider, self.crawler.spider, "ingest_failed")

    def spider_closed(self, spider, reason: str) -> None:  # noqa: ANN001
        if self.writer is None or self.ingest is None:
            return
        if self.fatal is not None:
            # No crawl-end record: the crawl stays unfinished, in the WARCs as in the database,
            # and the next run of it resumes.
            self.writer.close()
            self.db.conn.close()
            return
        stats = self.crawler.stats
        if stats:
            stats.set_value("govarchive/slowest_hosts", self.slowest_hosts())
        summary = {k: v for k, v in (stats.get_stats() if stats else {}).items()
                   if isinstance(v, int | float | str | list) and not k.startswith("log_count")}
        # The end record's own date dates the crawl's settled events, so a rebuild from the WARCs
        # dates them identically; it is written once the history holds the crawl, never before.
        ended = warc_date()
        try:
            counts = self.ingest.finish(self.crawl_id, ended, reason, summary)
        except IngestDied as exc:
            self.fatal = str(exc)
            stats.set_value("govarchive/fatal", self.fatal)
            self.writer.close()
            self.db.conn.close()
            return
        self.writer.write_metadata(f"urn:govarchive:crawl:{self.crawl_id}",
                                   {"govarchive": "crawl-end", "crawl_id": self.crawl_id, "reason": reason,
                                    "stats": summary}, extra={"WARC-Date": ended})
        for kind, n in counts.items():
            self.events[kind] += n
            if stats and kind != "ingest_errors":
                stats.set_value(f"govarchive/events/{kind}", n)
        if stats and counts.get("ingest_errors"):
            stats.set_value("govarchive/ingest_errors", counts["ingest_errors"])
        self.writer.close()
        if stats:
            stats.set_value("govarchive/crawl_id", self.crawl_id)
            stats.set_value("govarchive/warc_bytes", self.writer.bytes_written)
            stats.set_value("govarchive/warc_files", list(self.writer.files))
        self.db.conn.close()

    def _note_latency(self, url: str, seconds: float | None) -> None:
        if seconds is None:
            return
        from urllib.parse import urlsplit

        entry = self.latency.setdefault(urlsplit(url).netloc, [0.0, 0, 0.0])
        entry[0] += seconds
        entry[1] += 1
        entry[2] = max(entry[2], seconds)

    def slowest_hosts(self, n: int = 5) -> list[dict]:
        """Hosts by mean response time, slowest first (for the crawl report)."""
        rows = [{"host": h, "mean_s": round(t / c, 3), "max_s": round(m, 3), "responses": c}
                for h, (t, c, m) in self.latency.items() if c]
        return sorted(rows, key=lambda r: r["mean_s"], reverse=True)[:n]

    def request_scheduled(self, request: Request, spider) -> None:  # noqa: ANN001
        """Keep the frontier in the database: a killed crawl resumes from it."""
        if self.ingest is not None:
            self._hand_over("enqueue", self.crawl_id, request.url, request.meta.get("depth", 0))

    # -- captures -----------------------------------------------------------
    def response_downloaded(self, response: Response, request: Request, spider) -> None:  # noqa: ANN001
        self._received.pop(id(request), None)
        if "cached" in response.flags or self.writer is None:
            return
        if "playwright" in response.flags:
            # A page as the browser rendered it: not what a server sent (what it sent was archived
            # from the browser's own responses, see browser_response); only its links matter.
            found = html_discovery(response.text, response.url)
            found.links = list(dict.fromkeys(found.links + request.meta.get("govarchive_browser_links", [])))
            request.meta["govarchive_discovery"] = found
            return
        ex = exchange_from(response, request)
        self._note_latency(ex.url, request.meta.get("download_latency"))
        request.meta["govarchive_discovery"] = self._archive(ex, request.meta)

    def browser_response(self, exchange: Exchange) -> Discovery:
        """Archive one response the browser received while rendering a page; return where it leads."""
        if self.writer is None:
            return Discovery()
        self.crawler.stats.inc_value("govarchive/render/responses")
        return self._archive(exchange, {})

    def _archive(self, ex: Exchange, meta: dict) -> Discovery:
        """Write one exchange to the WARC (a revisit when unchanged or already stored), hand it to the
        history, and return what it leads to."""
        record_type, refers = "response", None
        digest = payload_digest(ex.payload)
        if ex.status == 304:
            # The capture the validators came from (the newest with content), as the middleware sent them.
            prior = self.db.execute(
                "SELECT url, fetched_at, payload_digest FROM captures WHERE url = ? AND version_id IS NOT NULL "
                "AND status = 200 ORDER BY id DESC LIMIT 1",
                [request_key(ex.url, ex.method, ex.request_body)]).fetchone()
            ref = self.writer.write_revisit(ex, SERVER_NOT_MODIFIED, prior[2] if prior else None,
                                            prior[0] if prior else None, prior[1] if prior else None)
            record_type = "revisit"
        elif ex.payload and digest in self.digests and not ex.truncated:  # any status: a 404 page too
            refers = self.digests[digest]
            ref = self.writer.write_revisit(ex, IDENTICAL_PAYLOAD, digest, refers[0], refers[1])
            record_type = "revisit"
        else:
            ref = self.writer.write_exchange(ex)
            if ex.payload and not ex.truncated:
                self.digests.setdefault(digest, (ex.url, ref.date))
        self.crawler.stats.inc_value(f"govarchive/records/{record_type}")
        if is_robots(ex.url):  # archived, not a page of the history; its Sitemap: lines lead on
            try:
                body = b"" if ex.truncated else decode_content(
                    ex.payload, header(ex.response_headers, "Content-Encoding"), limit=1024 * 1024)
            except DecodeError:
                body = b""
            return Discovery(links=sitemap_urls(body, ex.url) or [])
        cap = to_capture(ex, ref, self.crawl_id, record_type=record_type,
                         payload=ex.payload if refers else None, site=self.site, overrides=self.overrides)
        if refers:
            cap.payload_digest = digest
        found = self._discovery(cap, meta)
        self._hand_over("capture", cap)
        return found

    def _discovery(self, cap: Capture, meta: dict) -> Discovery:
        """What the spider follows: the page's links (its list's other pages included), or the stored
        ones when the server said 304; for a pager script fetched for a list page, the pages that
        running it with the page's own scripts writes."""
        if cap.payload is not None and cap.status == 200 and not cap.error:
            try:
                page_html = meta.get("govarchive_pager_html")
                if page_html is not None:  # this payload is the script a list page's pager needs
                    script = decode_html(cap.payload, "text/javascript; charset=utf-8")[0]
                    pager = discover(page_html, meta["govarchive_pager_for"], extra_scripts=[script])
                    return Discovery(links=pager.pages, posts=pager.posts, pager=pager)
                found = page_discovery(cap.payload, cap.url, cap.content_type, self.max_list_pages)
                if found.scripts or found.render:
                    meta["govarchive_html"] = decode_html(cap.payload, cap.content_type)[0]
                return found
            except Exception:  # noqa: BLE001 - a page whose links cannot be read still gets archived
                logger.warning("could not read the links of %s", cap.url, exc_info=True)
                return Discovery()
        if cap.status == 304:
            # Unchanged: only lists and home pages lead anywhere new (a document's links are known
            # pages, rechecked anyway).
            row = self.db.execute("SELECT v.links FROM pages p JOIN versions v ON v.id = p.current_version "
                                  "WHERE p.url = ? AND v.kind IN ('list', 'home')", [cap.url]).fetchone()
            return Discovery(links=json.loads(row[0] or "[]") if row else [])
        return Discovery()

    def record_failure(self, request: Request, exc: BaseException) -> None:
        """Archive a fetch that produced no response (timeout, reset …) as a metadata record."""
        if self.writer is None or isinstance(exc, IgnoreRequest) or is_robots(request.url):
            return
        kind = classify_failure(exc)
        ref = self.writer.write_metadata(request.url, {"govarchive": "fetch-error", "error": kind,
                                                       "detail": f"{type(exc).__name__}: {exc}"[:500],
                                                       "method": request.method,
                                                       "page": request_key(request.url, request.method, request.body)})
        self.crawler.stats.inc_value(f"govarchive/errors/{kind}")
        cap = Capture(url=request_key(request.url, request.method, request.body), fetched_at=ref.date,
                      crawl_id=self.crawl_id, error=kind,
                      record_type="metadata", warc_file=ref.filename, warc_offset=ref.offset,
                      warc_length=ref.length, record_id=ref.record_id, site=self.site)
        self._hand_over("capture", cap)


__all__ = ["ArchiveExtension", "__version__"]
