"""WARC writing: golden bytes, headers that agree with payloads, rotation, crash repair."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.warc import (
    IDENTICAL_PAYLOAD,
    Exchange,
    WarcWriter,
    fixed_response_headers,
    last_complete_offset,
    repair_open_files,
)

GOLDEN = Path(__file__).parent / "data" / "golden_response.warc"
GBK_DISPOSITION = 'attachment; filename="' + "附件一.pdf".encode("gbk").decode("latin-1") + '"'


def _exchange(payload: bytes = b"hello", **kw) -> Exchange:
    base = dict(url="http://127.0.0.1:8000/a/t1.html?x=1&y=2", status=200,
                response_headers=[("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                                  ("Transfer-Encoding", "chunked"), ("Content-Disposition", GBK_DISPOSITION)],
                payload=payload, request_headers=[("User-Agent", "govarchive-test"), ("Accept-Encoding", "gzip")],
                ip_address="127.0.0.1", date="2024-03-04T01:02:03.000000Z")
    base.update(kw)
    return Exchange(**base)


def _records(path: Path):
    with open(path, "rb") as fh:
        return [(r.rec_type, r.rec_headers, r.http_headers, r.raw_stream.read()) for r in ArchiveIterator(fh)]


def _members(path: Path) -> list[bytes]:
    data, out = path.read_bytes(), []
    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def test_golden_response_record(tmp_path):
    w = WarcWriter(tmp_path, info={"operator": "test"}, host="testhost")
    w.write_exchange(_exchange(), extra={"WARC-Record-ID": "<urn:uuid:00000000-0000-0000-0000-000000000001>"},
                     request_id="<urn:uuid:00000000-0000-0000-0000-000000000002>")
    w.close()
    (path,) = tmp_path.glob("*.warc.gz")
    members = _members(path)
    assert len(members) == 3  # warcinfo, response, request: one gzip member each
    body = b"".join(m.replace(w.warcinfo_id.encode(), b"<urn:uuid:WARCINFO>") for m in members[1:])
    assert body == GOLDEN.read_bytes()


def test_headers_agree_with_payload(tmp_path):
    w = WarcWriter(tmp_path, host="h")
    w.write_exchange(_exchange(b"x" * 1000))
    w.close()
    recs = _records(next(tmp_path.glob("*.warc.gz")))
    assert [r[0] for r in recs] == ["warcinfo", "response", "request"]
    _, rh, http, payload = recs[1]
    assert http.get_header("Content-Length") == "1000" and len(payload) == 1000
    assert http.get_header("X-Orig-Transfer-Encoding") == "chunked"
    assert http.get_header("Transfer-Encoding") is None
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert rh.get_header("WARC-IP-Address") == "127.0.0.1"
    assert rh.protocol == "WARC/1.1"
    _, qh, qhttp, _ = recs[2]
    assert qh.get_header("WARC-Concurrent-To") == rh.get_header("WARC-Record-ID")
    assert qhttp.protocol == "GET" and qhttp.statusline.startswith("/a/t1.html?x=1&y=2")
    assert qhttp.get_header("Host") == "127.0.0.1:8000"


def test_gbk_header_bytes_kept(tmp_path):
    w = WarcWriter(tmp_path, host="h")
    w.write_exchange(_exchange())
    w.close()
    raw = b"".join(_members(next(tmp_path.glob("*.warc.gz"))))
    assert "附件一.pdf".encode("gbk") in raw


def test_revisit_and_gzip_payload(tmp_path):
    payload = gzip.compress(b"<html>same</html>", mtime=0)
    w = WarcWriter(tmp_path, host="h")
    ref = w.write_exchange(_exchange(payload, response_headers=[("Content-Encoding", "gzip")]))
    w.write_revisit(_exchange(b""), IDENTICAL_PAYLOAD, ref.payload_digest, "http://127.0.0.1:8000/a/t1.html?x=1&y=2",
                    ref.date)
    w.close()
    recs = _records(next(tmp_path.glob("*.warc.gz")))
    assert recs[1][3] == payload  # stored as sent, still gzip
    rev = recs[3]
    assert rev[0] == "revisit"
    assert rev[1].get_header("WARC-Profile") == IDENTICAL_PAYLOAD
    assert rev[1].get_header("WARC-Refers-To-Date") == ref.date


def test_rotation_and_names(tmp_path):
    w = WarcWriter(tmp_path, prefix="t", max_size=2000, host="h")
    for _ in range(5):
        w.write_exchange(_exchange(bytes(range(256)) * 8))
    assert len(list(tmp_path.glob("*.warc.gz.open"))) == 1
    w.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3 and not list(tmp_path.glob("*.open"))
    for f in files:
        prefix, ts, serial, host = f.name[: -len(".warc.gz")].split("-")
        assert (prefix, len(ts), len(serial), host) == ("t", 17, 5, "h")
        assert _records(f)[0][0] == "warcinfo"


def test_repair_truncates_to_last_complete_record(tmp_path):
    w = WarcWriter(tmp_path, host="h")
    w.write_exchange(_exchange())
    path = next(tmp_path.glob("*.open"))
    good = path.stat().st_size
    w._fh.write(gzip.compress(b"WARC/1.1\r\nContent-Length: 100\r\n\r\npartial")[:30])
    w._fh.flush()
    assert last_complete_offset(path) == good
    assert repair_open_files(tmp_path) == []  # its writer is alive: not ours to repair
    w._fh.close()  # the writer dies (its lock goes with its open file)
    repaired = repair_open_files(tmp_path)
    assert repaired and repaired[0][1] > 0
    final = next(tmp_path.glob("*.warc.gz"))
    assert final.stat().st_size == good
    assert [r[0] for r in _records(final)] == ["warcinfo", "response", "request"]


def test_fixed_response_headers_adds_length():
    assert fixed_response_headers([("A", "1")], 5) == [("A", "1"), ("Content-Length", "5")]


def test_a_live_writers_file_is_never_repaired_by_another_process(tmp_path):
    """Two crawls share a data directory: the second's start must leave the first's file alone."""
    import subprocess
    import sys

    w = WarcWriter(tmp_path, host="h")
    w.write_exchange(_exchange())
    code = "import sys; from archive.warc import repair_open_files; print(repair_open_files(sys.argv[1]))"
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    w.write_exchange(_exchange())
    w.close()
    final = next(tmp_path.glob("*.warc.gz"))
    assert [r[0] for r in _records(final)] == ["warcinfo", "response", "request", "response", "request"]


def test_repair_is_one_linear_pass_over_members(tmp_path, monkeypatch):
    """Many records: the scan inflates each byte about once (it used to re-feed the rest of the
    file to the inflater for every record: quadratic, hours at the default 1 GB rotation)."""
    import zlib

    import archive.warc as warc

    w = WarcWriter(tmp_path, host="h")
    for i in range(3000):
        w.write_exchange(_exchange(f"<p>{i}</p>".encode() * 20))
    size = w._fh.tell()
    fed = [0]
    real = zlib.decompressobj

    class Counting:
        def __init__(self, wbits):
            self.d = real(wbits)

        def decompress(self, data, *args):
            fed[0] += len(data)
            return self.d.decompress(data, *args)

        def __getattr__(self, name):
            return getattr(self.d, name)

    monkeypatch.setattr(warc.zlib, "decompressobj", Counting)
    assert last_complete_offset(next(tmp_path.glob("*.open"))) == size
    assert size <= fed[0] < 10 * size, (fed[0], size)


def test_a_file_is_read_from_any_unit_whether_closed_or_still_written(tmp_path):
    """The coordinator follows workers' files from where it stopped reading: offsets from a cursor
    must be the file's own, for a file being written (read to its last whole record) and a closed
    one. (Offsets read from a cursor were once doubled: a revisit's original was then not found.)"""
    from archive.rebuild import file_units

    w = WarcWriter(tmp_path, prefix="t", info={"govarchive-crawl-id": "c1"})
    for i in range(4):
        w.write_exchange(_exchange(payload=f"page {i}".encode() * 50, url=f"http://127.0.0.1:8000/p{i}.html"))
    path = tmp_path / (w._name + ".open")
    whole = [(u.offset, u.end, u.rec.rec_type) for u in file_units(path)]
    assert [t for _, _, t in whole] == ["warcinfo"] + ["response"] * 4
    cursor = whole[2][0]
    open_read = [(u.offset, u.end) for u in file_units(path, cursor, last_complete_offset(path, cursor))]
    with open(path, "ab") as fh:  # a record being written: half a gzip member
        fh.write(gzip.compress(b"WARC/1.1\r\n" + b"x" * 2000)[:100])
    assert last_complete_offset(path, cursor) == whole[-1][1]
    assert [(u.offset, u.end) for u in file_units(path, cursor, last_complete_offset(path, cursor))] == open_read
    w.close()
    closed = tmp_path / w.files[-1]
    assert open_read == [(o, e) for o, e, _ in whole[2:]]
    assert [(u.offset, u.end) for u in file_units(closed, cursor)][:3] == open_read
    for u in file_units(closed, cursor):
        assert u.rec.rec_headers.get_header("WARC-Target-URI").startswith("http://127.0.0.1:8000/p")
