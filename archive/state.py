"""What a crawl needs to know of the archive, read-only: the crawler's one door into it.

The spider asks which pages to check again (and how often each was checked and changed) and what a killed run of its crawl had left; the
conditional-request middleware asks for validators; the recorder asks what payloads are stored
and which capture a 304 confirms. ``ArchiveState`` is that interface. ``SQLiteState`` answers
from a data directory's database; the distributed crawl answers from a snapshot in Redis
(archive/cluster.py) with the same methods, so nothing in crawler/ knows where the answers live.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from .paths import DB_NAME, data_dir
from .revisit import PageChecks

# A page's checks: crawls that fetched it, the changes found, when, its date, its latest delisting,
# its error streak, whether it is an annual report, when a check last found it changed, when a list
# last showed it with a new date or title.
CHECKS_SQL = """
    SELECT p.url, p.kind, p.state,
           (SELECT count(DISTINCT crawl_id) FROM captures c WHERE c.page_id = p.id),
           (SELECT count(*) FROM changes e WHERE e.page_id = p.id
              AND e.kind IN ('changed', 'reverted', 'removed', 'restored')),
           (SELECT min(fetched_at) FROM captures c WHERE c.page_id = p.id),
           (SELECT max(fetched_at) FROM captures c WHERE c.page_id = p.id),
           coalesce(v.published, p.first_seen),
           (SELECT max(at) FROM changes e WHERE e.page_id = p.id AND e.kind = 'delisted'),
           p.error_streak, v.annual IS NOT NULL,
           (SELECT max(at) FROM changes e WHERE e.page_id = p.id AND e.kind IN ('changed', 'reverted', 'restored')),
           p.list_changed
    FROM pages p LEFT JOIN versions v ON v.id = p.current_version"""


def page_checks(row: tuple | list) -> PageChecks:
    """A row of ``CHECKS_SQL`` as the revisit policy reads it."""
    return PageChecks(*row[:9], error_streak=row[9], annual=bool(row[10]), last_change=row[11],
                      list_changed=row[12])


class ArchiveState(Protocol):
    """The read-only questions a crawl asks the archive."""

    def for_crawl(self, crawl_id: str | None) -> ArchiveState:
        """The view of one crawl (a cluster worker serves several; a single crawl has one)."""

    def validator(self, key: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the newest capture of ``key`` (a request key) that had content."""

    def revisit_target(self, key: str) -> tuple[str, str, str] | None:
        """(url, date, payload digest) of the capture a 304 for ``key`` confirms."""

    def payload(self, digest: str) -> tuple[str, str] | None:
        """(url, date) of the first full record holding this payload (identical-payload revisits)."""

    def remember_payload(self, digest: str, url: str, date: str) -> None:
        """A payload just stored in full (shared with the cluster's other workers, where there are)."""

    def stored_links(self, key: str) -> list[str]:
        """The links of a list or home page's current version (what a 304 for it leads to)."""

    def checks(self, allows: Callable[[str], bool]) -> list[PageChecks]:
        """The checks of every page the archive knows that ``allows`` lets the crawl fetch (never-seen
        links excepted): what the revisit policy decides from (archive/revisit.py)."""

    def recently_missing(self, days: int) -> set[str]:
        """Links that only ever answered 404 and were checked within ``days``: not due yet."""

    def unfinished_crawl(self, site: str) -> str | None:
        """The id of this site's last crawl if it never finished (it resumes), else None."""

    def pending(self, crawl_id: str) -> list[tuple[str, int]]:
        """(url, depth) a crawl queued and did not capture, then the links of the lists it captured."""

    def done(self, crawl_id: str) -> set[str]:
        """What a crawl already captured (any outcome)."""


class EmptyState:
    """The state of an archive that has nothing yet."""

    def for_crawl(self, crawl_id: str | None) -> EmptyState:
        return self

    def validator(self, key: str) -> tuple[str | None, str | None]:
        return None, None

    def revisit_target(self, key: str) -> tuple[str, str, str] | None:
        return None

    def payload(self, digest: str) -> tuple[str, str] | None:
        return None

    def remember_payload(self, digest: str, url: str, date: str) -> None:
        return None

    def stored_links(self, key: str) -> list[str]:
        return []

    def checks(self, allows: Callable[[str], bool]) -> list[PageChecks]:
        return []

    def recently_missing(self, days: int) -> set[str]:
        return set()

    def unfinished_crawl(self, site: str) -> str | None:
        return None

    def pending(self, crawl_id: str) -> list[tuple[str, int]]:
        return []

    def done(self, crawl_id: str) -> set[str]:
        return set()


AUDIT_EVERY = 10  # GOVARCHIVE_AUDIT_EVERY: every Nth check of a page is asked without validators
# The newest capture with content per URL — a 304 then confirms the current version (a soft 404
# answered 200 too, but a 304 to its validators would "restore" a page still gone) — and how many
# 304s have confirmed it since.
VALIDATORS_SQL = (
    "SELECT c.url, c.etag, c.last_modified, c.fetched_at, c.payload_digest, (SELECT count(*) FROM captures r "
    "WHERE r.url = c.url AND r.status = 304 AND r.id > c.id) FROM captures c WHERE c.id IN (SELECT max(id) "
    "FROM captures WHERE status = 200 AND version_id IS NOT NULL GROUP BY url)")


