"""Render the demo site, edition by edition, as a map of path -> response."""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from functools import lru_cache

from .content import ORGAN, Doc, all_docs, cn_date, new_notice
from .files import attachment

COLUMNS = {
    "fzzfjsndbg": ("法治政府建设年度报告", "/zwgk/fzzfjsndbg/"),
    "zfxxgkndbg": ("政府信息公开工作年度报告", "/zwgk/zfxxgkndbg/"),
    "tzgg": ("通知公告", "/zw/tzgg/"),
    "zcwj": ("政策文件", "/zwgk/zcwj/"),
}
PER_PAGE = 10
EDITION_DAYS = {1: ("2024年4月10日 星期三", "Wed, 10 Apr 2024 02:00:00 GMT"),
                2: ("2024年4月20日 星期六", "Sat, 20 Apr 2024 02:00:00 GMT"),
                3: ("2024年4月30日 星期二", "Tue, 30 Apr 2024 02:00:00 GMT")}
SEED_ID = 5916497
DELETED_NOTICE = 5916600 + 10 * 7  # 春节期间值班值守: gone in edition 2, back in edition 3
REDATED_POLICY = 5800100 + 3 * 13  # 企业服务专员工作制度: 发布日期 corrected in edition 2
DELISTED_POLICY = 5800100 + 13 * 13  # 12345热线工单办理工作规范: dropped from its list in edition 2
OLD_URL = "/art/2022/3/25/art_1325_4731126.html"
REVISION = ("惠及企业48家,", "惠及企业84家,", "审批金额超20亿元。", "全年新增科技型中小企业入库412家。")


@dataclass
class Resource:
    """One response of the demo server."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: str | None = None  # HTTP date; the server's own date when None
    chunked: bool = False  # sent with Transfer-Encoding: chunked (in one write, like nginx's buffers)


def doc_path(doc: Doc) -> str:
    """Return the site path of a document."""
    return f"{COLUMNS[doc.column][1]}content/post_{doc.doc_id}.html"


def _docs(edition: int) -> tuple[list[Doc], set[int], dict[int, str]]:
    """Return (served docs, ids left off every list, published-date overrides) for an edition."""
    docs = all_docs()
    unlisted: set[int] = set()
    table_dates: dict[int, str] = {}
    if edition >= 2:
        docs = [copy.deepcopy(d) for d in docs]
        seed = next(d for d in docs if d.doc_id == SEED_ID)
        old, new, anchor, added = REVISION
        for i, p in enumerate(seed.paragraphs):
            if old in p:
                seed.paragraphs[i] = p.replace(old, new).replace(anchor, anchor + added)
        if edition == 2:
            docs = [d for d in docs if d.doc_id != DELETED_NOTICE]
        docs.append(new_notice())
        unlisted.add(DELISTED_POLICY)
        table_dates[REDATED_POLICY] = "2023-05-19"
    return docs, unlisted, table_dates


def _page(title: str, edition: int, main: str, *, column: str = "", metas: str = "") -> str:
    today, _ = EDITION_DAYS[edition]
    counter = 180000 + edition * 1379
    nav = "".join(f'<li><a href="{path}index.html">{html.escape(name)}</a></li>'
                  for name, path in COLUMNS.values())
    crumbs = f' &gt; <a href="/zwgk/">政府信息公开</a> &gt; {html.escape(column)}' if column else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="SiteName" content="佛山高新技术产业开发区管理委员会"><meta name="SiteDomain" content="fs-hitech.foshan.gov.cn">
<meta name="SiteIDCode" content="4406050036">{metas}
<title>{html.escape(title)}-佛山高新区</title>
<link rel="stylesheet" href="/css/site.css"><script src="/js/page.js"></script></head>
<body>
<div class="header"><div class="topbar"><a href="/">中文</a> <a href="/en/">English</a> <span>网站支持IPv6</span>
<span class="today">今天是{today}</span></div>
<div class="logo"><a href="/">佛山高新区</a></div></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政府信息公开</a></li>{nav}</ul></div>
<div class="position">当前位置：<a href="/">首页</a>{crumbs}</div>
<div class="main">{main}</div>
<div class="footer"><div class="links">友情链接</div><p>联系我们 | 网站地图</p>
<ul><li>Email:fshitech@foshan.gov.cn</li><li>咨询热线 管委会:0757-86683830</li>
<li>地址:广东省佛山市南海区狮山镇万锦路2号佛山高新区管委会</li></ul>
<p>主办单位:{ORGAN}  工作时间:周一至周五上午8:30—12:00 下午14:00—17:30(节假日除外)</p>
<p>网站标识码 4406050036</p><p>粤ICP备05033683号 粤公网安备 44060502000361号</p>
<p class="counter">访问量：{counter}</p></div>
</body></html>
"""


