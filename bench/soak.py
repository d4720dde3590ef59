"""Soak the history against the evolving-site oracle: many seeds × many editions, every event checked.

Each seed is a different random site (tests/simsite.py) crawled by the real CLI through N editions;
after each crawl its events are compared with the edition's ground truth, and after the last one
the database rebuilt from the WARCs is compared with the live one, table by table, column by column.
Prints false and missing events per kind (the goal: zero of each) and the seeds that failed.

    .venv/bin/python bench/soak.py --seeds 50 --editions 8 [--jobs 2] [--first 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.oracle import Score, run  # noqa: E402


def one(seed: int, editions: int) -> tuple[int, Score, list[str], float]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"soak{seed}-") as tmp:
        score, diffs = run(seed, editions, Path(tmp))
    return seed, score, diffs, time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--editions", type=int, default=8)
    ap.add_argument("--first", type=int, default=1000, help="first seed")
    ap.add_argument("--jobs", type=int, default=2, help="sites crawled at once")
    args = ap.parse_args()
    total = Score()
    failed: list[str] = []
    rebuild_failures = 0
    started = time.monotonic()
    seeds = range(args.first, args.first + args.seeds)
    with ProcessPoolExecutor(args.jobs) as pool:
        for seed, score, diffs, took in pool.map(one, seeds, [args.editions] * len(seeds)):
            total.add(score)
            state = "ok" if score.ok() and not diffs else "FAILED"
            print(f"seed {seed}: {state} ({took:.0f} s, {sum(score.expected.values())} events expected)", flush=True)
            if not score.ok():
                failed.append(f"seed {seed}:\n  " + "\n  ".join(score.details))
            if diffs:
                rebuild_failures += 1
                failed.append(f"seed {seed}: rebuilt database differs:\n  " + "\n  ".join(diffs[:5]))
    kinds = sorted(set(total.expected) | set(total.false) | set(total.missing))
    print(f"\n{args.seeds} seeds × {args.editions} editions, {time.monotonic() - started:.0f} s\n")
    print("| event kind | expected | false | missing | wrong fields |")
    print("|---|---|---|---|---|")
    for kind in kinds:
        print(f"| {kind} | {total.expected[kind]} | {total.false[kind]} | {total.missing[kind]} | "
              f"{total.wrong_fields[kind]} |")
    print(f"| **all** | {sum(total.expected.values())} | {sum(total.false.values())} | "
          f"{sum(total.missing.values())} | {sum(total.wrong_fields.values())} |")
    print(f"\nrebuilt database differs from the live one: {rebuild_failures} of {args.seeds} runs")
    for text in failed:
        print("\n" + text)
    return 0 if total.ok() and not rebuild_failures else 1


if __name__ == "__main__":
    sys.exit(main())
