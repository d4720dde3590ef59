"""Links a crawler must follow: anchors, script-written pagination, Hanweb record lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit

from .pager import (
    MAX_PAGES,
    Pager,
    discover,
    inline_scripts,
    json_pages,
    lower_bytes,
    wants_browser,
)

ATTACHMENT_EXTS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "zip", "rar", "7z",
                   "ppt", "pptx", "txt", "csv")
_NOT_LINKS = re.compile(r"^\s*(javascript:|mailto:|tel:|#|data:|about:|file:)|\{\{|el\.url|qzbFile|\$\{|"
                        r"['\"]\s*\+|\+\s*['\"]", re.I)  # placeholders, and string concatenation in scripts
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)


_PAGE_SUFFIX = re.compile(r"_\d+(\.\w+)$")
_PAGE_PARAM = re.compile(r"^(page|pageno|pagenum|pageindex|curpage|currentpage|p|pn|start|startrecord|endrecord|"
                         r"perpage)$", re.I)


def series_key(url: str) -> str:
    """The list series a list page belongs to: ``index_3.html`` and ``index.html`` are one column,
    as are ``list?page=2`` and ``list``."""
    from urllib.parse import parse_qsl, urlencode, urlunsplit

    parts = urlsplit(url)
    path = _PAGE_SUFFIX.sub(r"\1", parts.path)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _PAGE_PARAM.match(k)])
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, query, ""))


@lru_cache(maxsize=8192)  # a page's anchors are resolved twice (its links, then its items and files)
def clean_url(base: str, href: str | None) -> str | None:
    """Resolve ``href`` against ``base``; None for script links, placeholders and non-HTTP schemes."""
    if not href or _NOT_LINKS.search(href):
        return None
    href = href.strip().replace("\\", "/")
    joined = _join(base, href)
    if joined is not None:
        return joined  # (http or https: the base's scheme, or its own)
    url = urldefrag(urljoin(base, href))[0]
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


# What urljoin does to the three commonest links — "https://host/a.html", "/a/b.html", "202401/t1.html" —
# is to keep the first and to put the others after the base's origin or directory, when they have no
# dot segment, no empty segment, no ";", no ":", no empty "?" and no control character (it re-parses
# each part and resolves the rest).
# That much is done by hand: urljoin costs ~10 µs a link, 400 links on a portal page.
_PLAIN_PATH = re.compile(r"(?! )[^;:?#\x00-\x1f]*(?:\?[^#\x00-\x1f]+)?(?:#.*)?", re.S)
# …and an absolute http(s) link with a plain host: urljoin gives it back as it is.
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9._-]+(?:/[^;?#\x00-\x1f]*)?(?:\?[^#\x00-\x1f]+)?(?:#.*)?", re.S)


def _join(base: str, href: str) -> str | None:
    """``urldefrag(urljoin(base, href))[0]`` for a plain absolute, root-relative or directory-relative
    ``href``; None for anything else (urljoin decides). tests/test_discovery.py holds it to urljoin."""
    if href.startswith(("http://", "https://")):
        return href.split("#", 1)[0] if _PLAIN_ABSOLUTE.fullmatch(href) else None
    if href.startswith("//") or not _PLAIN_PATH.fullmatch(href):
        return None
    link = href.split("#", 1)[0]
    path = link.split("?", 1)[0]
    if not path:
        return None  # "?page=2": the base's own path, another query
    segments = path.split("/")
    if "." in segments or ".." in segments or "" in segments[1:-1]:
        return None
    origin, directory = _base_parts(base)
    if origin is None or (path[0] != "/" and directory is None):
        return None
    return origin + (link if path[0] == "/" else directory + link)


@lru_cache(maxsize=1024)
def _base_parts(base: str) -> tuple[str | None, str | None]:
    """(scheme://netloc, the directory of the path with its slashes) of an http(s) base without
    query-only quirks; directory None when its path has an empty segment (urljoin drops those)."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or base != base.strip() or ";" in parts.path:
        return None, None
    directory = parts.path.rsplit("/", 1)[0] + "/" if "/" in parts.path else "/"
    segments = directory.split("/")
    if "" in segments[1:-1] or "." in segments or ".." in segments:
        return parts.scheme + "://" + parts.netloc, None
    return parts.scheme + "://" + parts.netloc, directory


def attachment_type(url: str) -> str | None:
    """Return the attachment extension of ``url`` ('pdf', 'docx' …) or None for a page."""
    # The path's last segment, without urlsplit (called for every anchor of every page).
    name = url.partition("#")[0].partition("?")[0].rsplit("/", 1)[-1]
    if "." not in name or url.count("/") < 3:  # no file name, or no path after scheme://host
        return None
    ext = name.rsplit(".", 1)[-1].lower()
    return ext if ext in ATTACHMENT_EXTS else None


def script_pagination(html: str, base: str) -> list[str]:
    """The later list pages static rules find (no script run): ``createPageHTML`` literals, 共N页 …"""
    from .pager import discover

    return discover(html, base, run_scripts=False).pages


def hanweb_records(root) -> list:  # noqa: ANN001 - an lxml element; returns lxml documents
    """Parse the <li> fragments Hanweb JCMS hides in <script type="text/xml"> CDATA."""
    from .html_text import parse

    out = []
    for script in root.iter("script"):
        if script.get("type") != "text/xml":
            continue
        chunks = _CDATA.findall(script.text or "")
        if chunks:
            out.append(parse("".join(chunks)))
    return out


def anchors(root, base: str, records: bool = True) -> list[tuple[str, object]]:  # noqa: ANN001 - an lxml element
    """Return (url, <a> element) for every followable anchor, Hanweb records included (``records``:
    False when the page's text has no ``text/xml`` script to hold them)."""
    out = []
    trees = [root, *(hanweb_records(root) if records else [])]
    for tree in trees:
        for a in tree.iter("a", "area"):
            href = a.get("href")
            if href is not None:
                url = clean_url(base, href)
                if url:
                    out.append((url, a))
    return out


_URLISH = re.compile(r"^(https?://|/)[^\s\"'<>]+$")
_TITLE_KEYS = ("title", "name", "doctitle", "docTitle", "subject", "标题")
_URL_KEYS = ("url", "post_url", "link", "href", "docUrl", "docurl", "path", "pageUrl", "shareUrl")
_DATE_KEYS = ("date", "publishDate", "pubDate", "first_publish_time", "publish_time", "publish_date", "docreltime",
              "create_time", "time")


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
# A page worth running the pager cascade on: it says something about pages. Each test a scan for a
# literal: a case-insensitive alternation of the words took 48 ms on a 413 KB page, a str lower-cased
# (Chinese text) and searched word by word 9 ms. On the page's UTF-8 bytes, lower-cased, the words
# with "page" in them are looked for around each "page" (a few dozen on a page), the rest alone.
_PAGE_WORDS = (b"createpagehtml", b"gopage", b"pageno", b"totalpage", b"countpage", b"pagecount", b"jpage")
_PAGE_ASSIGN = re.compile(rb"\s*=\s*\d")  # page = 2 (after "page")
_MAY_PAGE_OTHER = (b"nextgroup", b"gkmlpt")
_SELECT_JUMP = re.compile(rb"<select[^>]*onchange")
_MAY_PAGE_CJK = [re.compile(p) for p in (r"下一页", r"共\s*\d+\s*页", r"第\s*\d+\s*/\s*\d+\s*页", r"尾\s*页", r"末\s*页")]


def may_page(html: str) -> bool:
    """True when the page mentions paging in any form the pager cascade reads."""
    low = lower_bytes(html)
    at = low.find(b"page")
    while at >= 0:
        around = low[max(0, at - 6):at + 9]
        if any(w in around for w in _PAGE_WORDS) or _PAGE_ASSIGN.match(low, at + 4):
            return True
        at = low.find(b"page", at + 4)
    return (any(w in low for w in _MAY_PAGE_OTHER) or bool(_SELECT_JUMP.search(low))
            or ("页" in html and any(p.search(html) for p in _MAY_PAGE_CJK)))


@dataclass
class Discovery:
    """What a fetched payload leads to: pages to GET, pages to POST, pager scripts to fetch."""

    links: list[str] = field(default_factory=list)
    posts: list[tuple[str, str]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    pager: Pager | None = None
    dynamic: bool = False  # the page's scripts fetch data (XHR, fetch, a Vue/React app)
    render: bool = False  # …and it links no document: its list exists only in a browser


def anchor_urls(html: str, base: str) -> list[str]:
    """Every followable anchor of an HTML page, fast: a pattern, as Heritrix's extractor does, rather
    than a parse (libxml2 gives up on some real pages and drops the links after the failure); Hanweb
    CDATA record lists are text to a pattern too."""
    from html import unescape

    m = _BASE.search(html[:20000])
    if m:
        base = clean_url(base, unescape(m.group(1))) or base
    out = []
    for m in _HREF.finditer(html):
        url = clean_url(base, unescape(m.group(1) or m.group(2) or m.group(3) or ""))
        if url:
            out.append(url)
    return list(dict.fromkeys(out))


def html_discovery(html: str, base: str, run_scripts: bool = True, max_pages: int = MAX_PAGES) -> Discovery:
    """Anchors, then every other page of the list the page belongs to (pipelines/pager.py)."""
    found = Discovery(links=anchor_urls(html, base))
    scripts = inline_scripts(html, base)  # read once, for the pager and the browser test
    if may_page(html):
        found.pager = discover(html, base, run_scripts=run_scripts, max_pages=max_pages, scripts_of_page=scripts)
        found.links = list(dict.fromkeys(found.links + found.pager.pages))
        found.posts, found.scripts = found.pager.posts, found.pager.scripts
    found.dynamic, found.render = wants_browser(html, base, found.links, scripts)
    return found


def html_links(html: str, base: str) -> list[str]:
    """Every followable link of an HTML page: anchors and the other pages of its list."""
    return html_discovery(html, base).links


def json_discovery(data: object, url: str, max_pages: int = MAX_PAGES) -> tuple[list[dict], Discovery]:
    """A JSON list API's items, and its links: the items' URLs and its other pages."""
    items, links = json_items(data, url)
    pager = json_pages(data, url, len(items), max_pages)
    return items, Discovery(links=list(dict.fromkeys(links + pager.pages)), pager=pager)


_CDATA_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


def datastore_html(xml: str) -> str | None:
    """The records of a Hanweb ``<datastore>`` answer (dataproxy.jsp) as one HTML fragment."""
    if "<datastore" not in xml[:2000].lower() and "<recordset" not in xml[:4000].lower():
        return None
    return "<ul>" + "".join(_CDATA_RECORD.findall(xml)) + "</ul>"


_LOC = re.compile(r"<loc>\s*(?:<!\[CDATA\[)?\s*([^<\s\]]+)", re.I)
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.I | re.M)


def sitemap_urls(body: bytes, url: str) -> list[str] | None:
    """The ``<loc>`` URLs of a sitemap or sitemap index (gzipped or not), or the ``Sitemap:`` lines
    of a robots.txt; None when the payload is neither."""
    import gzip
    import zlib

    if body[:2] == b"\x1f\x8b":
        try:
            d = zlib.decompressobj(31)
            body = d.decompress(body, 64 * 1024 * 1024)
        except (zlib.error, OSError, gzip.BadGzipFile):
            return None
    head = body[:4000].lower()
    if urlsplit(url).path.endswith("/robots.txt"):
        return [u for u in (clean_url(url, m) for m in _ROBOTS_SITEMAP.findall(body.decode("latin-1"))) if u]
    if b"<urlset" not in head and b"<sitemapindex" not in head:
        return None
    from html import unescape

    text = body.decode("utf-8", "replace")
    return [u for u in (clean_url(url, unescape(m)) for m in _LOC.findall(text)) if u]


def page_discovery(body: bytes, url: str, content_type: str | None, max_pages: int = MAX_PAGES) -> Discovery:
    """Where a fetched payload leads, for the crawler: HTML pages, JSON list APIs, Hanweb record
    answers; none from files."""
    from .decode import decode_html

    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.endswith("json") or (not ctype and body[:1] in (b"{", b"[")):
        import json

        try:
            return json_discovery(json.loads(decode_html(body, "application/json; charset=utf-8")[0]), url,
                                  max_pages)[1]
        except ValueError:
            return Discovery()
    located = sitemap_urls(body, url)
    if located is not None:
        return Discovery(links=located)
    if b"\x00" in body[:4096]:
        return Discovery()
    if ctype.endswith("xml") or body.lstrip()[:5] in (b"<?xml", b"<data"):
        fragment = datastore_html(decode_html(body, content_type)[0])
        return Discovery(links=anchor_urls(fragment, url)) if fragment else Discovery()
    if attachment_type(url) or (ctype and not ctype.startswith(("text/html", "application/xhtml", "text/plain"))):
        return Discovery()
    return html_discovery(decode_html(body, content_type)[0], url, max_pages=max_pages)


def page_links(body: bytes, url: str, content_type: str | None) -> list[str]:
    """The GET links of a fetched payload (see ``page_discovery``)."""
    return page_discovery(body, url, content_type).links
