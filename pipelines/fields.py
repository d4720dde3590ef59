"""Find the 信息公开 fields: metadata table, 发布时间/来源 line, dates, 落款, contact."""

from __future__ import annotations

import re

from lxml import etree

from .html_text import inline_text, texts
from .normalize import label_key, normalize_inline

# Label (whitespace and colons removed) -> record field.
LABELS = {
    "索引号": "index_no", "索引": "index_no",
    "分类": "category", "主题分类": "category", "信息分类": "category", "所属主题": "category",
    "组配分类": "category", "体裁分类": "category_genre",
    "发布机构": "publisher", "发文机关": "publisher", "发文单位": "publisher",
    "公开主体": "publisher", "信息来源": "source", "来源": "source", "文章来源": "source",
    "成文日期": "written_on", "成文时间": "written_on", "生成日期": "written_on", "制发日期": "written_on",
    "文号": "doc_no", "发文字号": "doc_no", "发文文号": "doc_no",
    "发布日期": "published", "公开日期": "published", "发布时间": "published",
    "主题词": "subject", "关键词": "subject",
    "标题": "title", "名称": "title", "信息名称": "title",
    "主办单位": "publisher?",  # a box's label (国家能源局: 主办单位 制发日期) — and every footer's: see below
}
# A label read only beside others: alone (主办单位：… in a footer) it names the site's operator.
BOX_ONLY = {"publisher?": "publisher"}
BOX_NEAR = 3  # levels up within which another field must have been read
_DATE = re.compile(
    r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{2})(?:\s*[:：分]\s*(\d{2}))?)?"
)
_LABEL_VALUE = re.compile(
    r"^\s*(" + "|".join(sorted((re.escape(k) for k in LABELS), key=len, reverse=True)) +
    r")\s*[:：]\s*(.*)$"
)
# 发布时间/发布日期, or a bare 时间/日期 — not 成文日期, 制发日期, 更新时间 … (another date of the document).
_PUB_LINE = re.compile(r"(?:发布时间|发布日期|发表时间|(?<![\u4e00-\u9fa5])(?:时间|日期))\s*[:：]\s*"
                       r"(\d{4}[^\s来]*(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)")
_SOURCE_LINE = re.compile(r"(?:来源|信息来源|文章来源)\s*[:：]\s*([^\s|｜]{1,40})")
_FULL_DATE_LINE = re.compile(r"^\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*$")
# A 发文字号 standing alone: issuer's short name, year in 〔〕 (or look-alike brackets), serial, 号.
_DOC_NO_LINE = re.compile(r"^[\u4e00-\u9fa5A-Za-z]{1,20}\s*[〔［\[(（【]\s*((?:19|20)\d{2})\s*[〕］\])）】]\s*第?\s*\d{1,5}\s*号$")
DOC_NO_LINES = 6  # how far into a body a lone 文号 line may stand (版头: title, 文号, then 主送机关)
_CONTACT = re.compile(r"(联系人|联系电话|咨询电话|联系方式)[:：]")


def parse_date(text: str | None, with_time: bool = True) -> str | None:
    """Parse '2024-03-04', '2024年3月4日 10:20' … into ISO 8601; None when absent."""
    if not text:
        return None
    m = _DATE.search(normalize_inline(text))
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    iso = f"{y:04d}-{mo:02d}-{d:02d}"
    if with_time and m.group(4):
        hh, mm = int(m.group(4)), int(m.group(5))
        if (hh, mm) != (0, 0) or m.group(6):
            iso += f"T{hh:02d}:{mm:02d}"
            if m.group(6):
                iso += f":{int(m.group(6)):02d}"
    return iso


def _spaced(label: str) -> str:
    return r"[\s\u3000]*".join(map(re.escape, label))


# A text node that starts with a label, however spaced: '索 引 号：', '标　　题', '发文字号:'.
_LABEL_START = re.compile(
    r"^[\s\u3000]*(?:" + "|".join(_spaced(k) for k in sorted(LABELS, key=len, reverse=True)) + r")[\s\u3000]*[:：]?"
)
_LABEL_FIRST = frozenset(k[0] for k in LABELS)
_NEXT_LABEL = re.compile(r"\s+(?=(?:" + "|".join(sorted(map(re.escape, LABELS), key=len, reverse=True)) + r")[:：])")
_SEPARATOR = re.compile(r"\s*[|｜]")
_WRAPPERS = frozenset("b strong span font label em i p".split())
_SKIP = frozenset("script style title a option textarea".split())


