"""A crawl over a cluster: a real redis-server, worker processes, a coordinator, four sites on
four loopback addresses. The oracle is the one-process crawl of the same sites: the cluster's
history must equal it, event for event and version for version, though a worker is killed."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.cluster import Cluster
from archive.demosite import DemoSite

from .conftest import ROOT, cli, free_port

PER_HOST = 2
HOSTS = [f"127.0.0.{i}" for i in range(2, 6)]


@contextlib.contextmanager
def redis_server(appendonly: bool = False, port: int | None = None, workdir: Path | None = None):
    """A redis-server of the test's own on a free loopback port (persistence off unless asked)."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (Debian: apt-get install redis-server; .ci/run does it)")
    port = port or free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--protected-mode", "no",
            "--appendonly", "yes" if appendonly else "no"]
    if workdir is not None:
        args += ["--dir", str(workdir), "--appendfsync", "always"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            Cluster(url)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.05)
    try:
        yield url, proc
    finally:
        proc.kill()
        proc.wait(10)


def coordinator(redis: str, data: Path, *what: str) -> subprocess.Popen:
    """`govarchive crawl URL…|--site NAME… --redis …` as a child process, its output kept for the test."""
    return subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", *what, "--redis", redis, "--data", str(data)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ended(crawl: subprocess.Popen, *workers: subprocess.Popen) -> str:
    """Wait for a coordinator to end its crawl, then stop the workers; return its stderr."""
    try:
        _, err = crawl.communicate(timeout=240)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
            w.wait(60)
    assert crawl.returncode == 0, err[-3000:]
    return err


def wait_for_requests(site: DemoSite, n: int) -> None:
    for _ in range(400):
        if len(site.requests) >= n:
            return
        time.sleep(0.05)


def worker(redis: str, data: Path, name: str, log: Path, lease_ttl: float = 4) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "archive.cli", "worker", "--redis", redis, "--data", str(data),
                             "--name", name, "--concurrency", "4", "--lease-ttl", str(lease_ttl)],
                            cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def profiles(tmp: Path, sites: list[DemoSite]) -> list[str]:
    out = []
    for i, site in enumerate(sites):
        path = tmp / f"s{i}.toml"
        path.write_text(f'name = "s{i}"\nstart_urls = ["{site.url}"]\nallow_private = true\n'
                        f'[settings]\nCONCURRENT_REQUESTS_PER_DOMAIN = {PER_HOST}\n', "utf-8")
        out.append(str(path))
    return out


def history(data: Path) -> tuple[list, list]:
    """Events (kind, url, versions) and versions (url, number, content) of a data directory."""
    conn = sqlite3.connect(data / "govarchive.db")
    try:
        events = sorted(conn.execute("SELECT kind, url, from_version, to_version FROM changes").fetchall())
        versions = sorted(conn.execute("SELECT p.url, v.number, v.content_hash FROM versions v "
                                       "JOIN pages p ON p.id = v.page_id").fetchall())
        return events, versions
    finally:
        conn.close()


def documents(site: DemoSite) -> set[str]:
    return {site.url.rstrip("/") + path for path, res in site.routes.items()
            if "/content/post_" in path and res.status == 200}


def captured(data: Path) -> set[str]:
    conn = sqlite3.connect(data / "govarchive.db")
    try:
        return {u for (u,) in conn.execute("SELECT url FROM captures WHERE status = 200")}
    finally:
        conn.close()


