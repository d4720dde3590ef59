"""The same commands on real government pages the demo was not built from, served locally."""

from __future__ import annotations

import json

import pytest

from archive.demosite import Resource, SiteServer

from .conftest import DATA, cli, cli_json, replaying

DEV = DATA / "devset"
PAGES = {
    "/gongbao/content/2007/content_711039.htm": "01_govcn_gongbao_2007-23_article.html",
    "/zhengce/content/2018-12/27/content_5352666.htm": "08_govcn_zhengce_fragment_guobanfa2018-123.html",
    "/zwgk/zfxxgk/zfxxgkzd/202311/t20231108_80918.htm": "13_pingtan_fj_trs_zfxxgkzd_yutouxiang_legacy_markup.html",
    "/ztbd/xwfbh/201206/t20120624_43188.html": "04_cmse_gov_trs_article_a.html",
}
GBK_PAGE = "/gongbao/content/2007/content_711040.htm"
NEW_PAGE = "/zwgk/zfxxgk/zfxxgkzd/202404/t20240410_90001.htm"
ADDED_SENTENCE = "本决议自公布之日起施行。"


def _list(paths: dict[str, str]) -> bytes:
    items = "".join(f'<li><a href="{p}">{t}</a><span>2024-04-0{i % 9 + 1}</span></li>'
                    for i, (p, t) in enumerate(paths.items()))
    return f"<html><head><title>政务公开</title></head><body><ul>{items}</ul></body></html>".encode()


def edition(n: int) -> dict[str, Resource]:
    html = {path: (DEV / name).read_bytes() for path, name in PAGES.items()}
    gbk = (DEV / "D1_govcn_gongbao_transcoded_gbk_meta_gb2312.html").read_bytes()
    routes = {path: Resource(body) for path, body in html.items()}
    routes[GBK_PAGE] = Resource(gbk, "text/html")
    titles = {p: p.rsplit("/", 1)[-1] + "号文件" for p in [*PAGES, GBK_PAGE]}
    if n == 2:
        a = html["/gongbao/content/2007/content_711039.htm"].decode()
        a = a.replace("53365.53亿元。", "53365.35亿元。" + ADDED_SENTENCE, 1)
        routes["/gongbao/content/2007/content_711039.htm"] = Resource(a.encode())
        b = html["/zhengce/content/2018-12/27/content_5352666.htm"].decode()
        b = b.replace("<td>2018年12月27日</td>", "<td>2018年12月28日</td>", 1)
        routes["/zhengce/content/2018-12/27/content_5352666.htm"] = Resource(b.encode())
        gone = "/zwgk/zfxxgk/zfxxgkzd/202311/t20231108_80918.htm"
        new = html[gone].decode().replace("屿头乡政府信息公开规定", "屿头乡政府信息公开指南")
        del routes[gone]
        titles.pop(gone)
        routes[NEW_PAGE] = Resource(new.encode())
        titles[NEW_PAGE] = "屿头乡政府信息公开指南"
    routes["/zwgk/index.html"] = Resource(_list(titles))
    routes["/"] = Resource(b'<html><body><a href="/zwgk/index.html">zwgk</a></body></html>')
    return routes


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    data = tmp_path_factory.mktemp("unseen") / "data"
    with SiteServer(edition(1)) as site:
        cli("crawl", site.url, data=data)
        site.routes = edition(2)
        site.last_modified = "Wed, 10 Apr 2024 00:00:00 GMT"
        cli("crawl", site.url, data=data)
        site.requests.clear()
        before = sum(p.stat().st_size for p in (data / "warcs").glob("*.warc.gz"))
        third = cli("crawl", site.url, data=data)  # nothing changed since the second crawl
        recrawl = {"stderr": third.stderr, "requests": list(site.requests), "before": before,
                   "after": sum(p.stat().st_size for p in (data / "warcs").glob("*.warc.gz"))}
        yield data, site.url.rstrip("/"), recrawl


def test_events_on_unseen_site(crawled):
    data, base, _ = crawled
    events = cli_json("changes", "--include-baseline", data=data)
    first = events[0]["crawl_id"]
    second = {(e["kind"], e["url"].removeprefix(base)): e for e in events if e["crawl_id"] != first}
    assert set(second) == {
        ("changed", "/gongbao/content/2007/content_711039.htm"),
        ("changed", "/zhengce/content/2018-12/27/content_5352666.htm"),
        ("removed", "/zwgk/zfxxgk/zfxxgkzd/202311/t20231108_80918.htm"),
        ("added", NEW_PAGE),
    }
    report = second[("changed", "/gongbao/content/2007/content_711039.htm")]
    assert report["fields"] == ["body"] and report["silent_revision"]
    assert second[("changed", "/zhengce/content/2018-12/27/content_5352666.htm")]["fields"] == ["published"]
    assert sum(1 for e in events if e["crawl_id"] == first) == len(PAGES) + 1  # and the GBK page


