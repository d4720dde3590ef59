"""Find every page of a paginated list, in all the forms real disclosure sites use.

A cascade, cheapest first; each stage names the hint it used, so coverage can say what a list
declared and how it was followed:

1. ``createPageHTML(13, 0, "index", "html")`` with literal arguments (TRS).
2. The same call with variables, arithmetic or an ``if`` that caps the count — the page's inline
   scripts are run in the sandbox (pipelines/jsbox.py) with a recording stub of the function.
3. Text hints — ``共13页``, ``第1/13页``, ``共1071条`` — and a 尾页/last-page link, filled in on the
   URL pattern the list's own links show (``index_N.html``, ``?page=N``, ``list_N.shtml`` …).
4. ``<select onchange>`` page jumps, ``javascript:goPage(n)`` links (run in the sandbox).
5. Hanweb's jpage: record lists in ``<script type="text/xml">``, later pages by POST to
   ``dataproxy.jsp?startrecord=&endrecord=&perpage=`` with the column's parameters.
6. Guangdong's gkmlpt: the catalogue page names its site id; its JSON API lists everything.

What a page declares (pages, items) is kept even when it cannot all be followed: that is what the
coverage report compares with what the crawl reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

MAX_PAGES = 500  # per list series: a page that declares more is capped, with a warning

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_SRC = re.compile(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", re.I)
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_LITERAL = re.compile(r"""^\s*(?:(-?\d+)|["']([\w\-.]*)["'])\s*$""")
_PAGING = re.compile(r"createPage|goPage|gotoPage|toPage|turnPage|jumpPage|countPage|totalPage|pageCount|"
                     r"pageIndex|pageNo|currentPage|nextPage|jpage|pagination|分页|下一页|尾页", re.I)
_TOTAL_PAGES = re.compile(r"共\s*(\d{1,6})\s*页|第\s*\d+\s*/\s*(\d{1,6})\s*页|总页数\s*[:：]?\s*(\d{1,6})|"
                          r"\d+\s*/\s*(\d{1,6})\s*页")
_TOTAL_ITEMS = re.compile(r"共\s*(\d{1,7})\s*条|总(?:记录|条)数\s*[:：]?\s*(\d{1,7})|Math\.ceil\(\s*(\d{1,7})\s*/\s*\d+|"
                          r"totalRecord\s*[:=]\s*['\"]?(\d{1,7})|recordCount\s*[:=]\s*['\"]?(\d{1,7})")
_PER_PAGE = re.compile(r"每页\s*(\d{1,4})\s*条|Math\.ceil\(\s*\d+\s*/\s*(\d{1,4})|perPage\s*[:=]\s*['\"]?(\d{1,4})|"
                       r"pageSize\s*[:=]\s*['\"]?(\d{1,4})")
_LAST_LINK = re.compile(r"""<a\b[^>]*href\s*=\s*["']([^"'#]+)["'][^>]*>\s*(?:<[^>]+>\s*)*(?:尾\s*页|末\s*页|最后一页|&gt;&gt;|»)""",
                        re.I)
# href="…" wherever it stands (an attribute, a script's location.href = '…'), after no word character.
# (The \b is tested on each match, not in the pattern: in it, it made the engine try every position
# of the page, 9 ms on a 413 KB page instead of 3.)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)


def _hrefs(html: str) -> list[str]:
    return [m.group(1) for m in _HREF.finditer(html)
            if not m.start() or not (html[m.start() - 1].isalnum() or html[m.start() - 1] == "_")]
_JS_CALL = re.compile(r"""(?:href\s*=\s*["']javascript:|onclick\s*=\s*["'])\s*([A-Za-z_$][\w$.]*\s*\([^"')]*\))""", re.I)


def lower_bytes(text: str) -> bytes:
    """``text`` lower-cased for literal tests: its UTF-8 bytes (a str of Chinese lower-cases slowly)."""
    return text.encode("utf-8", "surrogatepass").lower()


def _js_calls(html: str) -> list[str]:
    """``javascript:f(…)`` hrefs and onclick calls. The pattern is case-insensitive and tried at every
    position (9 ms on a 413 KB page): run only on a page that has one of its two words."""
    low = lower_bytes(html)
    return _JS_CALL.findall(html) if b"javascript:" in low or b"onclick" in low else []
_SELECT = re.compile(r"<select\b[^>]*onchange[^>]*>(.*?)</select>", re.S | re.I)
_OPTION = re.compile(r"""<option\b[^>]*value\s*=\s*["']([^"']+)["']""", re.I)
_NUMBERED = re.compile(r"^(?P<pre>.*?[_\-/=])(?P<n>\d{1,5})(?P<post>\.\w+)?$")
_JPAGE_GROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S | re.I)
_GKMLPT_SID = re.compile(r"""\bSID\s*:\s*['"]?(\d+)""")


@dataclass
class Pager:
    """What a list page says about its series, and the requests that reach the rest of it."""

    pages: list[str] = field(default_factory=list)  # later pages, GET
    posts: list[tuple[str, str]] = field(default_factory=list)  # later pages by POST: (url, form body)
    scripts: list[str] = field(default_factory=list)  # same-host scripts the pager needs, to fetch
    declared_pages: int | None = None
    declared_items: int | None = None
    per_page: int | None = None
    hints: list[str] = field(default_factory=list)  # which stages found something
    warnings: list[str] = field(default_factory=list)  # what could not be followed, and why
    # Pages a capped list declares but never links (1,071 items, 20 pages of 20 published):
    # (URL template with {n}, first unlinked n, last declared n), probed until the first miss.
    probe: tuple[str, int, int] | None = None
    url: str | None = None  # the page this was read from

    @property
    def unfollowed(self) -> bool:
        """The page's scripts talk about paging, yet nothing led to another page."""
        return "paging-script" in self.hints and not (self.pages or self.posts or self.scripts)

    def to_dict(self) -> dict:
        return {"declared_pages": self.declared_pages, "declared_items": self.declared_items,
                "per_page": self.per_page, "hints": self.hints, "warnings": self.warnings,
                "pages": len(self.pages) + len(self.posts), "probe": list(self.probe) if self.probe else None,
                "continues": self.continues()}

    def continues(self) -> list[str]:
        """Other list series that hold the rest of this one (a jpage column's POST answers, a
        gkmlpt catalogue's API): coverage counts them as this series."""
        from .links import series_key

        own = series_key(self.url) if self.url else None
        keys = {series_key(f"{u}{'&' if '?' in u else '?'}__wb_method=post&{b}") for u, b in self.posts}
        keys |= {series_key(u) for u in self.pages if "/gkmlpt/api/" in u}
        return sorted(k for k in keys if k != own)


def inline_scripts(html: str, base: str) -> tuple[list[str], list[str]]:
    """(inline script bodies in order, same-host external script URLs)."""
    inline, external = [], []
    host = urlsplit(base).netloc
    for attrs, body in _SCRIPT.findall(html):
        if "text/xml" in attrs.lower() or "template" in attrs.lower():
            continue
        m = _SRC.search(attrs)
        if m:
            url = urljoin(base, unescape(m.group(1)))
            if urlsplit(url).netloc == host:
                external.append(url)
        elif body.strip():
            inline.append(body)
    return inline, external


def discover(html: str, url: str, *, run_scripts: bool = True, max_pages: int = MAX_PAGES,
             extra_scripts: list[str] | None = None,
             scripts_of_page: tuple[list[str], list[str]] | None = None) -> Pager:
    """Every other page of the list ``url`` is a page of, by the cascade above. ``extra_scripts``:
    the same-host scripts the page loads, fetched (they run before the page's own);
    ``scripts_of_page``: ``inline_scripts(html, url)`` when the caller has it already."""
    pager = Pager(url=url)
    text = _visible_text(html)
    inline, external = scripts_of_page or inline_scripts(html, url)
    inline = [*(extra_scripts or []), *inline]
    scripts = "\n".join(inline)
    calls = _js_calls(html)
    if _PAGING.search(scripts) or calls:
        pager.hints.append("paging-script")
    _declared(pager, text, scripts)
    _create_page_html(pager, html, url, inline, run_scripts)
    _text_hints(pager, html, url)
    _select_jumps(pager, html, url)
    if run_scripts:
        _script_links(pager, html, url, inline, [] if extra_scripts else external, calls)
    _jpage(pager, html, url)
    _gkmlpt(pager, html, url)
    _cap(pager, max_pages)
    pager.pages = [p for p in dict.fromkeys(pager.pages) if p != url]
    return pager


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", _SCRIPT.sub(" ", html))


def _first(pattern: re.Pattern[str], text: str) -> int | None:
    for m in pattern.finditer(text):
        for g in m.groups():
            if g:
                return int(g)
    return None


def _declared(pager: Pager, text: str, scripts: str) -> None:
    pager.declared_pages = _first(_TOTAL_PAGES, text)
    pager.declared_items = _first(_TOTAL_ITEMS, text) or _first(_TOTAL_ITEMS, scripts)
    pager.per_page = _first(_PER_PAGE, text) or _first(_PER_PAGE, scripts)


def _trs_pages(url: str, count: int, name: str, ext: str) -> list[str]:
    return [urljoin(url, f"{name}.{ext}" if i == 0 else f"{name}_{i}.{ext}") for i in range(count)]


def _create_page_html(pager: Pager, html: str, url: str, inline: list[str], run_scripts: bool) -> None:
    calls = [m.group(1) for m in _CREATE_PAGE.finditer("\n".join(inline))]
    if not calls:
        return
    found = []
    code = "\n".join(inline)
    resolved = False
    for args in calls:
        values = [_literal(a) if _LITERAL.match(a) else _assigned_once(code, a.strip()) for a in args.split(",")]
        if values and all(v is not None for v in values):
            found.append(values)
            resolved = resolved or not all(_LITERAL.match(a) for a in args.split(","))
    if found:
        pager.hints.append("createPageHTML (variables)" if resolved else "createPageHTML")
    elif run_scripts:
        from .jsbox import run_scripts as run

        result = run(inline, url)
        found = [args for name, args in result.calls if name == "createPageHTML"]
        if result.error:
            pager.warnings.append(f"pager script stopped: {result.error}")
        if found:
            pager.hints.append("createPageHTML (script)")
    for args in found:
        numbers = [a for a in args if isinstance(a, int | float)]
        strings = [a for a in args if isinstance(a, str)]
        if not numbers or len(strings) < 2:
            continue
        count = int(numbers[0])
        if len(numbers) >= 3 and not pager.declared_items:
            pager.declared_items = int(numbers[2])
        pager.declared_pages = max(pager.declared_pages or 0, count)
        pager.pages += _trs_pages(url, min(count, MAX_PAGES), strings[-2], strings[-1])
        needed = -(-pager.declared_items // pager.per_page) if pager.declared_items and pager.per_page else 0
        if needed > count:  # a capped list: more items declared than its published pages hold
            pager.declared_pages = needed
            pager.probe = (urljoin(url, f"{strings[-2]}_{{n}}.{strings[-1]}"), count, min(needed, MAX_PAGES) - 1)


def _literal(arg: str) -> int | str:
    m = _LITERAL.match(arg)
    return int(m.group(1)) if m.group(1) is not None else m.group(2)


def _assigned_once(code: str, name: str) -> int | str | None:
    """The value of ``var name = <literal>`` when the scripts assign ``name`` that once and only then
    (a second assignment — ``if (n > 20) n = 20`` — needs the sandbox)."""
    if not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        return None
    assignments = re.findall(rf"(?<![\w$.]){re.escape(name)}\s*=(?!=)\s*([^;\n]*)", code)
    if len(assignments) != 1:
        return None
    value = re.sub(r"\s*//.*$", "", assignments[0]).strip()
    return _literal(value) if _LITERAL.match(value) else None


def _series_links(html: str, url: str) -> list[tuple[str, int, str]]:
    """Links that look like other pages of this list: (template with {n}, n, url)."""
    out = []
    base = urlsplit(url)
    for href in _hrefs(html):
        if "?" not in href and not _NUMBERED.match(href.rsplit("/", 1)[-1]):
            continue  # neither a page number in the query nor one at the end of the file name
        full = urljoin(url, unescape(href))
        parts = urlsplit(full)
        if parts.netloc != base.netloc or full.startswith("javascript"):
            continue
        query = parse_qsl(parts.query, keep_blank_values=True)
        for i, (k, v) in enumerate(query):
            if v.isdigit() and re.fullmatch(r"(?i)page|pageno|pagenum|pageindex|curpage|currentpage|p|pn|page_?num", k):
                tq = [(kk, "{n}" if j == i else vv) for j, (kk, vv) in enumerate(query)]
                out.append((urlunsplit(parts._replace(query=urlencode(tq, safe="{}"))), int(v), full))
        dirname = parts.path.rsplit("/", 1)[0]
        if dirname == base.path.rsplit("/", 1)[0] and not parts.query:
            m = _NUMBERED.match(parts.path.rsplit("/", 1)[-1])
            if m and m.group("pre")[-1] in "_-":
                tmpl = urlunsplit(parts._replace(path=f"{dirname}/{m.group('pre')}{{n}}{m.group('post') or ''}"))
                out.append((tmpl, int(m.group("n")), full))
    return out


def _text_hints(pager: Pager, html: str, url: str) -> None:
    """共N页 / 第k/N页 / 尾页 filled in on the URL pattern of the list's own page links."""
    last = None
    m = _LAST_LINK.search(html)
    if m:
        last = urljoin(url, unescape(m.group(1)))
    links = _series_links(html, url)
    if not links:
        if pager.declared_pages and pager.declared_pages > 1 and not pager.pages and _is_trs_index(url):
            pager.hints.append("page-count text")
            pager.pages += _trs_pages(url, min(pager.declared_pages, MAX_PAGES), "index", url.rsplit(".", 1)[-1])
        return
    templates: dict[str, list[int]] = {}
    for tmpl, n, _ in links:
        templates.setdefault(tmpl, []).append(n)
    tmpl, numbers = max(templates.items(), key=lambda kv: len(kv[1]))
    top = max(numbers)
    if last:
        for t, n, full in links:
            if full == last and t == tmpl:
                top = max(top, n)
                pager.hints.append("last-page link")
    if pager.declared_pages and pager.probe is None:  # a capped list's unlinked pages are probed instead
        # index_N.html numbers pages from 0 (index.html is the first): the last is N-1.
        zero_based = "_{n}." in tmpl or tmpl.endswith("_{n}")
        top = max(top, pager.declared_pages - 1 if zero_based else pager.declared_pages)
        pager.hints.append("page-count text")
    start = 1 if min(numbers) >= 1 else 0
    pager.pages += [tmpl.replace("{n}", str(n)) for n in range(start, min(top, MAX_PAGES) + 1)]


def _is_trs_index(url: str) -> bool:
    return bool(re.search(r"/index\.(s?html?)$", urlsplit(url).path))


def _select_jumps(pager: Pager, html: str, url: str) -> None:
    for block in _SELECT.findall(html):
        values = [urljoin(url, unescape(v)) for v in _OPTION.findall(block) if not v.isdigit() and "." in v]
        if values:
            pager.hints.append("select jump")
            pager.pages += values


def _script_links(pager: Pager, html: str, url: str, inline: list[str], external: list[str],
                  js_calls: list[str]) -> None:
    """``javascript:goPage(n)`` links and pagers written by script: run them in the sandbox."""
    calls = list(dict.fromkeys(c for c in js_calls if not c.startswith(("createPageHTML", "window.open"))))
    if "paging-script" not in pager.hints or pager.pages or pager.posts:
        return
    calls = _extrapolate(calls, pager.declared_pages)
    from .jsbox import run_scripts as run

    result = run(inline, url, calls=calls)
    if result.error:
        pager.warnings.append(f"pager script stopped: {result.error}")
    written = [urljoin(url, unescape(h)) for h in _hrefs(result.html)]
    written += [urljoin(url, n) for n in result.navigations]
    written = [w for w in written if urlsplit(w).scheme in ("http", "https") and w != url]
    if written:
        pager.hints.append("script pager")
        pager.pages += written
    elif calls or "paging-script" in pager.hints:
        # The functions may live in a script the page loads: fetch it (same host) and run again.
        names = {c.split("(", 1)[0] for c in calls}
        if names and external and not any(re.search(rf"function\s+{re.escape(n)}\b|{re.escape(n)}\s*=\s*function", s)
                                          for n in names for s in inline):
            pager.scripts = external[:3]
            pager.hints.append("pager script fetched")


def _extrapolate(calls: list[str], declared: int | None) -> list[str]:
    """goPage(2) … goPage(13) on the page: every page number up to the last, not only those shown."""
    numbered: dict[str, list[int]] = {}
    for c in calls:
        m = re.fullmatch(r"([\w$.]+)\s*\(\s*['\"]?(\d+)['\"]?\s*\)", c)
        if m:
            numbered.setdefault(m.group(1), []).append(int(m.group(2)))
    out = list(calls)
    for name, numbers in numbered.items():
        top = max(numbers + [declared or 0])
        out += [f"{name}({n})" for n in range(min(numbers), min(top, MAX_PAGES) + 1)]
    return list(dict.fromkeys(out))


def _jpage(pager: Pager, html: str, url: str) -> None:
    """Hanweb jpage: later records by POST to dataproxy.jsp with the column's parameters."""
    m = _JPAGE_GROUP.search(html)
    if not m or pager.declared_items is None:
        return
    hrefs = _hrefs(m.group(1))
    if not hrefs:
        return
    proxy = urlsplit(urljoin(url, unescape(hrefs[0])))
    params = [(k, v) for k, v in parse_qsl(proxy.query, keep_blank_values=True) if k != "page"]
    per_page = pager.per_page or 15
    group = per_page * int(_first(re.compile(r"groupSize\s*[:=]\s*['\"]?(\d{1,3})"), html) or 3)
    body = urlencode(params)
    total = pager.declared_items
    pager.per_page = group  # a page of this series is a group of records, fetched in one request
    pager.declared_pages = -(-total // group)
    for start in range(group + 1, min(total, MAX_PAGES * per_page) + 1, group):
        query = urlencode([("startrecord", start), ("endrecord", min(start + group - 1, total)),
                           ("perpage", per_page)])
        pager.posts.append((urlunsplit(proxy._replace(query=query)), body))
    pager.hints.append("jpage")


def _gkmlpt(pager: Pager, html: str, url: str) -> None:
    """A gkmlpt catalogue page: its JSON API lists every document of the site's catalogue."""
    parts = urlsplit(url)
    if "/gkmlpt/" not in parts.path:
        return
    m = _GKMLPT_SID.search(html)
    if not m:
        return
    prefix = parts.path.split("/gkmlpt/", 1)[0]
    pager.pages.append(urlunsplit((parts.scheme, parts.netloc, f"{prefix}/gkmlpt/api/all/0",
                                   f"page=1&sid={m.group(1)}", "")))
    pager.hints.append("gkmlpt api")


def _cap(pager: Pager, max_pages: int) -> None:
    for name, value in (("pages", pager.declared_pages),):
        if value and value > max_pages:
            pager.warnings.append(f"declares {value:,} {name}: only {max_pages} followed (GOVARCHIVE_MAX_LIST_PAGES)")
    if len(pager.pages) > max_pages:
        pager.pages = pager.pages[:max_pages]
    if len(pager.posts) > max_pages:
        pager.posts = pager.posts[:max_pages]


_PAGE_KEYS = ("page", "pageNo", "pageno", "pageNum", "pagenum", "pageIndex", "pageindex", "curPage", "p", "pn")
_TOTAL_KEYS = ("total", "totalCount", "total_count", "totalNum", "totalRecord", "totalElements", "recordCount")
_PAGES_KEYS = ("pages", "totalPage", "totalPages", "total_page", "pageCount", "page_count", "pageTotal")
_SIZE_KEYS = ("size", "pageSize", "page_size", "limit", "perPage", "per_page", "rows")


def json_pages(data: object, url: str, items: int, max_pages: int = MAX_PAGES) -> Pager:
    """A JSON list API's other pages: the page number in its URL, the total in its answer."""
    pager = Pager(url=url)
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    key = next((k for k, v in query if k in _PAGE_KEYS and v.isdigit()), None)
    meta = _json_meta(data)
    pages = _int(meta, _PAGES_KEYS)
    total = _int(meta, _TOTAL_KEYS)
    current = int(dict(query)[key]) if key else None
    # Without a size field, the first page's item count is the page size (a later page may be short).
    size = _int(meta, _SIZE_KEYS) or (items if current in (0, 1) and items else None)
    if pages is None and total is not None and size:
        pages = -(-total // size)
    pager.declared_items, pager.declared_pages, pager.per_page = total, pages, size
    if key is None or not pages:
        return pager
    first = 0 if current == 0 else 1
    last = pages - 1 if first == 0 else pages
    if pages > max_pages:
        pager.warnings.append(f"declares {pages:,} pages: only {max_pages} followed (GOVARCHIVE_MAX_LIST_PAGES)")
        last = first + max_pages - 1
    pager.pages = [urlunsplit(parts._replace(query=urlencode([(k, str(n) if k == key else v) for k, v in query])))
                   for n in range(first, last + 1) if n != current]
    pager.hints.append("json api")
    return pager


def _json_meta(data: object) -> dict:
    """The paging numbers wherever the answer keeps them: the top level, or dicts inside it
    (``data``, ``page``, ``pageInfo`` …), nearest first."""
    merged: dict = {}
    level = [data]
    for _ in range(3):
        nested = []
        for node in level:
            if isinstance(node, dict):
                for k, v in node.items():
                    if isinstance(v, dict):
                        nested.append(v)
                    else:
                        merged.setdefault(k, v)
        level = nested
    return merged


def _int(meta: dict, keys: tuple[str, ...]) -> int | None:
    for k in keys:
        v = meta.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            return v
        if isinstance(v, str) and v.isdigit():
            return int(v)
    return None


_FETCHES = re.compile(r"\bfetch\s*\(|XMLHttpRequest|\$\.(?:ajax|get|post|getJSON)\s*\(|axios\b|new\s+Vue\b|"
                      r"createApp\s*\(|ReactDOM|angular\.module|\$http\b", re.I)
# A word of each of _FETCHES' forms, lower-cased: a script with none of them fetches nothing.
_FETCH_WORDS = (b"fetch", b"xmlhttprequest", b"$.", b"axios", b"vue", b"createapp", b"reactdom", b"angular", b"$http")
_NOT_DOCUMENT = re.compile(r"(/|/(index|default|list|home)[\w-]*\.\w+)$", re.I)


def wants_browser(html: str, url: str, links: list[str],
                  scripts_of_page: tuple[list[str], list[str]] | None = None) -> tuple[bool, bool]:
    """(the page's scripts fetch data, and it links no document as well): a page of the second kind
    has its list only in a browser (rendered then, see crawler/render.py)."""
    inline, external = scripts_of_page or inline_scripts(html, url)
    scripts = "\n".join(inline)
    low = lower_bytes(scripts)
    fetches = any(w in low for w in _FETCH_WORDS) and _FETCHES.search(scripts)
    if not fetches and not any(
            re.search(r"vue|react|angular|app\.[0-9a-f]+\.js", u, re.I) for u in external):
        return False, False
    host = urlsplit(url).netloc
    documents = [u for u in links if urlsplit(u).netloc == host and not _NOT_DOCUMENT.search(urlsplit(u).path)]
    return True, len(documents) < 3
