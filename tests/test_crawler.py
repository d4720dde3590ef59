"""crawler/ components tested the way Scrapy tests its own: built from a crawler, called directly.

No crawl, no server (but one case at the end): each test takes milliseconds.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from email.utils import format_datetime

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from archive import seeds
from archive.state import EmptyState
from archive.vocab import classify_exception
from crawler import signals as ga_signals
from crawler.addon import DEFAULTS, user_agent
from crawler.extension import ArchiveExtension
from crawler.middlewares import (
    AcceptEncodingMiddleware,
    BackoffMiddleware,
    ConditionalRequestMiddleware,
    FailureRecorderMiddleware,
    PrivateAddressMiddleware,
    retry_after,
)
from crawler.spiders.govsite import GovSiteSpider

from .conftest import ROOT


class FakeState(EmptyState):
    """An ArchiveState that knows two validators (set as GOVARCHIVE_STATE)."""

    @classmethod
    def from_settings(cls, settings):  # noqa: ANN001, ANN206
        return cls()

    def validator(self, key: str) -> tuple:
        return {"http://x.gov.cn/a.html": ('"v1"', "Mon, 01 Apr 2024 00:00:00 GMT"),
                "http://x.gov.cn/p.jsp?__wb_method=post&col=1": ('"p1"', None)}.get(key, (None, None))


def crawler_with(**settings: object):  # noqa: ANN201
    crawler = get_crawler(GovSiteSpider, {"ADDONS": {"crawler.addon.GovArchiveAddon": 0},
                                          "GOVARCHIVE_STATE": "tests.test_crawler.FakeState", **settings})
    crawler._apply_settings()
    return crawler


def test_the_addon_sets_every_default_once_and_lets_settings_win():
    crawler = crawler_with(GOVARCHIVE_ERROR_CRAWLS=5, GOVARCHIVE_CONTACT="mailto:team@example.org")
    s = crawler.settings
    assert s.getint("GOVARCHIVE_ERROR_CRAWLS") == 5  # a project or profile setting wins
    assert s.getint("GOVARCHIVE_MAX_LIST_PAGES") == DEFAULTS["GOVARCHIVE_MAX_LIST_PAGES"]
    assert s.get("USER_AGENT") == user_agent("mailto:team@example.org") and "+mailto:team@example.org" in s["USER_AGENT"]
    assert "crawler.extension.ArchiveExtension" in s.getdict("EXTENSIONS")
    assert s.getdict("DOWNLOADER_MIDDLEWARES")["scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"] \
        is None


def test_without_a_contact_the_user_agent_invents_none():
    ua = crawler_with().settings.get("USER_AGENT")
    assert "+" not in ua and "github" not in ua and ua.startswith("govarchive/")


def test_conditional_requests_carry_the_validators_of_the_last_version():
    crawler = crawler_with()
    mw = build_from_crawler(ConditionalRequestMiddleware, crawler)
    req = Request("http://x.gov.cn/a.html")
    mw.process_request(req)
    assert req.headers[b"If-None-Match"] == b'"v1"' and b"If-Modified-Since" in req.headers
    post = Request("http://x.gov.cn/p.jsp", method="POST", body=b"col=1")
    mw.process_request(post)
    assert post.headers[b"If-None-Match"] == b'"p1"'  # a POST page's validators, by its key
    fresh = Request("http://x.gov.cn/a.html", meta={"govarchive_unconditional": True})
    mw.process_request(fresh)
    assert b"If-None-Match" not in fresh.headers


class _Slot:
    def __init__(self) -> None:
        self.delay = 0.5
        self.jitter = 0.5


def test_backoff_honours_retry_after_and_doubles_otherwise(monkeypatch):
    crawler = crawler_with(GOVARCHIVE_MAX_BACKOFF=30)
    mw = build_from_crawler(BackoffMiddleware, crawler)
    slot = _Slot()
    monkeypatch.setattr(mw, "_slot", lambda request: slot)
    crawler.stats.open_spider()
    req = Request("http://x.gov.cn/a.html")
    mw.process_response(req, Response(req.url, status=429, headers={"Retry-After": "7"}))
    assert slot.delay == 7 and slot.jitter == 0.0  # what the server asked, not randomised below it
    mw.process_response(req, Response(req.url, status=503))
    assert slot.delay == 14
    mw.process_response(req, Response(req.url, status=429, headers={"Retry-After": "3600"}))
    assert slot.delay == 30  # GOVARCHIVE_MAX_BACKOFF caps it
    page = b"<html><head><title>\xe9\x80\x9a\xe7\x9f\xa5</title></head><body><p>\xe6\xad\xa3\xe6\x96\x87</p></body></html>"
    mw.process_response(req, Response(req.url, status=200, body=page, headers={"Content-Type": "text/html"}))
    assert slot.delay == 30 and crawler.stats.get_value("govarchive/backoffs") == 3


def test_a_stand_in_answered_with_200_is_backed_off_and_asked_again(monkeypatch):
    """A rate limit answered with 200 (pipelines/standins.py) is a 429 by another name."""
    from .simsite import STAND_INS

    crawler = crawler_with(GOVARCHIVE_MAX_BACKOFF=30, RETRY_TIMES=1)
    crawler.spider = GovSiteSpider.from_crawler(crawler, start_urls="http://x.gov.cn/")
    mw = build_from_crawler(BackoffMiddleware, crawler)
    slot = _Slot()
    monkeypatch.setattr(mw, "_slot", lambda request: slot)
    crawler.stats.open_spider()
    req = Request("http://x.gov.cn/a.html")
    wall = Response(req.url, status=200, body=gzip.compress(STAND_INS["rate"].encode()),
                    headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
    again = mw.process_response(req, wall)  # (bodies stay compressed in the crawl: read with a limit)
    assert isinstance(again, Request) and again.url == req.url and again.dont_filter and slot.delay == 1
    assert mw.process_response(again, wall) is wall and slot.delay == 2  # RETRY_TIMES spent: archived as it is
    assert crawler.stats.get_value("govarchive/stand_ins") == 2


def test_retry_after_reads_seconds_and_http_dates():
    from datetime import UTC, datetime, timedelta

    assert retry_after(b"120") == 120
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True).encode()
    assert 80 < retry_after(later) <= 90
    assert retry_after(b"soon") is None and retry_after(None) is None


def test_private_addresses_are_refused_unless_typed_or_allowed():
    crawler = crawler_with(GOVARCHIVE_ALLOW_PRIVATE_HOSTS=["127.0.0.2:8000"])
    crawler.stats.open_spider()
    mw = build_from_crawler(PrivateAddressMiddleware, crawler)
    assert mw.process_request(Request("http://127.0.0.2:8000/a.html")) is None
    for url in ("http://127.0.0.3/a.html", "http://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/latest"):
        with pytest.raises(IgnoreRequest):
            mw.process_request(Request(url))
    assert crawler.stats.get_value("govarchive/errors/private_address") == 4
    everywhere = build_from_crawler(PrivateAddressMiddleware, crawler_with(GOVARCHIVE_ALLOW_PRIVATE=True))
    assert everywhere.process_request(Request("http://10.1.2.3/")) is None


def test_a_failure_reaches_the_archive_by_signal():
    crawler = crawler_with()
    got = []
    crawler.signals.connect(lambda request, exception: got.append((request.url, type(exception).__name__)),
                            signal=ga_signals.fetch_failed, weak=False)
    build_from_crawler(FailureRecorderMiddleware, crawler).process_exception(Request("http://x/a"), TimeoutError())
    assert got == [("http://x/a", "TimeoutError")]


@pytest.mark.parametrize("exc,kind", [(TimeoutError("timed out"), "timeout"), (ConnectionRefusedError(), "connection_refused"),
                                      (ValueError("odd"), "fetch_error")])
def test_failures_are_classified_once(exc, kind):
    assert classify_exception(exc) == kind


def test_bodies_stay_compressed_except_robots_which_scrapy_reads():
    mw = AcceptEncodingMiddleware()
    req = Request("http://x.gov.cn/a.html")
    mw.process_request(req)
    assert b"gzip" in req.headers[b"Accept-Encoding"] and b"br" in req.headers[b"Accept-Encoding"]
    page = Response("http://x.gov.cn/a.html", headers={"Content-Encoding": "gzip"}, body=gzip.compress(b"<p>x</p>"))
    assert mw.process_response(req, page) is page  # archived as sent; the history decodes it
    robots = Request("http://x.gov.cn/robots.txt")
    out = mw.process_response(robots, Response(robots.url, headers={"Content-Encoding": "gzip"},
                                               body=gzip.compress(b"User-agent: *\nDisallow: /x/\n")))
    assert out.body.startswith(b"User-agent") and b"Content-Encoding" not in out.headers


def test_the_extension_switches_off_by_setting():
    with pytest.raises(NotConfigured):
        ArchiveExtension(crawler_with(GOVARCHIVE_ENABLED=False))


def test_the_spider_builds_post_requests_from_their_keys_and_probes_each_host():
    spider = GovSiteSpider(start_urls="http://x.gov.cn/ http://y.gov.cn/a/", hosts="x.gov.cn y.gov.cn")
    req = spider._request("http://x.gov.cn/dataproxy.jsp?startrecord=1&__wb_method=post&col=1&unit=2")
    assert (req.method, req.url, req.body) == ("POST", "http://x.gov.cn/dataproxy.jsp?startrecord=1", b"col=1&unit=2")
    assert req.headers[b"Content-Type"] == b"application/x-www-form-urlencoded"
    probes = [spider._seed_request(p) for p in seeds.probes(spider.start_urls, spider.scope)]
    assert sorted({p.url.split("/")[2] for p in probes}) == ["x.gov.cn", "y.gov.cn"]
    assert all(p.dont_filter and p.priority == 100 for p in probes)
    assert all(p.meta["govarchive_unconditional"] and p.meta["dont_retry"] for p in probes)


def test_with_the_archive_switched_off_the_spider_still_crawls(tmp_path, site):
    """GOVARCHIVE_ENABLED=False used to turn a crawl into a fetch of its start URLs only."""
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "govsite", "-a", f"start_urls={site.url}",
                    "-s", f"GOVARCHIVE_DATA={tmp_path}", "-s", "GOVARCHIVE_ENABLED=False", "-s", "LOG_LEVEL=ERROR"],
                   cwd=ROOT, check=True, capture_output=True, timeout=180)
    paths = {p for _, p in site.requests}
    assert sum(1 for p in paths if "/content/post_" in p) >= 40 and not (tmp_path / "warcs").exists()


def test_the_spider_callback_is_not_a_generator_function():
    # Scrapy reads the source of a generator callback on every response to warn about `return
    # value` (its cache is keyed on the short-lived bound method): a fifth of the crawl's CPU.
    import inspect

    spider = GovSiteSpider(start_urls="http://x.gov.cn/", hosts="x.gov.cn")
    assert not inspect.isgeneratorfunction(spider.parse)
    assert inspect.isgeneratorfunction(spider._follow)
