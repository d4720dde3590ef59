"""Write WARC/1.1 files: one gzip member per record, rotation, .open files, crash repair."""

from __future__ import annotations

import fcntl
import io
import json
import os
import socket
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import responses as REASONS
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from . import __version__

OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 1_000_000_000
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


class RawHeaders(StatusAndHeaders):
    """HTTP headers written back byte for byte (warcio would %-encode non-ASCII values)."""

    def __init__(self, statusline: str, headers: list[tuple[str, str]], protocol: str,
                 is_http_request: bool = False) -> None:
        super().__init__(statusline, headers, protocol=protocol, is_http_request=is_http_request)
        lines = [f"{protocol} {statusline}" if not is_http_request else f"{statusline} {protocol}"]
        lines += [f"{k}: {v}" for k, v in headers]
        self._raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def compute_headers_buffer(self, header_filter=None) -> None:  # noqa: ANN001 - warcio API
        self.headers_buff = self._raw


@dataclass
class Exchange:
    """One HTTP exchange as it went over the wire (bodies still content-encoded)."""

    url: str
    status: int
    response_headers: list[tuple[str, str]]  # latin-1 decoded, every value of repeated headers
    payload: bytes
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    ip_address: str | None = None
    protocol: str = "HTTP/1.1"
    reason: str | None = None
    truncated: str | None = None  # 'length' or 'disconnect' when the payload was cut
    date: str | None = None  # WARC-Date; now when None


@dataclass
class RecordRef:
    """Where a record landed: enough to read it back with warcio."""

    filename: str
    offset: int
    length: int
    record_id: str
    date: str
    payload_digest: str | None = None


