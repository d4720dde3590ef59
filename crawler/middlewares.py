"""Downloader middlewares: conditional requests from the last capture; failures into the archive."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.http import Request

from archive.capture import request_key
from archive.vocab import (
    BACKOFF_STATUSES,
    STAT_BACKOFFS,
    STAT_CONDITIONAL,
    STAT_ERRORS,
    STAT_MAX_BACKOFF,
    STAT_STAND_INS,
)

from .signals import fetch_failed
from .state import archive_state


class ConditionalRequestMiddleware:
    """Send If-None-Match / If-Modified-Since from the last capture of each URL that had content."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.state = archive_state(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        if request.meta.get("govarchive_unconditional"):
            return None
        state = self.state.for_crawl(request.meta.get("govarchive_crawl"))  # a cluster worker serves several
        etag, modified = state.validator(request_key(request.url, request.method, request.body))
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = modified
        if etag or modified:
            self.crawler.stats.inc_value(STAT_CONDITIONAL)
        return None


class FailureRecorderMiddleware:
    """Announce a download that failed for good (after retries): the archive records it (a signal)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailureRecorderMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: BaseException, spider=None):  # noqa: ANN001, ANN201
        self.crawler.signals.send_catch_log(signal=fetch_failed, request=request, exception=exception)
        return None


class BackoffMiddleware:
    """Slow down for a host that asks: Retry-After honoured on 429/503, back-off on 5xx and walls.

    Sets the download slot's delay (the pause between two requests to that host) before
    RetryMiddleware (550) schedules the retry, so the retry waits at least as long as the server
    asked. AutoThrottle brings the delay back down as good responses come in. A wall, a rate limit,
    the server's error page or nothing at all answered with 200 (pipelines/standins.py) is a 412 or
    a 5xx by another name: the host is slowed down and the request asked again (RETRY_TIMES), which
    RetryMiddleware, reading statuses, would not do.
    """

    STATUSES = BACKOFF_STATUSES

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_delay = crawler.settings.getfloat("GOVARCHIVE_MAX_BACKOFF")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response, spider=None):  # noqa: ANN001, ANN201
        instead = _stand_in(request, response) if response.status == 200 else None
        if response.status not in self.STATUSES and instead is None:
            return response
        self._slow_down(request, response)
        if instead is not None:
            from scrapy.downloadermiddlewares.retry import get_retry_request

            self.crawler.stats.inc_value(STAT_STAND_INS)
            again = get_retry_request(request, spider=spider or self.crawler.spider,
                                      reason=f"{instead['what']}: {instead['why']}")
            if again is not None:
                return again
        return response

    def _slow_down(self, request: Request, response) -> None:  # noqa: ANN001
        slot = self._slot(request)
        if slot is None:
            return
        asked = retry_after(response.headers.get(b"Retry-After"))
        delay = min(self.max_delay, asked if asked is not None else max(1.0, slot.delay * 2))
        if asked is not None:  # RANDOMIZE_DOWNLOAD_DELAY could halve what the server asked
            if hasattr(slot, "jitter"):
                slot.jitter = 0.0
            else:  # Scrapy before 2.14
                slot.randomize_delay = False
        if delay > slot.delay:
            slot.delay = delay
            self.crawler.stats.inc_value(STAT_BACKOFFS)
            self.crawler.stats.max_value(STAT_MAX_BACKOFF, delay)

    def _slot(self, request: Request):  # noqa: ANN202
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None) if engine else None
        key = request.meta.get("download_slot")
        return downloader.slots.get(key) if downloader is not None and key is not None else None


def _stand_in(request: Request, response) -> dict | None:  # noqa: ANN001 - a Scrapy response
    """What answered ``request`` with a 200 in its page's place (pipelines/standins.py), or None
    (the body stays as sent until here: undone with a size limit)."""
    from archive.capture import DecodeError, decode_content
    from pipelines.standins import STAND_IN_MAX_BYTES, page_stand_in

    if len(response.body) > STAND_IN_MAX_BYTES:
        return None
    headers = response.headers
    ctype = (headers.get(b"Content-Type") or b"").decode("latin-1")
    if ctype and "html" not in ctype.lower():
        return None
    try:
        body = decode_content(response.body, (headers.get(b"Content-Encoding") or b"").decode("latin-1"),
                              limit=8 * STAND_IN_MAX_BYTES)
    except DecodeError:
        return None
    return page_stand_in(body, request.url, ctype or None)


def retry_after(value: bytes | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class AcceptEncodingMiddleware:
    """Ask for compressed bodies; the archive keeps them compressed and decodes with a size limit.

    Replaces Scrapy's HttpCompressionMiddleware, which would inflate every body in the crawl
    process (a gzip bomb of a few KB becomes a gigabyte there); nothing downstream needs the
    decoded body but the history, which decodes under GOVARCHIVE_MAX_DECODED.
    """

    def __init__(self) -> None:
        from archive.capture import _google_brotli

        codings = [b"gzip", b"deflate"]
        if _google_brotli() is not None:  # what the history can undo with a size limit
            codings.append(b"br")
        self.value = b", ".join(codings)

    def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        request.headers.setdefault(b"Accept-Encoding", self.value)
        return None

    def process_response(self, request: Request, response, spider=None):  # noqa: ANN001, ANN201
        """Decode robots.txt only: Scrapy's robots parser reads it (the WARC has it as sent)."""
        encoding = response.headers.get(b"Content-Encoding")
        if not encoding or not request.url.endswith("/robots.txt"):
            return response
        from archive.capture import DecodeError, decode_content

        try:
            body = decode_content(response.body, encoding.decode("latin-1"), limit=1024 * 1024)
        except DecodeError:
            return response.replace(body=b"")
        headers = response.headers.copy()
        del headers[b"Content-Encoding"]
        return response.replace(body=body, headers=headers)


