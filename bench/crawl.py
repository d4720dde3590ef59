"""Crawl benchmarks against the peers, in one run: govarchive vs GNU wget --warc and bare Scrapy.

A generated disclosure site of N articles (default 2,000) in the demo site's style is served on
127.0.0.1 by the project's own server, with a per-response latency of 0 ms and 50 ms. Each tool
runs as a child process; wall time and CPU time come from the child's rusage, peak RSS is the
largest sum over the child and all its descendants (govarchive's crawl and ingest processes
together), sampled every 100 ms. A page
``sitemap.html`` linking every list page is added so that wget, which runs no script, reaches the
same pages as the crawlers that read ``createPageHTML`` pagination.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.demosite import Resource, SiteServer  # noqa: E402
from archive.demosite.generated import generated_site  # noqa: E402

MEASURE = """
import json, os, resource, subprocess, sys, time
PAGE = os.sysconf("SC_PAGE_SIZE")

def tree_rss(root):
    # The resident memory of a process and all its descendants (crawl + ingest process), summed.
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
        todo += kids.get(pid, [])
    return total

t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = 0
while p.poll() is None:
    peak = max(peak, tree_rss(p.pid))
    time.sleep(0.1)
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": p.returncode, "wall": wall, "cpu": r.ru_utime + r.ru_stime,
                  "rss_mb": peak / 2**20, "max_one_mb": r.ru_maxrss / 1024}))
"""

BARE_SPIDER = """
import sys, scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor
from pipelines.links import script_pagination

class Bare(scrapy.Spider):
    name = "bare"
    start_urls = [sys.argv[1]]
    links = LinkExtractor(deny_extensions=["css", "js", "png", "jpg", "gif"])

    def parse(self, response):
        if not hasattr(response, "text"):
            return
        host = response.url.split("/")[2]
        for link in self.links.extract_links(response):
            if link.url.split("/")[2] == host:
                yield response.follow(link.url)
        for url in script_pagination(response.text, response.url):
            yield response.follow(url)

