"""Read the history: change events, a page's captures and versions, a normalised record, a diff."""

from __future__ import annotations

import json

import sqlite_utils

from pipelines.record import TEXT_FIELDS, stored_content

from .diff import version_diff
from .errors import UnknownURL, UnknownVersion


def where(*conditions: tuple[str, object], always: tuple[str, ...] = ()) -> tuple[str, list]:
    """Build a WHERE clause from (sql with one ?, value) pairs, keeping those whose value is set."""
    parts, params = list(always), []
    for sql, value in conditions:
        if value not in (None, "", False):
            parts.append(sql)
            params.append(value)
    return " AND ".join(parts) or "1", params


def _rows(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> list[dict]:
    return list(db.query(sql, params))


def page_row(db: sqlite_utils.Database, url: str) -> dict:
    """Return the pages row of ``url`` (also matching without a trailing slash difference)."""
    rows = _rows(db, "SELECT * FROM pages WHERE url = ? OR url = ? OR url = ?",
                 [url, url.rstrip("/"), url + "/" if not url.endswith("/") else url])
    if not rows:
        raise UnknownURL(f"the archive has no page {url}")
    return rows[0]


def changes(db: sqlite_utils.Database, since: str | None = None, kind: str | None = None,
            site: str | None = None, include_baseline: bool = False, crawl_id: str | None = None) -> list[dict]:
    """Return change events, oldest first; a site's baseline (its first complete crawl) only if asked."""
    clause, params = where(("c.at >= ?", since), ("c.kind = ?", kind), ("p.site = ?", site),
                           ("c.crawl_id = ?", crawl_id),
                           always=() if include_baseline or kind == "archived" else ("c.baseline = 0",))
    out = []
    for r in _rows(db, f"SELECT c.*, p.site FROM changes c JOIN pages p ON p.id = c.page_id "
                       f"WHERE {clause} ORDER BY c.at, c.id", params):
        out.append({"url": r["url"], "kind": r["kind"], "at": r["at"], "title": r["title"],
                    "site": r["site"], "from_version": r["from_version"], "to_version": r["to_version"],
                    "fields": json.loads(r["fields"]) if r["fields"] else [],
                    "silent_revision": bool(r["silent_revision"]), "significance": r["significance"],
                    "summary": r["summary"], "crawl_id": r["crawl_id"], "baseline": bool(r["baseline"]),
                    "id": r["id"]})
    return out


def history(db: sqlite_utils.Database, url: str) -> dict:
    """Return every capture and every distinct version of one page."""
    page = page_row(db, url)
    caps = _rows(db, "SELECT c.fetched_at, c.status, c.error, c.record_type, c.warc_file, c.warc_offset, "
                     "c.payload_digest, v.number AS version FROM captures c LEFT JOIN versions v "
                     "ON v.id = c.version_id WHERE c.page_id = ? ORDER BY c.id", [page["id"]])
    versions = _rows(db, "SELECT number, content_hash, title, published, first_seen, last_seen "
                         "FROM versions WHERE page_id = ? ORDER BY number", [page["id"]])
    events = _rows(db, "SELECT kind, at, from_version, to_version, summary FROM changes "
                       "WHERE page_id = ? ORDER BY at, id", [page["id"]])
    return {"url": page["url"], "state": page["state"], "kind": page["kind"], "captures": caps,
            "versions": versions, "changes": events, "next_check": next_check(db, page)}


def next_check(db: sqlite_utils.Database, page: dict) -> dict:
    """When an adaptive crawl checks the page next, and why (archive/revisit.py), with its site
    profile's maximum interval when the profile is found."""
    from .revisit import ADAPTIVE, Policy, decide
    from .sites import find_profile
    from .state import CHECKS_SQL, page_checks

    row = db.execute(CHECKS_SQL + " WHERE p.id = ?", [page["id"]]).fetchone()
    d = decide(page_checks(row), Policy.from_profile(find_profile(page.get("site")), ADAPTIVE))
    return {"at": d.next_check.isoformat(timespec="seconds") if d.next_check else None,
            "every_days": None if d.interval_days is None else round(d.interval_days, 2), "why": d.why}


def version(db: sqlite_utils.Database, url: str, number: int | None = None) -> tuple[dict, dict]:
    """Return (page, version row) — the current version unless ``number`` is given."""
    page = page_row(db, url)
    if number is None:
        if page["current_version"] is None:
            raise UnknownVersion(f"{page['url']} has no version with content (state: {page['state']})")
        row = db["versions"].get(page["current_version"])
    else:
        rows = _rows(db, "SELECT * FROM versions WHERE page_id = ? AND number = ?", [page["id"], number])
        if not rows:
            raise UnknownVersion(f"{page['url']} has no version {number}")
        row = rows[0]
    return page, row


def record(db: sqlite_utils.Database, url: str, number: int | None = None) -> dict:
    """Return the normalised record of a page version (the `govarchive show` contract)."""
    page, row = version(db, url, number)
    out = {"url": page["url"], "version": row["number"], "kind": row["kind"], "state": page["state"]}
    out.update({k: row[k] for k in TEXT_FIELDS})
    out["attachments"] = [{"name": a["name"], "url": a["url"], "type": a.get("type")}
                          for a in json.loads(row["attachments"] or "[]")]
    out["file_digest"], out["text_error"] = row["file_digest"], row["text_error"]
    out["annual"] = json.loads(row["annual"]) if row.get("annual") else None
    # An article over several pages: its other pages (its text is theirs too), or the first page
    # whose document a page 2… belongs to.
    out["parts"] = json.loads(row["parts"]) if row.get("parts") else []
    out["part_of"] = None
    if page.get("part_of"):
        out["part_of"] = db.execute("SELECT url FROM pages WHERE id = ?", [page["part_of"]]).fetchone()[0]
    out["first_seen"], out["last_seen"] = row["first_seen"], row["last_seen"]
    return out


def diff(db: sqlite_utils.Database, url: str, from_n: int | None = None, to_n: int | None = None) -> dict:
    """Diff two versions of a page: by default the last two."""
    page = page_row(db, url)
    numbers = [r["number"] for r in _rows(db, "SELECT number FROM versions WHERE page_id = ? ORDER BY number",
                                          [page["id"]])]
    if len(numbers) < 2 and (from_n is None or to_n is None):
        raise UnknownVersion(f"{page['url']} has {len(numbers)} version(s): nothing to diff")
    to_n = to_n if to_n is not None else numbers[-1]
    from_n = from_n if from_n is not None else max([n for n in numbers if n < to_n] or [numbers[0]])
    _, a = version(db, url, from_n)
    _, b = version(db, url, to_n)
    return _with_cells(version_diff(page["url"], from_n, stored_content(a), to_n, stored_content(b)), a, b)


def _with_cells(out: dict, a: dict, b: dict) -> dict:
    """A report's changed table cells are fields of the diff: `requests.new.total: 81 → 83`."""
    from pipelines.annual import cell_changes

    out["fields"].update(cell_changes(json.loads(a["annual"]) if a.get("annual") else None,
                                      json.loads(b["annual"]) if b.get("annual") else None))
    return out


def diff_documents(db: sqlite_utils.Database, url: str, other: str) -> dict:
    """Diff two different documents' current versions (this year's report against last year's)."""
    pa, pb = page_row(db, other), page_row(db, url)
    _, a = version(db, other, None)
    _, b = version(db, url, None)
    out = _with_cells(version_diff(pb["url"], a["number"], stored_content(a), b["number"], stored_content(b)), a, b)
    out["against"] = pa["url"]
    return out


def pages(db: sqlite_utils.Database, site: str | None = None, kind: str | None = None,
          state: str | None = None) -> list[dict]:
    """Return pages with their state, kind, title and version count."""
    clause, params = where(("p.site = ?", site), ("p.kind = ?", kind), ("p.state = ?", state))
    return _rows(db, f"""
        SELECT p.url, p.site, p.kind, p.state, p.title, p.first_seen, p.last_seen, p.last_status,
               (SELECT count(*) FROM versions v WHERE v.page_id = p.id) AS versions,
               (SELECT max(number) FROM versions v WHERE v.id = p.current_version) AS current_version
        FROM pages p WHERE {clause} ORDER BY p.site, p.url""", params)


def stats(db: sqlite_utils.Database, warc_bytes: dict[str, int] | None = None) -> dict:
    """Return counts for the archive and per site: pages by state, versions, captures, changes by kind."""
    def per(sql: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for site, key, n in db.execute(sql).fetchall():
            out.setdefault(site or "", {})[key] = n
        return out

    states = per("SELECT site, state, count(*) FROM pages GROUP BY 1, 2")
    kinds = per("SELECT p.site, c.kind, count(*) FROM changes c JOIN pages p ON p.id = c.page_id GROUP BY 1, 2")
    counts = {site: n for site, n in db.execute(
        "SELECT p.site, count(*) FROM versions v JOIN pages p ON p.id = v.page_id GROUP BY 1").fetchall()}
    caps = {site: n for site, n in db.execute(
        "SELECT p.site, count(*) FROM captures c JOIN pages p ON p.id = c.page_id GROUP BY 1").fetchall()}
    sites = sorted(set(states) | set(kinds))
    per_site = {s: {"pages": sum(states.get(s, {}).values()), "pages_by_state": states.get(s, {}),
                    "versions": counts.get(s, 0), "captures": caps.get(s, 0),
                    "changes_by_kind": kinds.get(s, {})} for s in sites}
    total_kinds: dict[str, int] = {}
    for k in kinds.values():
        for kind, n in k.items():
            total_kinds[kind] = total_kinds.get(kind, 0) + n
    return {"pages": sum(v["pages"] for v in per_site.values()),
            "versions": sum(counts.values()), "captures": sum(caps.values()),
            "crawls": db.execute("SELECT count(*) FROM crawls").fetchone()[0],
            "changes_by_kind": total_kinds, "warc_files": len(warc_bytes or {}),
            "warc_bytes": sum((warc_bytes or {}).values()), "sites": per_site}
