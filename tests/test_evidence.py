"""Tamper evidence: the WARC chain, RFC 3161 stamps from a local TSA (OpenSSL's `ts`), signed WACZ,
and `govarchive verify` against forgers of increasing care."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import chain
from archive.demosite import DemoSite

from .conftest import cli
from .tsa import LocalTSA


@pytest.fixture(scope="module")
def tsa():
    t = LocalTSA()
    yield t
    t.stop()


@pytest.fixture(scope="module")
def stamped(tmp_path_factory, tsa):
    """The demo site crawled twice, the chain stamped after each crawl."""
    data = tmp_path_factory.mktemp("evidence") / "data"
    with DemoSite(edition=1) as site:
        out = cli("crawl", site.url, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca), data=data)
        assert "head stamped by" in out.stderr
        site.set_edition(2)
        cli("crawl", site.url, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca), data=data)
    return data


def copy(data: Path, tmp: Path) -> Path:
    out = tmp / "copy"
    shutil.copytree(data, out)
    return out


def verify(*args: str, data: Path | None = None):  # noqa: ANN201
    return cli("verify", *args, data=data, check=False)


def failures(proc) -> list[str]:  # noqa: ANN001
    return [line for line in proc.stderr.splitlines() if line.strip()]


def test_a_clean_archive_verifies_with_its_stamps(stamped, tsa):
    proc = verify("--tsa-ca", str(tsa.ca), data=stamped)
    assert proc.returncode == 0, proc.stderr
    assert "timestamp tokens" in proc.stdout and "chained files" in proc.stdout
    entries = chain.entries(stamped / "warcs")
    assert {e["file"] for e in entries} == {p.name for p in (stamped / "warcs").glob("*.warc.gz")}
    assert len(chain.stamps(stamped / "warcs")) == 2 and tsa.requests >= 2


def test_a_flipped_byte_fails_naming_its_file(stamped, tmp_path, tsa):
    data = copy(stamped, tmp_path)
    victim = sorted((data / "warcs").glob("*.warc.gz"))[0]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    victim.write_bytes(bytes(raw))
    proc = verify("--tsa-ca", str(tsa.ca), data=data)
    assert proc.returncode == 1
    assert any(victim.name in line and "SHA-256" in line for line in failures(proc)), proc.stderr


def forge(path: Path, old: bytes, new: bytes) -> None:
    """Rewrite a WARC as a careful forger would: one payload changed, its Content-Length and every
    WARC digest recomputed, record ids and dates kept."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    changed = False
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            body = rec.content_stream().read() if rec.rec_type == "response" else rec.raw_stream.read()
            headers = [(k, v) for k, v in rec.rec_headers.headers
                       if k not in ("WARC-Block-Digest", "WARC-Payload-Digest", "Content-Length")]
            http = rec.http_headers
            if rec.rec_type == "response" and old in body and not changed:
                body = body.replace(old, new, 1)
                changed = True
            if rec.rec_type == "response" and http is not None:
                enc = http.get_header("Content-Encoding")
                if enc:  # keep it simple for the forger: store it decoded
                    http.remove_header("Content-Encoding")
                http.replace_header("Content-Length", str(len(body)))
                record = writer.create_warc_record(
                    rec.rec_headers.get_header("WARC-Target-URI"), "response", payload=io.BytesIO(body),
                    length=len(body), http_headers=StatusAndHeaders(http.statusline, http.headers, http.protocol),
                    warc_headers=StatusAndHeaders("WARC/1.1", headers))
            else:
                record = writer.create_warc_record(
                    rec.rec_headers.get_header("WARC-Target-URI") or "", rec.rec_type, payload=io.BytesIO(body),
                    length=len(body), warc_headers=StatusAndHeaders("WARC/1.1", headers),
                    http_headers=StatusAndHeaders(rec.http_headers.statusline, rec.http_headers.headers,
                                                  rec.http_headers.protocol) if rec.http_headers else None)
            writer.write_record(record)
    assert changed, "the forger found nothing to change"
    path.write_bytes(out.getvalue())


def test_a_careful_forger_passes_warcio_check_and_still_fails(stamped, tmp_path, tsa):
    data = copy(stamped, tmp_path)
    target = sorted((data / "warcs").glob("*.warc.gz"))[0]
    forge(target, "法治".encode(), "人治".encode())
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(target)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout  # the forgery is internally consistent
    proc = verify("--tsa-ca", str(tsa.ca), data=data)
    assert proc.returncode == 1
    lines = failures(proc)
    assert any(target.name in line for line in lines), proc.stderr


