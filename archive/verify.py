"""`govarchive verify`: offline, that nothing in the archive changed after its files were closed.

For a data directory: the chain's entries and links (archive/chain.py); every chained file's size
and SHA-256; every closed WARC file in the chain; every record's own WARC digests; each timestamp
token — the TSA's signature, its certificate chain to the given root, and that it stamps the chain
entry it names. For a WACZ: archive/signing.py. Each failure is one line naming the file and what
failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import chain
from .errors import GovArchiveError


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_data(data: Path, tsa_ca: Path | None = None, records: bool = True) -> Verdict:
    wdir = data / "warcs"
    if not wdir.is_dir():
        raise GovArchiveError(f"no WARC directory in {data}")
    v = Verdict()
    entries = chain.entries(wdir)
    if not entries:
        v.failures.append(f"{wdir / chain.CHAIN}: no chain (no WARC file was closed with this version)")
    previous = None
    chained: dict[str, dict] = {}
    for i, e in enumerate(entries, 1):
        where = f"{chain.CHAIN} entry {i}"
        if "unreadable" in e:
            v.failures.append(f"{where}: not JSON")
            previous = None
            continue
        if e.get("hash") != chain.entry_hash(e):
            v.failures.append(f"{where} ({e.get('file')}): its hash does not match its contents (entry edited)")
        if e.get("seq") != i:
            v.failures.append(f"{where} ({e.get('file')}): numbered {e.get('seq')} (an entry removed or moved)")
        if e.get("prev", "") != (previous["hash"] if previous else ""):
            v.failures.append(f"{where} ({e.get('file')}): does not link to the entry before it "
                              "(an entry removed, moved or inserted)")
        previous = e
        name = e.get("file")
        if name in chained:
            v.failures.append(f"{where}: {name} chained twice")
        chained[name] = e
        path = wdir / str(name)
        if not path.exists():
            v.failures.append(f"{name}: chained, but the file is gone")
            continue
        size = path.stat().st_size
        if size != e.get("size"):
            v.failures.append(f"{name}: {size} bytes, {e.get('size')} when it was closed")
        elif chain.file_sha256(path) != e.get("sha256"):
            v.failures.append(f"{name}: its SHA-256 differs from the one chained when it was closed (changed since)")
    for path in sorted(wdir.glob("*.warc.gz")):
        if path.name not in chained:
            v.failures.append(f"{path.name}: not in the chain (added after the fact, or its writer died "
                              "between closing and chaining it)")
        elif records:
            _check_records(path, v)
    if entries:
        v.held.append(f"{len(entries)} chained files, chain intact up to entry {len(entries)}"
                      if not any(chain.CHAIN in f for f in v.failures) else f"{len(entries)} chain entries")
    _check_stamps(wdir, entries, tsa_ca, v)
    return v


def _check_records(path: Path, v: Verdict) -> None:
    """Each record's WARC-Block-Digest and WARC-Payload-Digest (what `warcio check` checks)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for rec in it:
                rec.content_stream().read() if rec.rec_type == "response" else rec.raw_stream.read()
                checker = rec.digest_checker
                if checker.passed is False:
                    problems = "; ".join(str(p) for p in checker.problems) or "digest mismatch"
                    v.failures.append(f"{path.name}: record at offset {it.get_record_offset()} "
                                      f"({rec.rec_headers.get_header('WARC-Target-URI') or rec.rec_type}): {problems}")
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        v.failures.append(f"{path.name}: not a readable WARC file ({exc})")


def _check_stamps(wdir: Path, entries: list[dict], tsa_ca: Path | None, v: Verdict) -> None:
    stamps = chain.stamps(wdir)
    if not stamps:
        v.held.append("no timestamp tokens (no TSA configured): the chain proves order, not time")
        return
    ca = tsa_ca or (wdir / chain.STAMPS / "tsa-ca.pem")
    if not ca.exists():
        v.failures.append(f"{chain.STAMPS}: no TSA root certificate to check the tokens against (give --tsa-ca)")
        return
    from cryptography import x509
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        roots = x509.load_pem_x509_certificates(ca.read_bytes())
    except ValueError as exc:
        raise GovArchiveError(f"{ca}: not PEM certificates ({exc})") from None
    by_seq = {e.get("seq"): e for e in entries}
    latest = None
    for s in stamps:
        name = f"{chain.STAMPS}/{s.token.name}"
        entry = by_seq.get(s.seq)
        if entry is None or entry.get("hash") != s.head:
            v.failures.append(f"{name}: stamps a chain head the chain does not hold at entry {s.seq}")
            continue
        try:
            token = decode_timestamp_response(s.token.read_bytes())
            builder = VerifierBuilder()
            for root in roots:
                builder = builder.add_root_certificate(root)
            builder.build().verify_message(token, s.head.encode())
        except (VerificationError, ValueError) as exc:
            v.failures.append(f"{name}: the token does not verify for entry {s.seq} ({exc})")
            continue
        latest = (s.seq, token.tst_info.gen_time)
    if latest:
        where = "given root" if tsa_ca else "root stored beside the tokens (give --tsa-ca to anchor trust yourself)"
        v.held.append(f"{len(stamps)} timestamp tokens; entry {latest[0]} stamped at {latest[1]:%Y-%m-%d %H:%M:%S} UTC "
                      f"(checked against the {where})")
        unstamped = [e for e in entries if e.get("seq", 0) > latest[0]]
        if unstamped:
            v.held.append(f"{len(unstamped)} files closed since the last stamp are chained, not yet stamped")
