"""A 1,000-article generated site: exact search against grep, and a crawl killed and resumed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest

from archive.demosite import SiteServer
from archive.demosite.generated import generated_site

from .conftest import ROOT, cli, cli_json

N = 1000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    data = tmp_path_factory.mktemp("big") / "data"
    with SiteServer(generated_site(N)) as site:
        cli("crawl", site.url, "--concurrency", "8", data=data)
        yield data, site


@pytest.mark.parametrize("query", ["诉讼", "消防", "城市更新", "科技金融", "招商引资", "纪律教育"])
def test_search_equals_grep_of_served_files(big, query):
    data, site = big
    want = {site.url.rstrip("/") + path for path, res in site.routes.items()
            if "/content/post_" in path and query in res.body.decode("utf-8")}
    got = {r["url"] for r in cli_json("search", query, "--limit", "5000", data=data)}
    assert want and got == want


def test_killed_crawl_resumes_without_refetching(tmp_path):
    data = tmp_path / "data"
    routes = generated_site(N)
    articles = {p for p in routes if "/content/post_" in p}
    with SiteServer(routes) as site:
        proc = subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", site.url, "--data", str(data),
                                 "--concurrency", "4"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and sum(1 for _, p in site.requests if "/content/post_" in p) < N // 3:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first = Counter(p for _, p in site.requests)
        assert 0 < sum(1 for p in first if p in articles) < N
        resumed = cli("crawl", site.url, "--concurrency", "4", data=data)
        assert "resuming crawl" in resumed.stderr
    fetched = Counter(p for _, p in site.requests)
    assert articles <= set(fetched)
    twice = [p for p in articles if fetched[p] > 1]
    assert len(twice) <= 0.05 * N, len(twice)
    db = sqlite3.connect(data / "govarchive.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(DISTINCT crawl_id) FROM captures").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM crawls WHERE finished IS NULL").fetchone()[0] == 0
    files = [str(p) for p in (data / "warcs").glob("*.warc.gz")]
    assert not list((data / "warcs").glob("*.open"))
    subprocess.run([sys.executable, "-m", "warcio.cli", "check", *files], check=True)
    events = cli_json("changes", "--include-baseline", data=data)
    assert Counter(e["kind"] for e in events)["archived"] == len(articles) + 1  # and the one PDF attachment
