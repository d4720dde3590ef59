"""The command line: contract outputs and one clear error line for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import DATA, cli, cli_json


def test_extract_json():
    f = DATA / "devset" / "08_govcn_zhengce_fragment_guobanfa2018-123.html"
    rec = json.loads(cli("extract", str(f), "--json").stdout)
    assert rec["title"] == "国务院办公厅关于推进政务新媒体健康有序发展的意见"
    assert rec["doc_no"] == "国办发〔2018〕123号"


def test_missing_data_dir_is_one_line(tmp_path):
    proc = cli("changes", data=tmp_path / "nope", check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: no archive in")
    assert "Traceback" not in proc.stderr


def test_unknown_url_is_one_line(tmp_path):
    from archive.db import open_db

    open_db(tmp_path).conn.close()
    for args in (("show", "http://nowhere/x"), ("history", "http://nowhere/x"), ("diff", "http://nowhere/x")):
        proc = cli(*args, data=tmp_path, check=False)
        assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0, proc.stderr
        assert "no page http://nowhere/x" in proc.stderr


def test_usage_error_exits_2():
    assert cli("diff", check=False).returncode == 2
    assert cli("crawl", "ftp://x/", "--data", "/tmp/x-unused", check=False).returncode == 1


def test_every_command_is_in_the_readme():
    from archive.cli import main

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    for name, command in main.commands.items():
        if not command.hidden:  # old names kept for a release say what they are now called
            assert f"govarchive {name}" in readme, name


def test_old_command_names_still_work_and_say_their_new_name(demo_data, tmp_path):
    data, _ = demo_data
    proc = cli("index", "--out", str(tmp_path / "x.cdxj"), data=data)
    assert "now `govarchive cdx`" in proc.stderr and (tmp_path / "x.cdxj").stat().st_size > 0
    proc = cli("reindex", "--into", str(tmp_path / "db"), data=data)
    assert "now `govarchive rebuild`" in proc.stderr and (tmp_path / "db" / "govarchive.db").exists()


def test_json_and_csv_come_from_one_decorator(demo_data):
    import csv
    import io

    data, _ = demo_data
    rows = cli_json("pages", "--kind", "article", data=data)
    table = list(csv.DictReader(io.StringIO(cli("pages", "--kind", "article", "--csv", data=data).stdout)))
    assert [r["url"] for r in table] == [r["url"] for r in rows] and len(rows) >= 40


def test_scrapy_crawl_from_the_project_root(tmp_path, site):
    import subprocess
    import sys

    from .conftest import ROOT, cli_json

    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "govsite", "-a", f"start_urls={site.url}",
                    "-s", f"GOVARCHIVE_DATA={data}", "-s", "LOG_LEVEL=WARNING"], cwd=ROOT, check=True,
                   capture_output=True, timeout=180)
    stats = cli_json("stats", data=data)
    assert stats["changes_by_kind"]["archived"] >= 40 and stats["warc_files"] == 1


def test_the_demo_shows_the_second_crawls_events_and_suggests_commands_as_invoked(tmp_path):
    proc = cli("demo", "--data", str(tmp_path / "demo-data"), timeout=300)
    out = proc.stdout
    section = out.split("Change events of the second crawl:", 1)[1].split("Diff of", 1)[0]
    for kind in ("added", "changed", "removed", "delisted"):
        assert f"  {kind} " in section, section
    assert "silent_revision" in section and "archived" not in section  # the baseline is not news
    assert "[-48-]{+84+}" in out
    # Run as `python -m archive.cli`, it suggests exactly that (not a `.venv/bin/govarchive` it was not run as).
    import sys

    assert f"{sys.executable} -m archive.cli changes --data" in out and "bin/govarchive" not in out


def test_replay_stopped_by_sigterm_stops_its_pywb(tmp_path):
    # A terminated `govarchive replay` (systemd, kill, a test's terminate()) must not leave pywb running.
    import os
    import time
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from .conftest import replay_server

    data = tmp_path / "data"
    (data / "warcs").mkdir(parents=True)
    with open(data / "warcs" / "one.warc.gz", "wb") as fh:  # one page to replay
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("http://x.gov.cn/", "response", payload=BytesIO(b"<p>x</p>"),
                                                      http_headers=headers))
    with replay_server(data) as (_, proc):
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == proc.pid]
        assert children, "pywb did not start as replay's child"
    for _ in range(50):
        if not any(os.path.exists(f"/proc/{c}") and _ppid(c) is not None for c in children):
            break
        time.sleep(0.1)
    assert not [c for c in children if os.path.exists(f"/proc/{c}") and _ppid(c) is not None]


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else int(fields[1])  # a zombie has exited
    except (OSError, IndexError, ValueError):
        return None


def test_demo_site_serves_the_edition_asked_for_until_interrupted(tmp_path):
    import functools
    import signal
    import subprocess
    import sys
    import urllib.request

    from archive.demosite.pages import build

    from .conftest import ROOT, free_port, serving

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "archive.cli", "demo-site", "--edition", "2", "--port", str(port)]
    # Started as from the background of a script (nohup …&, make under one): SIGINT ignored, which
    # a child inherits — the command must end on it all the same (it did not: make test hung here).
    ignored = functools.partial(signal.signal, signal.SIGINT, signal.SIG_IGN)
    with serving(cmd, url, preexec_fn=ignored) as proc:
        first = build(1)
        path, res = next((p, r) for p, r in build(2).items()  # a page edition 1 does not have as it is
                         if r.status == 200 and (p not in first or first[p].body != r.body))
        assert urllib.request.urlopen(url.rstrip("/") + path, timeout=10).read() == res.body
        cli("crawl", url, data=tmp_path / "data")
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(30) == 0
        except subprocess.TimeoutExpired:
            spy = Path(sys.executable).with_name("py-spy")  # (when installed: where it waits)
            stack = subprocess.run([str(spy), "dump", "--pid", str(proc.pid)], capture_output=True,
                                   text=True).stdout if spy.exists() else ""
            raise AssertionError(f"demo-site still running 30 s after SIGINT\n{stack}") from None
    assert subprocess.run([sys.executable, "-m", "archive.cli", "demo-site", "--port", "70000"], cwd=ROOT,
                          capture_output=True).returncode == 2  # a bad port: click's one-line usage error


def test_a_crawl_says_what_robots_txt_forbade(tmp_path):
    """A site whose robots.txt shuts crawlers out: the crawl fetches nothing of it and says why,
    naming the start URL, instead of a quiet "finished, new 0"."""
    from archive.demosite import Resource, SiteServer

    page = "<html><head><title>首页</title></head><body><a href='/art/1.html'>关于第1号事项的通知</a></body></html>"
    routes = {"/": Resource(page.encode()), "/art/1.html": Resource(page.encode()),
              "/robots.txt": Resource(b"User-agent: *\nDisallow: /\n", "text/plain")}
    with SiteServer(routes) as site:
        out = cli("crawl", site.url, data=tmp_path / "data").stderr
        asked = [p for _, p in site.requests]
    assert asked.count("/") == 0 and "/robots.txt" in asked
    line = next(x for x in out.splitlines() if "robots.txt forbade" in x)
    assert site.url in line and "never sent" in line, out


def test_a_crawl_says_where_pages_redirected_outside_its_hosts(tmp_path):
    """A site moved to a new domain with 301s: not followed (out of scope), and the report names
    the host, so a profile can add it — not only an anonymous `out_of_scope` count."""
    from archive.demosite import Resource, SiteServer

    page = "<html><head><title>首页</title></head><body><a href='/art/1.html'>关于第1号事项的通知</a></body></html>"
    routes = {"/": Resource(page.encode()), "/art/1.html": Resource(page.encode())}
    with SiteServer(dict(routes), host="127.0.0.2") as new, SiteServer(dict(routes)) as old:
        old.routes = {p: Resource(b"", status=301, headers={"Location": new.url.rstrip("/") + p}) for p in routes}
        out = cli("crawl", old.url, data=tmp_path / "data").stderr
        assert not [p for _, p in new.requests]  # never fetched
        host = new.url.split("/")[2]
    line = next(x for x in out.splitlines() if "redirected outside" in x)
    assert line.endswith(f"{host} 1") and "hosts" in line, out
