"""Rebuild the history database from the WARC files alone (they are the record of truth).

Each WARC file belongs to one crawl (its warcinfo names it); files of crawls that ran at the same
time interleave, so every crawl is opened at its first file and closed by its ``crawl-end``
record. A crawl that never wrote one (killed) stays unfinished, as it is in the live database:
the next crawl of its site resumes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from .capture import is_robots, to_capture
from .db import DB_NAME, open_db, warc_dir
from .errors import EmptyArchive
from .history import Capture, History
from .warc import SERVER_NOT_MODIFIED, Exchange, RecordRef


@dataclass
class _Crawl:
    crawl_id: str
    site: str | None
    overrides: dict
    ended: bool = False


def warc_files(data: Path) -> list[Path]:
    """Return the closed WARC files of a data directory in the order they were written."""
    return sorted(warc_dir(data).glob("*.warc.gz"), key=lambda p: p.name.split("-", 1)[1])


def _fields(payload: bytes) -> dict[str, str]:
    out = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def read_payload(path: Path, offset: int) -> bytes:
    """Return the stored (still content-encoded) payload of the record at ``offset``."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        for rec in ArchiveIterator(fh):
            return rec.raw_stream.read()
    raise ValueError(f"no record at {path}:{offset}")


def iter_records(data: Path, files: list[Path] | None = None) -> Iterator[tuple[Path, int, int, object]]:
    """Yield (file, offset, length, record) for every record of every WARC file."""
    for path in files if files is not None else warc_files(data):
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                rec.stored = rec.raw_stream.read() if rec.rec_type in ("response", "metadata", "warcinfo",
                                                                       "request") else b""
                yield path, it.get_record_offset(), it.get_record_length(), rec


def _exchange(rec, payload: bytes | None, request=None) -> Exchange:  # noqa: ANN001 - warcio records
    http = rec.http_headers
    status = int(http.get_statuscode()) if http else 0
    method, body = "GET", b""
    if request is not None and request.http_headers is not None:
        method = (request.http_headers.protocol or "GET").split(" ", 1)[0] or "GET"
        body = request.stored or b""
    return Exchange(url=rec.rec_headers.get_header("WARC-Target-URI"), status=status,
                    response_headers=list(http.headers) if http else [], payload=payload or b"",
                    date=rec.rec_headers.get_header("WARC-Date"), method=method, request_body=body,
                    truncated=rec.rec_headers.get_header("WARC-Truncated"))


