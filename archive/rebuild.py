"""Rebuild the history database from the WARC files alone (they are the record of truth).

Each WARC file belongs to one crawl (its warcinfo names it). Files written at the same time (crawls
of several sites, or one crawl's cluster workers and coordinator) interleave, so the records of all
files are merged by WARC-Date: every crawl is opened at its first warcinfo and closed by its
``crawl-end`` record, which its writer puts last. A crawl that never wrote one (killed) stays unfinished, as it is in the live database:
the next crawl of its site resumes it.
"""

from __future__ import annotations

import heapq
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from .capture import is_robots, to_capture
from .db import DB_NAME, open_db, warc_dir
from .errors import EmptyArchive
from .history import BATCH_CAPTURES, Capture, History
from .warc import SERVER_NOT_MODIFIED, Exchange, RecordRef, first_member


@dataclass
class _Crawl:
    crawl_id: str
    site: str | None
    overrides: dict
    ended: bool = False


_NAME = re.compile(r"-(\d{17})-(\d{5})-[^-]+\.warc\.gz$")


def file_order(path: Path) -> tuple[str, str, str]:
    """A WARC file's place in time: the moment its writer opened it (``<prefix>-<ts17>-<serial>-<host>``),
    whatever its prefix (a cluster worker's names its worker)."""
    m = _NAME.search(path.name)
    return (m.group(1), m.group(2), path.name) if m else ("", "", path.name)


def _started(path: Path) -> str:
    """When a file was opened, as a WARC-Date prefix (it sorts before every record of the file)."""
    ts = file_order(path)[0]
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}.{ts[14:17]}" if ts else ""


def warc_files(data: Path) -> list[Path]:
    """Return the closed WARC files of a data directory in the order they were opened."""
    return sorted(warc_dir(data).glob("*.warc.gz"), key=file_order)


def _fields(payload: bytes) -> dict[str, str]:
    out = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def read_payload(path: Path, offset: int) -> bytes:
    """Return the stored (still content-encoded) payload of the record at ``offset`` (of a file
    closed, or still being written)."""
    if not path.exists() and path.with_name(path.name + ".open").exists():
        path = path.with_name(path.name + ".open")
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


@dataclass
class Unit:
    """What the history takes in one step: a record, with the request record written with it."""

    date: str
    path: Path
    offset: int
    length: int
    rec: object
    request: object = None
    end: int = 0  # where the unit's last record ends (the next unit's offset)


def file_units(path: Path, start: int = 0, stop: int | None = None) -> Iterator[Unit]:
    """The units of one file in the order written, from ``start`` (an offset where a unit begins)
    to ``stop`` (where a whole record ends: a file still being written is read no further)."""
    waiting: Unit | None = None  # a response or revisit, until the request record written right after it
    for _, offset, length, rec in _records_from(path, start, stop):
        if rec.rec_type == "request" and waiting is not None and rec.rec_headers.get_header(
                "WARC-Concurrent-To") == waiting.rec.rec_headers.get_header("WARC-Record-ID"):
            waiting.request = rec
            waiting.end = offset + length
            yield waiting
            waiting = None
            continue
        if waiting is not None:
            yield waiting
            waiting = None
        unit = Unit(rec.rec_headers.get_header("WARC-Date") or "", path, offset, length, rec, end=offset + length)
        if rec.rec_type in ("response", "revisit"):
            waiting = unit
        elif rec.rec_type in ("warcinfo", "metadata"):
            yield unit
    if waiting is not None:
        yield waiting


def _records_from(path: Path, start: int, stop: int | None = None) -> Iterator[tuple[Path, int, int, object]]:
    with open(path, "rb") as raw:
        raw.seek(start)
        # warcio counts offsets from where the file was opened (its tell()); a copy counts from 0.
        fh, base = (raw, 0) if stop is None else (io.BytesIO(raw.read(stop - start)), start)
        it = ArchiveIterator(fh)
        for rec in it:
            rec.stored = rec.raw_stream.read() if rec.rec_type in ("response", "metadata", "warcinfo",
                                                                   "request") else b""
            yield path, base + it.get_record_offset(), it.get_record_length(), rec


def merged_units(files: list[Path]) -> Iterator[Unit]:
    """Every unit of ``files`` by WARC-Date: the files of one crawl's several writers (cluster
    workers, the coordinator) interleave in time, and the history must see them as they happened.
    Each file is read in its own order and opened only once the merge reaches the time it was
    opened, so a large archive is never open all at once."""
    return merge_by_date([(_started(f), file_units(f)) for f in sorted(files, key=file_order)])


def merge_by_date(streams: list[tuple[str, Iterator[Unit]]]) -> Iterator[Unit]:
    """Units of several streams (files) by date, each stream's kept in its own order: the earliest of
    the streams' next units goes first (a record can be dated before its file's warcinfo, which must
    still come first). ``streams``: (when it starts, its units), by start; a stream joins the merge
    once the merge reaches its start."""
    heap: list[tuple[str, int, Unit, Iterator[Unit]]] = []
    seq = 0

    def take(units: Iterator[Unit]) -> None:
        nonlocal seq
        unit = next(units, None)
        if unit is not None:
            heapq.heappush(heap, (unit.date, seq, unit, units))
            seq += 1

    i = 0
    while i < len(streams) or heap:
        while i < len(streams) and (not heap or streams[i][0] <= heap[0][0]):
            take(streams[i][1])
            i += 1
        _, _, unit, units = heapq.heappop(heap)
        yield unit
        take(units)


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
        self.file_crawl: dict[str, _Crawl] = {}

    def file(self, path: Path) -> None:
        """Feed one file, in its own order."""
        for unit in file_units(path):
            self.feed(unit)

    def feed(self, unit: Unit) -> None:
        """Feed one unit; a file's warcinfo names the crawl its other units belong to."""
        self.counts["records"] += 1 + (unit.request is not None)
        rec, path = unit.rec, unit.path
        if rec.rec_type == "warcinfo":
            self.file_crawl[path.name] = self._warcinfo(path, rec)
            return
        crawl = self.file_crawl.get(path.name)
        if rec.rec_headers.get_header("WARC-Record-ID") in self.skip:
            if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Payload-Digest"):
                self.originals.setdefault(rec.rec_headers.get_header("WARC-Payload-Digest"), (path, unit.offset))
            return
        self._record(path, unit.offset, unit.length, rec, crawl, request=unit.request)

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
    history = History(db)
    rebuild = Rebuilder(history)
    units = merged_units(files)
    while chunk := list(islice(units, BATCH_CAPTURES)):
        with history.batch():
            for unit in chunk:
                rebuild.feed(unit)
    db.conn.close()
    return rebuild.counts


def warcinfo_crawl(first: bytes) -> str | None:
    """The crawl a WARC file's first record (inflated: ``warc.first_member``) names, if a warcinfo."""
    rec = next(iter(ArchiveIterator(io.BytesIO(first))), None)
    return _fields(rec.raw_stream.read()).get("govarchive-crawl-id") if rec is not None and \
        rec.rec_type == "warcinfo" else None


def crawl_files(data: Path, crawl_id: str) -> list[Path]:
    """The closed WARC files one crawl wrote (their warcinfo names it), in order."""
    return [path for path in warc_files(data) if warcinfo_crawl(first_member(path) or b"") == crawl_id]


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
    for unit in merged_units(files):
        rebuild.feed(unit)
    return rebuild.counts["captures"]
