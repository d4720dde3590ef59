"""Coverage: per list series (a column), what its pages declared against what a crawl reached.

A series is a column's pages (``index.html``, ``index_1.html`` …; ``list?page=N``), merged with the
series that hold the rest of it (a jpage column's POST answers, a gkmlpt catalogue's API). For each
crawl and series: pages declared and fetched, items declared, listed and captured, the hints the
pager was read from, and warnings for whatever could not be followed — silence is the worst
failure, so a list whose scripts mention paging and led nowhere is a warning, never nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from pipelines.links import series_key

from .search import dumps


@dataclass
class Series:
    key: str
    pages_declared: int | None = None
    pages_fetched: int = 0
    pages_failed: int = 0
    items_declared: int | None = None
    items: set[str] = field(default_factory=set)
    hints: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    parent: str | None = None
    unfollowed: list[str] = field(default_factory=list)  # pages whose scripts talk of paging, read alone

    def absorb(self, other: Series) -> None:
        self.pages_fetched += other.pages_fetched
        self.pages_failed += other.pages_failed
        self.items |= other.items
        self.hints |= other.hints
        self.warnings += [w for w in other.warnings if w not in self.warnings]
        if other.items_declared and not self.items_declared:
            self.items_declared = other.items_declared


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def settle(db: sqlite_utils.Database, crawl_id: str) -> list[dict]:
    """Compute and store the coverage rows of one crawl; return them."""
    site = (db.execute("SELECT site FROM crawls WHERE id = ?", [crawl_id]).fetchone() or [None])[0]
    rows = db.query(
        "SELECT p.url, c.status, c.error, v.items, v.pager FROM captures c JOIN pages p ON p.id = c.page_id "
        "LEFT JOIN versions v ON v.id = c.version_id WHERE c.crawl_id = ? AND p.kind = 'list' "
        "AND c.id IN (SELECT max(id) FROM captures WHERE crawl_id = ? GROUP BY page_id)", [crawl_id, crawl_id])
    series: dict[str, Series] = {}
    for r in rows:
        s = series.setdefault(series_key(r["url"]), Series(series_key(r["url"])))
        if r["items"] is None:
            s.pages_failed += 1
            continue
        s.pages_fetched += 1
        s.items.update(i["url"] for i in json.loads(r["items"] or "[]"))
        pager = json.loads(r["pager"]) if r["pager"] else {}
        s.pages_declared = _max(s.pages_declared, pager.get("declared_pages"))
        s.items_declared = _max(s.items_declared, pager.get("declared_items"))
        s.hints.update(h for h in pager.get("hints", []) if h != "paging-script")
        s.warnings += [w for w in pager.get("warnings", []) if w not in s.warnings]
        if "paging-script" in pager.get("hints", []) and not pager.get("pages"):
            s.unfollowed.append(r["url"])
        for child in pager.get("continues", []):
            series.setdefault(child, Series(child)).parent = s.key
    for key in [k for k, s in series.items() if s.parent and s.parent in series]:
        series[series[key].parent].absorb(series.pop(key))
    out = []
    for s in series.values():
        captured = _captured(db, s.items)
        if s.unfollowed and s.pages_fetched <= 1 and not s.pages_declared:
            s.warnings += [f"{u}: its scripts mention paging, but no other page was found" for u in s.unfollowed]
        if s.pages_declared and s.pages_fetched < s.pages_declared:
            s.warnings.append(f"{s.pages_declared} pages declared, {s.pages_fetched} fetched")
        if s.items_declared and len(s.items) < s.items_declared:
            s.warnings.append(f"{s.items_declared} items declared, {len(s.items)} listed on the pages reached")
        if s.pages_failed:
            s.warnings.append(f"{s.pages_failed} list page(s) failed in this crawl")
        row = {"crawl_id": crawl_id, "site": site, "series": s.key, "pages_declared": s.pages_declared,
               "pages_fetched": s.pages_fetched, "pages_failed": s.pages_failed,
               "items_declared": s.items_declared, "items_listed": len(s.items), "items_captured": captured,
               "hints": dumps(sorted(s.hints)), "warnings": dumps(s.warnings)}
        out.append(row)
    if out:
        db["coverage"].upsert_all(out, pk=("crawl_id", "series"))
    return out


def _captured(db: sqlite_utils.Database, urls: set[str]) -> int:
    n, todo = 0, sorted(urls)
    for i in range(0, len(todo), 500):
        chunk = todo[i:i + 500]
        n += db.execute(f"SELECT count(*) FROM pages WHERE current_version IS NOT NULL AND url IN "
                        f"({','.join('?' * len(chunk))})", chunk).fetchone()[0]
    return n


def report(db: sqlite_utils.Database, site: str | None = None, crawl_id: str | None = None) -> list[dict]:
    """Coverage rows of a crawl (default: each site's latest crawl that has any), warnings first."""
    if crawl_id is None:
        crawl_ids = [r[0] for r in db.execute(
            "SELECT (SELECT c2.crawl_id FROM coverage c2 JOIN crawls k ON k.id = c2.crawl_id "
            "WHERE c2.site IS s.site ORDER BY k.started DESC LIMIT 1) FROM (SELECT DISTINCT site FROM coverage "
            + ("WHERE site = ?" if site else "") + ") s", [site] if site else [])]
    else:
        crawl_ids = [crawl_id]
    out = []
    for cid in crawl_ids:
        for r in db.query("SELECT * FROM coverage WHERE crawl_id = ? ORDER BY series", [cid]):
            r["hints"], r["warnings"] = json.loads(r["hints"] or "[]"), json.loads(r["warnings"] or "[]")
            out.append(r)
    return sorted(out, key=lambda r: (r["site"] or "", not r["warnings"], r["series"]))
