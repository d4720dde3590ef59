"""Run the evolving site (tests/simsite.py) through real crawls and score the archive against its truth.

Used by tests/test_simulated_history.py (a few seeds, a few editions) and by `make soak`
(bench/soak.py: 50 seeds × 8 editions). Every crawl is the real CLI in a child process; every
comparison reads the real database.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .simsite import Event, EvolvingSite

ROOT = Path(__file__).resolve().parent.parent
# Fast and still faithful: timeouts and retries as configured, no politeness delays to wait out.
SETTINGS = {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 2, "AUTOTHROTTLE_ENABLED": False, "GOVARCHIVE_MAX_BACKOFF": 0,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "GOVARCHIVE_WARC_MAX_SIZE": 200_000}


@dataclass
class Score:
    """False and missing events, per kind, over a whole run."""

    false: Counter = field(default_factory=Counter)
    missing: Counter = field(default_factory=Counter)
    wrong_fields: Counter = field(default_factory=Counter)
    expected: Counter = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return not (self.false or self.missing or self.wrong_fields)

    def add(self, other: Score) -> None:
        for name in ("false", "missing", "wrong_fields", "expected"):
            getattr(self, name).update(getattr(other, name))
        self.details += other.details


def profile(tmp: Path, name: str, url: str, **settings: object) -> Path:
    lines = [f'name = "{name}"', 'derived = "simulated site"', f'start_urls = ["{url}"]', "allow_private = true",
             "[settings]", *(f"{k} = {json.dumps(v)}" for k, v in {**SETTINGS, **settings}.items())]
    path = tmp / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def crawl(prof: Path, data: Path) -> subprocess.CompletedProcess:
    # Every known page checked each edition (--full): the oracle judges the history's truth; which
    # pages a crawl checks is the revisit policy's question, measured by bench/revisit.py.
    return subprocess.run([sys.executable, "-m", "archive.cli", "crawl", "--full", "--site", str(prof),
                           "--data", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def events_by_crawl(data: Path) -> list[list[dict]]:
    """Every crawl's events (baseline included), in crawl order; a crawl with none gives []."""
    db = sqlite3.connect(data / "govarchive.db")
    crawls = [c for (c,) in db.execute("SELECT id FROM crawls ORDER BY started, rowid")]
    db.close()
    out = subprocess.run([sys.executable, "-m", "archive.cli", "changes", "--include-baseline", "--json",
                          "--data", str(data)], cwd=ROOT, capture_output=True, text=True, check=True)
    by: dict[str, list[dict]] = {c: [] for c in crawls}
    for e in json.loads(out.stdout):
        by.setdefault(e["crawl_id"], []).append(e)
    return list(by.values())


def compare(edition: int, got: list[dict], truth: list[Event], base: str) -> Score:
    """Exact comparison of one crawl's events with the truth of its edition."""
    score = Score()
    want = Counter(e.key() for e in truth)
    have = Counter((e["kind"], e["url"].removeprefix(base.rstrip("/"))) for e in got)
    score.expected.update(k for k, _ in want.elements())
    for (kind, path), n in (have - want).items():
        score.false[kind] += n
        score.details.append(f"edition {edition}: false {kind} {path}")
    for (kind, path), n in (want - have).items():
        score.missing[kind] += n
        score.details.append(f"edition {edition}: missing {kind} {path}")
    fields = {e["url"].removeprefix(base.rstrip("/")): set(e["fields"]) for e in got if e["kind"] == "changed"}
    for e in truth:
        if e.kind == "changed" and e.fields is not None and e.path in fields and fields[e.path] != set(e.fields):
            score.wrong_fields["changed"] += 1
            score.details.append(f"edition {edition}: changed {e.path} fields {sorted(fields[e.path])}, "
                                 f"want {sorted(e.fields)}")
    return score


TABLE_KEYS = {"sites": "name", "crawls": "id", "pages": "id", "versions": "id", "captures": "id",
              "changes": "id", "host_probes": "rowid", "frontier": "crawl_id, url", "coverage": "crawl_id, series",
              "untrusted_validators": "host"}


def table_rows(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of every history table, every column, in key order."""
    db = sqlite3.connect(db_path)
    out = {}
    for table, key in TABLE_KEYS.items():
        out[table] = db.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    db.close()
    return out


def rebuild_differences(data: Path, tmp: Path) -> list[str]:
    """Rebuild the database from the WARCs alone and list every row that differs from the live one."""
    rebuilt = tmp / "rebuilt"
    proc = subprocess.run([sys.executable, "-m", "archive.cli", "rebuild", "--into", str(rebuilt), "--data", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return [f"reindex exited {proc.returncode}: {proc.stderr[-1500:]}"]
    live, again = table_rows(data / "govarchive.db"), table_rows(rebuilt / "govarchive.db")
    diffs = []
    for table in TABLE_KEYS:
        a, b = live[table], again[table]
        if len(a) != len(b):
            diffs.append(f"{table}: {len(a)} rows live, {len(b)} rebuilt")
        for x, y in zip(a, b, strict=False):
            if x != y:
                diffs.append(f"{table}: live {x!r}\n{' ' * len(table)}  rebuilt {y!r}")
                break
    return diffs


def run(seed: int, editions: int, tmp: Path, docs: int = 24) -> tuple[Score, list[str]]:
    """Crawl a seeded site through ``editions`` editions; return the score and reindex differences."""
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "data"
    score = Score()
    with EvolvingSite(seed, docs=docs) as site:
        prof = profile(tmp, f"sim{seed}", site.url)
        truths = [site.publish_first()]
        for edition in range(1, editions + 1):
            if edition > 1:
                truths.append(site.evolve())
            proc = crawl(prof, data)
            if proc.returncode != 0:
                score.details.append(f"edition {edition}: crawl exited {proc.returncode}: {proc.stderr[-800:]}")
                score.missing["crawl"] += 1
                return score, []
            got = events_by_crawl(data)
            score.add(compare(edition, got[-1] if len(got) == edition else [], truths[-1], site.url))
            if len(got) != edition:
                score.details.append(f"edition {edition}: {len(got)} crawls in the database")
                score.missing["crawl"] += 1
        if not score.ok():
            score.details += site.oplog
    return score, rebuild_differences(data, tmp)
