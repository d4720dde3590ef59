"""Real small attachment files for the demo site (PDF, DOCX, XLSX), built deterministically."""

from __future__ import annotations

import io
import zipfile
from functools import cache

_FIXED = (2024, 4, 1, 0, 0, 0)


def _pdf(lines: list[str]) -> bytes:
    """Build a one-page PDF with Helvetica text; xref offsets computed, so readers accept it."""
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({safe}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so the same document always has the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, _FIXED), src.read(info.filename))
    return out.getvalue()


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    doc = docx.Document()
    doc.core_properties.author = "佛山高新区管委会"
    for p in paragraphs:
        doc.add_paragraph(p)
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


@cache
def attachment(filename: str) -> tuple[bytes, str]:
    """Return (bytes, content type) of a demo attachment by file name."""
    if filename.endswith(".pdf"):
        return _pdf([
            "Foshan National Hi-tech Industrial Development Zone",
            "High-tech Enterprise Recognition 2024: Application Guide",
            "Application window: 2024-04-15 to 2024-05-31",
            "Eligible applicants registered in the zone: 1356 enterprises",
            "Contact: 0757-86683830",
        ]), "application/pdf"
    if filename.endswith(".docx"):
        return _docx([
            "高新技术企业认定申报材料清单",
            "一、高新技术企业认定申请书",
            "二、企业营业执照副本复印件",
            "三、知识产权相关材料",
            "四、近三个会计年度研究开发费用专项审计报告",
        ]), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if filename.endswith(".xlsx"):
        return _xlsx([
            ["序号", "项目名称", "申报单位", "应用场景"],
            [1, "智能制造数字孪生平台", "佛山某智能装备有限公司", "工厂产线"],
            [2, "生物医药冷链追溯系统", "佛山某生物科技有限公司", "园区物流"],
        ]), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raise KeyError(filename)
