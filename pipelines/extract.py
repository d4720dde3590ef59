"""Normalise one fetched page into a PageRecord: a cascade of named stages, pure functions."""

from __future__ import annotations

import hashlib
import re
from html import unescape
from urllib.parse import urlsplit

from lxml import etree

from . import attachments as attachment_text
from .annual import kind_of, read_report
from .boilerplate import CHROME_SELECTORS, SOFT_404_RE, looks_soft_404, strip_boilerplate_lines
from .decode import decode_html
from .fields import (
    contact_line,
    doc_no_line,
    meta_tags,
    metadata_table,
    parse_date,
    pub_line,
    signature,
)
from .html_text import Element as Tag
from .html_text import body_of, drop, element_text, inline_text, parse, plain_text, texts
from .links import anchors, attachment_type, clean_url, datastore_html, html_discovery, sitemap_urls
from .normalize import _CJK_GAP, no_space, normalize_block, normalize_inline
from .record import PageRecord
from .standins import stand_in

# Body containers of the common CMSs, most specific first.
BODY_SELECTORS = [
    "#UCAP-CONTENT", ".TRS_Editor", ".TRS_UEDITOR", ".trs_editor_view", "#zoom", "#zoomcon", ".zoomcon",
    ".article_content", ".article-content", ".article_con", ".art_con", "#content", ".pages_content",
    "#Zoom", ".zoom", ".view", ".TRS_PreAppend", ".content_text", ".contentText", ".detail-content",
    ".detail_content", ".news_content", ".news-content", ".con_text", ".xxgk_content", ".info-content",
    ".zw", "#zw", ".wzy_content", "#ivs_content", "#js_content", "#article", "article", ".article",
    ".content", "#con",
]
# Comment markers CMSs put around the body: Hanweb, Founder, TRS templates.
_MARKERS = re.compile(
    r"<!--\s*(?:ZJEG_RSS\.content\.begin|enpcontent|<\$\[信息内容\]>begin)\s*-->(.*?)"
    r"<!--\s*(?:ZJEG_RSS\.content\.end|/enpcontent|<\$\[信息内容\]>end)\s*-->", re.S)
TITLE_SELECTORS = ["h1", ".article-title", ".article_title", ".title", "#title", ".tit", "h2", ".bt",
                   ".content-title", ".xxgk_title", "h3"]
_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]|\s-\s|--|—|-(?=[^-]*(?:网|政府|委员会|门户|局|办)))\s*")
_LIST_PATH = re.compile(r"/(index(_\d+)?\.(s?html?|jsp|php)|list(_\d+)?\.\w+|)$")
_ITEM_DATE = re.compile(r"\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}")
_REFRESH = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.I)
_REFRESH_HINT = re.compile(r"refresh", re.I)
_SPACE = re.compile(r"\s+")
HTML_TYPES = ("text/html", "application/xhtml", "text/plain", "")
SCRIPT_TYPES = ("application/javascript", "text/javascript", "application/x-javascript", "text/css")


def extract(body: bytes, url: str, content_type: str | None = None,
            overrides: dict | None = None) -> PageRecord:
    """Normalise a payload of any type: HTML pages and the attachments' text."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.endswith("json") or (not ctype and body[:1] in (b"{", b"[")):
        return _json_list(body, url)
    located = sitemap_urls(body, url)
    if located is not None:  # a sitemap: a door to documents, not one
        return PageRecord(url=url, kind="sitemap", links=located)
    if ctype in SCRIPT_TYPES or urlsplit(url).path.lower().endswith((".js", ".css")):
        return PageRecord(url=url, kind="resource", file_digest="sha1:" + hashlib.sha1(body).hexdigest())
    if ctype.endswith("xml") or body.lstrip()[:5] in (b"<?xml", b"<data"):
        text, charset = decode_html(body, content_type)
        fragment = datastore_html(text)
        if fragment is not None:  # a Hanweb dataproxy.jsp answer: a page of a column's records
            record = extract_html(fragment, url, overrides)
            record.kind, record.charset = "list", charset
            return record
    ext = attachment_type(url)
    if (ext or not ctype.startswith(HTML_TYPES)) and not _sniff_html(body):
        return _attachment(body, url, ext, ctype)
    if b"\x00" in body[:4096]:  # binary bytes labelled as HTML: nothing to read as text
        return PageRecord(url=url, kind="other", body="")
    text, charset = decode_html(body, content_type)
    record = extract_html(text, url, overrides)
    record.charset = charset
    return record


def _attachment(body: bytes, url: str, ext: str | None, ctype: str) -> PageRecord:
    """A file's text; a file without readable text is versioned on its bytes, with the reason."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    rec = PageRecord(url=url, kind="attachment", title=name)
    try:
        rec.body = normalize_block(attachment_text.to_text(body, ext, ctype))
    except attachment_text.AttachmentError as exc:
        rec.text_error = str(exc)
    if not rec.body:
        rec.file_digest = "sha1:" + hashlib.sha1(body).hexdigest()
    return rec


