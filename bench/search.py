"""Search at scale, on a corpus with a real vocabulary: p50/p95 per query class, the index's size.

The corpus (seeded, built straight into an archive database):

- words drawn from jieba's dictionary (349,046 words with their corpus frequencies: a Zipf-shaped
  vocabulary, so some words are in most documents and most words in almost none);
- a third of the sentences real: taken from the real government pages in tests/data (articles,
  lists, annual reports), as extracted by pipelines/extract.py;
- titles in the form of disclosure titles (关于…的通知/意见/批复…), bodies of lognormal length
  (median ≈ 700 characters), 50 sites, dates over ten years;
- pages with one to three versions (a revision changes a sentence), so ``--all-versions`` has work.

Query classes, drawn from the corpus's own vocabulary after it is built, each answered by
``archive.search.search`` as the CLI and the API call it (20 results, current versions):

- ``1 char``: frequent single characters;
- ``2 chars frequent`` / ``2 chars rare``: two-character words from the head / the tail of the
  dictionary's frequency list (rare: a few to a few hundred documents);
- ``4 chars frequent`` / ``4 chars rare``: four-character words likewise;
- ``phrase``: 6–12 characters cut from a real sentence;
- ``absent, common bigrams``: four frequent characters in an order no text has — every bigram is in
  many documents, so candidates are many and none survives the exact check: the worst case (the
  search reads every candidate's text);
- ``2 chars + site``, ``2 chars rare + since``: with the filters the CLI offers;
- ``4 chars rare, all versions``.

    .venv/bin/python bench/search.py [--versions 100000 1000000] [--dir DIR]

Goals: p95 < 50 ms for two-character queries; the index < 3× the text it indexes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.db import DB_NAME, open_db  # noqa: E402
from archive.search import search, shadow  # noqa: E402

SITES = 50
BATCH = 5_000
REPEAT = 3
PER_CLASS = 20
ABSENT_TRIES = 200  # candidates tried for the absent class (each one that is absent costs a full scan)
TITLE_KINDS = ("通知", "意见", "办法", "批复", "公告", "通告", "决定", "报告", "函", "规定", "方案", "细则")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def vocabulary() -> tuple[list[str], list[int]]:
    """jieba's dictionary: Han words of 1–6 characters and their frequencies."""
    import jieba

    words, freqs = [], []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as fh:
        for line in fh:
            word, freq, *_ = line.split()
            if _HAN.match(word) and len(word) <= 6:
                words.append(word)
                freqs.append(int(freq))
    return words, freqs


def real_sentences() -> list[str]:
    """Sentences of the real pages in tests/data, as govarchive extracts them."""
    from pipelines.extract import extract

    out: list[str] = []
    for path in sorted((ROOT / "tests" / "data").rglob("*.htm*")):
        rec = extract(path.read_bytes(), f"http://real.example/{path.name}")
        for part in re.split(r"(?<=[。；！？])", rec.body or ""):
            part = part.strip()
            if 8 <= len(part) <= 200:
                out.append(part)
    return sorted(set(out))


class Corpus:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words, self.freqs = vocabulary()
        self.cum = list(accumulate(self.freqs))
        self.real = real_sentences()

    def sentence(self) -> str:
        if self.rng.random() < 1 / 3:
            return self.rng.choice(self.real)
        n = self.rng.randint(5, 16)
        text = "".join(self.rng.choices(self.words, cum_weights=self.cum, k=n))
        return text + self.rng.choice("。。。；，")

    def title(self) -> str:
        middle = "".join(self.rng.choices(self.words, cum_weights=self.cum, k=self.rng.randint(2, 5)))
        return f"关于{middle}的{self.rng.choice(TITLE_KINDS)}"

    def body(self) -> list[str]:
        chars = int(math.exp(self.rng.gauss(math.log(700), 0.7)))
        out, size = [], 0
        while size < chars:
            s = self.sentence()
            out.append(s)
            size += len(s)
        return out


