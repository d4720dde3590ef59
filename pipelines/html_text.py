"""Render an HTML element to text the way a reader sees it: paragraphs as lines, tables as rows."""

from __future__ import annotations

from bs4 import NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

BLOCK_TAGS = frozenset(
    "address article aside blockquote br center dd div dl dt fieldset figcaption figure form "
    "h1 h2 h3 h4 h5 h6 hr li main ol p pre section table tbody thead tfoot tr ul".split()
)
SKIP_TAGS = frozenset("script style noscript template head title select option button".split())
_SKIP_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)


def element_text(el: Tag) -> str:
    """Return the text of ``el`` with block boundaries as newlines and table cells as tabs."""
    out: list[str] = []
    _walk(el, out)
    return "".join(out)


def inline_text(el: Tag) -> str:
    """Return the text of ``el`` on one line (spans joined without separators)."""
    return " ".join(element_text(el).split())


def _walk(node: Tag, out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if isinstance(child, _SKIP_STRINGS):
                continue
            text = str(child)
            if "\n" in text or "\r" in text or "\t" in text:
                text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
            out.append(text)
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in SKIP_TAGS:
            continue
        if name == "table":
            _table(child, out)
            continue
        if name == "br":
            out.append("\n")
            continue
        if name in BLOCK_TAGS:
            out.append("\n")
            _walk(child, out)
            out.append("\n")
        else:
            _walk(child, out)


def _table(table: Tag, out: list[str]) -> None:
    out.append("\n")
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = [inline_text(c) for c in row.find_all(["td", "th"], recursive=False)]
        cells = [c for c in cells if c]
        if cells:
            out.append("\t".join(cells))
            out.append("\n")
    out.append("\n")
