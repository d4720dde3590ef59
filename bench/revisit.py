"""The crawl budget, measured: requests spent against changes found, for three revisit policies.

Part 1 — the history simulator (tests/simsite.py), its editions a day apart, many seeds: each
edition's ground truth (silent revisions, date corrections, replaced attachments, removals) is
known. One crawl per day reads every list (new documents and delistings show there) and checks
again the known pages a policy says are due:

- ``full``: every known page, every crawl (govarchive before, wget --mirror, Heritrix);
- ``fixed-7``: every page every 7 days (changedetection.io's per-watch interval);
- ``adaptive``: archive/revisit.py — change rate (Cho & Garcia-Molina), age, kind, within 30 days,
  and a document a list shows with a new date or title checked the next day (archive/settle.py).

A check finds a change when the page differs from what the archive last saw. Reported per policy:
requests (share of ``full``), silent revisions and removals found within the maximum interval, and
the detection delay in days. A change undone before any check (a revision reverted) cannot be
found by checking less often: it counts as missed.

Part 2 — real crawls (the CLI, a 1,000-article generated site on a TCP_NODELAY loopback server):
an unchanged immediate recrawl's requests and WARC bytes, adaptive against full.

    .venv/bin/python bench/revisit.py [--seeds 20] [--first-seed 1] [--editions 120] [--docs 200] [--skip-crawl]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.revisit import MAX_INTERVAL_DAYS, PageChecks, Policy, decide  # noqa: E402
from tests.simsite import COLUMNS, EvolvingSite, day  # noqa: E402

POLICIES = ("full", "fixed-7", "adaptive", "adaptive-20")  # adaptive-20: max_interval_days = 20


@dataclass
class Known:
    kind: str
    published: str
    seen: object
    checks: int = 0
    changes: int = 0
    first: datetime | None = None
    last: datetime | None = None
    state: str = "live"
    listed: bool = True
    last_event: datetime | None = None
    last_change: datetime | None = None
    list_changed: datetime | None = None


@dataclass
class Result:
    requests: int = 0
    found: list[int] = field(default_factory=list)  # delays (days) of changes found within the window
    missed: int = 0
    removals_found: list[int] = field(default_factory=list)
    removals_missed: int = 0
    undone: int = 0  # revisions missed because they were undone before any check could see them


def signatures(site: EvolvingSite) -> dict[str, object]:
    """What a fetch of each path would show now (None: gone)."""
    out: dict[str, object] = {}
    for d in site.docs:
        if d.state == "live":
            out[d.path] = (d.published, tuple(d.paras))
        if d.attachment and d.state != "moved":
            out[d.attachment] = (d.att_rev, d.att_broken)
    return out


def max_interval(policy: str) -> float:
    return 20.0 if policy == "adaptive-20" else MAX_INTERVAL_DAYS


def due(policy: str, k: Known, url: str, now: datetime) -> bool:
    if policy == "full" or k.last is None:
        return True
    if policy == "fixed-7":
        return (now - k.last) >= timedelta(days=7)
    row = PageChecks(url, k.kind, k.state, k.checks, k.changes, k.first.isoformat(), k.last.isoformat(),
                     k.published, k.last_event.isoformat() if k.last_event else None,
                     last_change=k.last_change.isoformat() if k.last_change else None,
                     list_changed=k.list_changed.isoformat() if k.list_changed else None)
    return decide(row, Policy(now=now, max_interval_days=max_interval(policy))).due


_ITEM = re.compile(r'<a href="([^"]+)" title="([^"]*)">.*?<span class="date">([^<]+)</span>')


def list_items(site: EvolvingSite) -> dict[str, set]:
    """What each list page that answers shows: (url, title, date) of its items."""
    return {page: set(_ITEM.findall(body.decode())) for c in COLUMNS
            for page, body in site.list_pages(c).items() if page not in site.down}


def shown_changes(read: dict[str, set], last_read: dict[str, set]) -> set[str]:
    """As archive/settle.py: the documents the lists that changed now show with a (title, date) the same
    lists did not show for them before."""
    now: dict[str, set] = {}
    before: dict[str, set] = {}
    for page, items in read.items():
        if page not in last_read or last_read[page] == items:
            continue
        for shown, rows in ((now, items), (before, last_read[page])):
            for url, title, date in rows:
                shown.setdefault(url, set()).add((title, date))
    return {url for url, pairs in now.items() if url in before and pairs - before[url]}


def simulate(seed: int, editions: int, docs: int, policy: str) -> Result:
    site = EvolvingSite(seed, docs=docs)
    site.httpd.server_close()  # the simulation reads the site's state, it serves nothing
    res = Result()
    known: dict[str, Known] = {}
    pending: list[tuple[str, str, int]] = []  # (kind, path, edition) of truth not yet found
    outcome: list[tuple[str, int, int | None]] = []  # (kind, edition, delay or None: never found)
    window = int(max_interval(policy))
    last_read: dict[str, set] = {}
    for edition in range(1, editions + 1):
        truth = site.publish_first() if edition == 1 else site.evolve()
        now = datetime.combine(day(edition), time(3), tzinfo=UTC)
        pending += [(e.kind, e.path, edition) for e in truth if e.kind in ("changed", "removed")]
        sigs = signatures(site)
        lists = sum(len(site.list_pages(c)) for c in COLUMNS) + 1
        listed = {d.path for d in site.live() if d.listed}
        listed |= {d.attachment for d in site.live() if d.listed and d.attachment}
        res.requests += lists
        read = list_items(site)
        fetched: set[str] = set()
        for url in sorted(listed - set(known)):  # new links: always fetched
            doc_kind = "attachment" if url.endswith(".pdf") else "article"
            published = next((d.published for d in site.docs if url in (d.path, d.attachment)), str(day(edition)))
            known[url] = Known(doc_kind, published, sigs.get(url), 1, 0, now, now)
            fetched.add(url)
            res.requests += 1
        for url, k in known.items():
            if k.last == now or not due(policy, k, url, now):
                continue
            res.requests += 1
            fetched.add(url)
            k.checks += 1
            k.last = now
            sig = sigs.get(url)
            if sig == k.seen:  # what changed since the last check was undone before this one
                for item in [p for p in pending if p[1] == url]:
                    pending.remove(item)
                    outcome.append((item[0], item[2], -1))
            if sig != k.seen:
                k.changes += 1
                k.last_change = now
                k.seen = sig
                k.state = "removed" if sig is None else "live"
                for item in [p for p in pending if p[1] == url]:
                    pending.remove(item)
                    outcome.append((item[0], item[2], edition - item[2]))
        if policy.startswith("adaptive"):  # settled after the crawl: a new date or title on a list
            for url in shown_changes(read, last_read) - fetched:
                if url in known:
                    known[url].list_changed = now + timedelta(minutes=1)
        last_read.update(read)
        for url, k in known.items():  # settled after the crawl: delistings make a page due next crawl
            now_listed = url in listed or k.kind == "attachment"
            if k.listed and not now_listed:
                k.last_event = now + timedelta(minutes=1)
            k.listed = now_listed
    outcome += [(kind, at, None) for kind, _, at in pending]
    for kind, at, delay in outcome:  # scored when its whole window lay inside the run (same for all policies)
        if at > editions - window:
            continue
        if delay is not None and 0 <= delay <= window:
            (res.found if kind == "changed" else res.removals_found).append(delay)
        elif kind == "changed":
            res.missed += 1
            res.undone += delay == -1
        else:
            res.removals_missed += 1
    return res


def share(found: list[int], missed: int) -> str:
    total = len(found) + missed
    return f"{100 * len(found) / total:5.1f}% of {total}" if total else "n/a"


def delays(found: list[int]) -> str:
    if not found:
        return "n/a"
    q = sorted(found)
    return f"{statistics.mean(q):.1f} / {q[int(0.95 * (len(q) - 1))]}"


def part1(seeds: int, editions: int, docs: int, first: int = 1) -> None:
    totals = {p: Result() for p in POLICIES}
    for seed in range(first, first + seeds):
        for p in POLICIES:
            r = simulate(seed, editions, docs, p)
            t = totals[p]
            t.requests += r.requests
            t.found += r.found
            t.missed += r.missed
            t.removals_found += r.removals_found
            t.removals_missed += r.removals_missed
            t.undone += r.undone
    full = totals["full"].requests
    print(f"## Revisit policies on the history simulator: {seeds} seeds (from {first}) × {editions} daily editions, "
          f"{docs} documents to start\n")
    print("Found: within the maximum interval (30 days; 20 for adaptive-20), scored over the changes whose whole "
          "window lay inside the run.\n")
    print("| policy | requests | share of full | silent revisions found | of those still there at "
          "a check | delay mean / p95 (days) | removals found | delay mean / p95 (days) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in POLICIES:
        t = totals[p]
        print(f"| {p} | {t.requests:,} | {t.requests / full:.1%} | {share(t.found, t.missed)} "
              f"| {share(t.found, t.missed - t.undone)} | {delays(t.found)} "
              f"| {share(t.removals_found, t.removals_missed)} | {delays(t.removals_found)} |")
    print()
    for name in ("adaptive", "adaptive-20"):
        a = totals[name]
        hit = len(a.found) / max(len(a.found) + a.missed, 1)
        print(f"goal: {name} finds ≥ 95% of silent revisions within the maximum interval with ≤ 25% of full's "
              f"requests — measured {hit:.1%} with {a.requests / full:.1%}: "
              + ("met" if hit >= 0.95 and a.requests <= 0.25 * full else "NOT met"))


def part2() -> None:
    from archive.db import warc_dir
    from archive.demosite import SiteServer
    from archive.demosite.generated import generated_site

    print("\n## An unchanged immediate recrawl (1,000-article generated site, real crawls)\n")
    print("| policy | first crawl requests | recrawl requests | share | first crawl WARC bytes | recrawl bytes "
          "| share |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ok = True
    for policy in ("full", "adaptive"):
        with tempfile.TemporaryDirectory() as tmp, SiteServer(generated_site(1000)) as site:
            data = Path(tmp) / "data"
            counts, sizes = [], []
            for _ in range(2):
                before = len(site.requests)
                size = sum(f.stat().st_size for f in warc_dir(data).glob("*.warc.gz")) if data.exists() else 0
                subprocess.run([sys.executable, "-m", "archive.cli", "crawl", site.url, "--data", str(data),
                                "--concurrency", "8"], cwd=ROOT, check=True, capture_output=True,
                               env={**os.environ, "GOVARCHIVE_REVISIT": policy})
                counts.append(len(site.requests) - before)
                sizes.append(sum(f.stat().st_size for f in warc_dir(data).glob("*.warc.gz")) - size)
            print(f"| {policy} | {counts[0]:,} | {counts[1]:,} | {counts[1] / counts[0]:.1%} | {sizes[0]:,} "
                  f"| {sizes[1]:,} | {sizes[1] / sizes[0]:.1%} |")
            if policy == "adaptive":
                ok = counts[1] <= 0.15 * counts[0] and sizes[1] <= 0.10 * sizes[0]
    print("\ngoal: an unchanged immediate recrawl sends ≤ 15% of the first crawl's requests and writes ≤ 10% of "
          "its bytes — " + ("met" if ok else "NOT met"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--editions", type=int, default=120)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=1, help="seeds from this one (another range: held-out sites)")
    ap.add_argument("--skip-crawl", action="store_true", help="the simulation only")
    args = ap.parse_args()
    part1(args.seeds, args.editions, args.docs, args.first_seed)
    if not args.skip_crawl:
        part2()


if __name__ == "__main__":
    main()
