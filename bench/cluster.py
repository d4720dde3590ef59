"""Cluster benchmark: 1, 2 and 3 workers (4 requests in flight each) on eight sites at 100 ms latency.

Eight generated disclosure sites (N articles each, default 60) are served on 127.0.0.10–17 by the
project's own server (TCP_NODELAY, one write per response) with 100 ms per response. A real
redis-server (persistence off) holds the frontier; each site's crawl allows 2 requests in flight
per host across the cluster, so the cluster's ceiling is 16 at once and one worker's is 4. For each
worker count the eight crawls start from an empty data directory and an empty Redis; reported:
pages fetched per second (until the coordinator has the whole history: fetching, ingesting,
settling), the ratio to one worker in the same run, and each worker's share.

Then Redis's memory per queued URL: 200,000 requests of one crawl queued (typical article URLs,
the request JSON workers read), ``used_memory`` before and after, scaled to a million.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.cluster import Cluster, dumps, fingerprint, request_dict  # noqa: E402
from archive.demosite import SiteServer  # noqa: E402
from archive.demosite.generated import generated_site  # noqa: E402
from tests.test_cluster import redis_server  # noqa: E402

HOSTS = [f"127.0.0.{i}" for i in range(10, 18)]


def run(workers: int, sites: list[SiteServer], tmp: Path) -> dict:
    data = tmp / f"data-{workers}"
    profiles = []
    for i, site in enumerate(sites):
        p = tmp / f"site{i}.toml"
        p.write_text(f'name = "b{i}"\nstart_urls = ["{site.url}"]\nallow_private = true\n'
                     "[settings]\nCONCURRENT_REQUESTS_PER_DOMAIN = 2\n", "utf-8")
        profiles.append(str(p))
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with redis_server() as (redis, _):
        procs = [subprocess.Popen([sys.executable, "-m", "archive.cli", "worker", "--redis", redis, "--data", str(data),
                                   "--name", f"w{i}", "--concurrency", "4"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
        c = Cluster(redis)
        while len(c.workers()) < workers:
            time.sleep(0.1)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "archive.cli", "crawl", *sum((["--site", p] for p in profiles), []),
                               "--redis", redis, "--data", str(data)], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_servers = self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime
    cpu_crawl = kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"the crawl failed:\n{proc.stderr[-2000:]}")
    conn = sqlite3.connect(data / "govarchive.db")
    pages, first, last = conn.execute("SELECT count(*), min(fetched_at), max(fetched_at) FROM captures "
                                      "WHERE status IS NOT NULL").fetchone()
    fetching = (datetime.fromisoformat(last[:26]) - datetime.fromisoformat(first[:26])).total_seconds()
    shares: dict[str, int] = {}
    for (stats,) in conn.execute("SELECT stats FROM crawls"):
        for w, n in (json.loads(stats or "{}").get("workers") or {}).items():
            shares[w] = shares.get(w, 0) + n
    conn.close()
    return {"workers": workers, "pages": pages, "seconds": round(wall, 2), "pages_per_s": round(pages / wall, 1),
            "fetch_seconds": round(fetching, 2), "fetch_pages_per_s": round(pages / fetching, 1), "shares": shares,
            "cpu_s_crawl": round(cpu_crawl, 1), "cpu_s_servers": round(cpu_servers, 1)}


def redis_memory(n: int = 200_000) -> dict:
    with redis_server() as (redis, _):
        c = Cluster(redis)
        before = c.memory()
        pipe_batch = 2000
        for start in range(0, n, pipe_batch):
            with c.r.pipeline(transaction=False) as pipe:
                for i in range(start, min(n, start + pipe_batch)):
                    host = f"www.site{i % 500}.gov.cn"
                    url = f"http://{host}/zwgk/zcwj/content/post_{1000000 + i}.html"
                    req = request_dict(url, {"govarchive_crawl": "20261128T000000-abcdef", "handle_httpstatus_all": True,
                                             "depth": 3})
                    member = f"20261128T000000-abcdef|{host}"
                    pipe.sadd(c.key("seen:20261128T000000-abcdef"), fingerprint("GET", url, b""))
                    pipe.zadd(c.key(f"q:{member}"), {dumps(req): -i})
                    pipe.zadd(c.key("ready"), {member: 0}, nx=True)
                pipe.execute()
        used = c.memory() - before
    return {"queued": n, "bytes": used, "bytes_per_url": round(used / n), "mb_per_million": round(used / n * 1e6 / 2**20)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=60, help="articles per site")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "last-cluster-bench.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="govarchive-cluster-bench-"))
    sites = []
    try:
        for i, host in enumerate(HOSTS):
            site = SiteServer(dict(generated_site(args.articles, seed=i)), host=host, latency=0.1)
            sites.append(site.start())
        rows = [run(n, sites, tmp) for n in (1, 2, 3)]
    finally:
        for site in sites:
            site.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0]["pages_per_s"]
    fetch_base = rows[0]["fetch_pages_per_s"]
    print("workers  pages  seconds  pages/s  vs one  | fetching s  pages/s  vs one | requests done by each worker")
    for r in rows:
        r["ratio"] = round(r["pages_per_s"] / base, 2)
        r["fetch_ratio"] = round(r["fetch_pages_per_s"] / fetch_base, 2)
        share = ", ".join(f"{w} {n}" for w, n in sorted(r["shares"].items()))
        print(f"{r['workers']:>7}  {r['pages']:>5}  {r['seconds']:>7}  {r['pages_per_s']:>7}  {r['ratio']:>5}x | "
              f"{r['fetch_seconds']:>10}  {r['fetch_pages_per_s']:>7}  {r['fetch_ratio']:>5}x | {share}; CPU s: "
              f"crawl {r['cpu_s_crawl']}, servers {r['cpu_s_servers']}")
    mem = redis_memory()
    print(f"Redis: {mem['bytes_per_url']} bytes per queued URL ({mem['queued']:,} queued): "
          f"~{mem['mb_per_million']} MB per million")
    args.out.write_text(json.dumps({"runs": rows, "redis": mem}, indent=2))


if __name__ == "__main__":
    main()
