"""The HTML report and the Atom feed, checked in a real headless Chromium and with feedparser."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading

import pytest

from archive.demosite import Resource, SiteServer

from .conftest import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium not installed (.ci/run installs it)")


def hostile(beacon: str, n: int) -> bytes:
    """An archived page that tries everything: scripts, handlers, javascript: links, <base>, refresh."""
    return f"""<html><head><title>恶意页面测试_某某政府网</title><base href="http://127.0.0.1:1/evil/">
<meta http-equiv="refresh" content="0;url=javascript:fetch('{beacon}/refresh')">
<script>fetch('{beacon}/script')</script></head>
<body onload="fetch('{beacon}/onload')"><h1>恶意页面测试</h1>
<div id="zoom"><p>第{n}版正文：&lt;script&gt;fetch('{beacon}/text')&lt;/script&gt; 与 &lt;img src=x onerror="fetch('{beacon}/img')"&gt;。</p>
<p><img src="x" onerror="fetch('{beacon}/onerror')"><a href="javascript:fetch('{beacon}/js')">点击</a></p>
<p>本页面用于测试归档内容不会被执行，共计{100 + n}件。</p></div></body></html>""".encode()


class Beacon(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        Beacon.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    data = tmp / "data"
    beacon = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=beacon.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{beacon.server_address[1]}"
    with SiteServer() as site:
        for n in (1, 2):
            site.routes = {"/": Resource(b'<html><body><a href="/a/t1.html">x</a></body></html>'),
                           "/a/t1.html": Resource(hostile(url, n))}
            site.last_modified = f"Mon, 0{n} Apr 2024 00:00:00 GMT"
            cli("crawl", site.url, data=data)
        page = site.url + "a/t1.html"
    out = tmp / "report"
    cli("report", "--out", str(out), data=data)
    cli("feed", "--out", str(tmp / "changes.atom"), data=data)
    (tmp / "diff.html").write_text(cli("diff", page, "--format", "html", data=data).stdout, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"tmp": tmp, "out": out, "base": f"http://127.0.0.1:{server.server_address[1]}", "data": data}
    server.shutdown()
    beacon.shutdown()


def chromium_dom(url: str, tmp) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp / 'chromium-profile'}", "--virtual-time-budget=3000", "--dump-dom", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout


@needs_chromium
def test_report_renders_marked_changes_and_runs_nothing(reported):
    Beacon.hits.clear()
    index = chromium_dom(reported["base"] + "/report/index.html", reported["tmp"])
    assert "恶意页面测试" in index and "changed" in index
    change = next(p for p in (reported["out"] / "changes").glob("*.html") if "<del>" in p.read_text("utf-8"))
    dom = chromium_dom(f"{reported['base']}/report/changes/{change.name}", reported["tmp"])
    assert "<del>1</del><ins>2</ins>" in dom and "<del>101</del><ins>102</ins>" in dom
    assert "&lt;script&gt;fetch(" in dom  # the archived text is shown, as text
    diff_dom = chromium_dom(reported["base"] + "/diff.html", reported["tmp"])
    assert "<ins>102</ins>" in diff_dom
    assert Beacon.hits == [], Beacon.hits


def test_report_escapes_and_sets_csp(reported):
    for page in [reported["out"] / "index.html", *(reported["out"] / "changes").glob("*.html")]:
        html = page.read_text("utf-8")
        assert "Content-Security-Policy" in html and "script-src 'self'" in html
        assert "<script>fetch" not in html and "onerror=" not in html.replace("onerror=&quot;", "")
        assert 'href="javascript:' not in html and "<base" not in html


def test_feed_parses_with_stable_ids(reported):
    import feedparser

    first = feedparser.parse(str(reported["tmp"] / "changes.atom"))
    assert not first.bozo, first.bozo_exception
    kinds = sorted(e.tags[0].term for e in first.entries)
    assert kinds == ["changed"]  # the first crawl's baseline is not news
    cli("feed", "--include-baseline", "--out", str(reported["tmp"] / "all.atom"), data=reported["data"])
    everything = feedparser.parse(str(reported["tmp"] / "all.atom"))
    assert sorted(e.tags[0].term for e in everything.entries) == ["archived", "changed"]
    cli("feed", "--out", str(reported["tmp"] / "again.atom"), data=reported["data"])
    again = feedparser.parse(str(reported["tmp"] / "again.atom"))
    assert [e.id for e in again.entries] == [e.id for e in first.entries]
    changed = next(e for e in first.entries if e.tags[0].term == "changed")
    assert "恶意页面测试" in changed.title and changed.link.endswith("/a/t1.html")
