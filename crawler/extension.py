"""The archive extension: Scrapy's signals turned into calls of the Recorder (archive/recorder.py).

It listens to ``signals.response_downloaded``, which fires before any downloader middleware's
``process_response``: the body is still content-encoded as sent (Scrapy's decompression is
replaced, see the add-on) and every retried or redirected response is seen, so the WARC holds all
of them. A spider callback would see only the final response of each request, after middlewares;
that is why captures are not Scrapy items (README, "Design").
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload
from scrapy.http import Request, Response

from archive import vocab as v
from archive.capture import request_key
from archive.ingest import IngestDied
from archive.paths import data_dir
from archive.recorder import CrawlConfig, Recorder
from archive.soft404 import is_probe
from archive.warc import Exchange, warc_date
from pipelines.links import Discovery

from . import signals as ga_signals
from .discovery import discovery, rendered_discovery
from .handler import wire_extras
from .state import archive_state

logger = logging.getLogger(__name__)
ROBOTS_EXAMPLES = 3  # forbidden URLs the crawl's report names (robots.txt forbade them all: Scrapy counts)


def _latin1(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def headers_list(headers) -> list[tuple[str, str]]:  # noqa: ANN001 - scrapy Headers
    """Every header value (repeated Set-Cookie included), decoded as latin-1."""
    return [(_latin1(key), _latin1(value)) for key in headers.keys() for value in headers.getlist(key)]


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
        protocol=response.protocol or "HTTP/1.1", truncated=truncated, date=warc_date(), reason=reason)


def site_of(spider) -> str:  # noqa: ANN001
    """The site a crawl is for: the setting, else the first start URL's host."""
    urls = list(getattr(spider, "start_urls", []))
    return spider.settings.get("GOVARCHIVE_SITE") or (urlsplit(urls[0]).netloc if urls else "unknown")