def _json_list(body: bytes, url: str) -> PageRecord:
    """A JSON list API answer (Guangdong gkmlpt and the like): its items and links."""
    import json

    from .fields import parse_date
    from .links import json_discovery

    text, charset = decode_html(body, "application/json; charset=utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        return PageRecord(url=url, kind="other", body=normalize_block(text[:20000]), charset=charset)
    items, found = json_discovery(data, url)
    for item in items:
        item["title"] = normalize_inline(item["title"])
        item["date"] = _epoch_date(item["date"]) or (parse_date(item["date"], with_time=False) if item["date"] else None)
    return PageRecord(url=url, kind="list", items=items, links=found.links, charset=charset,
                      pagination=found.pager.pages, pager=found.pager.to_dict())


def _epoch_date(value: str | None) -> str | None:
    """A Unix time (seconds or milliseconds, as gkmlpt's ``create_time``) as a date."""
    from datetime import UTC, datetime

    if not value or not value.isdigit() or len(value) not in (10, 13):
        return None
    return datetime.fromtimestamp(int(value[:10]), UTC).strftime("%Y-%m-%d")


def _sniff_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<!--"))


def extract_html(html: str, url: str, overrides: dict | None = None) -> PageRecord:
    """Normalise decoded HTML into a PageRecord."""
    overrides = overrides or {}
    soup = parse(html)
    rec = PageRecord(url=url)
    metas = meta_tags(soup)
    # No <meta http-equiv=refresh> without the word (refresh, Refresh, REFRESH): skip the search.
    # (Substring tests: a case-insensitive pattern reads a page character by character.)
    rec.refresh_to = _meta_refresh(soup, url) if "efresh" in html or "EFRESH" in html else None
    links = anchors(soup, url, records="text/xml" in html)
    found = html_discovery(html, url)
    rec.links = found.links
    if found.pager is not None:
        rec.pagination = found.pager.pages + [u for u, _ in found.pager.posts]
        rec.pager = found.pager.to_dict()
    rec.attachments = _attachments(links)
    rec.items = _list_items(links)

    box: list[Tag] = []  # the elements the fields were read from
    fields = metadata_table(soup, box)
    index = _Index(soup)
    index.drop(index.select_all(CHROME_SELECTORS))  # their tails, the text after them, stay
    body = body_of(soup)
    page_text = normalize_block(element_text(body if body is not None else soup))
    line_date, line_source = pub_line(page_text)

    container = _first(lambda: _select(soup, overrides.get("body")), lambda: _marked_body(html),
                       lambda: _body_container(soup, index))
    if container is None and not rec.items and body is not None and _text_len(body):
        container = body  # no template recognised, not a list: the page's whole text (rescue)
    # (TRS writes an article's pager with createPageHTML: its pages are the script's, not anchors.
    # Only a declared series: the pager's guesses from a page-number <select> are not pages.)
    declared = found.pager.pages if found.pager and "createPageHTML" in found.pager.hints else []
    first, parts = _series(url, [*links, *((p, None) for p in declared)])
    if container is not None:
        _drop_pager(container, url, {url, first, *parts})
    lines = _body_lines(container) if container is not None else []
    title = (_text_of(soup, overrides.get("title")) or metas.get("ArticleTitle") or fields.get("title"))
    headed = title is not None  # a title the page states as one (meta, metadata table, a heading)
    if title is None:
        title, headed = _title(soup, index, container)
    rec.title = normalize_inline(_as_text(title)) if title else None
    rec.body = "\n".join(lines)
    rec.published = (parse_date(fields.get("published")) or line_date
                     or parse_date(metas.get("PubDate")) or parse_date(metas.get("firstpublishedtime"))
                     or parse_date(metas.get("pubdate")) or _founder_date(html))
    rec.published = rec.published or _labelled_date(index) or _date_beside(soup, rec.title, container)
    doc_title = _doc_title(soup)  # (the <title>: what the checks below read of the page as a whole)
    rec.stand_in = stand_in(html, page_text, doc_title, dated=rec.published is not None)
    rec.source = (line_source or fields.get("source") or metas.get("ContentSource") or None)
    for name in ("index_no", "category", "publisher", "doc_no", "subject"):
        setattr(rec, name, fields.get(name) or None)
    rec.written_on = parse_date(fields.get("written_on"), with_time=False)
    rec.signed_by, rec.signed_on = signature(lines)
    rec.contact = contact_line(lines)
    rec.kind = _kind(url, rec, container)
    if rec.kind == "article" and first != url:
        rec.kind, rec.part_of = "part", first  # page 2… of an article: its text belongs to the first page's
    elif rec.kind == "article":
        rec.parts = parts
        if (block := _metadata_box(container, box)) is not None:
            drop(block)
            lines = _body_lines(container)
        lines = _without_edge_links(lines, container, url)
        rec.body = "\n".join(lines)
        rec.doc_no = rec.doc_no or doc_no_line(lines)  # a lone 文号 line when no box labels one
        # A 公文's 成文日期 is its 落款 date (GB/T 9704): read there when no box labels it.
        rec.written_on = rec.written_on or (rec.signed_on if rec.doc_no else None)
    if rec.kind == "home":
        rec.title = doc_title or rec.title
    rec.soft_404 = looks_soft_404(doc_title, page_text, rec.body, dated=rec.published is not None,
                                  titled=headed and not SOFT_404_RE.search(rec.title or ""))
    if rec.kind not in ("list", "home") and kind_of(rec.title, rec.body):  # a report to read as data
        rec.annual = read_report(html, rec.title, rec.published, rec.body)
    return rec


def _first(*finders) -> Tag | None:  # noqa: ANN002 - functions returning an element or None
    """The first element found (an lxml element with no children is false: never test it with ``or``)."""
    for find in finders:
        el = find()
        if el is not None:
            return el
    return None


def _select(soup: Tag, selector: str | None) -> Tag | None:
    """The first element a profile's CSS selector picks (cssselect, as Scrapy's selectors)."""
    from lxml.cssselect import CSSSelector

    return next(iter(CSSSelector(selector, translator="html")(soup)), None) if selector else None


def _text_of(soup: Tag, selector: str | None) -> str | None:
    el = _select(soup, selector)
    return inline_text(el) if el is not None else None


def _meta_refresh(soup: Tag, base: str) -> str | None:
    from .links import clean_url

    for m in soup.iter("meta"):
        if not _REFRESH_HINT.search(m.get("http-equiv") or ""):
            continue
        match = _REFRESH.search(m.get("content") or "")
        if match:
            return clean_url(base, match.group(1).strip())
    return None


def _text_len(el: Tag) -> int:
    return len(_SPACE.sub("", plain_text(el)))


_DATE_CLASS = re.compile(r"(^|[-_])(date|time|pubtime|pubdate|fbsj|fbrq|fbrqi|publish[-_]?time|publish[-_]?date)$", re.I)


_WIDGET = re.compile(r"星期|周[一二三四五六日天]|今天|今日|[Tt]oday")


def _labelled_date(index: _Index) -> str | None:
    """A date in an element named for it (<span class="date">2024-03-04</span>), when no label says.

    Not a header's date widget (today's date, often with its weekday): that would make every
    crawl a new ``published``. A widget says 星期/今天, or sits above the page's main heading.
    """
    heading = next(iter(index.select("h1") or index.select("h2")), None)
    for key, elements in (*index.by_class.items(), *index.by_id.items()):
        if not _DATE_CLASS.search(key):
            continue
        for el in elements:
            text = normalize_inline(plain_text(el, " "))
            if len(text) > 60 or _WIDGET.search(text) or (heading is not None and _precedes(el, heading, index)):
                continue
            if date := parse_date(text):
                return date
    return None


# Founder (方正) CMS pages carry their fields in a comment: <!--enpproperty <date>2016-10-31 09:28:27.0</date>…-->
_FOUNDER_DATE = re.compile(r"<!--\s*enpproperty\b.*?<date>\s*([^<]+?)\s*</date>", re.S)


def _founder_date(html: str) -> str | None:
    m = _FOUNDER_DATE.search(html) if "enpproperty" in html else None
    return parse_date(m.group(1)) if m else None


_TAG = re.compile(r"<[^>]*>")


def _as_text(title: str) -> str:
    """A title is text: markup a CMS escaped into a meta tag (标题&lt;div&gt;——副标题&lt;/div&gt;) is not."""
    if "<" in title or "&" in title:
        title = _TAG.sub("", unescape(_TAG.sub("", title)))
    return title


BESIDE_TITLE_TEXTS = 8  # how many texts after the heading may hold its unlabelled date


def _date_beside(soup: Tag, title: str | None, container: Tag | None) -> str | None:
    """A date with no label standing just after the heading (<h1>…</h1><span>2019-09-05 11:10 …</span>).

    The last resort: labelled dates, dates in elements named for them and the page's meta tags
    come first. Not inside the body, and not a date widget (星期, 今天).
    """
    if not title:
        return None
    want, seen = no_space(title), None
    for raw, el, _ in texts(soup):
        if el.tag in ("title", "a", "option") or (seen is None and want[:2] not in raw):
            continue
        text = normalize_inline(raw)
        if not text:
            continue
        if seen is None:
            seen = 0 if no_space(text) == want else None
            continue
        seen += 1
        if seen > BESIDE_TITLE_TEXTS or (container is not None and (el is container or container in el.iterancestors())):
            return None
        if _ITEM_DATE.match(text) and not _WIDGET.search(text):  # (a text that opens with a date)
            return parse_date(text)
    return None


# What an article's pager says: 【1】【2】, 上一页 1/2 下一页, 共4页 …
_PAGER_TEXT = re.compile(r"(?:上一页|下一页|上页|下页|首页|尾页|末页|文章导航|共\s*\d+\s*页|第\s*\d+\s*页|\d+|[【】\[\]()（）/|<>«»\s.…·-])+")
# Page N of a multi-page article: the first page's name with _N or -N before its extension.
# (A name alone proves nothing — t20240101_1.html is a TRS article — so a page must also link to it.)
_NTH_PAGE = re.compile(r"^(.+?)[_-](\d{1,3})(\.[A-Za-z]{2,6})$")
_STEM_EXT = re.compile(r"^(.+?)(\.[A-Za-z]{2,6})$")


def _series(url: str, links: list[tuple[str, Tag]]) -> tuple[str, list[str]]:
    """The pages of an article split over several: (its first page, its pages 2…) — stem.html, then
    stem_1.html (TRS counts from 1) or stem_2.html, stem-3.html …; (url, []) for a page that is not one
    of them. A page named like page N of another is one only when it links back to that first page."""
    page = urlsplit(url)
    first, path, own = url, page.path, None
    if (m := _NTH_PAGE.match(page.path)) and int(m.group(2)) >= 1:
        stem_path = m.group(1) + m.group(3)
        back = next((link for link, _ in links if (t := urlsplit(link)).netloc == page.netloc
                     and t.path == stem_path and not t.query), None)
        if back is not None:
            first, path, own = back, stem_path, int(m.group(2))
    m = _STEM_EXT.match(path)
    if not m:
        return first, []
    stem, ext = m.groups()
    nth = re.compile(re.escape(stem) + r"[_-](\d{1,3})" + re.escape(ext) + "$")
    found: dict[int, str] = {}
    for link, _ in links:
        if stem not in link:  # (most links: no urlsplit)
            continue
        target = urlsplit(link)
        if target.netloc == page.netloc and not target.query and (n := nth.match(target.path)) and int(n.group(1)) >= 1:
            found.setdefault(int(n.group(1)), link)
    if own is None and not found:
        return url, []
    if own is not None:
        found.setdefault(own, url)
    return first, [found[n] for n in sorted(found)]


def _drop_pager(container: Tag, url: str, pages: set[str]) -> None:
    """Drop the article's own pager (【1】【2】…, 上一页 1/2 下一页) from its body."""
    for a in list(container.iter("a")):
        href = (a.get("href") or "").strip()
        if "#" in href or clean_url(url, href) not in pages:
            continue  # (a link within the page — a footnote's [1] — is the document's)
        block = None
        for el in (a, *a.iterancestors()):
            if el is container:
                break
            # (a link with no text is a picture of 下一页: the pager's too)
            if _PAGER_TEXT.fullmatch(normalize_inline(plain_text(el, " ")) or "1"):
                block = el
            else:
                break
        if block is not None and block.getparent() is not None:
            drop(block)


METADATA_BOX_MAX = 600  # the most text a 信息公开 box inside a body has (labels and values)
METADATA_BOX_AT = 80  # how far into the body's text it may begin


def _metadata_box(container: Tag, read: list[Tag]) -> Tag | None:
    """The 信息公开 box a template puts at the top of an article's body (div > ul > li, a second
    table): its fields are read, and text that fields were read from is not body."""
    inside = [el for el in read if el is not container and any(p is container for p in el.iterancestors())]
    if len(inside) < 2:
        return None
    box = None
    for level in zip(*(list(reversed([el, *el.iterancestors()])) for el in inside), strict=False):  # root down
        if any(x is not level[0] for x in level):
            break
        box = level[0]
    if box is None or box is container or not any(p is container for p in box.iterancestors()):
        return None
    text = no_space(plain_text(box))
    top = 0 <= no_space(plain_text(container)).find(text[:20]) <= METADATA_BOX_AT
    return box if len(text) <= METADATA_BOX_MAX and top else None


EDGE_LABEL = 10  # the most text a line of links at the body's edge may have beside them (相关资讯请关注:)


def _without_edge_links(lines: list[str], container: Tag | None, url: str) -> list[str]:
    """Drop lines at the body's start and end made of links to other pages (点击进入“专栏”>>,
    相关资讯请关注: 专区): pointers, not the document. Links to files (附件) stay."""
    if container is None:
        return lines
    names = sorted({no_space(inline_text(a)) for a in container.iter("a")
                    if (target := clean_url(url, a.get("href"))) and not attachment_type(target)
                    and no_space(inline_text(a))}, key=len, reverse=True)
    if not names:
        return lines

    ends = (*names, "：", ":", ">")

    def pointer(line: str) -> bool:  # links, and at most a short label before them or a 》 after
        text = rest = no_space(line)
        for name in names:
            rest = rest.replace(name, "")
        rest = rest.strip(">»:：-—|")
        return rest != text.strip(">»:：-—|") and len(rest) <= EDGE_LABEL and (not rest or text.endswith(ends))

    start, end = 0, len(lines)
    while start < end and pointer(lines[start]):
        start += 1
    while end > start and pointer(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _marked_body(html: str) -> Tag | None:
    """The body between CMS comment markers, when the page has them and they hold text."""
    m = _MARKERS.search(html)
    if not m or len(re.sub(r"<[^>]+>|\s", "", m.group(1))) < 10:
        return None
    return next(parse(f"<div>{m.group(1)}</div>").iter("div"), None)


class _Index:
    """One pass over the tree answering the simple selectors we use (#id, .class, tag)."""

    def __init__(self, soup: Tag) -> None:
        self.by_id: dict[str, list[Tag]] = {}
        self.by_class: dict[str, list[Tag]] = {}
        self.by_tag: dict[str, list[Tag]] = {}
        self.order: dict[Tag, int] = {}  # document order (the index holds every element, so each keeps its proxy)
        for el in soup.iter(etree.Element):
            self.order[el] = len(self.order)
            self.by_tag.setdefault(el.tag, []).append(el)
            ident = el.get("id")
            if ident:
                self.by_id.setdefault(ident, []).append(el)
            for cls in (el.get("class") or "").split():
                self.by_class.setdefault(cls, []).append(el)

    def drop(self, elements: list[Tag]) -> None:
        """Take elements out of the tree (``drop``) and out of the index, with what they hold."""
        gone: set[Tag] = set()
        for el in elements:
            if el not in gone:  # inside one dropped already: out of the tree with it
                gone.update(el.iter(etree.Element))
                drop(el)
        if not gone:
            return
        for table in (self.by_id, self.by_class, self.by_tag):
            for key, found in table.items():
                table[key] = [el for el in found if el not in gone]
        for el in gone:
            del self.order[el]

    def select(self, selector: str) -> list[Tag]:
        if selector.startswith("#"):
            return self.by_id.get(selector[1:], [])
        if selector.startswith("."):
            return self.by_class.get(selector[1:], [])
        return self.by_tag.get(selector, [])

    def select_all(self, selectors: list[str]) -> list[Tag]:
        seen: dict[int, Tag] = {}
        for sel in selectors:
            for el in self.select(sel):
                seen.setdefault(id(el), el)
        return list(seen.values())


_HEAD_PARTS = re.compile(r"title|info|date|source|tool|share|print|fontsize|attr", re.I)


def _content_len(el: Tag) -> int:
    """Text length without headings and the article's head/tool blocks (title, 来源/时间 line …)."""
    n = _text_len(el)
    for sub in el.iterdescendants(etree.Element):
        cls = " ".join((sub.get("class") or "").split()) + " " + (sub.get("id") or "")
        if sub.tag in ("h1", "h2", "h3") or (sub.tag in ("div", "span", "p") and _HEAD_PARTS.search(cls)
                                                 and _text_len(sub) < 200):
            n -= _text_len(sub)
    return n


def _body_container(soup: Tag, index: _Index) -> Tag | None:
    candidates = []
    for sel in BODY_SELECTORS:
        for el in index.select(sel):
            if _text_len(el) >= 10:
                candidates.append((el, _content_len(el)))
    if candidates:
        biggest = max(n for _, n in candidates)
        # The innermost container that still holds most of the text: #content inside .TRS_Editor
        # keeps the article and leaves the 责任编辑 line; a page-wide #content loses to its body.
        best = None
        for el, n in candidates:
            if n >= 0.8 * biggest and (best is None or _depth(el) > _depth(best[0])):
                best = (el, n)
        return best[0]
    return _densest(soup)


def _depth(el: Tag) -> int:
    return sum(1 for _ in el.iterancestors())


def _densest(soup: Tag) -> Tag | None:
    scores: dict[int, tuple[Tag, int]] = {}
    for p in soup.iter("p", "br"):
        parent = p.getparent()
        if parent is None:
            continue
        n = _text_len(p) if p.tag == "p" else 5
        key = id(parent)
        prev = scores.get(key, (parent, 0))
        scores[key] = (parent, prev[1] + n)
    if not scores:
        return None
    el, n = max(scores.values(), key=lambda t: t[1])
    return el if n >= 40 else None


def _body_lines(container: Tag) -> list[str]:
    text = normalize_block(element_text(container))
    lines = [_CJK_GAP.sub("", line) for line in text.split("\n")]
    return strip_boilerplate_lines([line for line in lines if line])


def _doc_title(soup: Tag) -> str | None:
    t = next(soup.iter("title"), None)
    return normalize_inline(plain_text(t)) if t is not None else None


def _title(soup: Tag, index: _Index, container: Tag | None) -> tuple[str | None, bool]:
    """The page's title, and whether a heading of the page states it (not only the <title>)."""
    doc_title = _doc_title(soup) or ""
    head = _TITLE_SPLIT.split(doc_title)[0].strip() if doc_title else ""
    compact_doc = doc_title.replace(" ", "")
    best = None
    fallback = None
    for sel in TITLE_SELECTORS:
        for el in index.select(sel):
            text = normalize_inline(inline_text(el))
            if not (4 <= len(text) <= 200) or next(el.iter("a"), None) is not None:
                continue
            if compact_doc and text.replace(" ", "") in compact_doc:
                if best is None or len(text) > len(best):
                    best = text
            elif fallback is None and container is not None and _precedes(el, container, index) and len(text) >= 6:
                fallback = text  # a heading above the body when <title> is only the site's name
    if best:
        return best, True
    if shown := _shown_title_part(soup, doc_title):
        return shown, True
    # A <title> with no separator is usually the site's name alone: prefer the heading then.
    if fallback and (not head or head == doc_title):
        return fallback, True
    return (head, False) if head else (fallback, fallback is not None)


_TITLE_CUT = re.compile(r"\s*(?:--|[-_|｜—–])\s*")


def _shown_title_part(soup: Tag, doc_title: str) -> str | None:
    """The part of <title> before a column or site suffix ('中华人民共和国监察法-纪检'), when the
    page shows that part as a text of its own (a heading no selector names: a table cell's span)."""
    prefixes = {normalize_inline(doc_title[:m.start()]) for m in _TITLE_CUT.finditer(doc_title) if m.start() >= 4}
    if not prefixes:
        return None
    heads = {p[:2] for p in prefixes}  # (normalising every text of the page costs more than this test)
    shown = [text for raw, el, _ in texts(soup)
             if el.tag not in ("title", "a", "option") and any(h in raw for h in heads)
             and (text := normalize_inline(raw)) in prefixes]
    return max(shown, key=len) if shown else None


def _precedes(a: Tag, b: Tag, index: _Index) -> bool:
    """True when ``a`` comes before ``b`` in document order (and is not inside it)."""
    if a not in index.order or b not in index.order:  # another tree (a body read between markers)
        return False
    return index.order[a] < index.order[b] and not any(p is a for p in b.iterancestors())


def _attachments(links: list[tuple[str, Tag]]) -> list[dict]:
    out, seen = [], set()
    for url, a in links:
        ext = attachment_type(url)
        if not ext or url in seen:
            continue
        seen.add(url)
        name = normalize_inline(inline_text(a)) or a.get("title") or url.rsplit("/", 1)[-1]
        out.append({"name": name, "url": url, "type": ext})
    return out


_ROW_TAGS = frozenset({"li", "tr", "dd", "dl"})


_DIGIT = re.compile(r"\d")


def _list_items(links: list[tuple[str, Tag]]) -> list[dict]:
    items, seen = [], set()
    for url, a in links:
        if url in seen or attachment_type(url):
            continue
        title = normalize_inline(a.get("title") or inline_text(a))
        if len(title) < 4:  # (a menu's 首页, English …: before its row's text is read)
            continue
        row = next((p for p in a.iterancestors() if p.tag in _ROW_TAGS), None)
        if row is None:
            continue
        text = inline_text(row)
        m = _ITEM_DATE.search(normalize_inline(text)) if _DIGIT.search(text) else None
        if not m and row.getparent() is not None and row.tag == "dd":
            m = _ITEM_DATE.search(normalize_inline(inline_text(row.getparent()))[:300])
        if not m:
            continue
        seen.add(url)
        items.append({"title": title, "url": url, "date": parse_date(m.group(0), with_time=False)})
    return items


def _kind(url: str, rec: PageRecord, container: Tag | None) -> str:
    path = urlsplit(url).path
    if path in ("", "/", "/index.html", "/index.htm", "/index.shtml"):
        return "home"
    if len(rec.links) >= 100 and not (rec.index_no or rec.doc_no) and re.search(r"/(index|home|default)\.\w+$", path):
        return "home"  # a portal front page deeper in the tree (/cn/view/pages/index/index.html)
    body_len = len(rec.body)
    if _LIST_PATH.search(path) and not (rec.index_no or rec.doc_no) and (rec.items or body_len < 500):
        return "list"
    if len(rec.items) >= 3 and (_LIST_PATH.search(path) or body_len < 200 * len(rec.items)):
        if not (rec.index_no or rec.doc_no) or len(rec.items) >= 8:
            return "list"
    if container is not None and body_len >= 20 and rec.title:
        return "article"
    return "other"