class Rebuilder:
    """Feed WARC records to a History in file order, one crawl state per crawl id.

    ``skip``: record ids the history already holds (catching up after a crash feeds only the rest).
    """

    def __init__(self, hist: History, skip: set[str] | None = None) -> None:
        self.hist = hist
        self.skip = skip or set()
        self.crawls: dict[str, _Crawl] = {}
        self.originals: dict[str, tuple[Path, int]] = {}
        self.counts = {"records": 0, "captures": 0, "crawls": 0}

    def file(self, path: Path, records: Iterator[tuple[Path, int, int, object]]) -> None:
        crawl: _Crawl | None = None
        waiting = None  # a response or revisit, until the request record written right after it
        for _, offset, length, rec in records:
            self.counts["records"] += 1
            if rec.rec_type == "request" and waiting is not None \
                    and rec.rec_headers.get_header("WARC-Concurrent-To") == waiting[3].rec_headers.get_header(
                        "WARC-Record-ID"):
                self._record(*waiting, crawl, request=rec)
                waiting = None
                continue
            if waiting is not None:
                self._record(*waiting, crawl)
                waiting = None
            if rec.rec_type == "warcinfo":
                crawl = self._warcinfo(path, rec)
                continue
            if rec.rec_headers.get_header("WARC-Record-ID") in self.skip:
                if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Payload-Digest"):
                    self.originals.setdefault(rec.rec_headers.get_header("WARC-Payload-Digest"), (path, offset))
                continue
            if rec.rec_type in ("response", "revisit"):
                waiting = (path, offset, length, rec)
                continue
            self._record(path, offset, length, rec, crawl)
        if waiting is not None:
            self._record(*waiting, crawl)

    def _original(self, digest: str) -> tuple[Path, int] | None:
        """Where the payload an identical-payload revisit refers to was stored in full."""
        if digest in self.originals:
            return self.originals[digest]
        row = self.hist.db.execute("SELECT warc_file, warc_offset FROM captures WHERE payload_digest = ? "
                                   "AND record_type = 'response' AND warc_file IS NOT NULL ORDER BY id LIMIT 1",
                                   [digest]).fetchone()
        if row is None or self.warcs is None or not (self.warcs / row[0]).exists():
            return None
        return self.warcs / row[0], row[1]

    warcs: Path | None = None

    def _warcinfo(self, path: Path, rec) -> _Crawl:  # noqa: ANN001
        info = _fields(rec.stored)
        cid = info.get("govarchive-crawl-id") or path.name
        crawl = self.crawls.get(cid)
        if crawl is None:
            crawl = _Crawl(cid, info.get("govarchive-site") or None, json.loads(info.get("govarchive-extract") or "{}"))
            self.crawls[cid] = crawl
            scope = info.get("govarchive-scope")
            self.hist.begin_crawl(cid, rec.rec_headers.get_header("WARC-Date"), crawl.site,
                                  info.get("start-urls", "").split(), json.loads(scope) if scope else None)
            self.counts["crawls"] += 1
        return crawl

    def _record(self, path: Path, offset: int, length: int, rec, crawl: _Crawl | None,  # noqa: ANN001
                request=None) -> None:  # noqa: ANN001
        h = rec.rec_headers
        rtype = rec.rec_type
        date = h.get_header("WARC-Date")
        crawl_id = crawl.crawl_id if crawl else None
        site = crawl.site if crawl else None
        ref = RecordRef(path.name, offset, length, h.get_header("WARC-Record-ID"), date,
                        h.get_header("WARC-Payload-Digest"))
        uri = h.get_header("WARC-Target-URI")
        if rtype == "metadata":
            meta = json.loads(rec.stored or b"{}")
            if meta.get("govarchive") == "crawl-end" and crawl is not None:
                self.hist.end_crawl(crawl.crawl_id, date, meta.get("reason", "finished"), meta.get("stats"))
                crawl.ended = True
            elif meta.get("govarchive") == "fetch-error":
                self.hist.add(Capture(url=meta.get("page") or uri, fetched_at=date, crawl_id=crawl_id, error=meta.get("error"),
                                      record_type="metadata", warc_file=path.name, warc_offset=offset,
                                      warc_length=length, record_id=ref.record_id, site=site))
                self.counts["captures"] += 1
            return
        if rtype == "response":
            ex = _exchange(rec, rec.stored, request)
            if ex.payload and ref.payload_digest and not h.get_header("WARC-Truncated"):
                self.originals.setdefault(ref.payload_digest, (path, offset))
            cap_type, payload = "response", None
        elif rtype == "revisit":
            ex = _exchange(rec, None, request)
            if h.get_header("WARC-Profile") == SERVER_NOT_MODIFIED or ex.status == 304:
                cap_type, payload = "revisit", None
            else:
                original = self._original(ref.payload_digest or "")
                if original is None:
                    return  # its original is in a WARC we do not have
                cap_type, payload = "revisit", read_payload(*original)
        else:
            return
        if is_robots(uri):
            return
        cap = to_capture(ex, ref, crawl_id, record_type=cap_type, payload=payload, site=site,
                         overrides=crawl.overrides if crawl else None)
        self.hist.add(cap)
        self.counts["captures"] += 1


def rebuild(data: Path, out: Path | None = None) -> dict:
    """Rebuild ``govarchive.db`` from the WARCs (into ``out`` if given); return counts."""
    files = warc_files(data)
    if not files:
        raise EmptyArchive(f"no WARC files in {warc_dir(data)}")
    target = out or data
    db_path = target / DB_NAME
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            os.remove(p)
    db = open_db(target)
    rebuild = Rebuilder(History(db))
    for path in files:
        rebuild.file(path, iter_records(data, [path]))
    db.conn.close()
    return rebuild.counts


def crawl_files(data: Path, crawl_id: str) -> list[Path]:
    """The closed WARC files one crawl wrote (their warcinfo names it), in order."""
    out = []
    for path in warc_files(data):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "warcinfo" and _fields(rec.raw_stream.read()).get("govarchive-crawl-id") == crawl_id:
                    out.append(path)
                break
    return out


def catch_up(data: Path, db, crawl_id: str) -> int:  # noqa: ANN001 - a sqlite_utils Database
    """Feed the history what a crawl wrote to its WARCs but the history never received (the crawl
    or its history writer was killed with captures still in flight); return how many captures."""
    files = crawl_files(data, crawl_id)
    if not files:
        return 0
    known = {r for (r,) in db.execute("SELECT record_id FROM captures WHERE crawl_id = ? AND record_id IS NOT NULL",
                                      [crawl_id])}
    rebuild = Rebuilder(History(db), skip=known)
    rebuild.warcs = warc_dir(data)
    for path in files:
        rebuild.file(path, iter_records(data, [path]))
    return rebuild.counts["captures"]
