"""Where a crawl starts: its soft-404 probes, start URLs, sitemaps, what a killed run left, and every
known page again. One answer for the one-process spider and the cluster's coordinator."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from .revisit import Plan, Policy, plan
from .scope import Scope
from .soft404 import probe_url
from .state import ArchiveState

PROBE_TIMEOUT = 10  # seconds: a probe that hangs must not hold the crawl's start for long


@dataclass
class Seed:
    """A request to make: ``key`` is a request key (a POST's carries its body, archive/capture.py)."""

    key: str
    meta: dict = field(default_factory=dict)
    priority: int = 0
    dont_filter: bool = False


def probes(start_urls: list[str], scope: Scope) -> list[Seed]:
    """One request per host in scope for a URL that cannot exist (archive/soft404.py): the history
    must know each site's own "not found" page before it judges the site's pages."""
    scheme = urlsplit(start_urls[0]).scheme
    urls = sorted({probe_url(urlunsplit((scheme, host, "/", "", ""))) for host in scope.hosts})
    return [Seed(url, {"handle_httpstatus_all": True, "govarchive_unconditional": True, "govarchive_probe": True,
                       "dont_retry": True, "download_timeout": PROBE_TIMEOUT}, priority=100, dont_filter=True)
            for url in urls]


@dataclass
class Seeds:
    """A crawl's first requests, and what it has done already (a resumed crawl's captures, and
    links that only ever answered 404 and were checked lately)."""

    requests: list[Seed]
    done: set[str]
    revisit: Plan = field(default_factory=Plan)  # which known pages are checked again, what waits


def seeds(start_urls: list[str], scope: Scope, state: ArchiveState, site: str, *, sitemaps: bool = True,
          recheck: bool = True, missing_recheck_days: int = 7, crawl_id: str | None = None,
          policy: Policy | None = None) -> Seeds:
    """The requests a crawl of ``site`` starts with (probes apart), in order."""
    crawl_id = crawl_id or state.unfinished_crawl(site)
    pending = state.pending(crawl_id) if crawl_id else []
    done = state.done(crawl_id) if crawl_id else set()
    done |= state.recently_missing(missing_recheck_days)  # asked again after a while, not every crawl
    out: list[Seed] = []
    queued: set[str] = set()

    def add(key: str, meta: dict, **kw: object) -> None:
        if key not in done and key not in queued:
            queued.add(key)
            out.append(Seed(key, {"handle_httpstatus_all": True, **meta}, **kw))

    for url in start_urls:
        add(url, {"govarchive_start": True})
    if sitemaps:  # another door to documents no list links (a sitemap.xml that answered 404 lately waits)
        scheme = urlsplit(start_urls[0]).scheme
        for host in sorted(scope.hosts):
            for path in ("/robots.txt", "/sitemap.xml"):
                add(urlunsplit((scheme, host, path, "", "")), {"dont_retry": True, "govarchive_sitemap": True},
                    dont_filter=True)
    for url, depth in pending:  # queued by a crawl that was killed: fetched now
        if scope.allows(url):
            add(url, {"depth": depth})
    revisit = Plan()
    if recheck:  # deletions show only if we ask again: every known page that is due (archive/revisit.py)
        revisit = plan(state.checks(scope.allows), policy or Policy())
        done |= revisit.waiting  # not due: not fetched when a list links them either
        for decision in revisit.recheck:
            add(decision.url, {"govarchive_recheck": True})
    return Seeds(out, done, revisit)
