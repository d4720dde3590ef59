"""The recorder: every exchange of a crawl to the WARC, then to the history. No Scrapy here.

``open`` repairs what a dead writer left, resumes the site's unfinished crawl (first recording what
its WARCs hold and its history never received) and starts the history writer; ``record`` writes
one exchange — a full response, an identical-payload revisit, or a server-not-modified revisit for
a 304 — and hands the capture to the history; ``record_failure`` archives a fetch that produced no
answer; ``close`` writes the crawl's end once the history holds it. What is already stored comes
from outside, as pywb's recorder takes its dedup index: a payload index and an ArchiveState.
The Scrapy extension (crawler/extension.py) only turns signals into these calls.
"""

from __future__ import annotations

import logging
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .capture import is_robots, payload_digest, request_key, to_capture
from .db import open_db, warc_dir
from .history import Capture, History
from .ingest import IngestDied, IngestProcess, InlineIngest
from .rebuild import catch_up
from .state import ArchiveState
from .warc import (
    IDENTICAL_PAYLOAD,
    SERVER_NOT_MODIFIED,
    Exchange,
    WarcWriter,
    repair_open_files,
    warc_date,
)

log = logging.getLogger(__name__)


@dataclass
class CrawlConfig:
    """What one crawl is: its site and scope, and how its WARCs are written."""

    site: str
    start_urls: list[str]
    scope: dict | None = None
    overrides: dict = field(default_factory=dict)
    crawl_id: str | None = None  # forced (no resume) when set
    prefix: str = "govarchive"
    max_size: int = 1_000_000_000
    error_crawls: int = 3
    ingest_process: bool = True
    info: dict = field(default_factory=dict)  # more warcinfo fields (crawl settings, user agent …)


def new_crawl_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


