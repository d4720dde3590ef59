"""Index and package the WARCs: a SURT-sorted CDXJ index, and WACZ 1.1.1 export."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .db import open_db, warc_dir
from .errors import GovArchiveError
from .queries import where
from .rebuild import warc_files


def write_index(data: Path, out: Path | None = None, files: list[Path] | None = None) -> Path:
    """Write a CDXJ index of the WARC files, sorted by SURT (what pywb binary-searches)."""
    from cdxj_indexer.main import CDXJIndexer

    files = files if files is not None else warc_files(data)
    if not files:
        raise GovArchiveError(f"no WARC files in {warc_dir(data)}")
    out = out or data / "index.cdxj"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        indexer = CDXJIndexer(fh, [str(f) for f in files], sort=True)
        indexer.process_all()
    return out


def _pages(data: Path, since: str | None, site: str | None) -> tuple[list[dict], set[str]]:
    db = open_db(data, create=False)
    clause, params = where(("c.fetched_at >= ?", since), ("p.site = ?", site),
                           always=("c.status = 200", "c.warc_file IS NOT NULL"))
    rows = list(db.query(
        f"SELECT p.url, p.title, p.kind, min(c.fetched_at) AS ts, group_concat(DISTINCT c.warc_file) AS files "
        f"FROM captures c JOIN pages p ON p.id = c.page_id WHERE {clause} GROUP BY p.url ORDER BY ts",
        params))
    files: set[str] = set()
    # Revisits replay only when their originals are in the package: include the files they refer to.
    for r in rows:
        files.update((r["files"] or "").split(","))
    for (f,) in db.execute("SELECT DISTINCT o.warc_file FROM captures c JOIN captures o "
                           "ON o.payload_digest = c.payload_digest AND o.record_type = 'response' "
                           f"WHERE c.record_type = 'revisit' AND c.warc_file IN ({','.join('?' * len(files))})",
                           sorted(files)):
        files.add(f)
    db.conn.close()
    pages = [{"id": f"{i:08d}", "url": r["url"], "ts": r["ts"], "title": r["title"] or r["url"]}
             for i, r in enumerate(rows) if r["kind"] not in ("attachment",)]
    return pages, files


def export_wacz(data: Path, out: Path, since: str | None = None, site: str | None = None) -> dict:
    """Write a WACZ 1.1.1 package of the archive (or of one site / period)."""
    from wacz.main import main as wacz_main

    pages, names = _pages(data, since, site)
    if not pages:
        raise GovArchiveError("nothing to export: no captured pages match")
    files = [p for p in warc_files(data) if p.name in names]
    with tempfile.TemporaryDirectory() as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        with open(pages_file, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}) + "\n")
            for p in pages:
                fh.write(json.dumps(p, ensure_ascii=False) + "\n")
        title = f"govarchive export{' of ' + site if site else ''}"
        code = wacz_main(["create", "-o", str(out), "-p", str(pages_file), "--title", title,
                          *map(str, files)])
    if code not in (0, None):
        raise GovArchiveError(f"WACZ export failed (wacz exited {code})")
    return {"pages": len(pages), "warcs": len(files), "path": str(out)}


def validate_wacz(path: Path) -> bool:
    """Validate a WACZ with the reference checker (`wacz validate`)."""
    from wacz.main import main as wacz_main

    return wacz_main(["validate", "-f", str(path)]) in (0, None)
