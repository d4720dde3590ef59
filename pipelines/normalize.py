"""Text normalisation shared by extraction, change detection, diffs and search."""

from __future__ import annotations

import re
import unicodedata

# Full-width ASCII (U+FF01..U+FF5E) except the punctuation that Chinese text keeps as is.
_KEEP_FULLWIDTH = set("，。！？；：（）【】、“”‘’《》〈〉「」『』〔〕…—～")
_FW = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}  # digits
_FW.update({cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)})  # A-Z
_FW.update({cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)})  # a-z
_FW.update({0xFF0E: ord("."), 0xFF05: ord("%"), 0xFF0B: ord("+"), 0xFF0D: ord("-"),
            0xFF0F: ord("/"), 0xFF20: ord("@"), 0xFF3F: ord("_"), 0xFF1D: ord("=")})
_SPACES = {0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x200B: "",
           0xFEFF: "", 0x200C: "", 0x200D: "", 0x2028: "\n", 0x2029: "\n"}
_TABLE = {**_FW, **{k: v for k, v in _SPACES.items()}}
_WS = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n\s*\n+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_PUNCT = "，。！？；：（）【】、“”‘’《》〔〕…—"
# A space between two Chinese characters (or beside Chinese punctuation) is layout, not text.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}{_PUNCT}]) +(?=[{_CJK}{_PUNCT}])")
_CJK_SIDE = re.compile(rf"(?<=[{_CJK}{_PUNCT}]) +| +(?=[{_CJK}{_PUNCT}])")


def normalize_text(text: str) -> str:
    """Map full-width digits/letters to ASCII and odd spaces to ' '; collapse runs of spaces."""
    text = text.translate(_TABLE)
    text = _WS.sub(" ", text)
    return text.strip()


def normalize_inline(text: str) -> str:
    """Normalise a one-line value (a title, a field) and drop layout spaces between Chinese."""
    text = normalize_text(text.replace("\n", " "))
    return _CJK_SIDE.sub("", text)


def normalize_block(text: str) -> str:
    """Normalise multi-line text: each line normalised, blank lines dropped."""
    lines = (normalize_text(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def label_key(text: str) -> str:
    """Reduce a field label such as '索 引 号：' or '标　　题' to '索引号' / '标题'."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s:：]+", "", text)


def no_space(text: str) -> str:
    """Remove all whitespace (how the dev-set truth compares body starts and ends)."""
    return re.sub(r"\s+", "", text.translate(_TABLE))


_GATEWAY = re.compile(r"^(?P<host>.+?)x[0-9a-f]{4}\d{6,}(?:xx)?\.ipv6best\.cn$", re.I)


def canonical_url(url: str) -> str:
    """Return a URL with the noise removed: IPv6-gateway hosts undone, query sorted, no fragment."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    m = _GATEWAY.match(host)
    if m:
        host = m.group("host")
        if "." not in host:
            host = host.replace("-", ".")
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def apply_ignore(text: str, patterns: list[re.Pattern[str]]) -> str:
    """Remove what a site profile's ignore rules match (whole lines when a rule is anchored)."""
    for pattern in patterns:
        text = pattern.sub("", text)
    return "\n".join(line for line in text.split("\n") if line.strip())
