"""Parse HTML with lxml and render an element's text the way a reader sees it: paragraphs as lines,
tables as rows.

lxml's own tree, not BeautifulSoup's copy of it: libxml2 parses a page in a tenth of a millisecond
where building bs4's Python tree from the same parse took 3.4 ms — most of what extracting a page
cost (bench/extract_eval.py). Text lives in ``.text`` (before the first child) and ``.tail`` (after
an element, inside its parent); comments and processing instructions are nodes whose ``tag`` is
not a string: their own text is never page text, their tail is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

BLOCK_TAGS = frozenset(
    "address article aside blockquote br center dd div dl dt fieldset figcaption figure form "
    "h1 h2 h3 h4 h5 h6 hr li main ol p pre section table tbody thead tfoot tr ul".split()
)
SKIP_TAGS = frozenset("script style noscript template head title select option button".split())
# Elements whose text is code, not page text (what bs4's get_text leaves out).
CODE_TAGS = frozenset("script style template".split())
_EVENTS = ("start", "end", "comment", "pi")
# Plain lxml elements: lxml.html's element classes cost a Python lookup for every node touched.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_blank_text=False)
Element = etree._Element


# End tags of the document itself. libxml2 stops reading at a </html> that an included header
# fragment left in the middle of a page (www.gov.cn's 公报 pages have one), where browsers, and
# the HTML standard's "after body" mode, read on: they go, and the parser closes both at the end.
# (Both patterns run on the page's UTF-8 bytes, twice as fast as on the str; ASCII bytes never
# stand inside a multi-byte character, so the bytes hold the same matches.)
_DOCUMENT_END = re.compile(rb"</(?:html|body)\s*>", re.I)


_START_TAG = re.compile(rb"<[A-Za-z]")
GAVE_UP_SHARE = 0.5  # libxml2 kept fewer than this share of the page's start tags: it stopped reading
GAVE_UP_MIN = 50  # …and lost at least this many elements


def parse(text: str) -> etree._Element:
    """The document element of decoded HTML (an empty ``<html>`` when there is nothing to parse).

    libxml2 first (fast). Where it stopped reading part-way — it has fewer than half the elements
    the page's start tags promise — beautifulsoup4 builds the tree instead (lxml.html.soupparser:
    bs4's tolerant tree building, handed back as lxml elements), ten times slower and reading on
    through markup libxml2 gives up on, as browsers do.
    """
    data = _DOCUMENT_END.sub(b"", text.encode("utf-8", "replace"))
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    kept = sum(1 for _ in root.iter()) if root is not None else 0
    # Start tags are fewer than "<"s: when libxml2 kept half of those, it kept half of these (the
    # count is a byte scan; the pattern, which reads each "<", costs a fifth of the parse).
    promised = len(_START_TAG.findall(data)) if kept < GAVE_UP_SHARE * data.count(b"<") else 0
    if promised - kept >= GAVE_UP_MIN and kept < GAVE_UP_SHARE * promised:
        soup = _soup(data.decode("utf-8", "replace"))
        root = soup if soup is not None else root
    return root if root is not None else etree.Element("html")


def _soup(text: str) -> etree._Element | None:
    from lxml.html import soupparser

    try:
        return soupparser.fromstring(text, features="lxml")
    except Exception:  # noqa: BLE001 - any failure keeps libxml2's tree
        return None


def drop(el: etree._Element) -> None:
    """Remove ``el`` and what it holds; the text after it stays where it was."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def body_of(root: etree._Element) -> etree._Element | None:
    return next(root.iter("body"), None)


def texts(el: etree._Element) -> Iterator[tuple[str, etree._Element, bool]]:
    """Every text inside ``el`` in document order: (text, the element holding it, whether it is a
    tail — the text after a child, held by the child's parent). A comment's own text is not one."""
    for event, node in etree.iterwalk(el, events=_EVENTS):
        if event == "start":
            if node.text:
                yield node.text, node, False
        elif node is not el and node.tail:  # "end", "comment", "pi": the text after the node
            yield node.tail, node.getparent(), True


def plain_text(el: etree._Element, sep: str = "") -> str:
    """Every text of ``el`` and its descendants, as written (scripts, styles and comments left out)."""
    return sep.join(text for text, holder, tail in texts(el) if tail or holder.tag not in CODE_TAGS)


def element_text(el: etree._Element) -> str:
    """Return the text of ``el`` with block boundaries as newlines and table cells as tabs."""
    out: list[str] = []
    _walk(el, out)
    return "".join(out)


def inline_text(el: etree._Element) -> str:
    """Return the text of ``el`` on one line (spans joined without separators)."""
    return " ".join(element_text(el).split())


def _flat(text: str) -> str:
    if "\n" in text or "\r" in text or "\t" in text:
        return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return text


def _walk(node: etree._Element, out: list[str]) -> None:
    if node.text:
        out.append(_flat(node.text))
    for child in node:
        name = child.tag
        if isinstance(name, str) and name not in SKIP_TAGS:
            if name == "table":
                _table(child, out)
            elif name == "br":
                out.append("\n")
            elif name in BLOCK_TAGS:
                out.append("\n")
                _walk(child, out)
                out.append("\n")
            else:
                _walk(child, out)
        if child.tail:
            out.append(_flat(child.tail))


def _table(table: etree._Element, out: list[str]) -> None:
    out.append("\n")
    for row in table.iter("tr"):
        if next(row.iterancestors("table"), None) is not table:
            continue
        cells = [inline_text(c) for c in row if c.tag in ("td", "th")]
        cells = [c for c in cells if c]
        if cells:
            out.append("\t".join(cells))
            out.append("\n")
    out.append("\n")