def warcio_check(data: Path) -> None:
    files = sorted((data / "warcs").glob("*.warc.gz"))
    assert files and not list((data / "warcs").glob("*.open"))
    proc = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, files)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_three_workers_crawl_four_sites_and_lose_nothing_when_one_is_killed(tmp_path):
    sites = [DemoSite(edition=1, host=h, latency=0.1).start() for h in HOSTS]
    paths = profiles(tmp_path, sites)
    cluster_data, one_data = tmp_path / "cluster", tmp_path / "one"
    with redis_server() as (redis, _):
        procs = {f"w{i}": worker(redis, cluster_data, f"w{i}", tmp_path / f"w{i}.log") for i in (1, 2, 3)}
        try:
            for edition in (1, 2):
                for site in sites:
                    site.set_edition(edition)
                    site.max_active = 0
                crawl = coordinator(redis, cluster_data, *sum((["--site", p] for p in paths), []))
                if edition == 1:  # kill w3 while it holds requests: its leases expire, others fetch them
                    c = Cluster(redis)
                    deadline = time.time() + 60
                    while time.time() < deadline:
                        w3 = next((w for w in c.workers() if w["name"] == "w3"), None)
                        if w3 and w3["done"] >= 3 and w3["leases"] >= 1:
                            break
                        time.sleep(0.05)
                    else:
                        pytest.fail("w3 never held a lease")
                    procs["w3"].send_signal(signal.SIGKILL)
                    procs["w3"].wait(10)
                out, err = crawl.communicate(timeout=300)
                assert crawl.returncode == 0, err[-3000:]
                assert err.count(": finished") == 4, err
                for site in sites:  # the cluster held each host to its limit, whatever the workers
                    assert 1 <= site.max_active <= PER_HOST, (site.url, site.max_active)
                if edition == 1:
                    assert "w3" in err  # it did part of the work before it died
                    # Its half-written file was repaired by the coordinator and is in the history.
                    assert not list((cluster_data / "warcs").glob("govarchive-w3-*.open"))
                    assert list((cluster_data / "warcs").glob("govarchive-w3-*.warc.gz"))
                # The oracle: the same sites crawled one by one in one process.
                for p in paths:
                    cli("crawl", "--site", p, data=one_data, timeout=300)
                assert history(cluster_data) == history(one_data)
                every = set().union(*(documents(s) for s in sites))
                assert len(every) >= 4 * 35 and every <= captured(cluster_data)
            # SIGTERM: the live workers close their files and hand back what they hold.
            for name in ("w1", "w2"):
                procs[name].send_signal(signal.SIGTERM)
            for name in ("w1", "w2"):
                assert procs[name].wait(60) == 0, (tmp_path / f"{name}.log").read_text()
            assert Cluster(redis).workers() == []
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
            for site in sites:
                site.stop()
    warcio_check(cluster_data)
    names = {f.name.split("-")[1] for f in (cluster_data / "warcs").glob("*.warc.gz")}
    assert {"w1", "w2", "w3", "coordinator"} <= names
    # The history rebuilt from the cluster's WARC files alone is the same history.
    cli("rebuild", "--into", str(tmp_path / "rebuilt"), data=cluster_data)
    assert history(tmp_path / "rebuilt") == history(cluster_data)


def test_a_second_coordinator_for_a_site_is_refused(tmp_path):
    with DemoSite(edition=1, host="127.0.0.6") as site, redis_server() as (redis, _):
        first = subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", site.url, "--redis", redis,
                                  "--data", str(tmp_path / "a")], cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            c = Cluster(redis)
            for _ in range(200):  # no worker runs: the first coordinator waits for its probes
                if c.site_lock_holder(site.url.split("/")[2]):
                    break
                time.sleep(0.05)
            second = cli("crawl", site.url, "--redis", redis, data=tmp_path / "b", check=False)
            assert second.returncode == 1
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and "already coordinated" in lines[0], second.stderr
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(30)


