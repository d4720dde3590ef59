"""From an HTTP exchange (live, or read back from a WARC) to a Capture: one fetch as the history
sees it. No database here: the crawler reads captures too."""

from __future__ import annotations

import base64
import functools
import hashlib
import zlib
from dataclasses import dataclass, field

from .warc import Exchange, RecordRef

MAX_DECODED = 64 * 1024 * 1024  # decoded size limit: a gzip bomb stops here


@dataclass
class Capture:
    """One fetch as the history sees it (from a live crawl or read back from a WARC)."""

    url: str
    fetched_at: str
    crawl_id: str | None = None
    status: int | None = None
    error: str | None = None
    content_type: str | None = None
    payload: bytes | None = None  # decoded (no Content-Encoding); None for 304s and failures
    record_type: str = "response"
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    record_id: str | None = None
    payload_digest: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None
    site: str | None = None
    overrides: dict = field(default_factory=dict)


class DecodeError(ValueError):
    """A payload could not be content-decoded (corrupt, or larger than allowed once decoded)."""


def payload_digest(payload: bytes) -> str:
    """Return the WARC payload digest: sha1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii")


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    """Return the last value of a header (case-insensitive)."""
    name = name.lower()
    value = None
    for k, v in headers:
        if k.lower() == name:
            value = v
    return value


def decode_content(payload: bytes, encoding: str | None, limit: int = MAX_DECODED) -> bytes:
    """Undo Content-Encoding (gzip, deflate, br), refusing to inflate past ``limit`` bytes."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    data = payload
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip", "deflate"):
            data = _inflate(data, coding, limit)
        elif coding == "br":
            data = _unbrotli(data, limit)
        elif coding != "identity":
            raise DecodeError(f"unknown content encoding {coding!r}")
    return data


@functools.cache
def _google_brotli():  # noqa: ANN202 - a module
    """Google's ``_brotli`` extension (Scrapy's dependency), found on the path by name.

    brotlipy, which pywb and warcio pull in, registers its own cffi module as ``_brotli`` in
    ``sys.modules``; a plain import would get that one, which has no bounded decompression.
    """
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.PathFinder.find_spec("_brotli")
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unbrotli(data: bytes, limit: int) -> bytes:
    """Undo brotli, stopping as soon as the output passes ``limit`` (never inflated whole first)."""
    module = _google_brotli()
    if module is None or not hasattr(module.Decompressor, "process"):
        raise DecodeError("brotli payload but Google's brotli (>= 1.2) is not installed")
    d = module.Decompressor()
    out = bytearray()
    try:
        out += d.process(data, output_buffer_limit=limit + 1)
        while len(out) <= limit and not d.is_finished() and not d.can_accept_more_data():
            out += d.process(b"", output_buffer_limit=limit + 1 - len(out))
    except Exception as exc:  # noqa: BLE001 - _brotli.error is not importable by name everywhere
        raise DecodeError(f"corrupt br payload: {exc}") from exc
    if len(out) > limit:
        raise DecodeError(f"decompression bomb: more than {limit} bytes once decoded")
    return bytes(out)


def _inflate(data: bytes, coding: str, limit: int) -> bytes:
    """Inflate gzip (every member: concatenated members are legal) or deflate (zlib or raw)."""
    for bits in ((31,) if coding != "deflate" else (15, -15)):
        out, rest = bytearray(), data
        try:
            while rest:
                d = zlib.decompressobj(bits)
                out += d.decompress(rest, limit + 1 - len(out))
                if len(out) > limit or d.unconsumed_tail:
                    raise DecodeError(f"decompression bomb: more than {limit} bytes once decoded")
                if not d.eof:
                    break  # a truncated stream: keep what inflated
                rest = d.unused_data
        except zlib.error:
            continue
        return bytes(out)
    raise DecodeError(f"corrupt {coding} payload")


def request_key(url: str, method: str = "GET", body: bytes | None = b"") -> str:
    """The page a request asks for: its URL, or for a POST its URL with the form body as a query —
    pywb's own key for POSTs (``__wb_method=post&…``), so two columns fetched from one endpoint
    (Hanweb's dataproxy.jsp) are two pages."""
    if (method or "GET").upper() != "POST":
        return url
    text = (body or b"").decode("utf-8", "replace")
    return f"{url}{'&' if '?' in url else '?'}__wb_method=post" + (f"&{text}" if text else "")


def split_key(key: str) -> tuple[str, str, bytes]:
    """(url, method, body) of a request key: the inverse of ``request_key``."""
    marker = "__wb_method=post"
    i = key.find(marker)
    if i < 1 or key[i - 1] not in "?&":
        return key, "GET", b""
    body = key[i + len(marker) + 1:]
    return key[:i - 1], "POST", body.encode("utf-8")


def to_capture(ex: Exchange, ref: RecordRef | None, crawl_id: str | None, *, record_type: str = "response",
               payload: bytes | None = None, site: str | None = None, overrides: dict | None = None) -> Capture:
    """Build the Capture the history records for one exchange."""
    headers = ex.response_headers
    error = None
    body = None
    source = payload if payload is not None else (ex.payload if record_type == "response" else None)
    if ex.truncated:  # archived as it came, but never mistaken for the document
        error = "too_large" if ex.truncated == "length" else "connection_lost"
    elif source is not None and ex.status != 304:
        try:
            body = decode_content(source, header(headers, "Content-Encoding"))
        except DecodeError as exc:
            error = "decompression_bomb" if "bomb" in str(exc) else "decode_error"
    return Capture(
        url=request_key(ex.url, ex.method, ex.request_body), fetched_at=(ref.date if ref else ex.date) or "", crawl_id=crawl_id, status=ex.status,
        error=error, content_type=header(headers, "Content-Type"), payload=body,
        record_type=record_type, warc_file=ref.filename if ref else None,
        warc_offset=ref.offset if ref else None, warc_length=ref.length if ref else None,
        record_id=ref.record_id if ref else None,
        payload_digest=(ref.payload_digest if ref and ref.payload_digest else
                        payload_digest(ex.payload) if record_type == "response" else None),
        etag=header(headers, "ETag"), last_modified=header(headers, "Last-Modified"),
        location=_location(ex), site=site, overrides=overrides or {})


def _location(ex: Exchange) -> str | None:
    from urllib.parse import urljoin

    loc = header(ex.response_headers, "Location")
    return urljoin(ex.url, loc) if loc else None


def is_robots(url: str) -> bool:
    """True for robots.txt: archived, but not a page of the history."""
    return url.split("?", 1)[0].endswith("/robots.txt")
