"""After a crawl with changes: a webhook (JSON POST) and an updated Atom feed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from . import queries as q
from .db import open_db
from .errors import GovArchiveError


def crawl_events(data: Path, crawl_id: str, include_baseline: bool = False) -> list[dict]:
    """The events of one crawl (a site's baseline left out unless asked)."""
    db = open_db(data, create=False)
    try:
        return q.changes(db, crawl_id=crawl_id, include_baseline=include_baseline)
    finally:
        db.conn.close()


def post_webhook(url: str, payload: dict, timeout: float = 20.0) -> int:
    """POST the crawl's events as JSON; return the HTTP status."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          "User-Agent": "govarchive-notify/0.1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status
    except (urllib.error.URLError, OSError) as exc:
        raise GovArchiveError(f"webhook {url} failed: {getattr(exc, 'reason', exc)}") from exc


def notify(data: Path, crawl_id: str, site: str | None, webhook: str | None, feed: Path | None,
           include_baseline: bool = False) -> int:
    """Send what changed in one crawl; return the number of events (nothing is sent for none)."""
    events = crawl_events(data, crawl_id, include_baseline)
    if not events:
        return 0
    if webhook:
        post_webhook(webhook, {"crawl_id": crawl_id, "site": site, "events": events,
                               "counts": {k: sum(1 for e in events if e["kind"] == k) for k in {e["kind"] for e in events}}})
    if feed:
        from .feed import write_feed

        db = open_db(data, create=False)
        try:
            write_feed(db, feed, include_baseline=include_baseline)
        finally:
            db.conn.close()
    return len(events)
