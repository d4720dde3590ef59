"""Shared fixtures: the demo site on loopback, CLI runs in child processes, data directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive.demosite import DemoSite

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def cli(*args: str, data: Path | None = None, check: bool = True, timeout: int = 180) -> subprocess.CompletedProcess:
    """Run `govarchive ARGS` as a user would (a child process), return the finished process."""
    cmd = [sys.executable, "-m", "archive.cli", *args]
    if data is not None:
        cmd += ["--data", str(data)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def cli_json(*args: str, data: Path | None = None) -> object:
    return json.loads(cli(*args, "--json", data=data).stdout)


@pytest.fixture
def site():
    with DemoSite(edition=1) as s:
        yield s
