"""Exact Chinese full-text search: FTS5 over overlapping character bigrams, verified by instr().

FTS5's own tokenizers cannot do it: ``trigram`` never matches queries under three characters and
``unicode61`` treats a run of Han characters as one token. Indexing every pair of adjacent
letters or digits (法治 治政 政府 …), and every single character, makes a one- or two-character query
one token, answered by the index alone; a longer query's candidates are the rows holding all of
its bigrams, checked with ``instr`` on the stored text, so results are exact (substring semantics).
"""

from __future__ import annotations

import json
import re
import sqlite3

import sqlite_utils

from pipelines.normalize import normalize_inline

from .errors import BadQuery
from .queries import where as filters

_WORD = re.compile(r"[^\W_]+")  # runs of letters/digits (Han included); the rest breaks bigrams
FIELDS = ("title", "body", "attachments")


def shadow(text: str) -> str:
    """Return the indexed shadow of ``text``: every character and every adjacent pair (lower-cased)."""
    out: list[str] = []
    for run in _WORD.findall(text.lower()):
        out.extend(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return " ".join(out)


def fts_query(query: str) -> str | None:
    """Return an FTS5 MATCH expression that every true match satisfies, or None (scan).

    Every bigram of the query must be present (AND); ``instr`` then checks they are adjacent.
    """
    words = _WORD.findall(query.lower())
    tokens = sorted({w[i:i + 2] for w in words for i in range(len(w) - 1)} or {w for w in words if len(w) == 1})
    return " AND ".join(f'"{t}"' for t in tokens) if tokens else None


def index_version(db: sqlite_utils.Database, version_id: int, title: str | None, body: str | None,
                  attachments: str | None) -> None:
    """Add one version's text to the index."""
    db.execute(
        "INSERT INTO search_index(rowid, title, body, attachments) VALUES (?, ?, ?, ?)",
        [version_id, shadow(title or ""), shadow(body or ""), shadow(attachments or "")],
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
    # A query of one or two letters/digits is one token: the index alone is exact.
    exact = match is not None and bool(_WORD.fullmatch(q.lower())) and len(q) <= 2
    cols = {"title": "v.title", "body": "v.body", "attachments": "v.body"}
    where, params = [], []
    if match:
        target = f"{{{'title body' if not field else field}}} : ({match})" if field != "attachments" else f"{{body}} : ({match})"
        where.append("v.id IN (SELECT rowid FROM search_index WHERE search_index MATCH ?)")
        params.append(target)
    hay = cols[field] if field else "coalesce(v.title, '') || char(10) || coalesce(v.body, '')"
    for n in needles if not exact else []:
        where.append(f"instr(lower({hay}), ?) > 0")
        params.append(n)
    if field == "attachments":
        where.append("v.kind = 'attachment'")
    if not all_versions:
        where.append("v.id = p.current_version")
    if not kind:  # list and home pages repeat the titles of the documents they link
        where.append("v.kind NOT IN ('list', 'home')")
    clause, more = filters(("p.site = ?", site), ("v.kind = ?", kind),
                           ("coalesce(v.published, v.first_seen) >= ?", since),
                           ("coalesce(v.published, v.first_seen) < ?", until))
    where.append(clause)
    params += more
    # Newest first, walking versions_recent backwards: the scan stops at the limit, so instr()
    # runs on a few candidates for common words and on the FTS candidates alone for rare ones.
    sql = f"""
        SELECT p.url, v.title, v.published, v.number AS version, p.state, v.kind, v.body, v.first_seen
        FROM versions v INDEXED BY versions_recent JOIN pages p ON p.id = v.page_id
        WHERE {' AND '.join(where) or '1'}
        ORDER BY coalesce(v.published, v.first_seen) DESC, v.id DESC
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
