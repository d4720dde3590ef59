"""The history writer process (archive/ingest.py) when the crawl that feeds it dies."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _running(pid: int) -> bool:
    """True while ``pid`` runs (an exited process its new parent has not reaped is not running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_a_writer_left_with_half_a_message_by_a_killed_crawl_exits(tmp_path):
    """A crawl killed (SIGKILL, the OOM killer) while it hands a capture over leaves half a message
    in the queue's pipe. The orphaned writer must not wait for the rest of it forever."""
    script = f"""
import os, struct, sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from archive.ingest import IngestProcess
writer = IngestProcess(Path({str(tmp_path / "data")!r}), 3)
# What multiprocessing writes for one message: its length, then the pickle — cut short here.
os.write(writer.queue._writer.fileno(), struct.pack("!i", 65536) + b"half a capture")
Path({str(tmp_path / "pid")!r}).write_text(str(writer.proc.pid))
os._exit(0)  # as if killed: no goodbye to the writer
"""
    # (No pipes: the writer would hold them open, and waiting for their end would wait for it.)
    subprocess.run([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60, cwd=ROOT, check=True)
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.2)
    running = _running(pid)
    if running:
        subprocess.run(["kill", "-9", str(pid)])
    assert not running, "the orphaned history writer still waits for the rest of a message"
