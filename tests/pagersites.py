"""Small sites, one per way real disclosure sites paginate their lists (tests/test_discovery.py).

Each holds N documents in one column whose list shows PER items a page; the rest of the column
is reachable only through the pager form under test. The markup follows real templates: TRS
``createPageHTML`` (literal, with variables, with arithmetic, capped as on the Guangdong 集约化
platform), 共N页 text on the ``index_N.html`` convention, ``?page=N`` lists with a 尾页 link,
``<select onchange>`` jumps, ``javascript:goPage(n)`` with the function inline or in a pager
script, Hanweb jpage (``<script type="text/xml">`` records, later groups by POST to
``dataproxy.jsp``), the gkmlpt JSON API, and a list filled in the browser from a JSON API.
"""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qs, urlsplit

from archive.demosite import Resource, SiteServer

PER = 5


def article(i: int) -> bytes:
    title = f"关于做好第{i}批政务公开事项的通知"
    return (f'<html><head><meta charset="utf-8"><title>{title}_某区人民政府</title></head><body>'
            f'<h1>{title}</h1><div class="info">发布时间：2024-03-{i % 28 + 1:02d} 来源：某区</div>'
            f'<div class="TRS_Editor"><p>为做好第{i}批政务公开工作，现将有关事项通知如下，共涉及{i * 3}家单位。</p>'
            f"<p>某区人民政府办公室</p></div></body></html>").encode()


def doc_path(i: int) -> str:
    return f"/col/c1/202403/t20240301_{i}.html"


def item(i: int) -> str:
    return (f'<li><a href="{doc_path(i)}" title="关于做好第{i}批政务公开事项的通知">关于做好第{i}批政务公开事项的通知</a>'
            f'<span class="date">2024-03-{i % 28 + 1:02d}</span></li>')


def page(body: str, scripts: str = "", head: str = "") -> bytes:
    return (f'<html><head><meta charset="utf-8"><title>通知公告_某区人民政府</title>{head}</head><body>'
            f'<div class="list"><ul>{body}</ul></div>{scripts}</body></html>').encode()


def chunks(n: int) -> list[list[int]]:
    return [list(range(k, min(k + PER, n))) for k in range(0, n, PER)]


def trs(n: int, script: callable, extra: dict | None = None) -> dict[str, Resource]:  # noqa: ANN001
    """index.html, index_1.html … whose pager is ``script(count, current)``."""
    pages = chunks(n)
    routes = {}
    for k, ids in enumerate(pages):
        name = "index.html" if k == 0 else f"index_{k}.html"
        routes[f"/col/c1/{name}"] = Resource(page("".join(map(item, ids)), script(len(pages), k),
                                                   head='<script src="/js/page.js"></script>'))
    routes.update(extra or {})
    return routes


PAGE_JS = b"""function createPageHTML(count, current, name, ext) {
  for (var i = 0; i < count; i++) document.write("<a href='" + (i ? name + "_" + i : name) + "." + ext + "'>" + (i + 1) + "</a>");
}"""