class ArchiveExtension:
    """Every fetch to the Recorder; where each leads back to the spider (``govarchive_discovery``)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("GOVARCHIVE_ENABLED"):
            raise NotConfigured("GOVARCHIVE_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.data = data_dir(settings.get("GOVARCHIVE_DATA"))
        self.max_bytes = settings.getint("GOVARCHIVE_MAX_BYTES")
        self.max_list_pages = settings.getint("GOVARCHIVE_MAX_LIST_PAGES")
        self.recorder: Recorder | None = None
        self.latency: dict[str, list[float]] = {}  # host -> [total seconds, responses, slowest]
        self._received: dict[int, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveExtension:
        ext = cls(crawler)
        connect = crawler.signals.connect
        connect(ext.spider_opened, signal=signals.spider_opened)
        connect(ext.spider_closed, signal=signals.spider_closed)
        connect(ext.response_downloaded, signal=signals.response_downloaded)
        connect(ext.request_scheduled, signal=signals.request_scheduled)
        connect(ext.fetch_failed, signal=ga_signals.fetch_failed)
        connect(ext.browser_response, signal=ga_signals.browser_response)
        if ext.max_bytes:
            connect(ext.bytes_received, signal=signals.bytes_received)
        return ext

    def config(self, spider) -> CrawlConfig:  # noqa: ANN001
        s = self.crawler.settings
        scope = spider.scope.to_dict() if getattr(spider, "scope", None) is not None else None
        return CrawlConfig(
            site=site_of(spider), start_urls=s.getlist("GOVARCHIVE_START_URLS") or list(spider.start_urls),
            scope=scope, overrides=s.getdict("GOVARCHIVE_EXTRACT_OVERRIDES"), crawl_id=s.get("GOVARCHIVE_CRAWL_ID"),
            prefix=s.get("GOVARCHIVE_WARC_PREFIX"), max_size=s.getint("GOVARCHIVE_WARC_MAX_SIZE"),
            error_crawls=s.getint("GOVARCHIVE_ERROR_CRAWLS"), ingest_process=s.getbool("GOVARCHIVE_INGEST_PROCESS"),
            info={"operator": s.get("GOVARCHIVE_CONTACT") or "",
                  "robots": "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore",
                  "http-header-user-agent": s.get("USER_AGENT"),
                  "crawl-settings": {"concurrency": s.getint("CONCURRENT_REQUESTS"),
                                     "per-host": s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                                     "autothrottle": s.getbool("AUTOTHROTTLE_ENABLED"),
                                     "download-timeout": s.getint("DOWNLOAD_TIMEOUT"),
                                     "max-size": s.getint("DOWNLOAD_MAXSIZE"), "depth-limit": s.getint("DEPTH_LIMIT")}})

    # -- lifecycle ----------------------------------------------------------------
    def spider_opened(self, spider) -> None:  # noqa: ANN001
        self.recorder = Recorder(self.data, self.config(spider), archive_state(self.crawler))
        try:
            crawl_id = self.recorder.open()
        except IngestDied as exc:
            self._stop(exc)
            return
        if self.recorder.resumed:
            self.stats.set_value(v.STAT_RESUMED, self.recorder.resumed)
        self.stats.set_value(v.STAT_CRAWL_ID, crawl_id)

    def spider_closed(self, spider, reason: str) -> None:  # noqa: ANN001
        if self.recorder is None or self.recorder.writer is None:
            return
        self.stats.set_value(v.STAT_SLOWEST, self.slowest_hosts())
        summary = {k: val for k, val in self.stats.get_stats().items()
                   if isinstance(val, int | float | str | list) and not k.startswith("log_count")}
        counts = self.recorder.close(reason, summary)
        for kind, n in counts.items():
            if kind == "stand_ins":  # pages a wall, an error page, nothing answered for (200): by error kind
                for error, pages in n.items():
                    self.stats.inc_value(v.STAT_ERRORS.format(error), pages)
            elif kind != "ingest_errors":
                self.stats.set_value(v.STAT_EVENTS.format(kind), n)
        if counts.get("ingest_errors"):
            self.stats.set_value(v.STAT_INGEST_ERRORS, counts["ingest_errors"])
        if self.recorder.fatal:
            self.stats.set_value(v.STAT_FATAL, self.recorder.fatal)
        self.stats.set_value(v.STAT_WARC_BYTES, self.recorder.writer.bytes_written)
        self.stats.set_value(v.STAT_WARC_FILES, list(self.recorder.writer.files))

    def _stop(self, exc: IngestDied) -> None:
        """The history writer died: one clear line, and the crawl stops (its WARCs stay resumable)."""
        logger.error("%s", exc)
        self.stats.set_value(v.STAT_FATAL, str(exc))
        from twisted.internet import reactor

        reactor.callLater(0, self.crawler.engine.close_spider, self.crawler.spider, "ingest_failed")

    # -- signals ------------------------------------------------------------------
    def bytes_received(self, data: bytes, request: Request, spider) -> None:  # noqa: ANN001
        """Stop an oversize download and keep what came: it is archived with WARC-Truncated."""
        key = id(request)
        total = self._received.get(key, 0) + len(data)
        self._received[key] = total
        if total > self.max_bytes:
            self._received.pop(key, None)
            self.stats.inc_value(v.STAT_ERRORS.format("too_large"))
            raise StopDownload(fail=False)

    def _recorder(self, meta: dict) -> Recorder | None:
        """The recorder of the crawl a request belongs to (one here; a cluster worker has several)."""
        return self.recorder

    def request_scheduled(self, request: Request, spider) -> None:  # noqa: ANN001
        """Keep the frontier: a killed crawl resumes from it."""
        self._call(self.recorder, "enqueue", request_key(request.url, request.method, request.body),
                   request.meta.get("depth", 0))

    def response_downloaded(self, response: Response, request: Request, spider) -> None:  # noqa: ANN001
        self._received.pop(id(request), None)
        if "cached" in response.flags:
            return
        recorder = self._recorder(request.meta)
        if recorder is None or recorder.writer is None:
            return
        if "playwright" in response.flags:
            # A page as the browser rendered it: not what a server sent (what it sent is archived
            # from the browser's own responses, see browser_response); only its links matter.
            request.meta["govarchive_discovery"] = rendered_discovery(
                response.text, response.url, request.meta.get("govarchive_browser_links", []))
            return
        ex = exchange_from(response, request)
        self._note_latency(ex.url, request.meta.get("download_latency"))
        request.meta["govarchive_discovery"] = self._archive(recorder, ex, request.meta)

    def browser_response(self, exchange: Exchange, request: Request | None = None) -> Discovery:
        """Archive one response the browser received while rendering ``request``'s page; return
        where it leads."""
        recorder = self._recorder(request.meta if request is not None else {})
        if recorder is None or recorder.writer is None:
            return Discovery()
        self.stats.inc_value(v.STAT_RENDER.format("responses"))
        return self._archive(recorder, exchange, {})

    def fetch_failed(self, request: Request, exception: BaseException) -> None:
        """A download that failed for good (after retries): archived as a metadata record. A URL
        robots.txt forbids is nothing to archive, and is said: the first few, for the crawl's report."""
        if isinstance(exception, IgnoreRequest) and "robots.txt" in str(exception):
            forbidden = self.stats.get_value(v.STAT_ROBOTS_FORBIDDEN) or []
            if len(forbidden) < ROBOTS_EXAMPLES and not is_probe(request.url):  # (the soft-404 probe: ours)
                self.stats.set_value(v.STAT_ROBOTS_FORBIDDEN, [*forbidden, request.url])
        recorder = self._recorder(request.meta)
        if recorder is None or recorder.writer is None or isinstance(exception, IgnoreRequest):
            return
        kind = v.classify_exception(exception)
        self.stats.inc_value(v.STAT_ERRORS.format(kind))
        self._call(recorder, "record_failure", request.url, request.method, request.body, kind,
                   f"{type(exception).__name__}: {exception}")

    def _archive(self, recorder: Recorder, ex: Exchange, meta: dict) -> Discovery:
        cap = self._call(recorder, "record", ex)
        if cap is None:
            return Discovery()
        self.stats.inc_value(v.STAT_RECORDS.format(cap.record_type))
        return discovery(cap, meta, recorder.state, self.max_list_pages)

    def _call(self, recorder: Recorder | None, method: str, *args: object):  # noqa: ANN202
        """Call the recorder; if its history writer died, stop the crawl once."""
        if recorder is None or recorder.fatal is not None:
            return None
        try:
            return getattr(recorder, method)(*args)
        except IngestDied as exc:
            self._stop(exc)
            return None

    # -- the crawl report -----------------------------------------------------------
    def _note_latency(self, url: str, seconds: float | None) -> None:
        if seconds is None:
            return
        entry = self.latency.setdefault(urlsplit(url).netloc, [0.0, 0, 0.0])
        entry[0] += seconds
        entry[1] += 1
        entry[2] = max(entry[2], seconds)

    def slowest_hosts(self, n: int = 5) -> list[dict]:
        """Hosts by mean response time, slowest first (for the crawl report)."""
        rows = [{"host": h, "mean_s": round(t / c, 3), "max_s": round(m, 3), "responses": c}
                for h, (t, c, m) in self.latency.items() if c]
        return sorted(rows, key=lambda r: r["mean_s"], reverse=True)[:n]