@pytest.mark.parametrize("command", [["worker"], ["workers"], ["crawl", "http://127.0.0.7/"]])
def test_redis_unreachable_is_one_clear_line(tmp_path, command):
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = cli(*command, "--redis", url, *(["--data", str(tmp_path)] if command[0] != "workers" else []),
               check=False, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach Redis" in lines[0], proc.stderr
    assert not (tmp_path / "govarchive.db").exists()


def test_a_redis_restart_mid_crawl_loses_nothing(tmp_path):
    """Redis killed mid-crawl and started again (with its append-only file, as a real deployment
    runs it): the workers stop taking work, keep what they did, and the crawl ends complete."""
    with DemoSite(edition=1, host="127.0.0.8", latency=0.1) as site:
        port = free_port()
        workdir = tmp_path / "redis"
        workdir.mkdir()
        data = tmp_path / "data"
        with redis_server(appendonly=True, port=port, workdir=workdir) as (redis, proc):
            w = worker(redis, data, "w1", tmp_path / "w1.log")
            crawl = coordinator(redis, data, site.url)
            wait_for_requests(site, 12)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            time.sleep(3)
        with redis_server(appendonly=True, port=port, workdir=workdir):
            err = ended(crawl, w)
        assert "Redis unreachable" in err and "Redis is back" in err
        log = (tmp_path / "w1.log").read_text()
        assert "Redis unreachable" in log and "Redis is back" in log
        # Only the outage: no call Redis refused (a lease renewal that never ran once passed as one)
        assert "refused a call" not in log and "Error compiling" not in log, log[-3000:]
        assert documents(site) <= captured(data)
    warcio_check(data)


def test_a_fetch_slower_than_its_lease_stays_its_workers(tmp_path):
    """A live worker renews the lease of a request it is still fetching: a page that takes longer
    than the lease's time to live is fetched once, not handed to the other worker as well (as when
    the renewal script never ran)."""
    with DemoSite(edition=1, host="127.0.0.10") as site, redis_server() as (redis, _):
        slow = sorted(documents(site))[0].split(site.url.rstrip("/"), 1)[1]
        site.fault = lambda method, path: "timeout" if path == slow else None
        site.timeout_after = 6.0  # three times the lease's time to live
        data = tmp_path / "data"
        ws = [worker(redis, data, f"w{i}", tmp_path / f"w{i}.log", lease_ttl=2) for i in (1, 2)]
        try:
            got = cli("crawl", site.url, "--redis", redis, data=data, timeout=180)
            assert "finished" in got.stderr
        finally:
            for w in ws:
                w.send_signal(signal.SIGTERM)
            for w in ws:
                w.wait(60)
        assert [p for m, p in site.requests if p == slow] == [slow]
        assert documents(site) <= captured(data)


def test_workers_lists_live_workers(tmp_path):
    with redis_server() as (redis, _):
        w = worker(redis, tmp_path / "data", "alpha", tmp_path / "w.log")
        try:
            for _ in range(200):
                rows = Cluster(redis).workers()
                if rows:
                    break
                time.sleep(0.05)
            got = cli("workers", "--redis", redis, "--json")
            rows = json.loads(got.stdout)
            assert [r["name"] for r in rows] == ["alpha"] and rows[0]["pid"] == w.pid
            text = cli("workers", "--redis", redis).stdout
            assert text.startswith("alpha")
            # A second worker of the same name would write the same files: refused, one line.
            twin = cli("worker", "--redis", redis, "--name", "alpha", data=tmp_path / "data", check=False, timeout=60)
            lines = twin.stderr.strip().splitlines()
            assert twin.returncode == 1 and len(lines) == 1 and "already running" in lines[0], twin.stderr
        finally:
            w.send_signal(signal.SIGTERM)
            assert w.wait(60) == 0


def test_a_list_only_a_browser_shows_is_crawled_through_the_cluster(tmp_path):
    """A worker renders a browser-only list itself (the request holds live objects and stays in its
    process, counted in Redis): the crawl is not taken for drained under it, and every document the
    rendered list links is fetched."""
    from .pagersites import PagerSite

    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.fail("chromium is not installed (Debian: apt-get install chromium; .ci/run does it)")
    data = tmp_path / "data"
    with PagerSite("browser", 23) as site, redis_server() as (redis, _):
        w = worker(redis, data, "w1", tmp_path / "w1.log")
        try:
            got = cli("crawl", site.url.rstrip("/") + site.start_path, "--redis", redis, data=data, timeout=240)
        finally:
            w.send_signal(signal.SIGTERM)
            w.wait(60)
        docs = {site.url.rstrip("/") + d for d in site.docs}
        requests = list(site.requests)
    assert ("GET", "/api/list?page=3&size=10") in requests, (tmp_path / "w1.log").read_text()[-3000:]
    assert docs <= captured(data), got.stderr[-3000:]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_coordinator_attaches_to_its_crawl_again(tmp_path, sig):
    """The coordinator stopped (SIGTERM) or killed (SIGKILL) mid-crawl: the workers go on with the
    crawl in Redis; the same command run again attaches to it, ingests what was written meanwhile,
    and ends it complete — the history equal to a rebuild from the WARC files, every file whole."""
    data = tmp_path / "data"
    with DemoSite(edition=1, host="127.0.0.11", latency=0.1) as site, redis_server() as (redis, _):
        w = worker(redis, data, "w1", tmp_path / "w1.log")
        try:
            first = coordinator(redis, data, site.url)
            wait_for_requests(site, 15)
            first.send_signal(sig)
            _, err1 = first.communicate(timeout=60)
            assert Cluster(redis).active(), "the crawl did not stay in the cluster: " + err1[-2000:]
            again = cli("crawl", site.url, "--redis", redis, data=data, timeout=240)
        finally:
            w.send_signal(signal.SIGTERM)
            w.wait(60)
        assert "attached to crawl" in again.stderr, again.stderr[-3000:]
        assert documents(site) <= captured(data), again.stderr[-3000:]
        fetched = [p for m, p in site.requests if "/content/post_" in p]
        assert len(fetched) == len(set(fetched))  # the workers went on: nothing fetched twice
    warcio_check(data)  # the killed coordinator's own file repaired too
    cli("rebuild", "--into", str(tmp_path / "rebuilt"), data=data)
    assert history(tmp_path / "rebuilt") == history(data)
    conn = sqlite3.connect(data / "govarchive.db")
    try:
        assert conn.execute("SELECT count(*), min(reason) FROM crawls").fetchone() == (1, "finished")
    finally:
        conn.close()


def test_a_redis_that_comes_back_empty_is_said_and_the_crawl_queued_again_from_the_archive(tmp_path):
    """Redis restarted without its data (no append-only file): the crawl's frontier is gone. The
    coordinator says so and queues the crawl again from what the archive holds (the links of the
    pages it captured and has not fetched), so the crawl still ends complete — not "finished" with
    half the site missing and nothing said."""
    with DemoSite(edition=1, host="127.0.0.12", latency=0.1) as site:
        port = free_port()
        data = tmp_path / "data"
        with redis_server(port=port) as (redis, proc):
            w = worker(redis, data, "w1", tmp_path / "w1.log")
            crawl = coordinator(redis, data, site.url)
            wait_for_requests(site, 20)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        # Back at once, empty: what the workers wrote in the last seconds is not yet read when the
        # coordinator finds the crawl gone (it must read it all before queueing the crawl again).
        with redis_server(port=port):  # the same address, nothing in it
            err = ended(crawl, w)
        assert "lost crawl" in err, err[-3000:]
        cli("crawl", site.url, data=tmp_path / "one")  # the oracle: the site crawled in one process
        assert captured(tmp_path / "one") <= captured(data), err[-3000:]  # attachments of captured articles too
        assert documents(site) <= captured(data)
    warcio_check(data)


def test_a_worker_killed_while_rendering_a_list_loses_nothing(tmp_path):
    """The render of a browser-only list lives in its worker's process only: killed mid-render, the
    page is queued again once the worker is gone, and another worker renders it."""
    from .pagersites import PagerSite

    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.fail("chromium is not installed (Debian: apt-get install chromium; .ci/run does it)")
    data = tmp_path / "data"
    with PagerSite("browser", 23) as site, redis_server() as (redis, _):
        site.latency = 0.3  # the browser's API calls take a while: time to see the render in flight
        w1 = worker(redis, data, "w1", tmp_path / "w1.log")
        crawl = coordinator(redis, data, site.url.rstrip("/") + site.start_path)
        c = Cluster(redis)
        w2 = None
        try:
            deadline = time.time() + 90
            while time.time() < deadline and not any(c.r.hlen(k) for k in c.r.scan_iter(c.key("local:*"))):
                time.sleep(0.02)
            assert time.time() < deadline, "no render was ever in flight"
            w1.send_signal(signal.SIGKILL)
            w1.wait(10)
            w2 = worker(redis, data, "w2", tmp_path / "w2.log")
            out, err = crawl.communicate(timeout=240)
        finally:
            for w in (w1, w2):
                if w is not None and w.poll() is None:
                    w.send_signal(signal.SIGTERM)
                    w.wait(60)
        docs = {site.url.rstrip("/") + d for d in site.docs}
    assert crawl.returncode == 0, err[-3000:]
    assert "worker w1 died rendering" in err, err[-3000:]
    assert docs <= captured(data), err[-3000:]
