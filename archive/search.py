"""Exact Chinese full-text search: FTS5 over overlapping character bigrams, verified by instr().

FTS5's own tokenizers cannot do it: ``trigram`` never matches queries under three characters and
``unicode61`` treats a run of Han characters as one token. Indexing every pair of adjacent
letters or digits (法治 治政 政府 …) makes any query of two or more characters a bigram phrase;
the candidates are then checked with ``instr`` on the stored text, so results are exact
(substring semantics), and single characters fall back to ``instr`` alone.
"""

from __future__ import annotations

import json
import re
import sqlite3

import sqlite_utils

from pipelines.normalize import normalize_inline

from .errors import BadQuery

_WORD = re.compile(r"[^\W_]+")  # runs of letters/digits (Han included); the rest breaks bigrams
FIELDS = ("title", "body", "attachments")


def bigrams(text: str) -> str:
    """Return the space-separated bigram shadow of ``text`` (lower-cased)."""
    out: list[str] = []
    for run in _WORD.findall(text.lower()):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return " ".join(out)


def _phrase(part: str) -> str | None:
    tokens = bigrams(part).split()
    if not tokens or (len(tokens) == 1 and len(tokens[0]) < 2):
        return None
    return '"' + " ".join(tokens) + '"'


def fts_query(query: str) -> str | None:
    """Return an FTS5 MATCH expression that every true match satisfies, or None (scan)."""
    phrases = [p for p in (_phrase(run) for run in _WORD.findall(query.lower())) if p]
    return " AND ".join(phrases) if phrases else None


def index_version(db: sqlite_utils.Database, version_id: int, title: str | None, body: str | None,
                  attachments: str | None) -> None:
    """Add one version's text to the index."""
    db.execute(
        "INSERT OR REPLACE INTO search_index(rowid, title, body, attachments) VALUES (?, ?, ?, ?)",
        [version_id, bigrams(title or ""), bigrams(body or ""), bigrams(attachments or "")],
    )


def search(db: sqlite_utils.Database, query: str, *, limit: int = 20, site: str | None = None,
           kind: str | None = None, since: str | None = None, until: str | None = None,
           field: str | None = None, all_versions: bool = False) -> list[dict]:
    """Return versions whose text contains ``query`` exactly (latest versions unless ``all_versions``)."""
    q = normalize_inline(query)
    if not q.strip():
        raise BadQuery("empty search query")
    if field and field not in FIELDS:
        raise BadQuery(f"unknown field {field!r}: use one of {', '.join(FIELDS)}")
    needles = [n.lower() for n in q.split() if n]
    match = fts_query(q)
    cols = {"title": "v.title", "body": "v.body", "attachments": "v.body"}
    where, params = [], []
    if match:
        target = f"{{{'title body' if not field else field}}} : ({match})" if field != "attachments" else f"{{body}} : ({match})"
        where.append("v.id IN (SELECT rowid FROM search_index WHERE search_index MATCH ?)")
        params.append(target)
    hay = cols[field] if field else "coalesce(v.title, '') || char(10) || coalesce(v.body, '')"
    for n in needles:
        where.append(f"instr(lower({hay}), ?) > 0")
        params.append(n)
    if field == "attachments":
        where.append("v.kind = 'attachment'")
    if not all_versions:
        where.append("v.id = p.current_version")
    if site:
        where.append("p.site = ?")
        params.append(site)
    if kind:
        where.append("v.kind = ?")
        params.append(kind)
    else:  # list and home pages repeat the titles of the documents they link
        where.append("v.kind NOT IN ('list', 'home')")
    if since:
        where.append("coalesce(v.published, v.first_seen) >= ?")
        params.append(since)
    if until:
        where.append("coalesce(v.published, v.first_seen) < ?")
        params.append(until)
    sql = f"""
        SELECT p.url, v.title, v.published, v.number AS version, p.state, v.kind, v.body, v.first_seen
        FROM versions v JOIN pages p ON p.id = v.page_id
        WHERE {' AND '.join(where) or '1'}
        ORDER BY coalesce(v.published, v.first_seen) DESC, p.url, v.number DESC
        LIMIT ?"""
    params.append(int(limit))
    try:
        rows = list(db.query(sql, params))
    except sqlite3.OperationalError as exc:
        raise BadQuery(f"cannot search for {query!r}: {exc}") from exc
    out = []
    for r in rows:
        out.append({"url": r["url"], "title": r["title"], "published": r["published"],
                    "version": r["version"], "removed": r["state"] == "removed", "state": r["state"],
                    "kind": r["kind"], "snippet": snippet(r["body"] or r["title"] or "", needles[0])})
    return out


def snippet(text: str, needle: str, width: int = 40) -> str:
    """Return text around the first match with the match marked [like this]."""
    i = text.lower().find(needle)
    if i < 0:
        return text[: 2 * width].replace("\n", " ")
    start, end = max(0, i - width), i + len(needle) + width
    pre = ("…" if start else "") + text[start:i]
    post = text[i + len(needle):end] + ("…" if end < len(text) else "")
    return (pre + "[" + text[i:i + len(needle)] + "]" + post).replace("\n", " ")


def attachments_text(attachments: list[dict]) -> str:
    """Return the searchable text of a version's attachment list (names)."""
    return "\n".join(a.get("name") or "" for a in attachments)


def dumps(value: object) -> str:
    """JSON for the database (Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
