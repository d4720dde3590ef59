"""Tamper evidence for the WARC files: a hash chain over the closed files, stamped by a TSA.

WARC digests prove nothing against a forger who recomputes them. So each WARC file, when it is
closed, gets an entry in ``warcs/chain.jsonl``: its name, size and SHA-256, when it was closed,
and the hash of the entry before; each entry is hashed in turn (``hash``: SHA-256 of the entry's
canonical JSON without ``hash``), so an entry can be neither changed, removed nor moved without
breaking every link after it. With a time-stamping authority (RFC 3161) configured, the chain's
head is stamped after each crawl: the token, kept in ``warcs/chain-stamps/``, proves the head —
and so every file before it — existed at that time. Without the network the crawl goes on and
says so; the next crawl stamps the newer head, which covers the older files too.

Appending takes the directory's ``chain.lock`` (flock): the crawls of several sites, cluster
workers and the coordinator close files into one directory at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import GovArchiveError

log = logging.getLogger(__name__)

CHAIN = "chain.jsonl"
STAMPS = "chain-stamps"
_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def entry_hash(entry: dict) -> str:
    """The hash an entry is known by: of its canonical JSON, ``hash`` left out."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "chain.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def entries(directory: Path) -> list[dict]:
    """The chain's entries in order (an unreadable line is kept as ``{"unreadable": line}``)."""
    path = Path(directory) / CHAIN
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append({"unreadable": n})
    return out


def _append(directory: Path, name: str, previous: dict | None, note: str | None = None) -> dict:
    path = directory / name
    entry = {"seq": (previous["seq"] + 1) if previous else 1, "file": name, "size": path.stat().st_size,
             "sha256": file_sha256(path), "closed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
             "prev": previous["hash"] if previous else ""}
    if note:
        entry["note"] = note
    entry["hash"] = entry_hash(entry)
    with open(directory / CHAIN, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return entry


def add(directory: str | Path, name: str, note: str | None = None) -> dict:
    """Chain a WARC file just closed (``note``: how, when not by its writer); return its entry.

    The first time a directory is chained, the closed WARC files already there are chained
    first (``note: "before the chain"``): the chain vouches for them from that moment on.
    """
    directory = Path(directory)
    with _locked(directory):
        chain = entries(directory)
        if not chain:
            from .rebuild import file_order

            for old in sorted(directory.glob("*.warc.gz"), key=file_order):
                if old.name != name:
                    chain.append(_append(directory, old.name, chain[-1] if chain else None, "before the chain"))
        if any(e.get("file") == name for e in chain):
            return next(e for e in chain if e.get("file") == name)
        return _append(directory, name, chain[-1] if chain else None, note)


def head(directory: str | Path) -> dict | None:
    chain = entries(Path(directory))
    return chain[-1] if chain else None


# -- trusted time (RFC 3161) --------------------------------------------------------------------------
@dataclass
class Stamp:
    seq: int
    head: str
    token: Path


def stamps(directory: str | Path) -> list[Stamp]:
    folder = Path(directory) / STAMPS
    out = []
    for p in sorted(folder.glob("*.tsr")) if folder.exists() else []:
        seq, _, h = p.stem.partition("-")
        if seq.isdigit():
            out.append(Stamp(int(seq), h, p))
    return out


def stamp(directory: str | Path, tsa_url: str, ca: Path | None = None, timeout: float = 20.0) -> Stamp | None:
    """Ask the TSA for a timestamp over the chain's head (the head's hash, as ASCII); keep the
    token. None when there is nothing new to stamp. Raises ``StampError`` when the TSA cannot be
    reached or refuses (the crawl reports it; the next crawl stamps a newer head)."""
    import urllib.request

    from rfc3161_client import PKIStatus, TimestampRequestBuilder, decode_timestamp_response

    directory = Path(directory)
    top = head(directory)
    if top is None or any(s.seq == top["seq"] for s in stamps(directory)):
        return None
    request = TimestampRequestBuilder().data(top["hash"].encode()).cert_request(cert_request=True).build()
    req = urllib.request.Request(tsa_url, data=request.as_bytes(),
                                 headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except OSError as exc:
        raise StampError(f"time-stamping authority {tsa_url} unreachable ({exc}): chain head {top['seq']} "
                         "not yet stamped; the next crawl stamps it") from None
    try:
        token = decode_timestamp_response(raw)
    except Exception as exc:  # noqa: BLE001 - whatever the TSA sent is not a timestamp response
        raise StampError(f"time-stamping authority {tsa_url} answered no timestamp ({exc})") from None
    if PKIStatus(token.status) != PKIStatus.GRANTED:
        raise StampError(f"time-stamping authority {tsa_url} refused (status {token.status})")
    folder = directory / STAMPS
    folder.mkdir(exist_ok=True)
    if ca is not None:  # the TSA's root, kept beside the tokens (verify --tsa-ca anchors trust elsewhere)
        import shutil

        shutil.copyfile(ca, folder / "tsa-ca.pem")
    path = folder / f"{top['seq']:08d}-{top['hash']}.tsr"
    path.write_bytes(raw)
    return Stamp(top["seq"], top["hash"], path)


def stamp_line(data: Path, tsa_url: str | None, ca: Path | None = None) -> str | None:
    """Stamp the chain after a crawl when a TSA is configured; the crawl report's line about it."""
    if not tsa_url:
        return None
    wdir = Path(data) / "warcs"
    try:
        got = stamp(wdir, tsa_url, ca)
    except StampError as exc:
        return f"  chain: {exc}"
    top = head(wdir)
    if got is None:
        return f"  chain: head {top['seq']} stamped already" if top else None
    return f"  chain: {got.seq} files chained, head stamped by {tsa_url}"


class StampError(GovArchiveError):
    """The chain's head could not be stamped now."""
