"""An article split over several pages is one document: its first page's versions hold the whole.

Sites cut long documents into ``t20240101_1.html``, ``_2.html`` … or ``c1013-31153719-2.html``
behind a 【1】【2】 or 上一页 1/2 下一页 pager. Each page is fetched, kept in the WARCs and versioned
on its own URL (pages 2… as kind ``part``, no events of their own); the document is the first
page's: its text followed by its other pages' texts, in order. A change on page 3 is a change of
the document, shown in its diff.

A first page read in a crawl waits (table ``assemblies``) for the crawl's end, when its other pages
have been read too; a first page not read anew (304, or not due) is assembled again when one of its
pages was. Everything is read back from the database, so a live crawl, a resumed one and a rebuild
from the WARCs assemble alike. Nothing is left out silently: a page that could not be read is named
in the crawl's coverage (series = the first page's URL), and a document that was whole is not
replaced by a part of itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from pipelines.record import PageRecord

from .capture import Capture
from .search import dumps
from .vocab import is_failure

if TYPE_CHECKING:
    from .history import History

# The fields of a version row that are fields of a PageRecord too (a first page's stored reading).
_RECORD_FIELDS = ("kind", "title", "published", "source", "index_no", "category", "publisher", "written_on",
                  "doc_no", "subject", "signed_by", "signed_on", "contact", "charset", "file_digest",
                  "text_error")


def settle(h: History, crawl_id: str) -> list[dict]:
    """Version this crawl's multi-page documents whole; return the events it raised."""
    db = h.db
    site = (db.execute("SELECT site FROM crawls WHERE id = ?", [crawl_id]).fetchone() or [None])[0]
    events: list[dict] = []
    done: set[int] = set()
    for row in list(db.query("SELECT a.page_id, a.capture_id, a.record, c.fetched_at, c.status, c.url "
                             "FROM assemblies a JOIN captures c ON c.id = a.capture_id "
                             "WHERE a.crawl_id = ? ORDER BY a.capture_id", [crawl_id])):
        data = json.loads(row["record"])
        own = PageRecord(**data["record"])
        cap = Capture(url=row["url"], fetched_at=row["fetched_at"], crawl_id=crawl_id, status=row["status"],
                      overrides=data["overrides"] or {})
        events += _assemble(h, crawl_id, site, row["page_id"], own, cap, row["capture_id"])
        done.add(row["page_id"])
    # First pages not read anew in this crawl, one of whose other pages was.
    for first_id, at in list(db.execute(
            "SELECT p.part_of, max(c.fetched_at) FROM captures c JOIN pages p ON p.id = c.page_id "
            "WHERE c.crawl_id = ? AND p.part_of IS NOT NULL AND c.version_id IS NOT NULL GROUP BY p.part_of",
            [crawl_id])):
        if first_id in done:
            continue
        stored = _stored_reading(h, first_id)
        if stored is None:
            continue
        own, overrides = stored
        last = db.execute("SELECT id, fetched_at, status FROM captures WHERE page_id = ? AND crawl_id = ? "
                          "ORDER BY id DESC LIMIT 1", [first_id, crawl_id]).fetchone()
        cap = Capture(url=own.url, fetched_at=last[1] if last else at, crawl_id=crawl_id,
                      status=last[2] if last else 200, overrides=overrides)
        events += _assemble(h, crawl_id, site, first_id, own, cap, last[0] if last and last[2] == 304 else 0)
    db.execute("DELETE FROM assemblies WHERE crawl_id = ?", [crawl_id])
    return events


def _assemble(h: History, crawl_id: str, site: str | None, page_id: int, own: PageRecord, cap: Capture,
              capture_id: int) -> list[dict]:
    """Join the first page's own reading with its other pages' latest texts; version the whole."""
    db = h.db
    texts, attachments, missing, stale = [own.body], list(own.attachments), [], []
    seen = {a.get("url") for a in attachments}
    for n, url in enumerate(own.parts, 2):
        part = db.execute("SELECT p.id, v.body, v.attachments, v.last_seen FROM pages p "
                          "LEFT JOIN versions v ON v.id = p.current_version WHERE p.url = ?", [url]).fetchone()
        last = db.execute("SELECT status, error FROM captures WHERE url = ? AND crawl_id = ? ORDER BY id DESC "
                          "LIMIT 1", [url, crawl_id]).fetchone()
        failed = last is not None and is_failure(last[0], last[1])
        why = (last[1] or f"HTTP {last[0]}") if failed else "not fetched"
        if part is None or part[1] is None:
            missing.append(f"page {n} of the article ({url}) has no text in the archive: {why}")
            continue
        if failed:
            stale.append(f"page {n} of the article ({url}) could not be fetched ({why}); its text of "
                         f"{(part[3] or '')[:10]} is used")
        texts.append(part[1])
        for a in json.loads(part[2] or "[]"):
            if a.get("url") not in seen:
                seen.add(a.get("url"))
                attachments.append(a)
    page = h.page(own.url)
    _coverage(db, crawl_id, site, own, missing + stale)
    if missing and page.get("current_version") is not None:
        # The document was whole once: a part of it is not a new version. Its capture stays with
        # the version it had; coverage names the page that could not be read.
        if capture_id:
            db.execute("UPDATE captures SET version_id = ? WHERE id = ?", [page["current_version"], capture_id])
        return []
    whole = replace(own, body="\n".join(t for t in texts if t), attachments=attachments)
    return h.add_content(cap, page, whole, capture_id=capture_id,
                          own={"body": own.body, "attachments": own.attachments, "overrides": cap.overrides})


def _stored_reading(h: History, page_id: int) -> tuple[PageRecord, dict] | None:
    """The first page's own reading, as its current version stored it (None: not a multi-page one)."""
    cur = h.db.conn.execute("SELECT p.url, v.* FROM pages p JOIN versions v ON v.id = p.current_version "
                            "WHERE p.id = ?", [page_id])
    row = cur.fetchone()
    if row is None:
        return None
    v = dict(zip([d[0] for d in cur.description], row, strict=True))
    if not v.get("own") or not v.get("parts"):
        return None
    own = json.loads(v["own"])
    record = PageRecord(url=v["url"], body=own["body"], attachments=own["attachments"], parts=json.loads(v["parts"]),
                        **{f: v[f] for f in _RECORD_FIELDS})
    return record, own.get("overrides") or {}


def _coverage(db, crawl_id: str, site: str | None, own: PageRecord, warnings: list[str]) -> None:  # noqa: ANN001
    """Say in the crawl's coverage which of the article's pages could not be read."""
    if not warnings:
        return
    fetched = db.execute(
        f"SELECT count(DISTINCT url) FROM captures WHERE crawl_id = ? AND version_id IS NOT NULL AND url IN "
        f"({','.join('?' * len(own.parts))})", [crawl_id, *own.parts]).fetchone()[0]
    db["coverage"].upsert({
        "crawl_id": crawl_id, "site": site, "series": own.url, "pages_declared": 1 + len(own.parts),
        "pages_fetched": 1 + fetched, "pages_failed": sum("could not be fetched" in w for w in warnings),
        "items_declared": None, "items_listed": 0, "items_captured": 0,
        "hints": dumps(["multi-page article"]), "warnings": dumps(warnings)}, pk=("crawl_id", "series"))
