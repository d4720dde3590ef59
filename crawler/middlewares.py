"""Downloader middlewares: conditional requests from the last capture; failures into the archive."""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request

from archive.db import data_dir, open_db


class ConditionalRequestMiddleware:
    """Send If-None-Match / If-Modified-Since from the last full capture of each URL."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider) -> None:  # noqa: ANN001
        path = data_dir(self.crawler.settings.get("GOVARCHIVE_DATA"))
        if not (path / "govarchive.db").exists():
            return
        db = open_db(path)
        try:
            # Validators of the newest 200 capture per URL (304 revisits keep the same validators).
            for url, etag, modified in db.execute(
                    "SELECT url, etag, last_modified FROM captures WHERE id IN "
                    "(SELECT max(id) FROM captures WHERE status = 200 GROUP BY url)"):
                if etag or modified:
                    self.validators[url] = (etag, modified)
        finally:
            db.conn.close()

    def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        if request.meta.get("govarchive_unconditional"):
            return None
        etag, modified = self.validators.get(request.url, (None, None))
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = modified
        if etag or modified:
            self.crawler.stats.inc_value("govarchive/conditional_requests")
        return None


class FailureRecorderMiddleware:
    """Hand a download that failed for good (after retries) to the archive extension."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailureRecorderMiddleware:
        return cls(crawler)

    def _archive(self):  # noqa: ANN202
        from .extension import ArchiveExtension

        for ext in self.crawler.extensions.middlewares:
            if isinstance(ext, ArchiveExtension):
                return ext
        return None

    def process_exception(self, request: Request, exception: BaseException, spider=None):  # noqa: ANN001, ANN201
        ext = self._archive()
        if ext is not None:
            ext.record_failure(request, exception)
        return None
