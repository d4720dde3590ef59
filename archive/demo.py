"""`govarchive demo`: the whole job on the bundled demo site, in under a minute."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from . import queries as q
from .db import open_db
from .demosite import DemoSite
from .demosite.pages import SEED_ID
from .diff import format_text
from .errors import GovArchiveError

MARKER = ".govarchive-demo"


def _fresh(data: Path) -> None:
    if data.exists() and any(data.iterdir()):
        if not (data / MARKER).exists():
            raise GovArchiveError(f"{data} holds data that is not a previous demo's; give another --data")
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    (data / MARKER).write_text("created by `govarchive demo`; removed by the next demo run\n")


def crawl_subprocess(url: str, data: Path, *extra: str) -> int:
    """Run `govarchive crawl` in a child process (Scrapy's reactor runs once per process)."""
    # Its editions stand for months of a site's life, seconds apart: every known page is checked again.
    cmd = [sys.executable, "-m", "archive.cli", "crawl", url, "--data", str(data), "--full", *extra]
    return subprocess.call(cmd)


def run_demo(data: Path, command: str = "govarchive") -> None:
    """Crawl edition 1, publish edition 2, crawl again; print events, the diff and next steps
    (suggested as ``command`` …, the way the demo itself was invoked)."""
    _fresh(data)
    started = time.monotonic()
    with DemoSite(edition=1) as site:
        click.secho(f"▶ demo site (edition 1) at {site.url}; crawling into {data}/", bold=True, err=True)
        if crawl_subprocess(site.url, data) != 0:
            raise GovArchiveError("the first crawl failed")
        site.set_edition(2)
        click.secho("▶ edition 2 published (a report silently revised, a notice deleted, one added, "
                    "a date corrected, an article dropped from its list); crawling again", bold=True, err=True)
        if crawl_subprocess(site.url, data) != 0:
            raise GovArchiveError("the second crawl failed")
        report = f"{site.url}zw/tzgg/content/post_{SEED_ID}.html"
    db = open_db(data, create=False)
    second = db.execute("SELECT id FROM crawls ORDER BY started DESC LIMIT 1").fetchone()[0]
    events = q.changes(db, crawl_id=second)  # the first crawl was the site's baseline
    click.secho("\nChange events of the second crawl:", bold=True)
    for e in events:
        fields = f" fields={','.join(e['fields'])}" if e["kind"] == "changed" else ""
        silent = " silent_revision" if e["silent_revision"] else ""
        click.echo(f"  {e['kind']:<9} {e['title'] or ''}{fields}{silent}\n            {e['url']}")
    click.secho("\nDiff of the silently revised 2023 法治政府建设年度报告:", bold=True)
    click.echo(format_text(q.diff(db, report), color=sys.stdout.isatty()))
    took = time.monotonic() - started
    click.secho(f"\nDone in {took:.0f}s. Try next (the demo site is stopped; the archive stays):", bold=True)
    d = f"--data {data}"
    for cmd in (f"govarchive changes {d}", f"govarchive history {report} {d}",
                f"govarchive show {report} {d}", f"govarchive diff {report} --format json {d}",
                f"govarchive search 法治 {d}", f"govarchive report --out demo-report {d}",
                f"govarchive feed --out demo-changes.atom {d}", f"govarchive export wacz demo.wacz {d}",
                f"govarchive replay --port 8080 {d}", f"govarchive stats {d}", f"govarchive rebuild {d}",
                "govarchive demo-site --edition 3 --port 8000   # then crawl http://127.0.0.1:8000/ again"):
        click.echo(f"  {cmd.replace('govarchive', command, 1)}")