def _paragraph(p: str) -> str:
    if p.startswith("TABLE|"):
        rows = p[len("TABLE|"):].split("\n")
        out = ['<table class="report" border="1">']
        for r, row in enumerate(rows):
            tag = "th" if r == 0 else "td"
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row.split("|")) + "</tr>")
        return "".join(out) + "</table>"
    indent = "" if p.startswith(("一、", "二、", "三、", "四、", "五、", "六、", "第")) else "　　"
    return f"<p>{indent}{html.escape(p)}</p>"


def _article(doc: Doc, edition: int, table_date: str | None) -> str:
    column = COLUMNS[doc.column][0]
    pub = doc.published
    meta_rows = [("索引号", doc.index_no, "分类", doc.category),
                 ("发布机构", ORGAN, "成文日期", cn_date(doc.written)),
                 ("名称", doc.title, "文号", doc.doc_no),
                 ("发布日期", cn_date(table_date or pub[:10]), "主题词", "")]
    table = "".join("<tr>" + "".join(
        f'<td class="label">{a}：</td><td>{html.escape(b)}</td><td class="label">{c}：</td><td>{html.escape(d)}</td>'
        for a, b, c, d in [row]) + "</tr>" for row in meta_rows)
    body = "".join(_paragraph(p) for p in doc.paragraphs)
    if doc.attachments:
        links = "".join(f'<p><a href="attachments/{f}">{i}.{html.escape(n)}</a></p>'
                        for i, (n, f) in enumerate(doc.attachments, 1))
        body += f"<p>附件：</p>{links}"
    body += f'<p style="text-align:right">{ORGAN if doc.column != "tzgg" else "佛山高新区管委会党政办公室"}</p>'
    body += f'<p style="text-align:right">{cn_date(doc.written)}</p>'
    if doc.contact:
        body += f"<p>{html.escape(doc.contact)}</p>"
    views = 300 + (doc.doc_id % 97) * 3 + edition * 11
    main = f"""<table class="xxgk-meta">{table}</table>
<div class="article"><h1 class="article-title">{html.escape(doc.title)}</h1>
<div class="pages-date">发布时间：{pub} 来源：{html.escape(doc.source)} <span class="visit">浏览次数：{views}</span></div>
<div class="article-content" id="zoom">{body}</div>
<div class="article-tools">【字号 大 中 小】【打印本页】【关闭窗口】<span class="qrcode">扫一扫在手机上查看当前页面</span></div>
</div>"""
    metas = (f'<meta name="ColumnName" content="{column}"><meta name="ArticleTitle" content="{html.escape(doc.title)}">'
             f'<meta name="PubDate" content="{pub}"><meta name="ContentSource" content="{html.escape(doc.source)}">'
             f'<meta name="Maketime" content="2024-04-0{edition} 03:00:00">')
    return _page(doc.title, edition, main, column=column, metas=metas)


def _legacy_article(doc: Doc, edition: int) -> bytes:
    """An old TRS page: GBK bytes, charset only in <meta>, upper-case markup."""
    paras = "".join(f"<P>{html.escape(p)}</P>\r\n" for p in doc.paragraphs)
    today, _ = EDITION_DAYS[edition]
    text = f"""<HTML><HEAD><META http-equiv="Content-Type" content="text/html; charset=gb2312">
<TITLE>{html.escape(doc.title)}_佛山高新区</TITLE></HEAD>
<BODY><DIV class=header>网站支持IPv6 今天是{today}</DIV>
<DIV class=position>当前位置：<A href="/">首页</A> &gt; 法治政府建设年度报告</DIV>
<TABLE class=xxgk-meta><TR><TD>索 引 号：</TD><TD>{doc.index_no}</TD><TD>分　　类：</TD><TD>{html.escape(doc.category)}</TD></TR>
<TR><TD>发布机构：</TD><TD>{ORGAN}</TD><TD>成文日期：</TD><TD>{cn_date(doc.written)}</TD></TR>
<TR><TD>名　　称：</TD><TD>{html.escape(doc.title)}</TD><TD>文　　号：</TD><TD></TD></TR>
<TR><TD>发布日期：</TD><TD>{cn_date(doc.published[:10])}</TD><TD>主 题 词：</TD><TD></TD></TR></TABLE>
<H2 class=title>{html.escape(doc.title)}</H2>
<DIV class=date>发布时间：{doc.published} 来源：本网</DIV>
<DIV class=TRS_Editor>{paras}<P align=right>{ORGAN}</P><P align=right>{cn_date(doc.written)}</P></DIV>
<DIV class=footer>网站标识码 4406050036 粤ICP备05033683号 访问量：{170000 + edition * 977}</DIV>
</BODY></HTML>"""
    return text.encode("gbk")


