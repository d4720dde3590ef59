"""The disclosure-site spider: start URLs, every known page again, lists, articles, attachments."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from archive import seeds
from archive.capture import request_key, split_key
from archive.revisit import Policy
from archive.scope import Scope
from archive.seeds import Seed
from archive.vocab import (
    STAT_ERRORS,
    STAT_LINKS_OUT_OF_SCOPE,
    STAT_PROBED_PAGES,
    STAT_REDIRECTED_AWAY,
    STAT_RENDER,
    STAT_REVISIT,
)

from ..render import render_request, settle
from ..state import archive_state

logger = logging.getLogger(__name__)


@dataclass
class CrawlContext:
    """What the spider keeps for one crawl: its scope, what it captured and requested already, the
    capped lists it is probing. One crawl per spider here; a cluster worker holds one per crawl."""

    scope: Scope
    meta: dict = field(default_factory=dict)  # carried by every request of the crawl
    done: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)  # already requested: no Request object built twice
    series: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # a capped list's probe, by URL


class GovSiteSpider(scrapy.Spider):
    """Crawl disclosure sites within their scope; the archive extension keeps every fetch."""

    name = "govsite"

    def __init__(self, start_urls: str | list[str] = "", hosts: str | list[str] = "", prefixes: str = "",
                 deny: str | list[str] = "", recheck: str | bool = True, sitemaps: str | bool = True,
                 *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        urls = start_urls.split() if isinstance(start_urls, str) else list(start_urls)
        if not urls:
            raise ValueError("govsite needs start_urls (space-separated)")
        self.start_urls = urls
        host_list = hosts.split() if isinstance(hosts, str) else list(hosts)
        host_list = host_list or [urlsplit(u).netloc for u in urls]
        deny_list = deny.split() if isinstance(deny, str) else list(deny)
        self.ctx = CrawlContext(Scope(host_list, prefixes.split() if prefixes else None, deny_list))
        self.recheck = recheck not in (False, "0", "false", "no")
        self.sitemaps = sitemaps not in (False, "0", "false", "no")

    @property
    def scope(self) -> Scope:
        return self.ctx.scope

    def context(self, meta: dict) -> CrawlContext:
        """The crawl a request or response belongs to (one here; a cluster worker has several)."""
        return self.ctx

    def _request(self, url: str, ctx: CrawlContext | None = None, **meta: object) -> scrapy.Request:
        """A GET, or a POST when ``url`` is a POST's key (a list page fetched by POST before)."""
        ctx = ctx or self.ctx
        ctx.seen.add(url)
        target, method, body = split_key(url)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else None
        return scrapy.Request(target, method=method, body=body or None, headers=headers, callback=self.parse,
                              meta={"handle_httpstatus_all": True, **ctx.meta, **meta})

    def _seed_request(self, seed: Seed, ctx: CrawlContext | None = None, **kw: object) -> scrapy.Request:
        """The request of a Seed (archive/seeds.py)."""
        request = self._request(seed.key, ctx, **seed.meta)
        return request.replace(priority=seed.priority, dont_filter=seed.dont_filter, **kw)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # First ask each host for a page that cannot exist, and wait for the answers: the history
        # must know the site's own "not found" page before it judges the site's pages.
        probes = seeds.probes(self.start_urls, self.scope)
        if probes:
            done: Deferred = Deferred()
            pending = {p.key for p in probes}

            def finished(result):  # noqa: ANN001, ANN202 - a Response, or a Failure from the errback
                request = getattr(result, "request", None)
                pending.discard(request.url if request is not None else "")
                if (not pending or request is None) and not done.called:
                    done.callback(None)

            for probe in probes:
                yield self._seed_request(probe, callback=finished, errback=finished)
            await maybe_deferred_to_future(done)
        for req in self._initial():
            yield req

    def start_requests(self) -> Iterator[scrapy.Request]:  # Scrapy < 2.13
        yield from self._initial()

    def _initial(self) -> Iterator[scrapy.Request]:
        """Start URLs, sitemaps, what a killed run of this crawl left, every known page in scope."""
        from crawler.extension import site_of

        found = seeds.seeds(self.start_urls, self.scope, archive_state(self.crawler), site_of(self),
                            sitemaps=self.sitemaps, recheck=self.recheck,
                            missing_recheck_days=self.settings.getint("GOVARCHIVE_MISSING_RECHECK_DAYS"),
                            policy=Policy.from_settings(self.settings))
        self.ctx.done = found.done
        for name, value in found.revisit.stats().items():
            self.crawler.stats.set_value(STAT_REVISIT.format(name), value)
        for seed in found.requests:
            yield self._seed_request(seed)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        # Not itself a generator function: Scrapy inspects the source of every generator callback
        # for a `return value` on each response (its cache keys on the short-lived bound method, so
        # it never hits) — a fifth of the crawl process's CPU on a 1,000-page site.
        return self._follow(response)

    def _follow(self, response: Response) -> Iterator[scrapy.Request]:
        ctx = self.context(response.meta)
        if 300 <= response.status < 400 and response.status != 304:
            location = response.headers.get("Location")
            if location:
                target = urljoin(response.url, location.decode("latin-1"))
                chain = [*response.meta.get("govarchive_chain", []), response.url]
                if target in chain or len(chain) > 10:
                    self.crawler.stats.inc_value(STAT_ERRORS.format("redirect_loop"))
                elif ctx.scope.allows(target) and target not in ctx.done:
                    yield self._request(target, ctx, govarchive_chain=chain)
                elif not ctx.scope.allows(target):
                    self.crawler.stats.inc_value(STAT_ERRORS.format("out_of_scope"))
                    self.crawler.stats.inc_value(STAT_REDIRECTED_AWAY.format(urlsplit(target).netloc or target))
            return
        found = response.meta.get("govarchive_discovery")
        if found is None:  # nothing archived this response (GOVARCHIVE_ENABLED off): read it here
            from crawler.discovery import response_discovery
            from crawler.extension import exchange_from

            found = response_discovery(exchange_from(response, response.request),
                                       self.settings.getint("GOVARCHIVE_MAX_LIST_PAGES"))
        for url in found.links:
            if url in ctx.done or url in ctx.seen:
                continue
            if ctx.scope.allows(url):
                yield self._request(url, ctx)
            else:
                self.crawler.stats.inc_value(STAT_LINKS_OUT_OF_SCOPE)
        yield from self._pager_requests(response, found, ctx)
        if not response.meta.get("govarchive_rendered") and self._should_render(found):
            request = render_request(self.crawler, response.url, self.parse_rendered, self.render_failed)
            request.meta.update(ctx.meta)
            yield request
        yield from self._series_probe(response, ctx)

    def _should_render(self, found) -> bool:  # noqa: ANN001 - a Discovery
        """Whether to show this page to the browser: by GOVARCHIVE_RENDER, within the crawl's budget."""
        mode = self.settings.get("GOVARCHIVE_RENDER")
        stats = self.crawler.stats
        if mode == "never" or not self.settings.get("PLAYWRIGHT_LAUNCH_OPTIONS"):
            if found.render:  # never silently: the page's documents stay out of reach
                why = "GOVARCHIVE_RENDER is never" if mode == "never" else \
                    "no chromium was found (install Debian's chromium or set GOVARCHIVE_CHROMIUM)"
                if not stats.get_value(STAT_RENDER.format("unrendered")):
                    logger.warning("a page lists its documents only in a browser and is not rendered: %s", why)
                stats.inc_value(STAT_RENDER.format("unrendered"))
                stats.set_value(STAT_RENDER.format("unrendered_why"), why)
            return False
        if not (found.dynamic if mode == "browser" else found.render):
            return False
        if (stats.get_value(STAT_RENDER.format("requested")) or 0) >= self.settings.getint("GOVARCHIVE_MAX_RENDERS"):
            stats.inc_value(STAT_RENDER.format("over_budget"))
            return False
        stats.inc_value(STAT_RENDER.format("requested"))
        return True

    async def parse_rendered(self, response: Response):  # noqa: ANN201 - an async generator of requests
        """A page the browser rendered: once what it fetched is archived, follow where it all leads."""
        await settle(response.meta)
        for request in self.parse(response):
            yield request

    async def render_failed(self, failure) -> None:  # noqa: ANN001 - a Twisted Failure
        await settle(failure.request.meta)
        self.crawler.stats.inc_value(STAT_RENDER.format("failed"))
        logger.warning("rendering %s failed: %s", failure.request.url, failure.getErrorMessage()[:300])

    def _pager_requests(self, response: Response, found, ctx: CrawlContext) -> Iterator[scrapy.Request]:  # noqa: ANN001
        """A list's pages by POST, the scripts its pager needs, and a capped list's unlinked pages."""
        for url, body in found.posts:
            key = request_key(url, "POST", body.encode())
            if key not in ctx.done and key not in ctx.seen and ctx.scope.allows(url):
                yield self._request(key, ctx)
        page_html = response.meta.get("govarchive_html")
        for url in found.scripts:
            if page_html is not None and url not in ctx.seen and urlsplit(url).netloc in ctx.scope.hosts:
                ctx.seen.add(url)  # fetched (and archived) for this page's pager, outside the page scope
                yield scrapy.Request(url, callback=self.parse, dont_filter=True,
                                     meta={"handle_httpstatus_all": True, "govarchive_pager_html": page_html,
                                           "govarchive_pager_for": response.url, **ctx.meta})
        pager = found.pager
        if pager is not None and pager.probe and response.url not in ctx.series:
            template, first, last = pager.probe
            yield from self._probe_page(template, first, last, ctx)

    def _probe_page(self, template: str, n: int, last: int, ctx: CrawlContext) -> Iterator[scrapy.Request]:
        url = template.replace("{n}", str(n))
        if n > last or not ctx.scope.allows(url):
            return
        ctx.series[url] = (template, n, last)
        self.crawler.stats.inc_value(STAT_PROBED_PAGES)
        if url not in ctx.seen and url not in ctx.done:
            yield self._request(url, ctx, govarchive_series=True)

    def _series_probe(self, response: Response, ctx: CrawlContext) -> Iterator[scrapy.Request]:
        """A probed page that answered: try the next one; the first miss ends the probe."""
        probe = ctx.series.pop(response.url, None)
        if probe is not None and response.status == 200:
            template, n, last = probe
            yield from self._probe_page(template, n + 1, last, ctx)
