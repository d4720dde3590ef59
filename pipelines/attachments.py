"""Text of attachments (PDF, DOCX, XLSX): a replaced attachment changes like any document."""

from __future__ import annotations

import io
import zipfile

from .decode import decode_html


class AttachmentError(ValueError):
    """An attachment could not be read as its type."""


def to_text(data: bytes, ext: str | None, content_type: str = "") -> str:
    """Return the text of an attachment, or '' for types without a text layer we can read."""
    kind = (ext or "").lower()
    if data.startswith(b"%PDF") or kind == "pdf" or content_type == "application/pdf":
        return _pdf(data)
    if zipfile.is_zipfile(io.BytesIO(data)):
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        if "word/document.xml" in names:
            return _docx(data)
        if "xl/workbook.xml" in names:
            return _xlsx(data)
        return "\n".join(names)
    if kind in ("txt", "csv") or content_type.startswith("text/"):
        return decode_html(data, content_type)[0]
    return ""


def _pdf(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    try:
        return extract_text(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many types on broken files
        raise AttachmentError(f"unreadable PDF: {exc}") from exc


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