def metadata_table(root, read_from: list | None = None) -> dict[str, str]:  # noqa: ANN001 - an lxml element
    """Read the 信息公开 label/value block wherever it is (table cells, li, dt/dd, spans).
    ``read_from``: given a list, the elements the fields were read from are added to it."""
    found: dict[str, str] = {}
    where: dict[str, object] = {}  # field -> the element it was read from
    for raw, el, _ in texts(root):
        head = raw.lstrip()
        if not head or head[0] not in _LABEL_FIRST or not _LABEL_START.search(raw) or el.tag in _SKIP:
            continue  # (a label's first character first: it spares most texts the labels' alternation)
        text = normalize_inline(inline_text(el))
        if len(text) > 200:
            continue
        key = label_key(text)
        if key in LABELS:  # the element holds the label alone: the value is what follows it
            cell = el
            while cell.tag in _WRAPPERS and cell.getparent() is not None \
                    and label_key(inline_text(cell.getparent())) == key:
                cell = cell.getparent()
            value_el = next(cell.itersiblings(etree.Element), None)  # comments skipped
            value = inline_text(value_el) if value_el is not None else (cell.tail or "")
            field = LABELS[key]
        elif m := _LABEL_VALUE.match(text):
            field, value = LABELS[label_key(m.group(1))], m.group(2)
        else:
            continue
        # The value ends at the next label or at a '|' (来源:  | 发布时间: … | 浏览次数: …).
        value = _SEPARATOR.split(_NEXT_LABEL.split(normalize_inline(value), maxsplit=1)[0], maxsplit=1)[0].strip()
        if field not in found and value and len(value) < 200 and not _LABEL_START.match(value):
            found[field] = value
            where[field] = el
    for maybe, field in BOX_ONLY.items():
        if maybe in found:
            value, el = found.pop(maybe), where.pop(maybe)
            if field not in found and any(_same_box(el, other) for other in where.values()):
                found[field], where[field] = value, el
    if read_from is not None:
        read_from += where.values()
    return found


def _same_box(a, b) -> bool:  # noqa: ANN001 - lxml elements
    """True when ``a`` and ``b`` share a container a few levels up of each (a table, a ul), not the page."""
    above = [x for x in list(a.iterancestors())[:BOX_NEAR] if x.tag not in ("body", "html")]
    return any(x is y for x in list(b.iterancestors())[:BOX_NEAR] for y in above)  # (proxies held: `is` holds)


def meta_tags(root) -> dict[str, str]:  # noqa: ANN001 - an lxml element
    """Return the <meta name=…> values of the 政府网站 spec (ArticleTitle, PubDate …)."""
    out: dict[str, str] = {}
    for m in root.iter("meta"):
        name = (m.get("name") or m.get("property") or "").strip()
        content = m.get("content")
        if name and content and name not in out:
            out[name] = content.strip()
    return out


def pub_line(text: str) -> tuple[str | None, str | None]:
    """Find the visible '发布时间：… 来源：…' line; return (date, source)."""
    date = source = None
    for line in text.split("\n")[:400]:
        if "发布" in line or "来源" in line or "时间" in line or "日期" in line:
            if date is None and (m := _PUB_LINE.search(line)):
                date = parse_date(m.group(1))
            if source is None and (m := _SOURCE_LINE.search(line)):
                source = m.group(1).strip()
            if date and source:
                break
    return date, source


def signature(lines: list[str]) -> tuple[str | None, str | None]:
    """Return the 落款 (organ, ISO date) from the last lines of a body."""
    tail = lines[-8:]
    for i in range(len(tail) - 1, -1, -1):
        m = _FULL_DATE_LINE.match(tail[i])
        if not m:
            continue
        signed_on = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        signed_by = None
        if i > 0:
            prev = tail[i - 1].strip()
            if 2 <= len(prev) <= 40 and not prev.endswith(("。", "；", "：", ":")) and not _CONTACT.search(prev):
                signed_by = prev
        return signed_by, signed_on
    return None, None


def contact_line(lines: list[str]) -> str | None:
    """Return the 联系人/联系电话 line of a body, if any."""
    for line in reversed(lines[-12:]):
        if _CONTACT.search(line) and len(line) < 120:
            return line.strip()
    return None


def doc_no_line(lines: list[str]) -> str | None:
    """A 发文字号 standing alone near the top of a body (岚综委干〔2024〕25号), when no box labels it."""
    for line in lines[:DOC_NO_LINES]:
        compact = line.replace(" ", "").replace("\u3000", "")
        if _DOC_NO_LINE.match(compact):
            return compact
    return None
