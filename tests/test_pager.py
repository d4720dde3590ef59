"""The pager cascade as pure functions (pipelines/pager.py, pipelines/jsbox.py): forms and limits."""

from __future__ import annotations

import json

import pytest

from pipelines.jsbox import run_scripts
from pipelines.links import html_discovery, json_discovery
from pipelines.pager import discover, json_pages

URL = "http://x.gov.cn/zw/tzgg/index.html"


def test_the_capped_guangdong_list_reads_its_declaration_and_probes_past_the_cap():
    html = """<ul><li><a href="/a/1.html">x</a></li></ul><script>
var totalPage = Math.ceil(1071/20); var pages_limit=20;
if (totalPage > pages_limit) totalPage = pages_limit; var pageCurrent = 0;
createPageHTML(totalPage, pageCurrent, "index", "html");</script>
<a href="index_1.html">下一页</a><a href="index_19.html">最后一页</a>"""
    p = discover(html, URL)
    assert p.declared_items == 1071 and p.per_page == 20 and p.declared_pages == 54
    assert len(p.pages) == 19 and p.pages[-1].endswith("index_19.html")  # the 20 published pages
    assert p.probe == ("http://x.gov.cn/zw/tzgg/index_{n}.html", 20, 53)


def test_a_variable_defined_elsewhere_does_not_stop_the_pager():
    """Real pages read variables their other scripts define: undefined, not an error that ends the run."""
    p = discover('<script>createPageHTML(totalPage, pageCurrent, "index", "html");\nvar totalPage = 4;</script>', URL)
    assert "createPageHTML (script)" in p.hints


def test_literal_and_variable_forms_agree():
    literal = discover('<script>createPageHTML(13, 0, "index", "html");</script>', URL)
    variables = discover('<script>var countPage = 13//共多少页\nvar currentPage = 0;\n'
                         'createPageHTML(countPage, currentPage, "index", "html");</script>', URL)
    capped = discover('<script>var countPage = 13; if (countPage > 5) countPage = 5;\n'
                      'createPageHTML(countPage, 0, "index", "html");</script>', URL)
    assert literal.pages == variables.pages and len(literal.pages) == 12 and len(capped.pages) == 4
    assert "createPageHTML" in literal.hints and "createPageHTML (variables)" in variables.hints
    assert "createPageHTML (script)" in capped.hints  # assigned twice: only running it tells


def test_the_six_argument_trs_form():
    p = discover("<script>createPageHTML('page_div', 7, 0, 'index', 'shtml', 130);</script>",
                 URL.replace(".html", ".shtml"))
    assert p.declared_pages == 7 and p.declared_items == 130 and p.pages[0].endswith("/index_1.shtml")
    assert len(p.pages) == 6


def test_a_pager_that_loops_forever_or_allocates_is_stopped_with_a_reason():
    forever = discover("<script>var countPage = Math.max(3, 1); while (true) {} createPageHTML(countPage, 0, 'index', 'html');"
                       "</script>", URL)
    assert forever.pages == [] and any("time limit" in w for w in forever.warnings)
    greedy = run_scripts(["var a = []; while (true) a.push(new Array(1e6).fill(1));"], URL)
    assert greedy.error and "memory" in greedy.error
    flood = run_scripts(["for (var i = 0; i < 1e6; i++) document.write('<a href=\\'p' + i + '.html\\'>x</a>');"], URL)
    assert flood.error and "characters written" in flood.error


def test_a_million_links_written_are_capped():
    p = discover("<script>var n = 1000000; function goPage(k) { location.href = 'list_' + k + '.html'; }</script>"
                 "<a href='javascript:goPage(2)'>2</a><a href='javascript:goPage(1000000)'>尾页</a>", URL, max_pages=50)
    assert 0 < len(p.pages) <= 50


