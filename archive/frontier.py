"""The crawl frontier kept in the database, so a killed crawl resumes where it stopped.

Scrapy's JOBDIR queues are written when the crawl closes cleanly; a SIGKILL loses them. Here every
request the scheduler accepts is a row, and every capture marks it done, in the same SQLite file
as the history (WAL, one transaction per write): the next crawl of the same site finds the
unfinished run, fetches what was queued and not done, and skips what was captured.
"""

from __future__ import annotations

import sqlite_utils


def unfinished_crawl(db: sqlite_utils.Database, site: str) -> str | None:
    """Return the id of this site's last crawl if it never finished (killed), else None."""
    row = db.execute("SELECT id, finished FROM crawls WHERE site = ? ORDER BY started DESC, rowid DESC LIMIT 1",
                     [site]).fetchone()
    return row[0] if row and row[1] is None else None


def enqueue(db: sqlite_utils.Database, crawl_id: str, url: str, depth: int = 0) -> None:
    """Record a request the scheduler accepted."""
    db.execute("INSERT OR IGNORE INTO frontier(crawl_id, url, depth) VALUES (?, ?, ?)", [crawl_id, url, depth])


def done_urls(db: sqlite_utils.Database, crawl_id: str) -> set[str]:
    """URLs this crawl already captured (any outcome)."""
    return {u for (u,) in db.execute("SELECT DISTINCT url FROM captures WHERE crawl_id = ?", [crawl_id])}


def pending(db: sqlite_utils.Database, crawl_id: str) -> list[tuple[str, int]]:
    """(url, depth) queued by this crawl and not captured yet, in the order they were queued; then
    the links of the lists and home pages it captured that it has not fetched (their queue rows
    may have died with the crawl, and a captured list is not fetched again to find them)."""
    import json

    out = [(u, d) for u, d in db.execute(
        "SELECT f.url, f.depth FROM frontier f WHERE f.crawl_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM captures c WHERE c.crawl_id = f.crawl_id AND c.url = f.url) ORDER BY f.rowid",
        [crawl_id])]
    done = done_urls(db, crawl_id) | {u for u, _ in out}
    for (links,) in db.execute("SELECT v.links FROM captures c JOIN versions v ON v.id = c.version_id "
                               "WHERE c.crawl_id = ? AND v.kind IN ('list', 'home') ORDER BY c.id", [crawl_id]):
        for url in json.loads(links or "[]"):
            if url not in done:
                done.add(url)
                out.append((url, 1))
    return out


def forget(db: sqlite_utils.Database, crawl_id: str) -> None:
    """Drop a finished crawl's frontier."""
    db.execute("DELETE FROM frontier WHERE crawl_id = ?", [crawl_id])
