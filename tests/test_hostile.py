"""Hostile servers and pages: every fault recorded, nothing lost, bounded memory, valid files."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archive.demosite import SiteServer
from archive.demosite.generated import generated_site

from .conftest import ROOT, cli, cli_json
from .faultserver import GOOD, FaultServer

RUSAGE = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "rss_mb": r.ru_maxrss / 1024}))
"""


def profile(tmp: Path, url: str, **settings: object) -> Path:
    lines = ['name = "hostile"', 'derived = "test"', f'start_urls = ["{url}"]', "allow_private = true", "[settings]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    path = tmp / "hostile.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "data"
    with FaultServer() as server:
        prof = profile(tmp, server.url, DOWNLOAD_TIMEOUT=3, RETRY_TIMES=1)
        out = subprocess.run([sys.executable, "-c", RUSAGE, sys.executable, "-m", "archive.cli", "crawl", "--site",
                              str(prof), "--data", str(data), "--concurrency", "8"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
        usage = json.loads(out.stdout.strip().splitlines()[-1])
        yield data, server, usage


def errors_of(data: Path, url: str) -> list:
    return [c["error"] or c["status"] for c in cli_json("history", url, data=data)["captures"]]


def test_crawl_finishes_with_every_good_article(hostile):
    data, server, usage = hostile
    assert usage["code"] == 0
    pages = {p["url"] for p in cli_json("pages", "--state", "live", data=data)}
    assert all(f"{server.url}good/{i}.html" in pages for i in range(GOOD))


@pytest.mark.parametrize("path,kind", [
    ("/slow.html", "timeout"), ("/cut.html", "connection_lost"), ("/bomb.html", "decompression_bomb"),
    ("/huge.html", "too_large"), ("/loop2.html", "redirect_loop"), ("/away.html", "out_of_scope"),
    ("/wall412.html", "blocked"), ("/wall521.html", "blocked"), ("/flaky.html", "http_error"),
    ("/ratelimited.html", "http_error")])
def test_each_fault_is_recorded_with_its_kind(hostile, path, kind):
    data, server, _ = hostile
    assert kind in errors_of(data, server.url.rstrip("/") + path)


def test_recovered_faults_end_live(hostile):
    data, server, _ = hostile
    for path in ("/flaky.html", "/ratelimited.html"):
        h = cli_json("history", server.url.rstrip("/") + path, data=data)
        assert h["state"] == "live" and h["captures"][-1]["status"] == 200


def test_bad_pages_are_read_not_crashed_on(hostile):
    data, server, _ = hostile
    rec = cli_json("show", server.url + "wrongcharset.html", data=data)
    assert rec["title"] == "编码错误的页面" and "GBK编码" in rec["body"]
    assert "未闭合的段落" in cli_json("show", server.url + "malformed.html", data=data)["body"]
    assert cli_json("history", server.url + "binary.html", data=data)["captures"][0]["status"] == 200


def test_memory_bounded_and_files_valid(hostile):
    data, _, usage = hostile
    assert usage["rss_mb"] < 400, usage
    files = [str(p) for p in (data / "warcs").glob("*.warc.gz")]
    subprocess.run([sys.executable, "-m", "warcio.cli", "check", *files], check=True, capture_output=True)
    db = sqlite3.connect(data / "govarchive.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_huge_page_archived_truncated(hostile):
    data, server, _ = hostile
    from warcio.archiveiterator import ArchiveIterator

    for path in (data / "warcs").glob("*.warc.gz"):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI").endswith("/huge.html"):
                    assert rec.rec_headers.get_header("WARC-Truncated") == "length"
                    assert 30 * 2**20 < int(rec.http_headers.get_header("Content-Length")) < 40 * 2**20
                    return
    raise AssertionError("no record of /huge.html")


def test_server_file_names_choose_nothing(hostile):
    data, _, _ = hostile
    assert not Path("/tmp/govarchive-evil.txt").exists()
    names = {p.name for p in data.iterdir()}
    assert names <= {"warcs", "govarchive.db", "govarchive.db-wal", "govarchive.db-shm", "locks", "logs"}


def test_private_addresses_refused_for_profiles(tmp_path):
    with SiteServer(generated_site(5)) as site:
        prof = tmp_path / "p.toml"
        prof.write_text(f'name = "p"\nstart_urls = ["{site.url}"]\n', "utf-8")
        proc = cli("crawl", "--site", str(prof), data=tmp_path / "d", check=False)
        assert site.requests == []
        assert "private_address" in proc.stderr and proc.returncode == 1
        cli("crawl", site.url, data=tmp_path / "d2")  # typed on the command line: crawled
        assert site.requests


def test_sigkill_ten_times_never_corrupts(tmp_path):
    data = tmp_path / "data"
    rng = random.Random(11)
    with SiteServer(generated_site(150), latency=0.02) as site:
        for _ in range(10):
            proc = subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", site.url, "--data", str(data),
                                     "--concurrency", "4"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 4.0))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            closed = [str(p) for p in (data / "warcs").glob("*.warc.gz")]
            if closed:
                subprocess.run([sys.executable, "-m", "warcio.cli", "check", *closed], check=True, capture_output=True)
            if (data / "govarchive.db").exists():
                db = sqlite3.connect(data / "govarchive.db")
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                db.close()
        cli("crawl", site.url, data=data)
        articles = {site.url.rstrip("/") + p for p in site.routes if "/content/post_" in p}
    live = {p["url"] for p in cli_json("pages", data=data)}
    assert articles <= live
    assert not list((data / "warcs").glob("*.open"))
    subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, (data / "warcs").glob("*.warc.gz"))],
                   check=True, capture_output=True)


def test_readers_never_see_database_is_locked_during_a_crawl(tmp_path):
    from archive import Archive
    from archive.db import open_db

    data = tmp_path / "data"
    open_db(data).conn.close()
    errors: list[Exception] = []
    searches = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal searches
        while not stop.is_set():
            try:
                with Archive(data) as a:
                    a.search("通知", limit=5)
                    a.stats()
                searches += 1
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(exc)

    with SiteServer(generated_site(300)) as site:
        t = threading.Thread(target=reader)
        t.start()
        cli("crawl", site.url, "--concurrency", "8", data=data)
        stop.set()
        t.join()
    assert not errors, errors[:3]
    assert searches > 5