def test_a_json_api_declaring_a_billion_items_is_capped_with_a_warning():
    data = {"total": 10**9, "articles": [{"title": f"文件{i}", "url": f"/a/{i}.html"} for i in range(20)]}
    p = json_pages(data, "http://x.gov.cn/gkmlpt/api/all/0?page=1&sid=2", 20, max_pages=100)
    assert len(p.pages) == 99 and p.declared_items == 10**9 and any("only 100 followed" in w for w in p.warnings)


def test_json_api_pages_from_page_zero_and_from_a_nested_pager():
    data = {"data": {"list": [{"title": "某文件", "link": "/a/1.html"}], "pageInfo": {"pages": 3}}}
    items, found = json_discovery(data, "http://x.gov.cn/api/list?pageNo=0&size=1")
    assert [u for u in found.links if "pageNo" in u] == ["http://x.gov.cn/api/list?pageNo=1&size=1",
                                                         "http://x.gov.cn/api/list?pageNo=2&size=1"]


def test_links_are_not_taken_from_string_concatenation_in_scripts():
    html = """<script>li.innerHTML = '<a href="' + a.link + '">' + a.title + '</a>';</script><a href="/b/2.html">b</a>"""
    assert html_discovery(html, URL).links == ["http://x.gov.cn/b/2.html"]


def test_a_list_filled_from_data_wants_a_browser_and_a_server_rendered_one_does_not():
    spa = "<ul id='list'></ul><script>fetch('/api/list?page=1').then(r => r.json())</script>"
    assert html_discovery(spa, URL).render
    rendered = spa + "".join(f'<li><a href="/zw/tzgg/content/post_{i}.html">文件</a></li>' for i in range(5))
    found = html_discovery(rendered, URL)
    assert found.dynamic and not found.render


def test_jpage_posts_cover_every_record_once():
    html = ('<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1'
            '&columnid=9&unitid=8"></a>]]></nextgroup><recordset></recordset></datastore></script>'
            "<script>$('#d').jpage({ perPage: 15, totalRecord: 100, groupSize: 3 });</script>")
    p = discover(html, URL)
    ranges = [u.split("?", 1)[1] for u, _ in p.posts]
    assert ranges == ["startrecord=46&endrecord=90&perpage=15", "startrecord=91&endrecord=100&perpage=15"]
    assert {b for _, b in p.posts} == {"columnid=9&unitid=8"} and json.dumps(p.to_dict())


@pytest.mark.parametrize("snippet, pages", [
    ('<script>createPageHTML(3, 0, "index", "html");</script>', True), ("<a onclick='goPage(2)'>2</a>", True),
    ("var pageNo = 1;", True), ("var TotalPage: 3;", True), ("countPage(5)", True), ("var PageCount: 2", True),
    ("jpage", True), ("<nextgroup>", True), ("/gkmlpt/index", True), ("?page = 2", True),
    ('<select onchange="go(this)">', True), ("<span>共 3 页</span>", True), ("下一页", True), ("第1/4页", True),
    ("尾 页", True), ("<p>homepage pages of the page</p>", False), ("<p>首页 第一章</p>", False)])
def test_may_page_reads_every_sign_of_paging_in_any_case(snippet, pages):
    """may_page's literal scans (the page's bytes lower-cased; the words with 'page' in them looked
    for around each 'page'): each form the pager cascade reads, and prose that only says 'page'."""
    from pipelines.links import may_page

    assert may_page(f"<html><body>中文{snippet}</body></html>") is pages


def test_hrefs_and_script_calls_are_found_whatever_their_case_and_not_inside_a_word():
    from pipelines.pager import _hrefs, _js_calls

    assert _hrefs("""<a ahref="x"> <a data-href="y"> location.href = 'z'; <A HREF="w">""") == ["y", "z", "w"]
    assert _js_calls("""<a HREF="JavaScript:goPage(2)">2</a><span onClick="turnPage(3)">""") == ["goPage(2)", "turnPage(3)"]
    assert _js_calls("<a href='/a/2.html'>2</a>") == []