def warc_date(dt: datetime | None = None) -> str:
    """Return a WARC-Date (UTC, microseconds) for ``dt`` or now."""
    dt = dt or datetime.now(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fixed_response_headers(headers: list[tuple[str, str]], payload_len: int) -> list[tuple[str, str]]:
    """Make headers agree with a de-chunked stored payload (Transfer-Encoding renamed, length set)."""
    out, had_length = [], False
    for k, v in headers:
        low = k.lower()
        if low == "transfer-encoding":
            out.append(("X-Orig-Transfer-Encoding", v))
        elif low == "content-length":
            if not had_length:
                out.append((k, str(payload_len)))
                had_length = True
        else:
            out.append((k, v))
    if not had_length:
        out.append(("Content-Length", str(payload_len)))
    return out


class WarcWriter:
    """Append records to rotating ``<prefix>-<ts17>-<serial>-<host>.warc.gz`` files in a directory."""

    def __init__(self, directory: str | Path, prefix: str = "govarchive", max_size: int = DEFAULT_MAX_SIZE,
                 info: dict | None = None, host: str | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.info = info or {}
        self.host = (host or socket.gethostname()).replace("-", "_")
        self.serial = 0
        self._fh: io.BufferedWriter | None = None
        self._name: str | None = None
        self._writer: WARCWriter | None = None
        self.warcinfo_id: str | None = None
        self.files: list[str] = []
        self.bytes_written = 0
        self._lock = threading.RLock()

    # -- files -------------------------------------------------------------
    def open(self) -> RecordRef:
        """Start the first file now (its warcinfo record); return where that record landed."""
        with self._lock:
            if self._fh is None:
                self._open()
            return self._info_ref

    def _open(self) -> None:
        while True:  # a name no other writer (another crawl, another process) has taken
            ts = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
            self._name = f"{self.prefix}-{ts}-{self.serial:05d}-{self.host}.warc.gz"
            self.serial += 1
            if (self.directory / self._name).exists():
                continue
            try:
                self._fh = _create_locked(self.directory / (self._name + OPEN_SUFFIX))
                break
            except FileExistsError:
                continue
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = {"software": f"govarchive/{__version__} (warcio, Scrapy)", "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "hostname": socket.gethostname(), **self.info}
        payload = "".join(f"{k}: {_info_value(v)}\r\n" for k, v in info.items() if v not in (None, ""))
        record = self._writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(payload.encode("utf-8")), length=len(payload.encode("utf-8")),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Filename": self._name})
        self.warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._info_ref = self._write(record)
        self.files.append(self._name)

    def _write(self, record) -> RecordRef:  # noqa: ANN001 - a warcio ArcWarcRecord
        assert self._fh is not None and self._writer is not None and self._name is not None
        offset = self._fh.tell()
        self._writer.write_record(record)
        self._fh.flush()
        end = self._fh.tell()
        self.bytes_written += end - offset
        h = record.rec_headers
        return RecordRef(self._name, offset, end - offset, h.get_header("WARC-Record-ID"),
                         h.get_header("WARC-Date"), h.get_header("WARC-Payload-Digest"))

    def _ensure_open(self) -> None:
        if self._fh is not None and self._fh.tell() >= self.max_size:
            self.close()
        if self._fh is None:
            self._open()

    @property
    def is_open(self) -> bool:
        """A file is being written (the next record goes to it, not to a new one)."""
        return self._fh is not None

    def close(self) -> None:
        """Close the current file and give it its final name."""
        with self._lock:
            if self._fh is None:
                return
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
            from .chain import add

            add(self.directory, self._name)  # closed: from now on any change to it shows (archive/chain.py)
            self._fh = self._writer = self._name = None

    # -- records -----------------------------------------------------------
    def _headers(self, extra: dict[str, str] | None, ex: Exchange | None = None) -> dict[str, str]:
        h = {"WARC-Date": (ex.date if ex and ex.date else None) or warc_date()}
        if self.warcinfo_id:
            h["WARC-Warcinfo-ID"] = self.warcinfo_id
        if ex is not None:
            if ex.ip_address:
                h["WARC-IP-Address"] = ex.ip_address
            if ex.truncated:
                h["WARC-Truncated"] = ex.truncated
            h["WARC-Protocol"] = ex.protocol.lower()
        h.update(extra or {})
        return h

    def _request_record(self, ex: Exchange, concurrent_to: str, date: str,
                        record_id: str | None = None):  # noqa: ANN202
        from urllib.parse import urlsplit

        parts = urlsplit(ex.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(ex.request_headers)
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        if ex.request_body and not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(ex.request_body))))
        http = RawHeaders(f"{ex.method} {target}", headers, ex.protocol, is_http_request=True)
        w = {"WARC-Date": date, "WARC-Concurrent-To": concurrent_to}
        if record_id:
            w["WARC-Record-ID"] = record_id
        if self.warcinfo_id:
            w["WARC-Warcinfo-ID"] = self.warcinfo_id
        return self._writer.create_warc_record(ex.url, "request", payload=io.BytesIO(ex.request_body),
                                               length=len(ex.request_body), http_headers=http,
                                               warc_headers_dict=w)

    def write_exchange(self, ex: Exchange, extra: dict[str, str] | None = None,
                       request_id: str | None = None) -> RecordRef:
        """Write a ``response`` record and its ``request`` (WARC-Concurrent-To)."""
        with self._lock:
            self._ensure_open()
            reason = ex.reason or REASONS.get(ex.status, "")
            http = RawHeaders(f"{ex.status} {reason}".strip(),
                              fixed_response_headers(ex.response_headers, len(ex.payload)), ex.protocol)
            record = self._writer.create_warc_record(ex.url, "response", payload=io.BytesIO(ex.payload),
                                                     length=len(ex.payload), http_headers=http,
                                                     warc_headers_dict=self._headers(extra, ex))
            ref = self._write(record)
            self._write(self._request_record(ex, ref.record_id, ref.date, request_id))
            return ref

    def write_revisit(self, ex: Exchange, profile: str, digest: str | None, refers_to_uri: str | None,
                      refers_to_date: str | None, extra: dict[str, str] | None = None) -> RecordRef:
        """Write a ``revisit`` record (headers only) and its request."""
        with self._lock:
            self._ensure_open()
            reason = ex.reason or REASONS.get(ex.status, "")
            headers = [(k, v) for k, v in ex.response_headers if k.lower() != "transfer-encoding"]
            http = RawHeaders(f"{ex.status} {reason}".strip(), headers, ex.protocol)
            w = self._headers(extra, ex)
            w["WARC-Profile"] = profile
            if refers_to_uri:
                w["WARC-Refers-To-Target-URI"] = refers_to_uri
            if refers_to_date:
                w["WARC-Refers-To-Date"] = refers_to_date
            if digest:
                w["WARC-Payload-Digest"] = digest
            record = self._writer.create_warc_record(ex.url, "revisit", http_headers=http, warc_headers_dict=w)
            ref = self._write(record)
            self._write(self._request_record(ex, ref.record_id, ref.date))
            return ref

    def write_metadata(self, url: str, data: dict, refers_to: str | None = None,
                       extra: dict[str, str] | None = None) -> RecordRef:
        """Write a ``metadata`` record (JSON) — fetch failures, crawl events."""
        with self._lock:
            self._ensure_open()
            blob = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
            w = self._headers(extra)
            if refers_to:
                w["WARC-Refers-To"] = refers_to
            record = self._writer.create_warc_record(url, "metadata", payload=io.BytesIO(blob), length=len(blob),
                                                     warc_content_type="application/json", warc_headers_dict=w)
            return self._write(record)


def _info_value(v: object) -> str:
    if isinstance(v, list | tuple):
        return " ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


CREATING = ".creating"


def _create_locked(path: Path) -> io.BufferedWriter:
    """Create ``path`` already holding an exclusive lock, so no other crawl can take it for a
    dead writer's file: made under a name no repair looks at, locked, then renamed into place.
    The lock lives as long as the file is open in this process (flock follows the open file)."""
    tmp = path.with_name("." + path.name + CREATING)
    fh = open(tmp, "xb")
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    try:
        os.link(tmp, path)  # never replaces: two writers can never share a name
    finally:
        os.unlink(tmp)
    return fh


def repair_open_files(directory: str | Path, prefix: str = "") -> list[tuple[str, int]]:
    """Repair the ``<prefix>*.warc.gz.open`` files whose writer is gone: truncate each to its last
    complete record and rename it; return what was cut. A file another live crawl is writing is left
    alone (it holds the file's lock)."""
    repaired = []
    directory = Path(directory)
    if not directory.exists():
        return []
    for path in sorted(directory.glob(prefix + "*.warc.gz" + OPEN_SUFFIX)):
        try:
            fh = open(path, "r+b")
        except FileNotFoundError:  # its writer closed it meanwhile
            continue
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            if not path.exists():
                continue  # closed and renamed between our open and our lock
            good = last_complete_offset(fh)
            size = os.fstat(fh.fileno()).st_size
            fh.truncate(good)
            final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
            if good == 0:
                path.unlink()
            else:
                os.replace(path, final)
                from .chain import add

                add(directory, final.name, note=f"repaired: {size - good} bytes of an unfinished record cut")
        repaired.append((final.name, size - good))
    for stale in directory.glob("." + "*" + CREATING):  # a writer killed between create and rename
        with open(stale, "rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            stale.unlink(missing_ok=True)
    return repaired


_CHUNK = 1 << 20


def first_member(path: Path, limit: int = 1 << 20) -> bytes | None:
    """The first record of a WARC file, inflated — None while its gzip member is not whole (the file
    just created, its writer mid-write) or longer than ``limit``."""
    d = zlib.decompressobj(31)
    out = []
    with open(path, "rb") as fh:
        while not d.eof:
            chunk = fh.read(64 * 1024)
            if not chunk:
                return None
            out.append(d.decompress(chunk, limit))
            if sum(map(len, out)) >= limit:
                return None
    return b"".join(out)


def last_complete_offset(source: str | Path | io.BufferedIOBase, start: int = 0) -> int:
    """Return the end offset of the last whole gzip member holding a whole WARC record (from
    ``start``, where a member begins: a file being written is followed from where it was read to).

    One pass over the file in fixed-size chunks: each member is inflated as it streams by, and
    only its first few kilobytes (the WARC head) are kept to check the record's length.
    """
    fh = open(source, "rb") if isinstance(source, str | Path) else source
    try:
        fh.seek(start)
        return start + _scan_members(fh)
    finally:
        if fh is not source:
            fh.close()


# Input is fed to the inflater a little at a time, then more while a member goes on: what the
# inflater hands back unused past a member's end (a copy) stays about as small as the member.
_FIRST_STEP, _MAX_STEP = 1024, 256 * 1024


def _scan_members(fh) -> int:  # noqa: ANN001 - a binary file
    pos = good = 0  # offset of the current member's start; end of the last good one
    view, off = memoryview(b""), 0
    while True:
        d = zlib.decompressobj(31)
        head, inflated, consumed, step = b"", 0, 0, _FIRST_STEP
        while not d.eof:
            if off >= len(view):
                view, off = memoryview(fh.read(_CHUNK)), 0
                if not view:
                    return good  # the file ends inside a member (or exactly at a member's end)
            piece = view[off:off + step]
            step = min(2 * step, _MAX_STEP)
            try:
                out = d.decompress(piece)
            except zlib.error:
                return good
            used = len(piece) - len(d.unused_data)
            off += used
            consumed += used
            inflated += len(out)
            if len(head) < 65536:
                head += out[:65536 - len(head)]
        if not _whole_record(head, inflated):
            return good
        pos += consumed
        good = pos


def _whole_record(head: bytes, total: int) -> bool:
    """True when a member's inflated bytes (``total`` of them, ``head`` the first) are one whole record."""
    warc_head, sep, _ = head.partition(b"\r\n\r\n")
    if not sep or not warc_head.startswith(b"WARC/"):
        return False
    for line in warc_head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return total - len(warc_head) - len(sep) == int(line.split(b":", 1)[1]) + 4
    return False
