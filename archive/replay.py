"""Replay the archive through pywb on 127.0.0.1: any capture, browsable, bytes as sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .package import write_index
from .rebuild import warc_files

COLLECTION = "govarchive"


def prepare(data: Path) -> Path:
    """Lay out a pywb collection over the data dir's WARCs (links, not copies); return its root."""
    root = data / "replay"
    coll = root / "collections" / COLLECTION
    (coll / "archive").mkdir(parents=True, exist_ok=True)
    (coll / "indexes").mkdir(parents=True, exist_ok=True)
    files = warc_files(data)
    for f in files:
        link = coll / "archive" / f.name
        if not link.exists():
            os.symlink(f.resolve(), link)
    index = write_index(data, coll / "indexes" / "index.cdxj", files)
    _drop_not_modified(index)
    (root / "config.yaml").write_text(
        "collections_root: collections\n"
        "framed_replay: false\n"
        "enable_memento: true\n", encoding="utf-8")
    return root


def _drop_not_modified(index: Path) -> None:
    """Leave 304 revisits out of the replay index: pywb would replay them as empty 304s.

    A 304 says the page was unchanged since the capture it refers to, so replay at that time falls
    back to that capture; the full index (`govarchive index`) and the WARCs keep the 304s.
    """
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not ('"status": "304"' in line and '"mime": "warc/revisit"' in line)]
    index.write_text("".join(kept), encoding="utf-8")


def command(port: int) -> list[str]:
    """Return the command that runs pywb's wayback server."""
    return [sys.executable, "-c", "import sys; from pywb.apps.cli import wayback; wayback(sys.argv[1:])",
            "-b", "127.0.0.1", "-p", str(port)]


def serve(data: Path, port: int) -> subprocess.Popen:
    """Start pywb over the archive in a child process (the caller waits or stops it)."""
    root = prepare(data)
    return subprocess.Popen(command(port), cwd=root)
