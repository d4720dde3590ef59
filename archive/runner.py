"""Start one crawl in this process — the one module of archive/ that imports Scrapy (its reactor runs
once per process: the CLI is that process)."""

from __future__ import annotations

import logging
import os
import sys
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
    conditional: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    slowest: list[dict] = field(default_factory=list)
    fatal: str | None = None  # why the crawl stopped before its end (the history writer died)
    coverage: list[dict] = field(default_factory=list)  # per list series (archive/coverage.py)
    render: dict = field(default_factory=dict)  # browser renders: requested, failed, unrendered (and why)

    def lines(self) -> list[str]:
        ev = self.events
        out = [f"crawl {self.crawl_id}: {self.reason}",
               f"  fetched {self.fetched} ({self.revisits} unchanged revisits, "
               f"{self.conditional} conditional requests), {self.warc_bytes:,} WARC bytes written",
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
        out += self.coverage_lines()
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
                   contact: str | None = None) -> Settings:
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
              contact: str | None = None) -> CrawlSummary:
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
                              contact=contact)
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
        coverage=rows, render=_by_last_part(stats, vocab.STAT_RENDER))


def _by_last_part(stats: dict, key: str) -> dict:
    """The stats under one templated key (``govarchive/errors/{}``), by what fills the template."""
    prefix = key.split("{}")[0]
    return {k[len(prefix):]: n for k, n in stats.items() if k.startswith(prefix)}
