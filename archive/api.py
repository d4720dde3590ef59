"""The library object: one govarchive data directory and its database, everything the CLI does.

>>> from archive import Archive
>>> a = Archive("demo-data")
>>> [r["title"] for r in a.search("法治政府", limit=3)]            # doctest: +SKIP
>>> a.history(url)["versions"]; a.diff(url)["ops"]                  # doctest: +SKIP

As sqlite-utils' CLI is a thin skin over its ``Database``, each `govarchive` command is one call
here. The database is opened on first use (``rebuild`` and ``crawl`` need none to exist yet).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils

from . import queries
from .db import data_dir, open_db, warc_dir
from .errors import GovArchiveError


class Archive:
    """A govarchive data directory: WARC files (the record of truth) and the history database."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = data_dir(path)
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        """The history database (an EmptyArchive error when there is none yet)."""
        if self._db is None:
            self._db = open_db(self.path, create=False)
        return self._db

    # -- reading ------------------------------------------------------------------------
    def changes(self, since: str | None = None, kind: str | None = None, site: str | None = None,
                include_baseline: bool = False, crawl_id: str | None = None) -> list[dict]:
        """Change events, oldest first (a site's baseline only if asked)."""
        return queries.changes(self.db, since=since, kind=kind, site=site, include_baseline=include_baseline,
                               crawl_id=crawl_id)

    def history(self, url: str) -> dict:
        """Every capture, version and change event of one page."""
        return queries.history(self.db, url)

    def show(self, url: str, version: int | None = None) -> dict:
        """The normalised record of a page version (current by default)."""
        return queries.record(self.db, url, version)

    def diff(self, url: str, old: int | None = None, new: int | None = None) -> dict:
        """The diff between two versions (default: the last two)."""
        return queries.diff(self.db, url, old, new)

    def diff_documents(self, url: str, other: str) -> dict:
        """Diff two documents' current versions (``url`` against ``other``, e.g. last year's report)."""
        return queries.diff_documents(self.db, url, other)

    def annual(self, site: str | None = None, year: int | None = None, failing: bool = False) -> list[dict]:
        """The archive's annual reports as data (archive/annuals.py)."""
        from .annuals import annual_rows

        return annual_rows(self.db, site=site, year=year, failing=failing)

    def deadlines(self, profiles: list[dict], year: int) -> list[dict]:
        """The reports these profiles expect for ``year``: on time, late, missing, changed."""
        from .annuals import deadlines

        return deadlines(self.db, profiles, year)

    def search(self, query: str, **filters: object) -> list[dict]:
        """Exact full-text search; filters: site, kind, since, until, field, all_versions, limit."""
        from .search import search

        return search(self.db, query, **filters)

    def pages(self, site: str | None = None, kind: str | None = None, state: str | None = None) -> list[dict]:
        """Pages with their state and number of versions."""
        return queries.pages(self.db, site=site, kind=kind, state=state)

    def stats(self) -> dict:
        """Counts per site, and WARC bytes."""
        return queries.stats(self.db, warc_sizes(self.path))

    def coverage(self, site: str | None = None, crawl_id: str | None = None) -> list[dict]:
        """Per list series: declared against reached (archive/coverage.py)."""
        from .coverage import report

        return report(self.db, site=site, crawl_id=crawl_id)

    # -- writing what others read ----------------------------------------------------------
    def report(self, out: Path, since: str | None = None, replay: str | None = None,
               include_baseline: bool = False) -> dict:
        """A static HTML report of changes."""
        from .report import write_report

        return write_report(self.db, out, since=since, replay=replay, include_baseline=include_baseline)

    def feed(self, out: Path, since: str | None = None, include_baseline: bool = False) -> int:
        """An Atom feed of change events; returns the number of entries."""
        from .feed import write_feed

        return write_feed(self.db, out, since=since, include_baseline=include_baseline)

    def cdx(self, out: Path | None = None) -> Path:
        """A CDXJ index of the WARC files, sorted by SURT (what pywb reads)."""
        from .package import write_index

        return write_index(self.path, out)

    def export_wacz(self, out: Path, since: str | None = None, site: str | None = None, sign: bool = False,
                    key: Path | None = None) -> dict:
        """A WACZ 1.1.1 package of the archive, or of one site or period; ``sign``: signed with
        ``key`` (a PEM file), else with the data directory's own key (archive/signing.py)."""
        from .package import export_wacz

        if not Path(out).parent.is_dir():
            raise GovArchiveError(f"no directory {Path(out).parent} to write {Path(out).name} into")
        if sign and key is not None:
            from .signing import load_key

            load_key(key)  # unreadable: one line, before the export
        result = export_wacz(self.path, out, since=since, site=site)
        if sign:
            from .signing import data_key, sign_wacz

            signed = sign_wacz(Path(out), key or data_key(self.path))
            result["signed_by"] = signed["publicKey"]
        return result

    def rebuild(self, into: Path | None = None) -> dict:
        """Rebuild the database from the WARC files alone (into another directory if given)."""
        from .rebuild import rebuild

        self.close()
        return rebuild(self.path, into)

    def replay(self, port: int):  # noqa: ANN201 - a subprocess.Popen
        """Serve the archive through pywb on 127.0.0.1 (a child process the caller waits for)."""
        from .replay import serve

        return serve(self.path, port)

    # -- crawling -------------------------------------------------------------------------
    def crawl(self, urls: list[str], redis: str | None = None, tsa: str | None = None,
              tsa_ca: Path | None = None, **options: object):  # noqa: ANN201 - a CrawlSummary
        """Crawl into this archive (once per process: Scrapy's reactor does not restart); with
        ``redis``, coordinate the crawl through that cluster's workers instead of fetching here;
        with ``tsa``, stamp the WARC chain's head afterwards (archive/chain.py)."""
        from .runner import run_cluster_crawl, run_crawl

        self.close()
        if redis:
            profile, user_urls = options.get("profile"), options.get("user_urls")
            summary = run_cluster_crawl(self.path, redis, [(urls, profile, user_urls)],
                                        concurrency=options.get("concurrency"), contact=options.get("contact"),
                                        revisit=options.get("revisit"))[0]
        else:
            summary = run_crawl(self.path, urls, **options)
        summary.evidence = self.stamp(tsa, tsa_ca)
        return summary

    def crawl_cluster(self, redis: str, crawls: list[tuple[list[str], dict | None, list[str] | None]],
                      tsa: str | None = None, tsa_ca: Path | None = None, **options: object) -> list:
        """Coordinate several sites' crawls through a cluster at once (one crawl per site)."""
        from .runner import run_cluster_crawl

        self.close()
        summaries = run_cluster_crawl(self.path, redis, crawls, **options)
        if summaries:
            summaries[-1].evidence = self.stamp(tsa, tsa_ca)
        return summaries

    # -- evidence -------------------------------------------------------------------------
    def stamp(self, tsa: str | None, tsa_ca: Path | None = None) -> str | None:
        """Stamp the WARC chain's head with an RFC 3161 authority; a line saying what happened."""
        from .chain import stamp_line

        return stamp_line(self.path, tsa, tsa_ca)

    def verify(self, tsa_ca: Path | None = None):  # noqa: ANN201 - a verify.Verdict
        """Check, offline, that no closed WARC file changed (chain, hashes, record digests, stamps)."""
        from .verify import verify_data

        return verify_data(self.path, tsa_ca)

    def work(self, redis: str, **options: object) -> dict:
        """Be a cluster worker until SIGTERM: fetch what the cluster's frontier holds, write WARCs here."""
        from .runner import run_worker

        self.close()
        return run_worker(self.path, redis, **options)

    @staticmethod
    def workers(redis: str) -> list[dict]:
        """A cluster's live workers: name, machine, last heartbeat, in-flight and done counts, leases, open files."""
        from .cluster import Cluster

        return Cluster(redis).workers()

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def warc_sizes(data: Path) -> dict[str, int]:
    """Return the size of every WARC file of a data directory."""
    return {p.name: p.stat().st_size for p in sorted(warc_dir(data).glob("*.warc.gz"))}