class Recorder:
    """Write a crawl's exchanges to rotating WARC files and feed the history from them."""

    def __init__(self, data: Path, config: CrawlConfig, state: ArchiveState, history: bool = True) -> None:
        self.data = Path(data)
        self.config = config
        self.state = state  # what is stored already: validators' captures, payloads (the dedup index)
        self.history = history  # False: a cluster worker, which writes WARCs and never the database
        self.crawl_id = config.crawl_id or new_crawl_id()
        self.resumed: str | None = None
        self.writer: WarcWriter | None = None
        self.ingest: IngestProcess | InlineIngest | None = None
        self.fatal: str | None = None  # why the crawl must stop (the history writer died)

    # -- lifecycle ----------------------------------------------------------------
    def open(self) -> str:
        """Repair, resume or begin the crawl; return its id."""
        wdir = warc_dir(self.data)
        if not self.history:  # a cluster worker: the coordinator began the crawl and keeps its history
            self.writer = self._writer(wdir)
            self.writer.open()
            return self.crawl_id
        for name, cut in repair_open_files(wdir) if wdir.exists() else []:
            log.warning("repaired %s: cut %d bytes of an unfinished record", name, cut)
        db = open_db(self.data)
        try:
            resumed = self.state.unfinished_crawl(self.config.site)
            if resumed and not self.config.crawl_id:
                log.warning("resuming crawl %s of %s, which did not finish", resumed, self.config.site)
                self.crawl_id = self.resumed = resumed
                # What the WARCs hold and the history never received (in flight when it was killed).
                caught = catch_up(self.data, db, resumed)
                if caught:
                    log.warning("recorded %d captures of crawl %s from its WARC files", caught, resumed)
            self.writer = self._writer(wdir)
            started = self.writer.open().date  # the warcinfo's date: a rebuild dates the crawl the same
            # The crawl is in the database before anything else happens: if the history writer dies
            # at once, the next run still finds this crawl unfinished and resumes it.
            History(db).begin_crawl(self.crawl_id, started, self.config.site, self.config.start_urls,
                                    self.config.scope)
        finally:
            db.conn.close()
        ingest = IngestProcess if self.config.ingest_process else InlineIngest
        self.ingest = ingest(self.data, self.config.error_crawls)
        self._hand_over("begin", self.crawl_id, started, self.config.site, self.config.start_urls,
                        self.config.scope)
        return self.crawl_id

    def _writer(self, wdir: Path) -> WarcWriter:
        info = {"isPartOf": self.crawl_id, "govarchive-crawl-id": self.crawl_id,
                "govarchive-site": self.config.site, "govarchive-scope": self.config.scope or "",
                "govarchive-extract": self.config.overrides or "", "start-urls": self.config.start_urls,
                **self.config.info}
        return WarcWriter(wdir, prefix=self.config.prefix, max_size=self.config.max_size, info=info,
                          host=socket.gethostname())

    def close(self, reason: str, stats: dict) -> dict:
        """End the crawl: the history settles it, then its end record is written; return event counts.

        A crawl whose history writer died gets no end record: it stays unfinished, in the WARCs as
        in the database, and its next run resumes it.
        """
        if self.writer is not None and not self.history:
            self.writer.close()  # its coordinator writes the crawl's end, once every worker has closed
            return {}
        if self.writer is None or self.ingest is None:
            return {}
        counts: dict = {}
        if self.fatal is None:
            ended = warc_date()  # dates the settled events; a rebuild from the WARCs dates them the same
            try:
                counts = self.ingest.finish(self.crawl_id, ended, reason, stats)
            except IngestDied as exc:
                self.fatal = str(exc)
            else:
                self.writer.write_metadata(f"urn:govarchive:crawl:{self.crawl_id}",
                                           {"govarchive": "crawl-end", "crawl_id": self.crawl_id,
                                            "reason": reason, "stats": stats}, extra={"WARC-Date": ended})
        self.writer.close()
        return counts

    def _hand_over(self, *msg: object) -> None:
        """Give the history writer a message; IngestDied the first time it is found dead."""
        if self.fatal is not None or not self.history:
            return
        try:
            self.ingest.put(*msg)
        except IngestDied as exc:
            self.fatal = str(exc)
            self.ingest.abandon()
            raise

    # -- records ------------------------------------------------------------------
    def record(self, ex: Exchange) -> Capture:
        """Archive one exchange and hand it to the history (robots.txt is archived only); return its
        capture, payload decoded."""
        record_type, refers = "response", None
        digest = payload_digest(ex.payload)
        key = request_key(ex.url, ex.method, ex.request_body)
        if ex.status == 304:
            prior = self.state.revisit_target(key)  # the capture the validators were taken from
            ref = self.writer.write_revisit(ex, SERVER_NOT_MODIFIED, prior[2] if prior else None,
                                            prior[0] if prior else None, prior[1] if prior else None)
            record_type = "revisit"
        elif ex.payload and not ex.truncated and (refers := self.state.payload(digest)):  # a 404 page too
            ref = self.writer.write_revisit(ex, IDENTICAL_PAYLOAD, digest, refers[0], refers[1])
            record_type = "revisit"
        else:
            ref = self.writer.write_exchange(ex)
            if ex.payload and not ex.truncated:
                self.state.remember_payload(digest, ex.url, ref.date)
        cap = to_capture(ex, ref, self.crawl_id, record_type=record_type, payload=ex.payload if refers else None,
                         site=self.config.site, overrides=self.config.overrides)
        if refers:
            cap.payload_digest = digest
        if not is_robots(ex.url):  # robots.txt is archived, not a page of the history
            self._hand_over("capture", cap)
        return cap

    def record_failure(self, url: str, method: str, body: bytes | None, kind: str, detail: str) -> None:
        """Archive a fetch that produced no response (timeout, reset …) as a metadata record."""
        key = request_key(url, method, body)
        ref = self.writer.write_metadata(url, {"govarchive": "fetch-error", "error": kind, "detail": detail[:500],
                                               "method": method, "page": key})
        self._hand_over("capture", Capture(url=key, fetched_at=ref.date, crawl_id=self.crawl_id, error=kind,
                                           record_type="metadata", warc_file=ref.filename, warc_offset=ref.offset,
                                           warc_length=ref.length, record_id=ref.record_id, site=self.config.site))

    def enqueue(self, key: str, depth: int) -> None:
        """Keep the frontier: a request the crawl accepted (a killed crawl resumes from it)."""
        self._hand_over("enqueue", self.crawl_id, key, depth)