def build(path: Path, versions: int, seed: int = 1) -> dict:
    """An archive of ``versions`` versions: (text bytes, database bytes without and with the index)."""
    corpus = Corpus(seed)
    rng = corpus.rng
    db = open_db(path)
    conn = db.conn
    text_bytes, made, page = 0, 0, 0
    started = time.perf_counter()
    while made < versions:
        pages, rows, index = [], [], []
        while made < versions and len(rows) < BATCH:
            page += 1
            title, sentences = corpus.title(), corpus.body()
            year = rng.randint(2016, 2025)
            published = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            count = min(rng.choices((1, 2, 3), (70, 25, 5))[0], versions - made)
            for number in range(1, count + 1):
                if number > 1:  # a revision: one sentence replaced
                    sentences = list(sentences)
                    sentences[rng.randrange(len(sentences))] = corpus.sentence()
                made += 1
                body = "\n".join(sentences)
                rows.append((made, page, number, f"{made:x}", title, body, published, published))
                index.append((made, shadow(title), shadow(body)))
                text_bytes += len(title.encode()) + len(body.encode())
            pages.append((page, f"http://site{page % SITES}.example/art/{page}.html", f"site{page % SITES}", made))
        with conn:
            conn.executemany("INSERT INTO pages(id, url, site, kind, state, current_version) "
                             "VALUES (?, ?, ?, 'article', 'live', ?)", pages)
            conn.executemany("INSERT INTO versions(id, page_id, number, content_hash, kind, title, body, published, "
                             "first_seen) VALUES (?, ?, ?, ?, 'article', ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO search_index(rowid, title, body, attachments) VALUES (?, ?, ?, '')", index)
    with conn:
        conn.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")
    built = time.perf_counter() - started
    conn.close()
    _vacuum(path)
    total = (path / DB_NAME).stat().st_size
    index_bytes = _index_bytes(path)
    return {"versions": made, "pages": page, "text": text_bytes, "db": total, "index": index_bytes,
            "built": built, "corpus": corpus}


def _vacuum(path: Path) -> None:
    conn = sqlite3.connect(path / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()


def _index_bytes(path: Path) -> int:
    """Bytes of the search index's shadow tables: their pages, counted by SQLite's dbstat (one row a
    page; its aggregate mode wraps past 2 GB)."""
    conn = sqlite3.connect(path / DB_NAME)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'search_index%' "
                                            "AND type IN ('table', 'index')")]
        pages = sum(conn.execute("SELECT count(*) FROM dbstat WHERE name = ?", [n]).fetchone()[0] for n in names)
        return pages * conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.OperationalError:  # a SQLite built without dbstat
        return 0
    finally:
        conn.close()


def queries(corpus: Corpus, db) -> dict[str, list[tuple[str, dict]]]:  # noqa: ANN001 - a sqlite-utils Database
    """Each class's queries, drawn from the vocabulary by frequency rank (seeded)."""
    rng = random.Random(7)
    ranked = sorted(zip(corpus.words, corpus.freqs, strict=True), key=lambda wf: -wf[1])

    def by_len(n: int) -> list[str]:
        return [w for w, _ in ranked if len(w) == n]

    def head(words: list[str]) -> list[str]:
        return rng.sample(words[: max(PER_CLASS, len(words) // 100)], PER_CLASS)

    def tail(n: int) -> list[str]:  # rare, yet in the corpus: frequencies 20–200 in jieba's counts
        return rng.sample([w for w, f in ranked if len(w) == n and 20 <= f <= 200], PER_CLASS)

    two, four = by_len(2), by_len(4)
    common = by_len(1)[:30]
    absent: list[str] = []
    for _ in range(ABSENT_TRIES):  # four frequent characters no text has in that order
        q = "".join(rng.sample(common, 4))
        if q not in absent and not search(db, q, limit=1):
            absent.append(q)
            if len(absent) == PER_CLASS:
                break
    phrases = []
    for s in rng.sample(corpus.real, PER_CLASS * 3):
        run = max(re.findall(r"[\u4e00-\u9fff]+", s), key=len, default="")
        if len(run) >= 6:
            n = rng.randint(6, min(12, len(run)))
            i = rng.randint(0, len(run) - n)
            phrases.append(run[i:i + n])
    rare2 = tail(2)
    return {
        "1 char": [(c, {}) for c in rng.sample(common, PER_CLASS)],
        "2 chars frequent": [(w, {}) for w in head(two)],
        "2 chars rare": [(w, {}) for w in rare2],
        "4 chars frequent": [(w, {}) for w in head(four)],
        "4 chars rare": [(w, {}) for w in tail(4)],
        "phrase (real text)": [(p, {}) for p in phrases[:PER_CLASS]],
        "absent, common bigrams": [(q, {}) for q in absent],
        "2 chars + site": [(w, {"site": f"site{rng.randrange(SITES)}"}) for w in head(two)],
        "2 chars rare + since": [(w, {"since": "2024-01-01"}) for w in rare2],
        "4 chars rare, all versions": [(w, {"all_versions": True}) for w in tail(4)],
    }


def measure(path: Path, corpus: Corpus) -> dict[str, dict]:
    db = open_db(path)
    out = {}
    for name, qs in queries(corpus, db).items():
        times, hits = [], []
        for q, kw in qs:  # warm: the first reading of a page comes from the OS cache, as in use
            search(db, q, limit=20, **kw)
        for _ in range(REPEAT):
            for q, kw in qs:
                start = time.perf_counter()
                found = search(db, q, limit=20, **kw)
                times.append((time.perf_counter() - start) * 1000)
                hits.append(len(found))
        times.sort()
        out[name] = {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))],
                     "max": times[-1], "hits": statistics.mean(hits),
                     "example": qs[0][0]}
    db.conn.close()
    return out


