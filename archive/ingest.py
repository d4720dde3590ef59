"""Feed the history from a crawl: in a second process (the default) or inline.

Extraction and database writes cost more CPU than fetching; a second process takes them off the
crawl's core. The crawl process writes the WARC record first, then hands the capture over a bounded
queue (a full queue slows the crawl to what the writer keeps up with, so memory stays bounded).
The writer is the database's only writer during a crawl. If the crawl process dies (even SIGKILL),
the writer finishes what it was handed, notices it is orphaned, and exits: what is in the WARC
and not yet in the database is recorded from the WARCs when the crawl resumes (or by `govarchive rebuild`).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections import Counter
from pathlib import Path

from . import frontier
from .db import open_db
from .errors import GovArchiveError
from .history import Capture, History
from .vocab import STAND_IN_ERRORS

log = logging.getLogger(__name__)


def count(counter: Counter, events: list[dict]) -> None:
    """Count events, taking back those a later event replaced (a move replaces removed + added)."""
    for e in events:
        counter[e["kind"]] += 1
        for kind in e.get("retracts", ()):
            counter[kind] -= 1


class _Writer:
    """What both modes do with each message."""

    def __init__(self, data: str, error_crawls: int) -> None:
        self.db = open_db(Path(data))
        self.history = History(self.db, error_crawls=error_crawls)
        self.counts: Counter = Counter()

    def handle(self, msg: tuple) -> dict | None:
        op = msg[0]
        if op == "capture":
            cap: Capture = msg[1]
            try:
                count(self.counts, self.history.add(cap))
            except Exception:  # noqa: BLE001 - one page the pipelines cannot read must not stop the crawl
                log.exception("could not record %s in the history", cap.url)
                self.counts["ingest_errors"] += 1
            return None
        if op == "enqueue":
            with self.db.conn:
                frontier.enqueue(self.db, *msg[1:])
            return None
        if op == "begin":
            self.history.begin_crawl(*msg[1:])
        elif op == "end":
            crawl_id, at, reason, stats = msg[1:]
            count(self.counts, self.history.end_crawl(crawl_id, at, reason, stats))
            # Pages a stand-in answered for (200, pipelines/standins.py) to the crawl's end: its errors.
            kinds = sorted(set(STAND_IN_ERRORS.values()))
            stand_ins = dict(self.db.execute(
                "SELECT error, count(*) FROM captures WHERE id IN (SELECT max(id) FROM captures WHERE crawl_id = ? "
                f"GROUP BY page_id) AND status BETWEEN 200 AND 299 AND error IN ({', '.join('?' * len(kinds))}) "
                "GROUP BY error", [crawl_id, *kinds]).fetchall())
            if stand_ins:
                self.counts["stand_ins"] = stand_ins
            if reason == "finished":
                with self.db.conn:
                    frontier.forget(self.db, crawl_id)
            self.db.conn.close()
            return dict(self.counts)
        return None


ORPHAN_GRACE = 5.0  # seconds an orphaned writer waits for the rest of a message before it exits


def _run(q: mp.Queue, result, data: str, error_crawls: int, parent: int) -> None:  # noqa: ANN001
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s [govarchive.ingest] %(levelname)s: %(message)s")
    writer = _Writer(data, error_crawls)
    waiting: list[float | None] = [None]  # since when the writer waits for a message (None: it writes one)
    threading.Thread(target=_watch_parent, args=(parent, waiting), daemon=True, name="orphan-watch").start()
    while True:
        waiting[0] = time.monotonic()
        try:
            msg = q.get(timeout=0.5)
        except queue.Empty:
            if os.getppid() != parent:  # the crawl is gone: everything it sent is written
                writer.db.conn.close()
                return
            continue
        waiting[0] = None
        out = writer.handle(msg)
        if out is not None:
            result.send(out)
            return


def _watch_parent(parent: int, waiting: list[float | None]) -> None:
    """A crawl killed while it hands a message over leaves half of it in the queue's pipe, and
    ``q.get`` waits for the rest whatever its timeout. Once the crawl is gone and the writer has
    waited that long, it exits: every whole message was written (each capture commits on its own,
    so no transaction is open while it waits)."""
    while True:
        time.sleep(0.5)
        since = waiting[0]
        if os.getppid() != parent and since is not None and time.monotonic() - since > ORPHAN_GRACE:
            log.warning("the crawl is gone and left a message cut short: the history writer stops")
            os._exit(0)


class IngestDied(GovArchiveError):
    """The history writer process is gone (killed, out of memory): the crawl must stop."""


class IngestProcess:
    """The history writer in a child process."""

    def __init__(self, data: Path, error_crawls: int, maxsize: int = 128) -> None:
        ctx = mp.get_context("spawn")
        self.queue = ctx.Queue(maxsize)
        self._recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_run, args=(self.queue, send, str(data), error_crawls, os.getpid()),
                                name="govarchive-ingest", daemon=True)
        self.proc.start()

    def put(self, *msg: object) -> None:
        """Hand a message over; a full queue waits for the writer, a dead writer raises IngestDied."""
        while True:
            self._check()
            try:
                self.queue.put(msg, timeout=0.5)
                return
            except queue.Full:
                continue

    def _check(self) -> None:
        if not self.proc.is_alive():
            raise IngestDied(f"the history writer (ingest process {self.proc.pid}) died with exit code "
                             f"{self.proc.exitcode}; the WARC files are closed and hold every fetch: run the "
                             "same crawl again to resume it")

    def finish(self, crawl_id: str, at: str, reason: str, stats: dict) -> dict:
        """Send the crawl's end, wait for everything to be written; return the event counts."""
        self.put("end", crawl_id, at, reason, stats)
        while self.proc.is_alive() and not self._recv.poll(1.0):
            pass
        if not self._recv.poll(0):
            self._check()  # it died before answering
        counts = self._recv.recv()
        self.proc.join(timeout=30)
        return counts

    def abandon(self) -> None:
        """Stop waiting for a writer that died: drop what the queue still holds."""
        self.queue.cancel_join_thread()


class InlineIngest:
    """The history writer in the crawl process (GOVARCHIVE_INGEST_PROCESS = False)."""

    def __init__(self, data: Path, error_crawls: int) -> None:
        self.writer = _Writer(str(data), error_crawls)

    def put(self, *msg: object) -> None:
        self.writer.handle(msg)

    def finish(self, crawl_id: str, at: str, reason: str, stats: dict) -> dict:
        return self.writer.handle(("end", crawl_id, at, reason, stats)) or {}
