"""Rebuild the history database from the WARC files alone (they are the record of truth)."""

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


def iter_records(data: Path) -> Iterator[tuple[Path, int, object]]:
    """Yield (file, offset, record) for every record of every WARC file."""
    for path in warc_files(data):
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                rec.stored = rec.raw_stream.read() if rec.rec_type in ("response", "metadata", "warcinfo") else b""
                yield path, it.get_record_offset(), rec


def _exchange(rec, payload: bytes | None) -> Exchange:  # noqa: ANN001 - warcio record
    http = rec.http_headers
    status = int(http.get_statuscode()) if http else 0
    return Exchange(url=rec.rec_headers.get_header("WARC-Target-URI"), status=status,
                    response_headers=list(http.headers) if http else [], payload=payload or b"",
                    date=rec.rec_headers.get_header("WARC-Date"),
                    truncated=rec.rec_headers.get_header("WARC-Truncated"))


def reindex(data: Path, out: Path | None = None) -> dict:
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
    hist = History(db)
    crawl: _Crawl | None = None
    originals: dict[str, tuple[Path, int]] = {}
    counts = {"records": 0, "captures": 0, "crawls": 0}
    for path, offset, rec in iter_records(data):
        counts["records"] += 1
        h = rec.rec_headers
        rtype = rec.rec_type
        date = h.get_header("WARC-Date")
        if rtype == "warcinfo":
            info = _fields(rec.stored)
            cid = info.get("govarchive-crawl-id") or path.name
            if crawl is None or crawl.crawl_id != cid:
                if crawl is not None and not crawl.ended:
                    hist.end_crawl(crawl.crawl_id, date, "interrupted")
                crawl = _Crawl(cid, info.get("govarchive-site") or None,
                               json.loads(info.get("govarchive-extract") or "{}"))
                hist.begin_crawl(cid, date, crawl.site, info.get("start-urls", "").split())
                counts["crawls"] += 1
            continue
        crawl_id = crawl.crawl_id if crawl else None
        site = crawl.site if crawl else None
        ref = RecordRef(path.name, offset, 0, h.get_header("WARC-Record-ID"), date,
                        h.get_header("WARC-Payload-Digest"))
        uri = h.get_header("WARC-Target-URI")
        if rtype == "metadata":
            meta = json.loads(rec.stored or b"{}")
            if meta.get("govarchive") == "crawl-end" and crawl is not None:
                hist.end_crawl(crawl.crawl_id, date, meta.get("reason", "finished"))
                crawl.ended = True
            elif meta.get("govarchive") == "fetch-error":
                hist.add(Capture(url=uri, fetched_at=date, crawl_id=crawl_id, error=meta.get("error"),
                                 record_type="metadata", warc_file=path.name, warc_offset=offset,
                                 record_id=ref.record_id, site=site))
                counts["captures"] += 1
            continue
        if rtype == "response":
            ex = _exchange(rec, rec.stored)
            if ex.payload and ref.payload_digest and not h.get_header("WARC-Truncated"):
                originals.setdefault(ref.payload_digest, (path, offset))
            cap_type, payload = "response", None
        elif rtype == "revisit":
            ex = _exchange(rec, None)
            if h.get_header("WARC-Profile") == SERVER_NOT_MODIFIED or ex.status == 304:
                cap_type, payload = "revisit", None
            else:
                original = originals.get(ref.payload_digest or "")
                if original is None:
                    continue  # its original is in a WARC we do not have
                cap_type, payload = "revisit", read_payload(*original)
        else:
            continue
        if is_robots(uri):
            continue
        cap = to_capture(ex, ref, crawl_id, record_type=cap_type, payload=payload, site=site,
                         overrides=crawl.overrides if crawl else None)
        hist.add(cap)
        counts["captures"] += 1
    if crawl is not None and not crawl.ended:
        hist.end_crawl(crawl.crawl_id, crawl and date, "interrupted")
    db.conn.close()
    return counts
