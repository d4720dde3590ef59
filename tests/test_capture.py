"""Evidence-grade capture: what the server sent is what the WARC holds, and pywb replays it."""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc import SERVER_NOT_MODIFIED

from .conftest import ROOT, cli, replaying
from .rawserver import GBK_NAME, RawServer


def records(data: Path) -> list[tuple]:
    out = []
    for path in sorted((data / "warcs").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for r in ArchiveIterator(fh):
                out.append((r.rec_type, r.rec_headers, r.http_headers, r.raw_stream.read()))
    return out


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    data = tmp_path_factory.mktemp("capture") / "data"
    with RawServer() as server:
        cli("crawl", server.url, data=data)
        cli("crawl", server.url, data=data)
        yield data, server


def _responses(data, path):
    return [r for r in records(data) if r[0] in ("response", "revisit")
            and r[1].get_header("WARC-Target-URI").split("/", 3)[3].startswith(path.lstrip("/"))]


def test_headers_agree_with_payload_everywhere(captured):
    data, _ = captured
    for rtype, h, http, payload in records(data):
        if rtype != "response":
            continue
        assert http.get_header("Transfer-Encoding") is None
        assert int(http.get_header("Content-Length")) == len(payload), h.get_header("WARC-Target-URI")
        assert h.protocol == "WARC/1.1"


def test_gzip_kept_as_sent(captured):
    data, server = captured
    _, _, http, payload = _responses(data, "/gzip.html")[0]
    assert http.get_header("Content-Encoding") == "gzip"
    assert gzip.decompress(payload) == server.sent["/gzip.html"]


def test_chunked_is_dechunked_and_renamed(captured):
    data, server = captured
    _, _, http, payload = _responses(data, "/chunked.html")[0]
    assert http.get_header("X-Orig-Transfer-Encoding") == "chunked"
    assert payload == server.sent["/chunked.html"]


def test_repeated_set_cookie(captured):
    data, _ = captured
    _, _, http, _ = _responses(data, "/cookies.html")[0]
    assert [v for k, v in http.headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2; Path=/"]


def test_gbk_content_disposition_and_query_string(captured):
    data, server = captured
    rtype, h, http, payload = _responses(data, "/download?id=7&x=1")[0]
    assert h.get_header("WARC-Target-URI").endswith("/download?id=7&x=1")
    assert GBK_NAME in http.get_header("Content-Disposition").encode("latin-1")
    assert payload == server.sent["/download"]
    req = [r for r in records(data) if r[0] == "request" and r[1].get_header("WARC-Concurrent-To")
           == h.get_header("WARC-Record-ID")][0]
    assert req[2].statusline.startswith("/download?id=7&x=1")
    assert req[2].get_header("Host") == f"127.0.0.1:{server.port}"


def test_real_reason_phrase(captured):
    data, _ = captured
    _, _, http, _ = _responses(data, "/reason.html")[0]
    assert http.statusline == "200 Very OK"


def test_304_becomes_server_not_modified_revisit(captured):
    data, _ = captured
    recs = _responses(data, "/etag.html")
    assert [r[0] for r in recs] == ["response", "revisit"]
    rev = recs[1][1]
    assert rev.get_header("WARC-Profile") == SERVER_NOT_MODIFIED
    assert rev.get_header("WARC-Refers-To-Target-URI") == recs[0][1].get_header("WARC-Target-URI")
    reqs = [r for r in records(data) if r[0] == "request" and r[1].get_header("WARC-Concurrent-To")
            == rev.get_header("WARC-Record-ID")]
    assert reqs[0][2].get_header("If-None-Match") == '"v1"'


def test_truncated_body_is_marked_and_no_version(captured):
    data, _ = captured
    rtype, h, http, payload = _responses(data, "/truncated.html")[0]
    assert h.get_header("WARC-Truncated") == "disconnect"
    assert int(http.get_header("Content-Length")) == len(payload)
    out = cli("history", f"http://127.0.0.1:{captured[1].port}/truncated.html", "--json", data=data).stdout
    assert '"connection_lost"' in out and '"versions": []' in out


def test_every_record_passes_warcio_check(captured):
    data, _ = captured
    files = [str(p) for p in (data / "warcs").glob("*.warc.gz")]
    proc = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_wacz_export_validates(captured, tmp_path):
    data, _ = captured
    out = tmp_path / "a.wacz"
    cli("export", "wacz", str(out), data=data)
    proc = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "valid" in proc.stdout, proc.stdout + proc.stderr


def test_cdxj_sorted_by_surt(captured):
    data, _ = captured
    path = Path(cli("cdx", data=data).stdout.strip())
    keys = [line.split(" ", 2)[:2] for line in path.read_text().splitlines()]
    assert keys == sorted(keys) and len(keys) > 8


def test_pywb_replays_bytes_as_sent(captured):
    data, server = captured
    with replaying(data) as fetch:
        for path in ("/gzip.html", "/chunked.html", "/gbk.html", "/download?id=7&x=1"):
            assert fetch(server.url.rstrip("/") + path) == server.sent[path.split("?")[0]], path


def test_sigkill_mid_crawl_leaves_valid_files_and_next_run_repairs(tmp_path):
    data = tmp_path / "data"
    with RawServer() as server:
        server.latency = 0.3
        proc = subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", server.url, "--data", str(data),
                                 "--concurrency", "1"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline and len(server.requests) < 4:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert list((data / "warcs").glob("*.open")), "the killed crawl left its open file"
        closed = list((data / "warcs").glob("*.warc.gz"))
        if closed:
            subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, closed)], check=True)
        server.latency = 0
        cli("crawl", server.url, data=data)
    assert not list((data / "warcs").glob("*.open"))
    files = [str(p) for p in (data / "warcs").glob("*.warc.gz")]
    assert len(files) == 2
    subprocess.run([sys.executable, "-m", "warcio.cli", "check", *files], check=True)
    db = sqlite3.connect(data / "govarchive.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_request_record_has_the_headers_the_server_received(captured):
    data, server = captured
    received = {}
    for raw in server.requests:
        head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        received.setdefault(path, []).append(sorted((k.lower(), v.strip()) for k, v in
                                                    (line.split(":", 1) for line in head[1:])))
    checked = 0
    for rtype, _, http, _payload in records(data):
        if rtype != "request":
            continue
        path = http.statusline.split(" ")[0]
        mine = sorted((k.lower(), v) for k, v in http.headers)
        assert mine in received.get(path, []), (path, mine, received.get(path))
        checked += 1
    assert checked > 8


def test_brotli_bomb_stops_at_the_limit_without_inflating_it_whole():
    import tracemalloc

    from archive.capture import DecodeError, _google_brotli, decode_content

    c = _google_brotli().Compressor()
    bomb = c.process(b"\0" * (256 * 2**20)) + c.finish()  # 256 MB in a few hundred bytes
    tracemalloc.start()
    with pytest.raises(DecodeError, match="bomb"):
        decode_content(bomb, "br", limit=2**20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 2**20, peak
    c = _google_brotli().Compressor()
    assert decode_content(c.process("正文".encode() * 1000) + c.finish(), "br") == "正文".encode() * 1000