class PrivateAddressMiddleware:
    """Refuse hosts that resolve to private, loopback or link-local addresses, unless allowed.

    A URL given on the command line is crawled wherever it points (the hosts of the start URLs
    are allowed); a site profile's links and redirects reach private networks only with
    ``allow_private = true``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        hosts = crawler.settings.get("GOVARCHIVE_ALLOW_PRIVATE_HOSTS")
        # Unset (a bare `scrapy crawl govsite -a start_urls=…`): the start URLs were typed by the user.
        self.allowed = None if hosts is None else {h.lower() for h in crawler.settings.getlist(
            "GOVARCHIVE_ALLOW_PRIVATE_HOSTS")}
        self.allow_all = crawler.settings.getbool("GOVARCHIVE_ALLOW_PRIVATE")
        self.cache: dict[str, bool] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        if self.allow_all:
            return None
        spider = self.crawler.spider
        if hasattr(spider, "allows_private"):  # a cluster worker: each crawl says (crawler/cluster.py)
            if spider.allows_private(request):
                return None
        from urllib.parse import urlsplit

        from scrapy.exceptions import IgnoreRequest

        if self.allowed is None:
            starts = getattr(self.crawler.spider, "start_urls", []) if self.crawler.spider else []
            self.allowed = {urlsplit(u).netloc.lower() for u in starts}
        parts = urlsplit(request.url)
        if parts.netloc.lower() in self.allowed or (parts.hostname or "").lower() in self.allowed:
            return None
        host = parts.hostname or ""
        if host not in self.cache:
            self.cache[host] = is_private_host(host)
        if self.cache[host]:
            self.crawler.stats.inc_value(STAT_ERRORS.format("private_address"))
            raise IgnoreRequest(f"private address refused: {host}")
        return None


def is_private_host(host: str) -> bool:
    """True when ``host`` is, or resolves to, a private, loopback, link-local or reserved address."""
    import ipaddress
    import socket

    try:
        addrs = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            addrs = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError):
            return False  # unresolvable: the download itself will fail and be recorded
    return any(a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_multicast
               or a.is_unspecified for a in addrs)