def existing(where: Path, seed: int = 1) -> dict:
    """An archive this benchmark built before (``--measure DIR``): its sizes, and the corpus it was
    drawn from (seeded: the same vocabulary and real sentences)."""
    conn = sqlite3.connect(where / DB_NAME)
    versions, pages, text = conn.execute(
        "SELECT count(*), count(DISTINCT page_id), sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB))) "
        "FROM versions").fetchone()
    conn.close()
    return {"versions": versions, "pages": pages, "text": text, "db": (where / DB_NAME).stat().st_size,
            "index": _index_bytes(where), "built": float("nan"), "corpus": Corpus(seed)}


def run(n: int, where: Path, built: bool = False) -> None:
    t0 = time.perf_counter()
    made = existing(where) if built else build(where, n)
    lat = measure(where, made["corpus"])
    print(f"\n### {made['versions']:,} versions ({made['pages']:,} pages, {SITES} sites), "
          f"{made['text'] / 1e6:,.0f} MB of text; built and indexed in {made['built']:.0f} s, "
          f"measured in {time.perf_counter() - t0 - made['built']:.0f} s\n")
    print("| query class | example | p50 ms | p95 ms | max ms | results (mean, of 20 asked) |")
    print("|---|---|---:|---:|---:|---:|")
    for name, r in lat.items():
        print(f"| {name} | {r['example']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['hits']:.1f} |")
    ratio = made["index"] / made["text"] if made["text"] else 0
    print(f"\nindex: {made['index'] / 1e6:,.0f} MB = {ratio:.2f}× the text (database {made['db'] / 1e6:,.0f} MB)")
    two = max(lat[k]["p95"] for k in lat if k.startswith("2 chars"))
    print(f"goal: p95 < 50 ms for two-character queries — worst class {two:.1f} ms: "
          + ("met" if two < 50 else "NOT met"))
    print("goal: index < 3× the text — " + (f"{ratio:.2f}×: " + ("met" if ratio < 3 else "NOT met")))
    print(json.dumps({"versions": made["versions"], "classes": lat, "index_ratio": ratio}, ensure_ascii=False),
          file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--dir", type=Path, help="build the archives under this directory (default: a temporary one)")
    ap.add_argument("--measure", type=Path, metavar="DIR", help="time an archive this benchmark built (kept with "
                    "--keep) instead of building")
    ap.add_argument("--keep", action="store_true", help="keep the archives built (under --dir)")
    args = ap.parse_args()
    print("## Search on a corpus with jieba's vocabulary and real sentences")
    if args.measure:
        run(0, args.measure, built=True)
        return
    for n in args.versions:
        if args.keep:
            where = (args.dir or Path(".")) / f"search-bench-{n}"
            where.mkdir(parents=True, exist_ok=True)
            run(n, where)
            continue
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            run(n, Path(tmp))


if __name__ == "__main__":
    main()
