"""The archive's annual reports as data: one row per report, deadlines per site, reuse year over year.

Each report's reading (pipelines/annual.py) is stored with its version; here they are queried:
``annual`` gives every report with every number, its failing checks, and the share of its sentences
reused from the same organ's report of the year before; ``deadlines`` says, for the reports a site
profile expects (``reports = {ogi = ["…"], rule_of_law = ["…"]}``), which were published on time,
late, not at all, or changed after publication (the cells that changed).
"""

from __future__ import annotations

import json
import re
from datetime import date

import sqlite_utils

from pipelines.annual import cell_changes, due_date, flatten

from .diff import sentences as diff_sentences

REUSE_FLAG = 0.8  # evaluators have found reports 90% identical to the year before
_DIGITS = re.compile(r"[0-9０-９一二三四五六七八九十〇零]+")


def _reports(db: sqlite_utils.Database, site: str | None = None) -> list[dict]:
    sql = "SELECT r.*, v.body FROM annual_reports r JOIN pages p ON p.url = r.url JOIN versions v " \
          "ON v.id = p.current_version" + (" WHERE r.site = ?" if site else "")
    rows = [dict(zip([d[0] for d in cur.description], r, strict=True))
            for cur in [db.execute(sql, [site] if site else [])] for r in cur.fetchall()]
    for r in rows:
        r["annual"] = json.loads(r["annual"])
    return rows


def sentences(text: str) -> set[str]:
    """A report's sentences (as diffs split them), numbers and years blanked: a report copied with
    its years changed is reuse."""
    bare = (s.strip().rstrip("。！？；!?;").strip() for s in diff_sentences(text or ""))
    return {_DIGITS.sub("#", s) for s in bare if len(s) >= 8}


def reuse(text: str, previous: str) -> float | None:
    """Share of ``text``'s sentences found in ``previous``."""
    mine = sentences(text)
    if not mine:
        return None
    return len(mine & sentences(previous)) / len(mine)


def _same_organ(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    na, nb = (re.sub(r"[（(].*?[)）]|\s", "", x) for x in (a, b))
    return na == nb or na in nb or nb in na


def annual_rows(db: sqlite_utils.Database, site: str | None = None, year: int | None = None,
                failing: bool = False) -> list[dict]:
    """One row per report: what it is, its deadline, its failing checks, its reuse, every number."""
    reports = _reports(db, site)
    out = []
    for r in reports:
        a = r["annual"]
        if year is not None and a.get("year") != year:
            continue
        bad = [f"{c['name']}: {c['detail']}" for c in a.get("checks") or [] if not c.get("ok")]
        if failing and not bad:
            continue
        prev = next((p for p in reports if p["annual"].get("kind") == a.get("kind") and a.get("year")
                     and p["annual"].get("year") == a["year"] - 1 and _same_organ(p["annual"].get("organ"), a.get("organ"))),
                    None)
        share = reuse(r["body"], prev["body"]) if prev else None
        deadline = a.get("deadline") or {}
        row = {"url": r["url"], "site": r["site"], "kind": a.get("kind"), "organ": a.get("organ"), "year": a.get("year"),
               "format": a.get("format"), "published": deadline.get("published"), "due": deadline.get("due"),
               "late_days": deadline.get("late_days"), "tables": a.get("tables"), "reason": a.get("reason"),
               "failing_checks": bad, "previous": prev["url"] if prev else None,
               "reused_share": round(share, 3) if share is not None else None,
               "reused_flag": bool(share is not None and share >= REUSE_FLAG)}
        if prev:
            row["changes_from_previous"] = {k: v for k, v in cell_changes(prev["annual"], a).items()}
        row.update(flatten({k: a.get(k) for k in ("active", "requests", "review_litigation") if a.get(k)}))
        out.append(row)
    return sorted(out, key=lambda r: (r["site"] or "", r["organ"] or "", r["kind"] or "", r["year"] or 0))


def expected(profiles: list[dict]) -> list[tuple[str, str, str]]:
    """(site, organ, kind) a set of profiles expects reports from."""
    out = []
    for p in profiles:
        for kind, organs in (p.get("reports") or {}).items():
            for organ in organs:
                out.append((p["name"], organ, kind))
    return out


def deadlines(db: sqlite_utils.Database, profiles: list[dict], year: int, site: str | None = None,
              today: date | None = None) -> list[dict]:
    """For each report the profiles expect for ``year``: on time, late, missing (or not yet due), and
    whether its numbers changed after it was first archived."""
    today = today or date.today()
    wanted = [e for e in expected(profiles) if site is None or e[0] == site]
    with db.conn:
        for s, organ, kind in wanted:
            db.execute("INSERT OR IGNORE INTO expected_reports(site, organ, kind) VALUES (?, ?, ?)", [s, organ, kind])
    reports = _reports(db)
    out = []
    for s, organ, kind in wanted:
        due = due_date(kind, year, organ)
        match = next((r for r in reports if r["annual"].get("kind") == kind and r["annual"].get("year") == year
                      and _same_organ(r["annual"].get("organ"), organ)), None)
        row = {"site": s, "organ": organ, "kind": kind, "year": year, "due": due.isoformat(), "url": None,
               "published": None, "late_days": None, "status": None, "changed_cells": {}}
        if match is None:
            row["status"] = "missing" if today > due else "not yet due"
            out.append(row)
            continue
        a = match["annual"]
        published = (a.get("deadline") or {}).get("published")
        first_seen = db.execute("SELECT min(v.first_seen) FROM versions v JOIN pages p ON p.id = v.page_id "
                                "WHERE p.url = ?", [match["url"]]).fetchone()[0]
        # Without a date in the report, the first time the archive saw it is when it was public at the latest.
        when = published or (first_seen[:10] if first_seen else None)
        late = max(0, (date.fromisoformat(when) - due).days) if when else None
        first = db.execute("SELECT v.annual FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ? "
                           "AND v.annual IS NOT NULL ORDER BY v.number LIMIT 1", [match["url"]]).fetchone()
        changed = cell_changes(json.loads(first[0]), a) if first else {}
        row.update(url=match["url"], published=when, late_days=late,
                   status=("late" if late else "on time") + (", changed after publication" if changed else ""),
                   changed_cells=changed)
        out.append(row)
    return out