def test_diff_shows_only_the_number_and_the_sentence(crawled):
    data, base, _ = crawled
    d = json.loads(cli("diff", base + "/gongbao/content/2007/content_711039.htm", "--format", "json",
                       data=data).stdout)
    assert [o for o in d["ops"] if o["op"] != "equal"] == [
        {"op": "replace", "old": "53365.53", "new": "53365.35"},
        {"op": "insert", "old": "", "new": ADDED_SENTENCE}]


def test_show_and_search_on_unseen_site(crawled):
    data, base, _ = crawled
    rec = cli_json("show", base + "/zhengce/content/2018-12/27/content_5352666.htm", data=data)
    assert rec["doc_no"] == "国办发〔2018〕123号" and rec["published"] == "2018-12-28"
    gbk = cli_json("show", base + GBK_PAGE, data=data)
    assert gbk["title"].startswith("全国人民代表大会常务委员会关于批准财政部发行特别国债")
    hits = {r["url"].removeprefix(base) for r in cli_json("search", "政务新媒体", data=data)}
    assert hits == {"/zhengce/content/2018-12/27/content_5352666.htm"}
    found = {r["url"].removeprefix(base): r["removed"] for r in cli_json("search", "屿头乡", data=data)}
    assert found == {NEW_PAGE: False, "/zwgk/zfxxgk/zfxxgkzd/202311/t20231108_80918.htm": True}
    titles = {r["title"] for r in cli_json("search", "信息公开指南", "--field", "title", data=data)}
    assert titles == {"屿头乡政府信息公开指南"}


def test_unchanged_recrawl_is_conditional_and_small(crawled):
    data, _, recrawl = crawled
    first = min((data / "warcs").glob("*.warc.gz")).stat().st_size
    gone = {p["url"].split("/", 3)[3] for p in cli_json("pages", data=data) if p["state"] in ("missing", "removed")}
    # pages the archive holds content of (a URL that only ever answered 404 has nothing to validate)
    pages = [p for m, p in recrawl["requests"] if p != "/robots.txt" and p.lstrip("/") not in gone]
    import re

    conditional = int(re.search(r"(\d+) conditional requests", recrawl["stderr"]).group(1))
    assert conditional >= 0.8 * len(pages), (conditional, len(pages))
    assert recrawl["after"] - recrawl["before"] < first / 10
    assert "new 0, changed 0, removed 0" in recrawl["stderr"]


def test_pywb_replays_real_pages_byte_for_byte(crawled):
    data, base, _ = crawled
    gbk = (DEV / "D1_govcn_gongbao_transcoded_gbk_meta_gb2312.html").read_bytes()
    big = (DEV / "04_cmse_gov_trs_article_a.html").read_bytes()  # served gzipped
    with replaying(data) as fetch:
        assert fetch(base + GBK_PAGE) == gbk
        assert fetch(base + "/ztbd/xwfbh/201206/t20120624_43188.html") == big


def test_report_and_feed_show_the_events(crawled, tmp_path):
    import feedparser

    data, base, _ = crawled
    cli("report", "--out", str(tmp_path / "r"), data=data)
    cli("feed", "--out", str(tmp_path / "f.atom"), data=data)
    index = (tmp_path / "r" / "index.html").read_text("utf-8")
    feed = feedparser.parse(str(tmp_path / "f.atom"))
    links = {(e.tags[0].term, e.link.removeprefix(base)) for e in feed.entries}
    for kind, path in (("changed", "/gongbao/content/2007/content_711039.htm"),
                       ("changed", "/zhengce/content/2018-12/27/content_5352666.htm"),
                       ("removed", "/zwgk/zfxxgk/zfxxgkzd/202311/t20231108_80918.htm"), ("added", NEW_PAGE)):
        assert (kind, path) in links
    assert "屿头乡政府信息公开指南" in index and "silent revision" in index
    pages = "".join(p.read_text("utf-8") for p in (tmp_path / "r" / "changes").glob("*.html"))
    assert "<del>53365.53</del><ins>53365.35</ins>" in pages and f"<ins>{ADDED_SENTENCE}</ins>" in pages
