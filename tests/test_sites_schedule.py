"""Site profiles, crawling by profile, the scheduler, notifications and back-off."""

from __future__ import annotations

import http.server
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archive import sites
from archive.demosite import DemoSite, Resource, SiteServer
from archive.errors import SiteProfileError
from archive.schedule import on_calendar

from .conftest import ROOT, cli, cli_json
from .rawserver import RawServer, _resp


def test_shipped_profiles_validate():
    rows = cli_json("sites")
    names = {r["name"] for r in rows}
    assert {"fs-hitech", "foshan", "chancheng", "nanhai", "shunde", "gaoming", "sanshui"} <= names
    for r in rows:
        assert r["valid"], r
        assert r["derived"], f"{r['name']} must say how it was derived"
    hitech = sites.load_profile("fs-hitech")
    assert any(u.endswith("/zw/tzgg/content/post_5916497.html") for u in hitech["start_urls"])


def test_invalid_profile_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nstart_urls = ["ftp://x"]\nschedule = "every day"\ndeny = ["("]\n', "utf-8")
    with pytest.raises(SiteProfileError) as err:
        sites.load_profile(str(bad))
    assert "not an http(s) URL" in str(err.value) and "cron" in str(err.value) and "bad pattern" in str(err.value)
    proc = cli("crawl", "--site", str(bad), data=tmp_path / "d", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1


def test_on_calendar():
    assert on_calendar("17 3 * * *") == "*-*-* 3:17:00"
    assert on_calendar("*/15 8-18 * * 1-5") == "Mon..Fri *-*-* 8..18:0/15:00"


def _profile(tmp: Path, name: str, url: str, schedule: str = "* * * * * */2", **extra: str) -> Path:
    lines = [f'name = "{name}"', 'derived = "test site on loopback"', f'start_urls = ["{url}"]',
             f'schedule = "{schedule}"', "allow_private = true"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    path = tmp / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_crawl_by_profile_with_ignore_rule_and_webhook(tmp_path):
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    page = "<html><head><title>通知_某区</title></head><body><h1>通知</h1><div id='zoom'><p>正文内容保持不变，共十五件。</p><p>{}</p></div></body></html>"
    with SiteServer() as site:
        site.routes = {"/": Resource(b'<a href="/a/t1.html">t</a>'), "/a/t1.html": Resource(page.format("今日访客：12").encode())}
        profile = _profile(tmp_path, "noisy", site.url, ignore="['^今日访客：\\d+$']",
                           notify=f'"http://127.0.0.1:{hook.server_address[1]}/hook"')
        data = tmp_path / "data"
        cli("crawl", "--site", str(profile), data=data)
        assert received == []  # the first crawl is the site's baseline: nothing to announce
        site.routes["/a/t1.html"] = Resource(page.format("今日访客：13").encode())
        site.last_modified = "Tue, 02 Apr 2024 00:00:00 GMT"
        cli("crawl", "--site", str(profile), data=data)
        assert received == []  # the flickering counter is ignored: no change, no notification
        site.routes["/a/t1.html"] = Resource(page.replace("十五件", "十六件").format("今日访客：14").encode())
        site.last_modified = "Wed, 03 Apr 2024 00:00:00 GMT"
        cli("crawl", "--site", str(profile), data=data)
    assert len(received) == 1 and received[0]["counts"] == {"changed": 1} and received[0]["site"] == "noisy"
    assert [e["kind"] for e in cli_json("changes", "--include-baseline", data=data)] == ["archived", "changed"]
    assert "今日访客" not in cli_json("show", site.url + "a/t1.html", data=data)["body"]
    hook.shutdown()


def test_scheduler_runs_two_sites_survives_a_failure_and_stops_on_sigterm(tmp_path):
    data = tmp_path / "data"
    with DemoSite() as one, SiteServer({"/": Resource(b"<html><body>ok</body></html>")}) as two:
        _profile(tmp_path, "one", one.url)
        _profile(tmp_path, "two", two.url)
        _profile(tmp_path, "dead", "http://127.0.0.1:9/")  # nothing listens: its crawls fail
        env = {**os.environ, "GOVARCHIVE_SITES": str(tmp_path)}
        proc = subprocess.Popen([sys.executable, "-m", "archive.cli", "schedule", "--site", "one", "--site", "two",
                                 "--site", "dead", "--data", str(data), "--jitter", "0"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 90
        done: dict[str, int] = {}
        while time.time() < deadline:
            if (data / "govarchive.db").exists():
                try:
                    db = sqlite3.connect(data / "govarchive.db")
                    done = dict(db.execute("SELECT site, count(*) FROM crawls WHERE finished IS NOT NULL GROUP BY site"))
                    db.close()
                except sqlite3.OperationalError:
                    pass
            if done.get("one", 0) >= 2 and done.get("two", 0) >= 2:
                break
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 0
    assert done.get("one", 0) >= 2 and done.get("two", 0) >= 2, done
    log = (data / "logs" / "scheduler.log").read_text("utf-8")
    assert "dead: crawl ended with exit status 1" in log
    assert "scheduler stopped" in log
    assert not list((data / "warcs").glob("*.open"))


def test_retry_after_is_honoured(tmp_path):
    with RawServer() as server:
        seen: list[float] = []

        def limited(_: bytes) -> bytes:
            seen.append(time.monotonic())
            if len(seen) == 1:
                return _resp("429 Too Many Requests", [(b"Retry-After", b"2"), (b"Content-Type", b"text/html")], b"slow down")
            return _resp("200 OK", [(b"Content-Type", b"text/html")], "<html><body><p>好的</p></body></html>".encode())

        server.routes["/limited.html"] = limited
        server.routes["/"] = lambda _: _resp("200 OK", [(b"Content-Type", b"text/html")], b'<a href="/limited.html">x</a>')
        proc = cli("crawl", server.url, data=tmp_path / "d")
    assert len(seen) == 2 and seen[1] - seen[0] >= 1.9
    assert "429 1" in proc.stderr and "200" in proc.stderr