def _list_pages(column: str, docs: list[Doc], edition: int) -> dict[str, str]:
    name, path = COLUMNS[column]
    items = sorted(docs, key=lambda d: d.published, reverse=True)
    pages = max(1, -(-len(items) // PER_PAGE))
    out = {}
    for n in range(pages):
        chunk = items[n * PER_PAGE:(n + 1) * PER_PAGE]
        lis = "".join(
            f'<li><a href="{doc_path(d)}" title="{html.escape(d.title)}" target="_blank">{html.escape(d.title)}</a>'
            f'<span class="date">{d.published[:10]}</span></li>' for d in chunk)
        main = (f'<div class="column"><h2 class="column-name">{name}</h2><ul class="list">{lis}</ul>'
                f'<div class="page"><script>var countPage = {pages}//共多少页\nvar currentPage = {n};//当前页\n'
                f'createPageHTML(countPage, currentPage, "index", "html");</script></div></div>')
        out[f"{path}index{'' if n == 0 else f'_{n}'}.html"] = _page(name, edition, main, column=name)
    return out


_PAGE_JS = b"""function createPageHTML(count, current, name, ext) {
  if (count <= 1) return;
  var s = "";
  for (var i = 0; i < count; i++) {
    var href = i === 0 ? name + "." + ext : name + "_" + i + "." + ext;
    s += i === current ? "<span>" + (i + 1) + "</span> " : "<a href='" + href + "'>" + (i + 1) + "</a> ";
  }
  document.write(s);
}
"""
_CSS = b"body{font-family:sans-serif;margin:0 auto;max-width:1000px}.footer{color:#666;font-size:12px}"
ROBOTS = b"User-agent: *\nDisallow: /search/\n"


@lru_cache(maxsize=4)
def build(edition: int) -> dict[str, Resource]:
    """Return every path of the site in ``edition`` (1, 2 or 3)."""
    if edition not in EDITION_DAYS:
        raise ValueError(f"edition must be 1, 2 or 3, not {edition}")
    docs, unlisted, table_dates = _docs(edition)
    site = assemble(docs, edition, unlisted, table_dates)
    site["/index.html"] = site["/"]
    site[OLD_URL] = Resource(b"", status=301,
                             headers={"Location": doc_path(next(d for d in docs if d.legacy_gbk))})
    return site


def assemble(docs: list[Doc], edition: int = 1, unlisted: set[int] | frozenset[int] = frozenset(),
             table_dates: dict[int, str] | None = None) -> dict[str, Resource]:
    """Return the site serving ``docs``: articles, attachments, paginated columns, home, robots.txt."""
    table_dates = table_dates or {}
    site: dict[str, Resource] = {}
    for doc in docs:
        if doc.legacy_gbk:
            site[doc_path(doc)] = Resource(_legacy_article(doc, edition), "text/html")
        else:
            page = _article(doc, edition, table_dates.get(doc.doc_id))
            site[doc_path(doc)] = Resource(page.encode("utf-8"))
        for _, filename in doc.attachments:
            data, ctype = attachment(filename)
            site[f"{COLUMNS[doc.column][1]}content/attachments/{filename}"] = Resource(data, ctype)
    for column in COLUMNS:
        listed = [d for d in docs if (d.column == column or column in d.extra_columns)
                  and d.doc_id not in unlisted]
        for path, page in _list_pages(column, listed, edition).items():
            site[path] = Resource(page.encode("utf-8"))
        site[COLUMNS[column][1]] = Resource(b"", status=302, headers={"Location": f"{COLUMNS[column][1]}index.html"})
    latest = sorted((d for d in docs if d.column == "tzgg"), key=lambda d: d.published, reverse=True)[:5]
    news = "".join(f'<li><a href="{doc_path(d)}">{html.escape(d.title)}</a><span>{d.published[:10]}</span></li>'
                   for d in latest)
    cols = "".join(f'<li><a href="{p}index.html">{n}</a></li>' for n, p in COLUMNS.values())
    legacy = next((d for d in docs if d.legacy_gbk), None)
    old = (f'<div class="old"><a href="{OLD_URL}">{html.escape(legacy.title)}（旧版链接）</a></div>'
           if legacy else "")
    home = (f'<div class="news"><h2>通知公告</h2><ul>{news}</ul></div>'
            f'<div class="zwgk"><h2><a href="/zwgk/">政府信息公开</a></h2><ul>{cols}</ul></div>'
            f'<div class="search"><a href="/search/index.html?keyword=法治">站内搜索</a></div>{old}')
    site["/"] = Resource(_page("首页", edition, home).encode("utf-8"))
    guide = f'<div class="zwgk-index"><h2>政府信息公开</h2><ul>{cols}</ul></div>'
    site["/zwgk/"] = Resource(_page("政府信息公开", edition, guide, column="目录").encode("utf-8"))
    site["/search/index.html"] = Resource("<html><body>搜索结果</body></html>".encode())
    site["/robots.txt"] = Resource(ROBOTS, "text/plain")
    site["/js/page.js"] = Resource(_PAGE_JS, "application/javascript")
    site["/css/site.css"] = Resource(_CSS, "text/css")
    return site


def articles(edition: int) -> list[Doc]:
    """Return the documents served in ``edition`` (for tests and the demo's own checks)."""
    return _docs(edition)[0]