@pytest.mark.parametrize("edit", ["delete", "reorder", "rewrite"])
def test_a_chain_edited_fails(stamped, tmp_path, tsa, edit):
    data = copy(stamped, tmp_path)
    path = data / "warcs" / chain.CHAIN
    lines = path.read_text().splitlines()
    assert len(lines) >= 2
    if edit == "delete":
        del lines[0]
    elif edit == "reorder":
        lines[0], lines[1] = lines[1], lines[0]
    else:  # the forger updates an entry's file hash and its own hash, but cannot fix the links after it
        e = json.loads(lines[0])
        e["sha256"] = "0" * 64
        e["hash"] = chain.entry_hash(e)
        lines[0] = json.dumps(e, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")
    proc = verify("--tsa-ca", str(tsa.ca), data=data)
    assert proc.returncode == 1
    assert any("chain.jsonl entry" in line or "not in the chain" in line for line in failures(proc)), proc.stderr


def test_a_token_from_another_chain_head_fails(stamped, tmp_path, tsa):
    data = copy(stamped, tmp_path)
    stamps = chain.stamps(data / "warcs")
    first, second = stamps[0], stamps[1]
    # The older token put in the place of the newer one: it stamps another head.
    second.token.unlink()
    shutil.copyfile(first.token, second.token)
    proc = verify("--tsa-ca", str(tsa.ca), data=data)
    assert proc.returncode == 1
    assert any("does not verify" in line and second.token.name in line for line in failures(proc)), proc.stderr


def test_a_token_checked_against_another_authority_fails(stamped):
    other = LocalTSA("another authority")
    try:
        proc = verify("--tsa-ca", str(other.ca), data=stamped)
    finally:
        other.stop()
    assert proc.returncode == 1 and "does not verify" in proc.stderr


def test_a_signed_wacz_verifies_validates_and_fails_when_a_byte_flips(stamped, tmp_path):
    data = copy(stamped, tmp_path)
    key = tmp_path / "k.pem"
    public = cli("keygen", str(key)).stdout.strip()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    out = tmp_path / "signed.wacz"
    proc = cli("export", "wacz", str(out), "--sign", "--key", str(key), data=data)
    assert public in proc.stderr
    from archive.package import validate_wacz

    assert validate_wacz(out)  # py-wacz still accepts it
    ok = verify(str(out), "--public-key", public)
    assert ok.returncode == 0, ok.stderr
    assert verify(str(out), "--public-key", "AAAA").returncode == 1
    # One byte flipped inside a WARC of the package.
    with zipfile.ZipFile(out) as z:
        names = [i for i in z.infolist() if i.filename.endswith(".warc.gz")]
        assert names and names[0].compress_type == zipfile.ZIP_STORED
        offset = names[0].header_offset + 30 + len(names[0].filename.encode()) + len(names[0].extra) + 200
    raw = bytearray(out.read_bytes())
    raw[offset] ^= 0x01
    bad = tmp_path / "bad.wacz"
    bad.write_bytes(bytes(raw))
    proc = verify(str(bad))
    lines = failures(proc)
    assert proc.returncode == 1 and lines and all(names[0].filename in line for line in lines), proc.stderr
    # Without --key: the data directory's own key, made once and kept private.
    cli("export", "wacz", str(tmp_path / "own.wacz"), "--sign", data=data)
    own = data / "keys" / "signing.pem"
    assert own.exists() and oct(own.stat().st_mode & 0o777) == "0o600"
    assert verify(str(tmp_path / "own.wacz")).returncode == 0


@pytest.mark.parametrize("args, says", [
    (["export", "wacz", "/nonexistent-dir/x.wacz"], "no directory /nonexistent-dir"),
    (["export", "wacz", "OUT", "--sign", "--key", "KEY"], "not an unencrypted PEM private key"),
    (["verify", "NOTZIP"], "is not a WACZ (zip) file"),
])
def test_bad_input_is_one_line(stamped, tmp_path, args, says):
    (tmp_path / "key.pem").write_text("not a key")
    (tmp_path / "notzip.wacz").write_text("plain text")
    args = [a.replace("OUT", str(tmp_path / "o.wacz")).replace("KEY", str(tmp_path / "key.pem"))
            .replace("NOTZIP", str(tmp_path / "notzip.wacz")) for a in args]
    proc = cli(*args, data=stamped if args[0] == "export" else None, check=False)
    lines = failures(proc)
    assert proc.returncode == 1 and len(lines) == 1 and says in lines[0], proc.stderr
    assert not (tmp_path / "o.wacz").exists()


def test_no_tsa_reachable_the_crawl_goes_on_and_says_so(tmp_path):
    from .conftest import free_port

    with DemoSite(edition=1) as site:
        proc = cli("crawl", site.url, "--tsa", f"http://127.0.0.1:{free_port()}/tsr", data=tmp_path / "d")
    assert "not yet stamped" in proc.stderr and proc.returncode == 0
    assert verify(data=tmp_path / "d").returncode == 0  # chained, not stamped: says so, fails nothing
