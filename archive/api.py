"""A small Python API for notebooks: ``Archive(path).search(...)``, ``.history(url)``, ``.diff(url)``."""

from __future__ import annotations

import os
from pathlib import Path

from . import queries
from .db import data_dir, open_db, warc_dir
from .search import search as _search


class Archive:
    """A govarchive data directory, opened read-only for queries.

    >>> from archive import Archive
    >>> a = Archive("demo-data")
    >>> [r["title"] for r in a.search("法治政府", limit=3)]            # doctest: +SKIP
    >>> a.history(url)["versions"]; a.diff(url)["ops"]                  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = data_dir(path)
        self.db = open_db(self.path, create=False)

    def search(self, query: str, **filters: object) -> list[dict]:
        """Exact full-text search; filters: site, kind, since, until, field, all_versions, limit."""
        return _search(self.db, query, **filters)

    def history(self, url: str) -> dict:
        """Every capture, version and change event of one page."""
        return queries.history(self.db, url)

    def show(self, url: str, version: int | None = None) -> dict:
        """The normalised record of a page version (current by default)."""
        return queries.record(self.db, url, version)

    def diff(self, url: str, old: int | None = None, new: int | None = None) -> dict:
        """The diff between two versions (default: the last two)."""
        return queries.diff(self.db, url, old, new)

    def changes(self, since: str | None = None, kind: str | None = None, site: str | None = None) -> list[dict]:
        """Change events, oldest first."""
        return queries.changes(self.db, since=since, kind=kind, site=site)

    def pages(self, site: str | None = None, kind: str | None = None, state: str | None = None) -> list[dict]:
        """Pages with their state and number of versions."""
        return queries.pages(self.db, site=site, kind=kind, state=state)

    def stats(self) -> dict:
        """Counts per site, and WARC bytes."""
        return queries.stats(self.db, warc_sizes(self.path))

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def warc_sizes(data: Path) -> dict[str, int]:
    """Return the size of every WARC file of a data directory."""
    return {p.name: p.stat().st_size for p in sorted(warc_dir(data).glob("*.warc.gz"))}
