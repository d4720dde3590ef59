"""Search at scale: build an archive of 100,000+ versions, time in-process searches, size the index.

Pages are generated in the demo site's style (its sentences recombined, dates and numbers varied).
Reports p50/p95 latency for 1-, 2-, 4-character and phrase queries and the bigram index's size
relative to the text it indexes. Targets: p95 < 50 ms for 2-character queries; index < 3x text.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.db import DB_NAME, open_db  # noqa: E402
from archive.demosite.pages import articles  # noqa: E402
from archive.search import search, shadow  # noqa: E402

QUERIES = {
    "1 char": ["法", "区", "报", "税", "函"],
    "2 chars": ["法治", "公开", "申请", "企业", "审批", "人才", "安全", "诉讼"],
    "4 chars": ["法治政府", "政务公开", "依法行政", "企业服务", "知识产权", "行政复议"],
    "phrase": ["推进法治政府建设", "政府信息公开工作年度报告", "2023年", "告知承诺制审批"],
}


def sentences() -> list[str]:
    pool = []
    for doc in articles(2):
        for p in doc.paragraphs:
            if not p.startswith("TABLE|"):
                pool += [s for s in re.findall(r"[^。；]+[。；]", p) if len(s) > 8]
    return pool


def build(path: Path, n: int, seed: int = 1) -> tuple[int, int, int]:
    """Create ``n`` versions; return (text bytes, db bytes before index, db bytes after)."""
    rng = random.Random(seed)
    pool = sentences()
    titles = [d.title for d in articles(2)]
    db = open_db(path)
    text_bytes = 0
    rows = []
    with db.conn:
        for i in range(n):
            title = f"{rng.choice(titles)}（第{i}号）"
            body = "\n".join("".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
                             .replace("2023", str(rng.randint(2015, 2025))) for _ in range(rng.randint(3, 8)))
            year = rng.randint(2015, 2025)
            rows.append((i, title, body, f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))
            text_bytes += len(title.encode()) + len(body.encode())
        db.conn.executemany("INSERT INTO pages(id, url, site, kind, state, current_version) VALUES (?, ?, 'bench', "
                            "'article', 'live', ?)", [(i + 1, f"http://bench.local/p/{i}.html", i + 1)
                                                      for i, *_ in rows])
        db.conn.executemany("INSERT INTO versions(id, page_id, number, content_hash, kind, title, body, published, "
                            "first_seen) VALUES (?, ?, 1, ?, 'article', ?, ?, ?, ?)",
                            [(i + 1, i + 1, str(i), t, b, d, d) for i, t, b, d in rows])
    _vacuum(path)
    before = (path / DB_NAME).stat().st_size
    with db.conn:
        db.conn.executemany("INSERT INTO search_index(rowid, title, body, attachments) VALUES (?, ?, ?, '')",
                            ((i + 1, shadow(t), shadow(b)) for i, t, b, _ in rows))
    with db.conn:
        db.conn.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")
    _vacuum(path)
    after = (path / DB_NAME).stat().st_size
    db.conn.close()
    return text_bytes, before, after


def _vacuum(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()


def measure(path: Path, repeat: int = 5) -> dict[str, list[float]]:
    db = open_db(path)
    out: dict[str, list[float]] = {}
    for group, queries in QUERIES.items():
        times = []
        for _ in range(repeat):
            for q in queries:
                start = time.perf_counter()
                search(db, q, limit=20)
                times.append((time.perf_counter() - start) * 1000)
        out[group] = times
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--versions", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, help="keep the archive here (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.dir or Path(tmp)
        t0 = time.perf_counter()
        text, before, after = build(path, args.versions)
        built = time.perf_counter() - t0
        lat = measure(path)
    print(f"{args.versions:,} versions, {text / 1e6:.1f} MB of text, built and indexed in {built:.0f} s\n")
    print("| query | p50 ms | p95 ms |\n|---|---|---|")
    for group, times in lat.items():
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"| {group} | {statistics.median(times):.1f} | {p95:.1f} |")
    print(f"\nindex size: {(after - before) / 1e6:.1f} MB = {(after - before) / text:.2f}x the text "
          f"(database {before / 1e6:.1f} MB without the index, {after / 1e6:.1f} MB with it)")


if __name__ == "__main__":
    main()