p = CrawlerProcess({"CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "ROBOTSTXT_OBEY": True,
                    "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False, "DOWNLOAD_MAXSIZE": 0})
p.crawl(Bare)
p.start()
"""


def site_routes(n: int) -> dict[str, Resource]:
    routes = dict(generated_site(n))
    lists = sorted(p for p in routes if "/index" in p and p.endswith(".html") and not p.startswith("/search"))
    links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in lists)
    routes["/sitemap.html"] = Resource(f"<html><body><ul>{links}</ul></body></html>".encode())
    home = routes["/"].body.replace(b"</body>", b'<a href="/sitemap.html">sitemap</a></body>')
    routes["/"] = Resource(home)
    return routes


def measure(cmd: list[str], cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def dir_bytes(path: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in path.rglob(pattern))


def run_tools(n: int, latency: float, tmp: Path, recrawl: bool, only: str | None = None) -> dict[str, dict]:
    results: dict[str, dict] = {}
    routes = site_routes(n)
    with SiteServer(routes, latency=latency) as site:
        tools = {
            "govarchive": [sys.executable, "-m", "archive.cli", "crawl", site.url, "--concurrency", "8",
                           "--data", str(tmp / "ga")],
            "wget": ["wget", "--recursive", "--level=inf", "--no-parent", "--no-verbose", "--warc-file",
                     str(tmp / "wget" / "crawl"), "--directory-prefix", str(tmp / "wget" / "files"),
                     "--reject-regex", "/search/", site.url],
            "scrapy (bare)": [sys.executable, "-c", BARE_SPIDER, site.url],
        }
        for name, cmd in tools.items():
            if only and name != only:
                continue
            if name == "wget":
                (tmp / "wget").mkdir(parents=True, exist_ok=True)
            site.requests.clear()
            r = measure(cmd, ROOT)
            r["pages"] = sum(1 for m, p in site.requests if p != "/robots.txt")
            if name == "govarchive":
                r["warc_bytes"] = dir_bytes(tmp / "ga" / "warcs", "*.warc.gz")
            elif name == "wget":
                r["warc_bytes"] = dir_bytes(tmp / "wget", "*.warc.gz")
            results[name] = r
            if name == "govarchive" and recrawl:  # unchanged: the default (adaptive), then --full
                before = r["warc_bytes"]
                for label, extra in (("govarchive recrawl", []), ("govarchive recrawl --full", ["--full"])):
                    site.requests.clear()
                    r2 = measure(cmd + extra, ROOT)
                    r2["pages"] = sum(1 for m, p in site.requests if p != "/robots.txt")
                    total = dir_bytes(tmp / "ga" / "warcs", "*.warc.gz")
                    r2["warc_bytes"], before = total - before, total
                    results[label] = r2
    return results


def fmt(results: dict[str, dict], latency_ms: int) -> list[str]:
    lines = [f"\n### {latency_ms} ms per response\n",
             "| tool | pages | pages/s | CPU s / 1,000 pages | peak RSS MB (all processes) | WARC bytes / page |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        rate = r["pages"] / r["wall"] if r["wall"] else 0
        cpu = 1000 * r["cpu"] / max(r["pages"], 1)
        warc = f"{r['warc_bytes'] / max(r['pages'], 1):,.0f}" if "warc_bytes" in r else "—"
        lines.append(f"| {name} | {r['pages']} | {rate:.1f} | {cpu:.1f} | {r['rss_mb']:.0f} | {warc} |")
    ga, wg, bare = (results.get(k) for k in ("govarchive", "wget", "scrapy (bare)"))

    def rate(r: dict) -> float:
        return r["pages"] / r["wall"]

    if ga and wg:
        goal = "" if latency_ms < 50 else f" (goal ≥ 6×: {'met' if rate(ga) / rate(wg) >= 6 else 'NOT met'})"
        lines.append(f"\ngovarchive / wget pages/s: **{rate(ga) / rate(wg):.2f}×**{goal}")
    if ga and bare:
        goal = "" if latency_ms else f" (goal ≥ 0.8×: {'met' if rate(ga) / rate(bare) >= 0.8 else 'NOT met'})"
        lines.append(f"govarchive / bare Scrapy pages/s: **{rate(ga) / rate(bare):.2f}×**{goal}")
    for label in ("govarchive recrawl", "govarchive recrawl --full"):
        re_ = results.get(label)
        if ga and re_:
            lines.append(f"unchanged {label.removeprefix('govarchive ')}: {re_['pages'] / ga['pages']:.1%} of the "
                         f"first crawl's requests, {re_['wall'] / ga['wall']:.0%} of its time, "
                         f"{re_['warc_bytes'] / max(ga['warc_bytes'], 1):.1%} of its WARC bytes")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--big", type=int, default=20000, help="articles for the memory-at-scale crawl (0: skip)")
    ap.add_argument("--latencies", default="0,50", help="comma-separated milliseconds")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args()
    if not shutil.which("wget"):
        sys.exit("wget is not installed (Debian package wget)")
    report: dict[str, object] = {"articles": args.articles, "cores": os.cpu_count()}
    lines = [f"Generated site: {args.articles:,} articles; {os.cpu_count()} cores; "
             f"{time.strftime('%Y-%m-%d')}"]
    for ms in (int(x) for x in args.latencies.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            res = run_tools(args.articles, ms / 1000, Path(tmp), recrawl=True)
        report[f"{ms}ms"] = res
        lines += fmt(res, ms)
        print("\n".join(fmt(res, ms)), flush=True)
    if args.big:
        with tempfile.TemporaryDirectory() as tmp:
            big = run_tools(args.big, 0, Path(tmp), recrawl=False, only="govarchive")["govarchive"]
        report["big"] = big
        line = (f"\n{args.big:,}-article crawl: {big['pages']:,} pages in {big['wall']:.0f} s, "
                f"peak RSS {big['rss_mb']:.0f} MB")
        lines.append(line)
        print(line)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    (ROOT / "bench" / "last-crawl-bench.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
