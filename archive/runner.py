"""Start one crawl in this process — the one module of archive/ that imports Scrapy (its reactor runs
once per process: the CLI is that process)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from . import vocab
from .errors import GovArchiveError
from .paths import DB_NAME

log = logging.getLogger("govarchive")


@dataclass
class CrawlSummary:
    """What a crawl did, for the CLI's closing lines."""

    crawl_id: str | None
    reason: str
    fetched: int
    revisits: int
    events: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    warc_bytes: int = 0
    conditional: int | None = 0  # None: not counted (a cluster crawl's workers send them)
    statuses: dict[str, int] = field(default_factory=dict)
    slowest: list[dict] = field(default_factory=list)
    fatal: str | None = None  # why the crawl stopped before its end (the history writer died)
    coverage: list[dict] = field(default_factory=list)  # per list series (archive/coverage.py)
    render: dict = field(default_factory=dict)  # browser renders: requested, failed, unrendered (and why)
    workers: dict[str, int] = field(default_factory=dict)  # a cluster crawl: requests each worker finished
    evidence: str | None = None  # the chain's timestamp, when a TSA is configured (archive/chain.py)
    revisit: dict = field(default_factory=dict)  # known pages rechecked, not due, left by the budget
    robots_forbidden: int = 0  # requests robots.txt forbade (never sent)
    redirected_away: dict[str, int] = field(default_factory=dict)  # redirects out of the crawl, by host
    robots_examples: list[str] = field(default_factory=list)  # the first of them

    def lines(self) -> list[str]:
        ev = self.events
        out = [f"crawl {self.crawl_id}: {self.reason}",
               f"  fetched {self.fetched} ({self.revisits} unchanged revisits"
               + ("" if self.conditional is None else f", {self.conditional} conditional requests")
               + f"), {self.warc_bytes:,} WARC bytes written",
               f"  new {ev.get('added', 0)}, changed {ev.get('changed', 0)}, removed {ev.get('removed', 0)}, "
               f"restored {ev.get('restored', 0)}, delisted {ev.get('delisted', 0)}, "
               f"errors {sum(self.errors.values())}"]
        other = {k: v for k, v in ev.items() if k not in ("added", "changed", "removed", "restored", "delisted")}
        if other:
            out.append("  other events: " + ", ".join(f"{k} {v}" for k, v in sorted(other.items())))
        if self.errors:
            out.append("  errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())))
        if self.statuses:
            out.append("  responses: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())))
        if self.slowest:
            out.append("  slowest hosts: " + ", ".join(f"{h['host']} {h['mean_s']:.2f}s mean, {h['max_s']:.2f}s max"
                                                      for h in self.slowest[:3]))
        if any(self.revisit.values()):
            r = self.revisit
            out.append(f"  rechecked {r.get('rechecked', 0)} known pages ({r.get('not_due', 0)} not due yet"
                       + (f"; {r['over_budget']} due and left for the next crawl by the budget"
                          if r.get("over_budget") else "") + ")")
        if self.workers:
            out.append("  workers: " + ", ".join(f"{w} {n}" for w, n in sorted(self.workers.items())))
        if self.redirected_away:
            out.append("  redirected outside the crawl's hosts (not followed; a profile's `hosts` may add them): "
                       + ", ".join(f"{h} {n}" for h, n in sorted(self.redirected_away.items(), key=lambda x: -x[1])))
        if self.robots_forbidden:
            out.append(f"  robots.txt forbade {self.robots_forbidden} request(s), never sent: "
                       + ", ".join(self.robots_examples) + (" …" if self.robots_forbidden > len(self.robots_examples)
                                                           else ""))
        out += self.coverage_lines()
        if self.evidence:
            out.append(self.evidence)
        return out

    def coverage_lines(self, most: int = 8) -> list[str]:
        """The crawl report's coverage section: totals, then every warning (the first few)."""
        if not self.coverage and not self.render:
            return []
        pages = sum(r["pages_fetched"] for r in self.coverage)
        listed = sum(r["items_listed"] for r in self.coverage)
        captured = sum(r["items_captured"] for r in self.coverage)
        out = [f"  coverage: {len(self.coverage)} list series, {pages} list pages, {listed} documents listed, "
               f"{captured} captured"]
        warnings = [f"{r['series']}: {w}" for r in self.coverage for w in r["warnings"]]
        if self.render.get("unrendered"):
            warnings.insert(0, f"{self.render['unrendered']} page(s) list their documents only in a browser and "
                               f"were not rendered: {self.render.get('unrendered_why')}")
        if self.render.get("failed"):
            warnings.insert(0, f"{self.render['failed']} browser render(s) failed (timed out or crashed)")
        if self.render.get("over_budget"):
            warnings.insert(0, f"{self.render['over_budget']} page(s) not rendered: GOVARCHIVE_MAX_RENDERS reached")
        out += [f"  coverage warning: {w}" for w in warnings[:most]]
        if len(warnings) > most:
            out.append(f"  … and {len(warnings) - most} more (govarchive coverage)")
        return out


def build_settings(data: Path, urls: list[str], *, site: str | None = None, concurrency: int | None = None,
                   max_pages: int | None = None, profile: dict | None = None,
                   extra: dict | None = None, user_urls: list[str] | None = None,
                   contact: str | None = None, revisit: str | None = None) -> Settings:
    """Return the Scrapy settings of one crawl: the project's, then the site profile's, then the CLI's."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    profile = profile or {}
    for key, value in (profile.get("settings") or {}).items():
        settings.set(key, value, priority="project")
    settings.set("GOVARCHIVE_DATA", str(data), priority="cmdline")
    settings.set("GOVARCHIVE_START_URLS", urls, priority="cmdline")
    settings.set("GOVARCHIVE_SITE", site or profile.get("name") or urlsplit(urls[0]).netloc, priority="cmdline")
    from .sites import overrides

    if overrides(profile):
        settings.set("GOVARCHIVE_EXTRACT_OVERRIDES", overrides(profile), priority="cmdline")
    if concurrency:
        settings.set("CONCURRENT_REQUESTS", max(concurrency, 1), priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", concurrency, priority="cmdline")
        settings.set("AUTOTHROTTLE_TARGET_CONCURRENCY", float(concurrency), priority="cmdline")
    if max_pages:
        settings.set("CLOSESPIDER_PAGECOUNT", max_pages, priority="cmdline")
    contact = contact or profile.get("contact")
    if contact:
        settings.set("GOVARCHIVE_CONTACT", contact, priority="cmdline")
    if profile.get("render"):
        settings.set("GOVARCHIVE_RENDER", profile["render"], priority="cmdline")
    if profile.get("allow_private"):
        settings.set("GOVARCHIVE_ALLOW_PRIVATE", True, priority="cmdline")
    trusted = urls if user_urls is None else user_urls  # typed by the user: crawled wherever they point
    settings.set("GOVARCHIVE_ALLOW_PRIVATE_HOSTS", sorted({urlsplit(u).netloc for u in trusted}),
                 priority="cmdline")
    if profile.get("max_depth"):
        settings.set("DEPTH_LIMIT", int(profile["max_depth"]), priority="cmdline")
    from .revisit import PROFILE_SETTINGS

    for key, setting in PROFILE_SETTINGS.items():
        if profile.get(key) is not None:
            settings.set(setting, profile[key], priority="cmdline")
    if revisit:
        settings.set("GOVARCHIVE_REVISIT", revisit, priority="cmdline")
    if os.environ.get("GOVARCHIVE_REVISIT_NOW"):  # a simulation's clock (archive/revisit.py)
        settings.set("GOVARCHIVE_REVISIT_NOW", os.environ["GOVARCHIVE_REVISIT_NOW"], priority="cmdline")
    for key, value in (extra or {}).items():
        settings.set(key, value, priority="cmdline")
    # Scrapy's own INFO lines would fight the progress line; warnings and errors still show.
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    settings.set("GOVARCHIVE_PROGRESS", sys.stderr.isatty(), priority="cmdline")
    return settings


def site_lock(data: Path, site: str):  # noqa: ANN201 - an open file holding the lock
    """Take the data directory's lock for a site: never two crawls of one site at once."""
    import fcntl
    import re

    locks = data / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    fh = open(locks / (re.sub(r"[^\w.-]+", "_", site) + ".lock"), "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise GovArchiveError(f"a crawl of {site} is already running in {data}") from None
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def run_crawl(data: Path, urls: list[str], *, site: str | None = None, concurrency: int | None = None,
              max_pages: int | None = None, profile: dict | None = None,
              extra: dict | None = None, user_urls: list[str] | None = None,
              contact: str | None = None, revisit: str | None = None) -> CrawlSummary:
    """Crawl ``urls`` (and every page already known in scope) into the data directory."""
    if not urls:
        raise GovArchiveError("nothing to crawl: give a URL or --site")
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise GovArchiveError(f"not an http(s) URL: {url}")
    from crawler.spiders.govsite import GovSiteSpider

    site_name = site or (profile or {}).get("name") or urlsplit(urls[0]).netloc
    lock = site_lock(data, site_name)
    settings = build_settings(data, urls, site=site, concurrency=concurrency, max_pages=max_pages,
                              profile=profile, extra=extra,
                              user_urls=user_urls if user_urls is not None else (None if profile is None else []),
                              contact=contact, revisit=revisit)
    if not (settings.get("GOVARCHIVE_CONTACT") or os.environ.get("GOVARCHIVE_CONTACT")):
        log.warning("no contact set: site operators cannot reach you (give `--contact URL|mailto:…`, a profile's "
                    "`contact`, or $GOVARCHIVE_CONTACT); the User-Agent names none")
    elif not settings.get("GOVARCHIVE_CONTACT"):
        settings.set("GOVARCHIVE_CONTACT", os.environ["GOVARCHIVE_CONTACT"], priority="cmdline")
    process = CrawlerProcess(settings)
    hosts = (profile or {}).get("hosts") or sorted({urlsplit(u).netloc for u in urls})
    crawler = process.create_crawler(GovSiteSpider)
    process.crawl(crawler, start_urls=urls, hosts=hosts, prefixes=" ".join((profile or {}).get("prefixes") or []),
                  deny=(profile or {}).get("deny") or [])
    try:
        process.start()
    finally:
        lock.close()
    stats = crawler.stats.get_stats()
    rows = []
    if stats.get(vocab.STAT_CRAWL_ID) and (data / DB_NAME).exists():
        from .coverage import report
        from .db import open_db

        db = open_db(data)
        rows = report(db, crawl_id=stats[vocab.STAT_CRAWL_ID])
        db.conn.close()
    events = _by_last_part(stats, vocab.STAT_EVENTS)
    errors = _by_last_part(stats, vocab.STAT_ERRORS)
    return CrawlSummary(
        crawl_id=stats.get(vocab.STAT_CRAWL_ID), reason=str(stats.get("finish_reason", "unknown")),
        fetched=int(stats.get("response_received_count", 0)),
        revisits=int(stats.get(vocab.STAT_RECORDS.format("revisit"), 0)), events=events, errors=errors,
        warc_bytes=int(stats.get(vocab.STAT_WARC_BYTES, 0)),
        conditional=int(stats.get(vocab.STAT_CONDITIONAL, 0)),
        statuses={k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("downloader/response_status_count/")},
        slowest=list(stats.get(vocab.STAT_SLOWEST) or []), fatal=stats.get(vocab.STAT_FATAL),
        coverage=rows, render=_by_last_part(stats, vocab.STAT_RENDER), revisit=_by_last_part(stats, vocab.STAT_REVISIT),
        robots_forbidden=int(stats.get("robotstxt/forbidden", 0)),
        redirected_away=_by_last_part(stats, vocab.STAT_REDIRECTED_AWAY),
        robots_examples=list(stats.get(vocab.STAT_ROBOTS_FORBIDDEN) or []))


def _by_last_part(stats: dict, key: str) -> dict:
    """The stats under one templated key (``govarchive/errors/{}``), by what fills the template."""
    prefix = key.split("{}")[0]
    return {k[len(prefix):]: n for k, n in stats.items() if k.startswith(prefix)}


# -- a cluster ----------------------------------------------------------------------------------------
def default_worker_name() -> str:
    """This machine's name: a worker restarted here repairs the files its killed run left."""
    import re
    import socket

    return re.sub(r"[^A-Za-z0-9_.]+", "_", socket.gethostname()) or "worker"


def worker_settings(data: Path, redis_url: str, name: str, concurrency: int = 4, contact: str | None = None,
                    extra: dict | None = None) -> Settings:
    """A cluster worker's Scrapy settings (the add-on adds the cluster's components, crawler/addon.py)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    values = {"GOVARCHIVE_DATA": str(data), "GOVARCHIVE_REDIS": redis_url, "GOVARCHIVE_WORKER": name,
              "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
              # Each host's limit and delay are the cluster's (Redis), not one worker's guess.
              "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING", "GOVARCHIVE_PROGRESS": False}
    contact = contact or os.environ.get("GOVARCHIVE_CONTACT")
    if contact:
        values["GOVARCHIVE_CONTACT"] = contact
    for key, value in {**values, **(extra or {})}.items():
        settings.set(key, value, priority="cmdline")
    return settings


def _dead_here(worker: dict) -> bool:
    """A worker of this machine whose process is gone (killed: its heartbeat has not expired yet)."""
    import socket

    if worker["host"] != socket.gethostname() or not worker["pid"]:
        return False
    try:
        os.kill(worker["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_worker(data: Path, redis_url: str, *, name: str | None = None, concurrency: int = 4,
               contact: str | None = None, extra: dict | None = None,
               started: Callable[[str], None] | None = None) -> dict:
    """Fetch for the cluster until SIGTERM (then hand back what is in flight and close the WARCs);
    return the worker's stats. ``started(name)`` is called once the worker may run (Redis reached,
    its name free), before it fetches."""
    from crawler.cluster import ClusterSpider

    from .cluster import Cluster

    cluster = Cluster(redis_url)  # ClusterError: one clear line
    name = name or default_worker_name()
    for w in cluster.workers():
        if w["name"] == name and not _dead_here(w):
            raise GovArchiveError(f"a worker named {name} is already running on {w['host']} "
                                  "(give each worker its own --name)")
    settings = worker_settings(data, redis_url, name, concurrency, contact, extra)
    if started is not None:
        started(name)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ClusterSpider)
    process.crawl(crawler)
    process.start()
    return crawler.stats.get_stats()


def run_cluster_crawl(data: Path, redis_url: str, crawls: list[tuple[list[str], dict | None, list[str] | None]], *,
                      concurrency: int | None = None, contact: str | None = None,
                      revisit: str | None = None) -> list[CrawlSummary]:
    """Coordinate crawls through a cluster's workers, one per site, side by side; the history is built
    here, from their WARCs. ``crawls``: (start URLs, site profile or None, URLs the user typed)."""
    from .cluster import Cluster
    from .coordinator import ClusterCrawl, coordinate
    from .revisit import Policy
    from .scope import Scope
    from .sites import overrides

    cluster = Cluster(redis_url)
    jobs = []
    for urls, profile, user_urls in crawls:
        if not urls:
            raise GovArchiveError("nothing to crawl: give a URL or --site")
        for url in urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise GovArchiveError(f"not an http(s) URL: {url}")
        profile = profile or {}
        trusted = urls if user_urls is None else user_urls
        jobs.append(ClusterCrawl(
            data=data, cluster=cluster, site=profile.get("name") or urlsplit(urls[0]).netloc, start_urls=urls,
            scope=Scope(profile.get("hosts") or sorted({urlsplit(u).netloc for u in urls}), profile.get("prefixes"),
                        profile.get("deny")), overrides=overrides(profile),
            per_host=concurrency or int((profile.get("settings") or {}).get("CONCURRENT_REQUESTS_PER_DOMAIN", 2)),
            contact=contact or profile.get("contact") or os.environ.get("GOVARCHIVE_CONTACT"),
            allow_private=bool(profile.get("allow_private")),
            allow_private_hosts=tuple(sorted({urlsplit(u).netloc.lower() for u in trusted})),
            policy=Policy.from_profile(profile, revisit)))
    locks = [site_lock(data, job.site) for job in jobs]
    try:
        results = coordinate(jobs, progress=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        for lock in locks:
            lock.close()
    return [cluster_summary(data, r) for r in results]


def cluster_summary(data: Path, result: dict) -> CrawlSummary:
    """The crawl report of a cluster crawl, read from the history it built."""
    from .coverage import report
    from .db import open_db

    crawl_id = result["crawl_id"]
    db = open_db(data)
    try:
        q = db.execute
        events = {k: n for k, n in q("SELECT kind, count(*) FROM changes WHERE crawl_id = ? GROUP BY kind",
                                     [crawl_id])}
        errors = {k: n for k, n in q("SELECT error, count(*) FROM captures WHERE crawl_id = ? AND error IS NOT NULL "
                                     "GROUP BY error", [crawl_id])}
        statuses = {str(k): n for k, n in q("SELECT status, count(*) FROM captures WHERE crawl_id = ? AND status "
                                            "IS NOT NULL GROUP BY status", [crawl_id])}
        fetched, revisits = q("SELECT count(*), sum(record_type = 'revisit') FROM captures WHERE crawl_id = ? "
                              "AND status IS NOT NULL", [crawl_id]).fetchone()
        files = {f for (f,) in q("SELECT DISTINCT warc_file FROM captures WHERE crawl_id = ?", [crawl_id]) if f}
        rows = report(db, crawl_id=crawl_id)
    finally:
        db.conn.close()
    from .db import warc_dir

    size = sum((warc_dir(data) / f).stat().st_size for f in files if (warc_dir(data) / f).exists())
    return CrawlSummary(crawl_id=crawl_id, reason="finished", fetched=fetched or 0, revisits=revisits or 0,
                        events=events, errors=errors, warc_bytes=size, conditional=None,
                        statuses=statuses, coverage=rows, workers=result.get("workers", {}),
                        revisit=result.get("revisit", {}))
