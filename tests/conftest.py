"""Shared fixtures: the demo site on loopback, CLI runs in child processes, data directories."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from archive.demosite import DemoSite

# The suite's sites publish their editions seconds apart, each standing for days or months of a
# site's life: its crawls check every known page again (`crawl --full`). The adaptive revisit
# policy, which decides by change rate and age, is tested with its own clock (tests/test_revisit.py).
os.environ.setdefault("GOVARCHIVE_REVISIT", "full")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def cli(*args: str, data: Path | None = None, check: bool = True, timeout: int = 180,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `govarchive ARGS` as a user would (a child process), return the finished process;
    ``env``: environment variables set for this run only."""
    cmd = [sys.executable, "-m", "archive.cli", *args]
    if data is not None:
        cmd += ["--data", str(data)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **env} if env else None)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def cli_json(*args: str, data: Path | None = None) -> object:
    return json.loads(cli(*args, "--json", data=data).stdout)


@pytest.fixture
def site():
    with DemoSite(edition=1) as s:
        yield s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(cmd: list[str], ready_url: str, tries: int = 150, **popen: object):
    """Run a server command as a child process until ``ready_url`` answers; yield the process;
    terminate it afterwards. ``popen``: more arguments for subprocess.Popen."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    try:
        for _ in range(tries):
            try:
                urllib.request.urlopen(ready_url, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def replay_server(data: Path):
    """Run `govarchive replay` (a real pywb server) over a data dir; yield (its base URL, process)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/govarchive/"
    with serving([sys.executable, "-m", "archive.cli", "replay", "--port", str(port), "--data", str(data)],
                 base) as proc:
        yield base, proc


@contextlib.contextmanager
def replaying(data: Path):
    """Run `govarchive replay` over a data dir; yield a function url -> the bytes as archived."""
    with replay_server(data) as (base, _):
        def fetch(url: str, ts: str = "2100") -> bytes:
            return urllib.request.urlopen(f"{base}{ts}id_/{url}", timeout=20).read()

        yield fetch


DATASETTE = shutil.which("datasette", path=str(ROOT / ".venv" / "bin")) or shutil.which("datasette")


@contextlib.contextmanager
def datasette_server(db: Path):
    """Run a real Datasette over a database with the shipped metadata.yml; yield its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving([DATASETTE, "serve", str(db), "--metadata", str(ROOT / "metadata.yml"), "--host", "127.0.0.1",
                  "--port", str(port)], url + "/-/versions.json", tries=100):
        yield url


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory):
    """The demo site crawled at editions 1 and 2 (read-only for the tests that share it)."""
    data = tmp_path_factory.mktemp("demo-shared") / "data"
    with DemoSite(edition=1) as site:
        cli("crawl", site.url, data=data)
        site.set_edition(2)
        cli("crawl", site.url, data=data)
        base = site.url
    return data, base
