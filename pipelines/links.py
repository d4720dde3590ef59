"""Links a crawler must follow: anchors, script-written pagination, Hanweb record lists."""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

ATTACHMENT_EXTS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "zip", "rar", "7z",
                   "ppt", "pptx", "txt", "csv")
_NOT_LINKS = re.compile(r"^\s*(javascript:|mailto:|tel:|#|data:|about:|file:)|\{\{|el\.url|qzbFile|\$\{", re.I)
_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w\-]+)['\"]\s*,\s*['\"](\w+)['\"]"
)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)


_PAGE_SUFFIX = re.compile(r"_\d+(\.\w+)$")
_PAGE_PARAM = re.compile(r"^(page|pageno|pagenum|pageindex|curpage|currentpage|p|pn|start|startrecord)$", re.I)


def series_key(url: str) -> str:
    """The list series a list page belongs to: ``index_3.html`` and ``index.html`` are one column,
    as are ``list?page=2`` and ``list``."""
    from urllib.parse import parse_qsl, urlencode, urlunsplit

    parts = urlsplit(url)
    path = _PAGE_SUFFIX.sub(r"\1", parts.path)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _PAGE_PARAM.match(k)])
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, query, ""))


def clean_url(base: str, href: str | None) -> str | None:
    """Resolve ``href`` against ``base``; None for script links, placeholders and non-HTTP schemes."""
    if not href or _NOT_LINKS.search(href):
        return None
    href = href.strip().replace("\\", "/")
    url, _ = urldefrag(urljoin(base, href))
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def attachment_type(url: str) -> str | None:
    """Return the attachment extension of ``url`` ('pdf', 'docx' …) or None for a page."""
    path = urlsplit(url).path.lower()
    ext = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return ext if ext in ATTACHMENT_EXTS else None


def script_pagination(html: str, base: str) -> list[str]:
    """Return the list pages that only ``createPageHTML(count, current, name, ext)`` reaches."""
    pages: list[str] = []
    for m in _CREATE_PAGE.finditer(html):
        count, name, ext = int(m.group(1)), m.group(3), m.group(4)
        for i in range(1, min(count, 500)):
            url = clean_url(base, f"{name}_{i}.{ext}")
            if url and url not in pages:
                pages.append(url)
    return pages


def hanweb_records(soup: BeautifulSoup) -> list[BeautifulSoup]:
    """Parse the <li> fragments Hanweb JCMS hides in <script type="text/xml"> CDATA."""
    out = []
    for script in soup.find_all("script", attrs={"type": "text/xml"}):
        raw = script.string or script.decode_contents()
        chunks = _CDATA.findall(raw)
        if chunks:
            out.append(BeautifulSoup("".join(chunks), "lxml"))
    return out


def anchors(soup: BeautifulSoup, base: str) -> list[tuple[str, object]]:
    """Return (url, <a> tag) for every followable anchor, Hanweb records included."""
    out = []
    trees = [soup, *hanweb_records(soup)]
    for tree in trees:
        for a in tree.find_all(["a", "area"], href=True):
            url = clean_url(base, a.get("href"))
            if url:
                out.append((url, a))
    return out


_URLISH = re.compile(r"^(https?://|/)[^\s\"'<>]+$")
_TITLE_KEYS = ("title", "name", "doctitle", "docTitle", "subject", "标题")
_URL_KEYS = ("url", "link", "href", "docUrl", "docurl", "path", "pageUrl", "shareUrl")
_DATE_KEYS = ("date", "publishDate", "pubDate", "first_publish_time", "publish_time", "docreltime", "time")


def json_items(data: object, base: str) -> tuple[list[dict], list[str]]:
    """Items ({title, url, date}) and links from a JSON list API (e.g. Guangdong gkmlpt)."""
    items: list[dict] = []
    links: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            url = next((node[k] for k in _URL_KEYS if isinstance(node.get(k), str) and _URLISH.match(node[k])), None)
            title = next((node[k] for k in _TITLE_KEYS if isinstance(node.get(k), str) and node[k].strip()), None)
            if url and title:
                full = clean_url(base, url)
                if full:
                    date = next((str(node[k]) for k in _DATE_KEYS if node.get(k)), None)
                    items.append({"title": title.strip(), "url": full, "date": date})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and _URLISH.match(node) and not node.startswith("//"):
            full = clean_url(base, node)
            if full:
                links.append(full)

    walk(data)
    return items, list(dict.fromkeys([i["url"] for i in items] + links))


_HREF = re.compile(r"""<(?:a|area)\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_BASE = re.compile(r"""<base\b[^>]*?\shref\s*=\s*["']?([^"'\s>]+)""", re.I)


def html_links(html: str, base: str) -> list[str]:
    """Every followable link of an HTML page, fast: anchors (Hanweb CDATA lists included, since
    they are text to a pattern) and script pagination.

    A pattern, as Heritrix's extractor does, rather than a parse: libxml2 gives up on some real
    pages (a closing tag inside a script string) and drops the links after it.
    """
    from html import unescape

    m = _BASE.search(html[:20000])
    if m:
        base = clean_url(base, unescape(m.group(1))) or base
    out: list[str] = []
    for m in _HREF.finditer(html):
        url = clean_url(base, unescape(m.group(1) or m.group(2) or m.group(3) or ""))
        if url:
            out.append(url)
    out += script_pagination(html, base)
    return list(dict.fromkeys(out))


def page_links(body: bytes, url: str, content_type: str | None) -> list[str]:
    """Links of a fetched payload for the crawler: HTML pages and JSON list APIs; none in files."""
    from .decode import decode_html

    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.endswith("json") or (not ctype and body[:1] in (b"{", b"[")):
        import json

        try:
            return json_items(json.loads(decode_html(body, "application/json; charset=utf-8")[0]), url)[1]
        except ValueError:
            return []
    if attachment_type(url) or (ctype and not ctype.startswith(("text/html", "application/xhtml", "text/plain"))):
        return []
    if b"\x00" in body[:4096]:
        return []
    return html_links(decode_html(body, content_type)[0], url)