def site(form: str, n: int = 23) -> tuple[dict[str, Resource], list[str], str]:
    """(routes, every document's path, the start path) of a site paginated in ``form``."""
    docs = [doc_path(i) for i in range(n)]
    routes = {d: Resource(article(i)) for i, d in enumerate(docs)}
    routes["/js/page.js"] = Resource(PAGE_JS, "application/javascript")
    start = "/col/c1/index.html"
    if form == "literal":
        routes.update(trs(n, lambda c, k: f'<script>createPageHTML({c}, {k}, "index", "html");</script>'))
    elif form == "variables":
        routes.update(trs(n, lambda c, k: f"<script>var countPage = {c}//共多少页\nvar currentPage = {k};\n"
                                          f'createPageHTML(countPage, currentPage, "index", "html");</script>'))
    elif form == "arithmetic":
        routes.update(trs(n, lambda c, k: f"<script>var total = {n}, per = {PER};\nvar pages = Math.ceil(total / per);"
                                          f"\nvar cur = {k};\nvar prefix = 'ind' + 'ex';\n"
                                          f"createPageHTML(pages, cur, prefix, 'ht' + 'ml');</script>"))
    elif form == "capped":
        # Guangdong 集约化: more declared than the published pages hold; the rest only in sitemap.xml.
        cap = 2
        routes.update(trs(n, lambda c, k: f"<script>var totalPage = Math.ceil({n}/{PER}); var pages_limit={cap};\n"
                                          f"if (totalPage > pages_limit) totalPage = pages_limit;\nvar pageCurrent = {k};\n"
                                          f'createPageHTML(totalPage, pageCurrent, "index", "html");</script>'))
        for k in range(cap, len(chunks(n))):
            del routes[f"/col/c1/index_{k}.html"]
        locs = "".join(f"<url><loc>http://HOST{d}</loc></url>" for d in docs)
        routes["/sitemap.xml"] = Resource(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                          f'sitemap/0.9">{locs}</urlset>'.encode(), "application/xml")
    elif form == "capped-unlinked":
        # Capped as above, but the pages past the cap are served, linked from nowhere: probed.
        routes.update(trs(n, lambda c, k: f"<script>var totalPage = Math.ceil({n}/{PER}); var pages_limit=2;\n"
                                          f"if (totalPage > pages_limit) totalPage = pages_limit;\n"
                                          f'createPageHTML(totalPage, {k}, "index", "html");</script>'))
    elif form == "count-text":
        pages = chunks(n)
        for k, ids in enumerate(pages):
            nav = f'<div class="page">共{len(pages)}页 当前第{k + 1}页 <a href="index_1.html">下一页</a></div>'
            routes[f"/col/c1/{'index.html' if k == 0 else f'index_{k}.html'}"] = Resource(
                page("".join(map(item, ids)) + nav))
    elif form == "query":
        pages = chunks(n)
        start = "/col/c1/list.jsp?col=1"
        for k, ids in enumerate(pages):
            nav = (f'<div>第{k + 1}/{len(pages)}页 <a href="list.jsp?col=1&page={k + 2}">下一页</a> '
                   f'<a href="list.jsp?col=1&page={len(pages)}">尾页</a></div>')
            routes[f"/col/c1/list.jsp?col=1&page={k + 1}"] = Resource(page("".join(map(item, ids)) + nav))
        routes[start] = routes["/col/c1/list.jsp?col=1&page=1"]
    elif form == "select":
        pages = chunks(n)
        options = "".join(f'<option value="{"index.html" if k == 0 else f"index_{k}.html"}">{k + 1}</option>'
                          for k in range(len(pages)))
        for k, ids in enumerate(pages):
            routes[f"/col/c1/{'index.html' if k == 0 else f'index_{k}.html'}"] = Resource(
                page("".join(map(item, ids)) + f'<select onchange="location.href=this.value">{options}</select>'))
    elif form in ("gopage", "gopage-external"):
        pages = chunks(n)
        fn = ('function goPage(n) { window.location.href = "list_" + n + ".shtml"; }')
        inline = f"<script>{fn}</script>" if form == "gopage" else '<script src="/js/pager.js"></script>'
        routes["/js/pager.js"] = Resource(fn.encode(), "application/javascript")
        start = "/col/c1/list_1.shtml"
        for k, ids in enumerate(pages):
            nav = (f'<a href="javascript:goPage({k + 2})">下一页</a> '
                   f'<a href="javascript:goPage({len(pages)})">尾页</a>')
            routes[f"/col/c1/list_{k + 1}.shtml"] = Resource(page("".join(map(item, ids)) + nav, inline))
    elif form == "jpage":
        routes.update(_jpage(n))
    elif form == "gkmlpt":
        start = "/gkmlpt/index"
        routes[start] = Resource(page("", "<script>window.gkmlpt = { SID: '755031', NAME: '某区' };</script>"))
        size = 10
        for k in range(-(-n // size)):
            arts = [{"title": f"关于做好第{i}批政务公开事项的通知", "url": f"http://HOST{docs[i]}",
                     "create_time": 1709251200 + i * 86400} for i in range(k * size, min(n, (k + 1) * size))]
            routes[f"/gkmlpt/api/all/0?page={k + 1}&sid=755031"] = Resource(
                json.dumps({"articles": arts, "total": n, "page": k + 1}).encode(), "application/json")
    elif form == "browser":
        # Nothing in the HTML: a script fetches the first page of a JSON API; the rest behind 下一页.
        start = "/col/c1/index.html"
        script = ("<script>fetch('/api/list?page=1&size=10').then(function (r) { return r.json(); })"
                  ".then(function (d) { var ul = document.getElementById('list');"
                  " d.rows.forEach(function (a) { var li = document.createElement('li');"
                  " li.innerHTML = '<a href=\"' + a.link + '\">' + a.title + '</a><span>' + a.date + '</span>';"
                  " ul.appendChild(li); }); });</script>")
        routes[start] = Resource(f'<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
                                 f'<ul id="list"></ul><button id="next">下一页</button>{script}</body></html>'.encode())
        size = 10
        for k in range(-(-n // size)):
            rows = [{"title": f"关于做好第{i}批政务公开事项的通知", "link": docs[i], "date": f"2024-03-{i % 28 + 1:02d}"}
                    for i in range(k * size, min(n, (k + 1) * size))]
            routes[f"/api/list?page={k + 1}&size={size}"] = Resource(
                json.dumps({"rows": rows, "total": n, "pageNum": k + 1}).encode(), "application/json")
    elif form == "browser-xhr":
        # An XMLHttpRequest app whose answer nests its rows and paging (data.list, data.pageInfo).
        start = "/col/c1/list.html"
        script = ("<script>var x = new XMLHttpRequest(); x.open('GET', '/api/search?pageNo=1&pageSize=8');"
                  "x.onload = function () { var d = JSON.parse(x.responseText).data, h = '';"
                  " d.list.forEach(function (a) { h += '<li><a href=\"' + a.url + '\">' + a.title + '</a></li>'; });"
                  " document.getElementById('app').innerHTML = '<ul>' + h + '</ul>'; }; x.send();</script>")
        routes[start] = Resource(f'<html><head><meta charset="utf-8"><title>政策文件</title></head><body>'
                                 f'<div id="app">加载中…</div>{script}</body></html>'.encode())
        size = 8
        pages = -(-n // size)
        for k in range(pages):
            rows = [{"title": f"关于做好第{i}批政务公开事项的通知", "url": docs[i], "pubDate": f"2024-03-{i % 28 + 1:02d}"}
                    for i in range(k * size, min(n, (k + 1) * size))]
            routes[f"/api/search?pageNo={k + 1}&pageSize={size}"] = Resource(json.dumps(
                {"code": 0, "data": {"list": rows, "pageInfo": {"pageNum": k + 1, "pages": pages}}}).encode(),
                "application/json")
    else:
        raise ValueError(form)
    return routes, docs, start


def _jpage(n: int) -> dict[str, Resource]:
    """A Hanweb column: the first group of records inline, the others by POST to dataproxy.jsp."""
    params = "col=1&appid=1&webid=3&path=/&columnid=64511&sourceContentType=1&unitid=464148&permissiontype=0"
    group = PER * 3
    records = "".join(f"<record><![CDATA[{item(i)}]]></record>" for i in range(min(group, n)))
    body = (f'<div id="div64511"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/'
            f'dataproxy.jsp?page=1&{html.escape(params)}"></a>]]></nextgroup><recordset>{records}</recordset>'
            f'</datastore></script></div><script src="/module/jslib/jquery/jpage/jquery.page.js"></script>'
            f"<script>$('#div64511').jpage({{ dataStore: dataStore, perPage: {PER}, totalRecord: {n}, groupSize: 3,"
            f" proxyUrl: '/module/web/jpage/dataproxy.jsp' }});</script>")
    return {"/col/c1/index.html": Resource(f'<html><head><meta charset="utf-8"><title>通知公告</title></head>'
                                           f"<body>{body}</body></html>".encode())}


def jpage_post(n: int):  # noqa: ANN201
    """The dataproxy.jsp handler: records startrecord..endrecord of the column its form names."""
    def handle(path: str, body: bytes) -> Resource | None:
        parts = urlsplit(path)
        if parts.path != "/module/web/jpage/dataproxy.jsp":
            return None
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("columnid") != "64511":
            return Resource(b"<datastore><recordset></recordset></datastore>", "text/xml")
        first, last = int(q["startrecord"]), min(int(q["endrecord"]), n)
        records = "".join(f"<record><![CDATA[{item(i - 1)}]]></record>" for i in range(first, last + 1))
        return Resource(f'<?xml version="1.0" encoding="UTF-8"?><datastore><recordset>{records}</recordset>'
                        f"</datastore>".encode(), "text/xml; charset=UTF-8")
    return handle


class PagerSite(SiteServer):
    """One of the sites above, on loopback."""

    def __init__(self, form: str, n: int = 23) -> None:
        super().__init__({})
        routes, self.docs, self.start_path = site(form, n)
        host = urlsplit(self.url).netloc
        self.routes = {p: Resource(r.body.replace(b"HOST", host.encode()), r.content_type, r.status, r.headers)
                       for p, r in routes.items()}
        if form == "jpage":
            self.post = jpage_post(n)

    def resolve(self, path: str) -> Resource | None:
        return self.routes.get(path)
