"""An article split over several pages is one document: real crawls of a site serving one.

Page 1 is people.com.cn's page as saved (tests/data/devset/18_…): its pager 【1】【2】【3】【4】 sits in
the body and links ``…-2.html`` to ``…-4.html``. Pages 2–4 are made from it (its template, other
paragraphs, the current page marked in the pager), as the site serves them. The server answers
conditional requests with 304s, so an unchanged page is not read again.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from archive.demosite import Resource, SiteServer

from .conftest import cli, cli_json

DEV = Path(__file__).parent / "data" / "devset"
FIRST = "/n1/2019/0615/c1013-31153719.html"
PART = "/n1/2019/0615/c1013-31153719-{}.html"
HTML = "text/html; charset=utf-8"
# What each of pages 2–4 says in place of page 1's paragraphs: a marker sentence, then as much
# text as a page of the article has (less, and the template's side column would outweigh it).
TEXTS = {n: [f"第{n}页：《{title}》是古人写给子女的诗。", f"第{n}页点评：诗中字里行间都是父亲对儿女的期望。",
             *(f"第{n}页第{i}段：{title}一篇，写尽了为人父母者的叮咛与牵挂，读来令人动容，也让今天的我们"
               f"重新思考家风传承的意义，以及如何把这份深沉的爱传递给下一代。" for i in range(1, 6))]
         for n, title in ((2, "示儿"), (3, "送东阳马生序"), (4, "诫子书"))}


def _page(n: int, paragraphs: list[str]) -> bytes:
    html = (DEV / "18_people_multipage_article_page1.html").read_text("utf-8")
    if n > 1:
        start = html.index('<p style="text-indent: 2em;">\n\t父亲的教诲')
        end = html.index('<div class="zdfy clearfix">')
        html = html[:start] + "".join(f'<p style="text-indent: 2em;">\n\t{p}</p>\n' for p in paragraphs) + html[end:]
    return html.encode("utf-8")


def _site() -> dict[str, Resource]:
    routes = {"/": Resource(f'<html><body><h1>文化</h1><ul><li><a href="{FIRST}">女儿出嫁，郑板桥画了几笔兰花当嫁妆'
                            f'</a><span>2019-06-15</span></li></ul></body></html>'.encode(), HTML),
              FIRST: Resource(_page(1, []), HTML)}
    for n, paragraphs in TEXTS.items():
        routes[PART.format(n)] = Resource(_page(n, paragraphs), HTML)
    return routes


def _crawl(site: SiteServer, data: Path) -> None:
    cli("crawl", site.url, "--concurrency", "4", data=data)


def _events(data: Path, url: str | None = None) -> list[dict]:
    return [e for e in cli_json("changes", "--include-baseline", data=data) if url is None or e["url"] == url]


def test_an_article_over_four_pages_is_one_document_and_a_change_on_page_3_is_its_change(tmp_path):
    routes = _site()
    data = tmp_path / "data"
    with SiteServer(routes) as site:
        base = site.url.rstrip("/")
        first, parts = base + FIRST, [base + PART.format(n) for n in TEXTS]
        _crawl(site, data)
        added = _events(data)
        assert [e["url"] for e in added if e["kind"] in ("added", "archived")] == [first], added
        doc = cli_json("show", first, data=data)
        body = doc["body"]
        marks = [body.index("父亲的教诲像一盏灯"), *(body.index(TEXTS[n][0]) for n in TEXTS)]
        assert marks == sorted(marks), "the pages in order"
        assert "【2】" not in body and "责编" not in body
        assert doc["parts"] == parts
        hits = cli_json("search", "送东阳马生序", data=data)
        assert [h["url"] for h in hits] == [first]  # page 3's words find the document, once
        assert {cli_json("history", p, data=data)["kind"] for p in parts} == {"part"}

        before = len(site.requests)
        _crawl(site, data)  # nothing changed: 304s, no event, no version
        assert any(path == PART.format(3) for _, path in site.requests[before:])
        assert _events(data) == added
        assert len(cli_json("history", first, data=data)["versions"]) == 1

        edited = [TEXTS[3][0], "第3页点评：此句为新改。", *TEXTS[3][2:]]
        site.routes[PART.format(3)] = Resource(_page(3, edited), HTML)
        _crawl(site, data)  # page 3 changes, page 1 answers 304
        assert cli_json("history", first, data=data)["captures"][-1]["status"] == 304  # assembled all the same
        changed = [e for e in _events(data) if e["kind"] == "changed"]
        assert [e["url"] for e in changed] == [first], changed
        assert "body" in changed[0]["fields"]
        diff = cli("diff", first, data=data).stdout
        assert "此句为新改" in diff and "字里行间都是父亲对儿女的期望" in diff

        site.fault = lambda method, path: "503" if path == PART.format(2) else None
        _crawl(site, data)  # page 2 fails: the document keeps its version; coverage says why
        assert [e for e in _events(data) if e["kind"] == "changed"] == changed
        assert len(cli_json("history", first, data=data)["versions"]) == 2
        rows = [r for r in cli_json("coverage", data=data) if r["series"] == first]
        assert rows and any(parts[0] in w and "could not be fetched" in w for w in rows[0]["warnings"]), rows

    # The WARCs are the record of truth: a rebuild assembles the same documents.
    cli("rebuild", "--into", str(tmp_path / "rebuilt"), data=data)

    def versions(path: Path) -> list[tuple]:
        with sqlite3.connect(path / "govarchive.db") as conn:
            return conn.execute("SELECT p.url, v.number, v.content_hash, v.kind FROM versions v "
                                "JOIN pages p ON p.id = v.page_id ORDER BY p.url, v.number").fetchall()

    assert versions(tmp_path / "rebuilt") == versions(data)
    assert re.search(r"changed", cli("changes", data=tmp_path / "rebuilt").stdout)


def test_the_first_crawl_of_a_document_whose_page_cannot_be_read_says_so(tmp_path):
    routes = _site()
    del routes[PART.format(4)]  # page 4: 404
    data = tmp_path / "data"
    with SiteServer(routes) as site:
        first = site.url.rstrip("/") + FIRST
        _crawl(site, data)
        body = cli_json("show", first, data=data)["body"]
        assert TEXTS[3][0] in body and TEXTS[4][0] not in body
        rows = [r for r in cli_json("coverage", data=data) if r["series"] == first]
        assert rows and rows[0]["pages_declared"] == 4 and rows[0]["pages_fetched"] == 3
        assert any("page 4" in w and "no text" in w for w in rows[0]["warnings"]), rows
