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
# Three plans, chosen by how many rows the index holds for the query (bench/search.py, a million
# versions):
# - FEW: fewer candidates than FEW_CANDIDATES — read them all and sort (a rare word within one site
#   of 50, 1,992 candidates: 9 ms, against 203 ms walking);
# - PROBE: so many that 4 × 20 of them are expected among the newest PROBE_ROWS versions, and the
#   index alone decides (one token, no filter) —
#   walk the newest versions and look each up in the index (a single frequent character: 1 ms,
#   against 180–235 ms building its set of candidates to walk with);
# - WALK: in between, or filtered — walk the newest versions keeping the candidates' set.
FEW, PROBE, WALK, SCAN = "few", "probe", "walk", "scan"
FEW_CANDIDATES = 1_000
FILTERED = 5  # …times more when the query has a filter (a site, a kind, dates): walks go further
PROBE_ROWS = 2_000
PROBE_MARGIN = 4  # …so many candidates that four times the rows asked are expected there (not fewer: a
# probe that falls short walks again; at 100,000 versions a margin of 1 made frequent words slower)
PROBE_MIN_CANDIDATES = 20_000  # and at least this many: a smaller set is built in a few ms, less than
# probing costs (at 100,000 versions a word in 4,814 of them: 42 ms probing, 1.5 ms walking)


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
    """Return versions whose text contains ``query`` exactly (latest versions unless ``all_versions``),
    newest first."""
    q = normalize_inline(query)
    if not q.strip():
        raise BadQuery("empty search query")
    if field and field not in FIELDS:
        raise BadQuery(f"unknown field {field!r}: use one of {', '.join(FIELDS)}")
    needles = [n.lower() for n in q.split() if n]
    match = fts_query(q)
    # A query of one or two letters/digits is one token: the index alone is exact.
    exact = match is not None and bool(_WORD.fullmatch(q.lower())) and len(q) <= 2
    # What every version returned satisfies apart from the index: its kind, currency and filters.
    keep, keep_params = [], []
    if field == "attachments":
        keep.append("v.kind = 'attachment'")
    if not all_versions:
        keep.append("v.id = p.current_version")
    if not kind:  # list and home pages repeat the titles of the documents they link
        keep.append("v.kind NOT IN ('list', 'home')")
    clause, keep_params = filters(("p.site = ?", site), ("v.kind = ?", kind),
                                  ("coalesce(v.published, v.first_seen) >= ?", since),
                                  ("coalesce(v.published, v.first_seen) < ?", until))
    keep.append(clause)
    # …and the exact check on the stored text (a query longer than one token).
    hay = {"title": "v.title", "body": "v.body", "attachments": "v.body"}.get(
        field or "", "coalesce(v.title, '') || char(10) || coalesce(v.body, '')")
    check = [] if exact else [f"instr(lower({hay}), ?) > 0" for _ in needles]
    check_params = [] if exact else list(needles)
    target = None
    if match:
        target = f"{{{'title body' if not field else field}}} : ({match})" if field != "attachments" else f"{{body}} : ({match})"
    filtered = bool(site or kind or since or until)
    plan = _plan(db, target, filtered, exact, limit)
    try:
        rows = None
        if plan == PROBE:  # the newest versions, each looked up in the index: a frequent term
            rows = list(db.query(f"""
                SELECT p.url, v.title, v.published, v.number AS version, p.state, v.kind, v.body, v.first_seen,
                       v.id AS vid, coalesce(v.published, v.first_seen) AS at
                FROM (SELECT v.id AS vid FROM versions v INDEXED BY versions_recent JOIN pages p ON p.id = v.page_id
                      WHERE {_all(keep)} ORDER BY coalesce(v.published, v.first_seen) DESC, v.id DESC LIMIT ?) w
                CROSS JOIN versions v ON v.id = w.vid JOIN pages p ON p.id = v.page_id
                WHERE EXISTS (SELECT 1 FROM search_index WHERE search_index MATCH ? AND rowid = w.vid) AND {_all(check)}
                LIMIT ?""", [*keep_params, PROBE_ROWS, target, *check_params, int(limit)]))
            rows.sort(key=lambda r: (r["at"] or "", r["vid"]), reverse=True)
            if len(rows) < limit:  # fewer than asked among the newest: walk on
                rows, plan = None, WALK
        if rows is None:
            source, where, params = "versions v INDEXED BY versions_recent", [], []
            if plan == FEW:  # read every candidate, then sort: a rare term never walks the whole archive
                source = ("(SELECT rowid AS vid FROM search_index WHERE search_index MATCH ?) m "
                          "CROSS JOIN versions v ON v.id = m.vid")
                params.append(target)
            elif plan == WALK:  # walk the newest versions, keeping the candidates' set
                where.append("v.id IN (SELECT rowid FROM search_index WHERE search_index MATCH ?)")
                params.append(target)
            rows = list(db.query(f"""
                SELECT p.url, v.title, v.published, v.number AS version, p.state, v.kind, v.body, v.first_seen
                FROM {source} JOIN pages p ON p.id = v.page_id
                WHERE {_all(where + check + keep)}
                ORDER BY coalesce(v.published, v.first_seen) DESC, v.id DESC
                LIMIT ?""", [*params, *check_params, *keep_params, int(limit)]))
    except sqlite3.OperationalError as exc:
        raise BadQuery(f"cannot search for {query!r}: {exc}") from exc
    return [{"url": r["url"], "title": r["title"], "published": r["published"], "version": r["version"],
             "removed": r["state"] == "removed", "state": r["state"], "kind": r["kind"],
             "snippet": snippet(r["body"] or r["title"] or "", needles[0])} for r in rows]


def _plan(db: sqlite_utils.Database, target: str | None, filtered: bool, exact: bool, limit: int = 20) -> str:
    """How to find the newest matches, from how many rows the index holds for the query (counted
    up to what decides: a few milliseconds). ``filtered``: a filter keeps only some versions;
    ``exact``: the index alone decides (one token) — a longer query's exact matches can be far
    fewer than its candidates, so it is never probed for."""
    if target is None:
        return SCAN
    versions = db.execute("SELECT coalesce(max(id), 0) FROM versions").fetchone()[0]
    few = FEW_CANDIDATES * (FILTERED if filtered else 1)  # a filter makes walks longer
    # This many candidates: PROBE_MARGIN times the rows asked expected among the newest PROBE_ROWS.
    dense = max(-(-PROBE_MARGIN * limit * versions // PROBE_ROWS), PROBE_MIN_CANDIDATES)
    probe = exact and not filtered
    n = db.execute("SELECT count(*) FROM (SELECT rowid FROM search_index WHERE search_index MATCH ? LIMIT ?)",
                   [target, max(few, dense) if probe else few]).fetchone()[0]
    if n < few:
        return FEW
    return PROBE if probe and n >= dense else WALK


def _all(terms: list[str]) -> str:
    return " AND ".join(t for t in terms if t) or "1"


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
