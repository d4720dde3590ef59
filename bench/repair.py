"""Repair of an unfinished WARC file: one linear pass, measured against warcio reading the same file.

A crawl killed mid-write leaves ``*.warc.gz.open``; the next crawl cuts it back to its last whole
record (archive/warc.py, ``last_complete_offset``). This writes a file of the given size (200 MB by
default, of records the size of real government pages), appends half a record, and times the scan
beside warcio's ArchiveIterator reading every record of the same file (what `warcio check` and
`cdxj-indexer` do): the ratio says the repair costs about one read of the file.

    .venv/bin/python bench/repair.py [--mb 200]
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from archive.warc import Exchange, WarcWriter, last_complete_offset  # noqa: E402


def build(directory: Path, megabytes: int) -> tuple[Path, int]:
    rng = random.Random(7)
    words = [bytes(rng.getrandbits(8) for _ in range(rng.randint(2, 12))) for _ in range(4000)]
    writer = WarcWriter(directory, host="bench", max_size=10**12)
    while writer._fh is None or writer._fh.tell() < megabytes * 2**20:
        payload = b" ".join(rng.choice(words) for _ in range(rng.randint(3000, 12000)))
        writer.write_exchange(Exchange(url=f"http://example.gov.cn/{rng.getrandbits(32)}.html", status=200,
                                       response_headers=[("Content-Type", "text/html")], payload=payload))
    good = writer._fh.tell()
    writer._fh.write(gzip.compress(b"WARC/1.1\r\nContent-Length: 5000\r\n\r\nhalf a record")[:40])
    writer._fh.flush()
    return next(directory.glob("*.open")), good


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, good = build(Path(tmp), args.mb)
        size = path.stat().st_size
        t = time.perf_counter()
        found = last_complete_offset(path)
        ours = time.perf_counter() - t
        assert found == good, (found, good)
        t = time.perf_counter()
        records = 0
        with open(path, "rb") as fh:
            try:
                for rec in ArchiveIterator(fh):
                    rec.raw_stream.read()
                    records += 1
            except Exception:  # noqa: BLE001 - the half record at the end stops warcio, as expected
                pass
        peer = time.perf_counter() - t
    print("| file | records | govarchive repair scan | warcio reading every record | ratio |")
    print("|---|---|---|---|---|")
    print(f"| {size / 2**20:.0f} MB | {records:,} | {ours:.2f} s | {peer:.2f} s | {ours / peer:.2f}× |")


if __name__ == "__main__":
    main()
