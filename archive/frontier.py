"""The crawl frontier kept in the database, so a killed crawl resumes where it stopped.

Scrapy's JOBDIR queues are written when the crawl closes cleanly; a SIGKILL loses them. Here every
request the scheduler accepts is a row, written by the history writer, and every capture marks it
done, in the same SQLite file as the history (WAL, one transaction per write): the next crawl of
the same site finds the unfinished run and reads what was queued and not done (archive/state.py).
"""

from __future__ import annotations

import sqlite_utils


def enqueue(db: sqlite_utils.Database, crawl_id: str, url: str, depth: int = 0) -> None:
    """Record a request the scheduler accepted."""
    db.execute("INSERT OR IGNORE INTO frontier(crawl_id, url, depth) VALUES (?, ?, ?)", [crawl_id, url, depth])


def forget(db: sqlite_utils.Database, crawl_id: str) -> None:
    """Drop a finished crawl's frontier."""
    db.execute("DELETE FROM frontier WHERE crawl_id = ?", [crawl_id])
