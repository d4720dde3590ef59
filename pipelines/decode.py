"""Turn the bytes a server sent into text: header, BOM, <meta>, trial, gb18030 fallback."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# GBK and GB2312 are both subsets of gb18030: decoding with the superset never loses a character.
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
            "utf8": "utf-8", "iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "utf-8",
            "us-ascii": "utf-8"}


def _canonical(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None = None) -> list[str]:
    """Return the charsets the response declares, in order of authority."""
    found: list[str] = []
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m and (c := _canonical(m.group(1))):
            found.append(c)
    for bom, name in _BOMS:
        if body.startswith(bom):
            found.insert(0, name)
    m = _META_CHARSET.search(body[:4096])
    if m and (c := _canonical(m.group(1).decode("ascii", "replace"))):
        found.append(c)
    return found


def _strict(body: bytes, charset: str) -> str | None:
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML payload; return ``(text, charset_used)``.

    A declaration that fails to decode the bytes strictly is wrong and is overridden:
    servers of older disclosure sites label GBK pages as utf-8 and the reverse.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), name
    candidates = declared_charsets(body, content_type)
    for cs in candidates:
        text = _strict(body, cs)
        if text is not None and not (cs == "cp1252" and _looks_cjk_bytes(body)):
            return text, cs
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    text = _strict(body, "gb18030")
    if text is not None:
        return text, "gb18030"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding:
            return body.decode(best.encoding, "replace"), best.encoding
    except Exception:  # noqa: BLE001 - detection is a best effort before the final fallback
        pass
    return body.decode("gb18030", "replace"), "gb18030"


def _looks_cjk_bytes(body: bytes) -> bool:
    return _strict(body, "utf-8") is not None and any(b >= 0xE0 for b in body[:20000])