class SQLiteState:
    """ArchiveState over a data directory's database, opened read-only (WAL: never blocks a writer).

    Validators are trusted, not believed: a page confirmed by ``audit_every - 1`` 304s in a row is
    asked next without them (a server can answer 304 to a page that changed — a Last-Modified that
    stays, a cache, a configuration answering 304 to any If-Modified-Since), and a host found to
    keep its validators for changed content (``untrusted_validators``) is asked without them always.
    """

    def __init__(self, data: str | Path | None = None, audit_every: int = AUDIT_EVERY) -> None:
        self.path = data_dir(data) / DB_NAME
        self.audit_every = audit_every
        self._validators: dict[str, tuple[str | None, str | None]] | None = None
        self._payloads: dict[str, tuple[str, str]] | None = None

    @classmethod
    def from_settings(cls, settings) -> SQLiteState:  # noqa: ANN001 - any mapping with .get
        every = settings.get("GOVARCHIVE_AUDIT_EVERY")
        return cls(settings.get("GOVARCHIVE_DATA"), AUDIT_EVERY if every is None else int(every))

    def _trusted_validators(self) -> list[tuple]:
        """(url, etag, modified, date, digest) of each URL whose validators a request may carry."""
        untrusted = {h for (h,) in self._rows("SELECT host FROM untrusted_validators")}
        return [row[:5] for row in self._rows(VALIDATORS_SQL)
                if not (self.audit_every and row[5] >= self.audit_every - 1)
                and urlsplit(row[0]).netloc.lower() not in untrusted]

    def for_crawl(self, crawl_id: str | None) -> SQLiteState:
        return self

    def snapshot(self) -> tuple[dict[str, list], dict[str, list[str]], dict[str, tuple[str, str]]]:
        """What a cluster's workers read of this archive (archive/cluster.py RedisState): for each URL
        its newest capture with content (validators and what a 304 confirms), the links of list
        and home pages, and the payloads stored in full."""
        validators = {url: [etag, modified, url, date, digest]
                      for url, etag, modified, date, digest in self._trusted_validators()}
        links = {url: json.loads(raw or "[]") for url, raw in self._rows(
            "SELECT p.url, v.links FROM pages p JOIN versions v ON v.id = p.current_version "
            "WHERE v.kind IN ('list', 'home')")}
        self.payload("")  # loads the index
        return validators, links, dict(self._payloads or {})

    def _rows(self, sql: str, params: Iterable = ()) -> list[tuple]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, list(params)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a database created, not yet migrated
                return []
            raise
        finally:
            conn.close()

    def validator(self, key: str) -> tuple[str | None, str | None]:
        if self._validators is None:  # read once, at the crawl's start: what earlier crawls left
            self._validators = {url: (etag, modified) for url, etag, modified, _, _ in self._trusted_validators()
                                if etag or modified}
        return self._validators.get(key, (None, None))

    def revisit_target(self, key: str) -> tuple[str, str, str] | None:
        rows = self._rows("SELECT url, fetched_at, payload_digest FROM captures WHERE url = ? "
                          "AND version_id IS NOT NULL AND status = 200 ORDER BY id DESC LIMIT 1", [key])
        return rows[0] if rows else None

    def payload(self, digest: str) -> tuple[str, str] | None:
        if self._payloads is None:
            self._payloads = {}
            for d, url, date in self._rows(
                    "SELECT payload_digest, url, fetched_at FROM captures WHERE record_type = 'response' "
                    "AND status IS NOT NULL AND payload_digest IS NOT NULL ORDER BY id"):
                self._payloads.setdefault(d, (url, date))
        return self._payloads.get(digest)

    def remember_payload(self, digest: str, url: str, date: str) -> None:
        if self._payloads is not None:
            self._payloads.setdefault(digest, (url, date))

    def stored_links(self, key: str) -> list[str]:
        rows = self._rows("SELECT v.links FROM pages p JOIN versions v ON v.id = p.current_version "
                          "WHERE p.url = ? AND v.kind IN ('list', 'home')", [key])
        return json.loads(rows[0][0] or "[]") if rows else []

    def checks(self, allows: Callable[[str], bool]) -> list[PageChecks]:
        rows = self._rows(CHECKS_SQL + " WHERE p.state != 'missing' ORDER BY p.id")
        return [page_checks(row) for row in rows if allows(row[0])]

    def recently_missing(self, days: int) -> set[str]:
        return {u for (u,) in self._rows(
            "SELECT url FROM pages WHERE state = 'missing' AND last_seen >= strftime('%Y-%m-%dT%H:%M:%S', "
            "'now', ?)", [f"-{days} days"])}

    def unfinished_crawl(self, site: str) -> str | None:
        rows = self._rows("SELECT id, finished FROM crawls WHERE site = ? ORDER BY started DESC, rowid DESC LIMIT 1",
                          [site])
        return rows[0][0] if rows and rows[0][1] is None else None

    def pending(self, crawl_id: str) -> list[tuple[str, int]]:
        out = [(u, d) for u, d in self._rows(
            "SELECT f.url, f.depth FROM frontier f WHERE f.crawl_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM captures c WHERE c.crawl_id = f.crawl_id AND c.url = f.url) ORDER BY f.rowid",
            [crawl_id])]
        # The links of the pages the crawl captured and has not fetched (a list's articles, an
        # article's attachments): their queue rows may have died with it (a cluster's, with Redis),
        # and a captured page is not fetched again to find them.
        seen = self.done(crawl_id) | {u for u, _ in out}
        for (links,) in self._rows("SELECT v.links FROM captures c JOIN versions v ON v.id = c.version_id "
                                   "WHERE c.crawl_id = ? ORDER BY c.id", [crawl_id]):
            for url in json.loads(links or "[]"):
                if url not in seen:
                    seen.add(url)
                    out.append((url, 1))
        return out

    def done(self, crawl_id: str) -> set[str]:
        return {u for (u,) in self._rows("SELECT DISTINCT url FROM captures WHERE crawl_id = ?", [crawl_id])}
