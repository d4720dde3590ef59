"""Text of attachments (PDF, DOCX, XLSX): a replaced attachment changes like any document.

Files are read under the same limit as compressed pages (``MAX_INFLATED``): a zip whose entries
declare more, or a PDF whose compressed streams inflate past it, is refused with AttachmentError
before any parser inflates it. Any parser failure becomes AttachmentError too, so the caller can
version the file on its bytes and keep the reason.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from .decode import decode_html

MAX_INFLATED = 64 * 1024 * 1024  # the decoded-size limit of every payload (gzip, brotli, zip, PDF)


class AttachmentError(ValueError):
    """An attachment could not be read as its type (broken, encrypted, or too large once inflated)."""


def to_text(data: bytes, ext: str | None, content_type: str = "", limit: int = MAX_INFLATED) -> str:
    """Return the text of an attachment, or '' for types without a text layer we can read."""
    kind = (ext or "").lower()
    if data.startswith(b"%PDF") or kind == "pdf" or content_type == "application/pdf":
        return _pdf(data, limit)
    if data.startswith(b"PK") and zipfile.is_zipfile(io.BytesIO(data)):
        archive = _zip(data, limit)
        names = archive.namelist()
        if "word/document.xml" in names:
            return _guarded(_docx, data, "DOCX")
        if "xl/workbook.xml" in names:
            return _guarded(_xlsx, data, "XLSX")
        return "\n".join(names)
    if kind in ("doc", "docx", "xls", "xlsx") and data:
        raise AttachmentError(f"not a readable {kind.upper()} file (no zip container)")
    if kind in ("txt", "csv") or content_type.startswith("text/"):
        return decode_html(data[:limit], content_type)[0]
    return ""


def _zip(data: bytes, limit: int) -> zipfile.ZipFile:
    """Open a zip container, refusing one whose entries declare more than ``limit`` bytes in all."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise AttachmentError(f"corrupt zip container: {exc}") from exc
    if declared > limit:
        raise AttachmentError(f"zip bomb: entries declare {declared} bytes (limit {limit})")
    return archive


def _guarded(reader, data: bytes, name: str) -> str:  # noqa: ANN001 - a reader function
    try:
        return reader(data)
    except Exception as exc:  # noqa: BLE001 - python-docx/openpyxl raise many types on broken files
        raise AttachmentError(f"unreadable {name}: {type(exc).__name__}: {exc}"[:300]) from exc


_STREAM = re.compile(rb"stream\r?\n")


def _check_pdf_streams(data: bytes, limit: int) -> None:
    """Inflate every Flate stream of a PDF under one shared limit, before pdfminer inflates any."""
    total = 0
    for m in _STREAM.finditer(data):
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        d = zlib.decompressobj()
        try:
            out = d.decompress(data[start:end], limit + 1 - total)
        except zlib.error:
            continue  # not Flate (or not compressed): pdfminer decides
        total += len(out)
        if total > limit or d.unconsumed_tail:
            raise AttachmentError(f"PDF streams inflate past {limit} bytes (a decompression bomb)")


def _pdf(data: bytes, limit: int) -> str:
    from pdfminer.high_level import extract_text

    if not data.startswith(b"%PDF"):
        raise AttachmentError("not a PDF file (no %PDF header)")
    _check_pdf_streams(data, limit)
    try:
        return extract_text(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many types on broken files
        raise AttachmentError(f"unreadable PDF: {type(exc).__name__}: {exc}"[:300]) from exc


def _docx(data: bytes) -> str:
    import docx

    doc = docx.Document(io.BytesIO(data))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _xlsx(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    for ws in wb.worksheets:
        lines.append(f"[{ws.title}]")
        for row in ws.iter_rows(values_only=True):
            cells = ["" if v is None else str(v) for v in row]
            if any(cells):
                lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)
