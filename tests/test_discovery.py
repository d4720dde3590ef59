"""No document left behind: every pagination form real sites use, crawled to 100%, and coverage.

Each site (tests/pagersites.py) holds its column's documents behind one pager form; a crawl must
capture every one of them, and `govarchive coverage` must account for the column.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import cli, cli_json
from .oracle import rebuild_differences
from .pagersites import PagerSite

FORMS = ["literal", "variables", "arithmetic", "capped", "capped-unlinked", "count-text", "query", "select",
         "gopage", "gopage-external", "jpage", "gkmlpt"]


def crawl_form(form: str, tmp_path, n: int = 23):  # noqa: ANN001, ANN201
    data = tmp_path / "data"
    with PagerSite(form, n) as site:
        proc = cli("crawl", site.url.rstrip("/") + site.start_path, data=data)
        requests = list(site.requests)
        base = site.url.rstrip("/")
        docs = [base + d for d in site.docs]
    live = {p["url"] for p in cli_json("pages", "--kind", "article", data=data) if p["versions"]}
    return data, docs, live, proc, requests


@pytest.mark.parametrize("form", FORMS)
def test_every_document_of_the_column_is_captured(form, tmp_path):
    data, docs, live, proc, _ = crawl_form(form, tmp_path)
    missing = [d for d in docs if d not in live]
    assert not missing, (form, missing, proc.stderr[-2000:])
    rows = cli_json("coverage", data=data)
    assert rows and sum(r["items_captured"] for r in rows) >= 5, rows
    if form not in ("capped", "capped-unlinked"):
        assert not [w for r in rows for w in r["warnings"]], rows


def test_variables_were_read(tmp_path):
    data, _, _, proc, _ = crawl_form("variables", tmp_path)
    row = next(r for r in cli_json("coverage", data=data) if r["series"].endswith("/col/c1/index.html"))
    assert row["pages_declared"] == 5 and row["pages_fetched"] == 5 and row["items_listed"] == 23
    assert "createPageHTML (variables)" in row["hints"] and not row["warnings"]


def test_a_capped_list_is_reported_and_probed_until_the_first_miss(tmp_path):
    data, docs, live, proc, requests = crawl_form("capped", tmp_path)
    paths = [p for _, p in requests]
    assert "/col/c1/index_2.html" in paths and "/col/c1/index_3.html" not in paths  # first 404 ends the probe
    row = next(r for r in cli_json("coverage", data=data) if r["series"].endswith("/col/c1/index.html"))
    assert row["items_declared"] == 23 and row["items_listed"] == 10 and row["pages_declared"] == 5
    assert any("23 items declared, 10 listed" in w for w in row["warnings"])
    assert "coverage warning" in proc.stderr and "23 items declared" in proc.stderr
    assert set(docs) <= live  # the sitemap was the other door


def test_unlinked_pages_past_the_cap_are_found_by_probing(tmp_path):
    data, docs, live, _, requests = crawl_form("capped-unlinked", tmp_path)
    assert set(docs) <= live
    assert ("GET", "/col/c1/index_4.html") in requests  # the last page the declared 23 items need
    assert ("GET", "/col/c1/index_5.html") not in requests  # and no further


def test_jpage_later_groups_are_posted_and_archived(tmp_path):
    data, docs, live, _, requests = crawl_form("jpage", tmp_path, n=40)
    assert set(docs) <= live
    posts = sorted(p for m, p in requests if m == "POST")
    assert posts == ["/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=5",
                     "/module/web/jpage/dataproxy.jsp?startrecord=31&endrecord=40&perpage=5"]
    row = next(r for r in cli_json("coverage", data=data) if r["series"].endswith("/col/c1/index.html"))
    assert row["items_declared"] == 40 and row["items_listed"] == 40 and "jpage" in row["hints"]
    assert cli_json("pages", "--kind", "list", data=data)  # the POST answers are list pages of their own
    assert rebuild_differences(data, tmp_path) == []  # each POST's form body is read back from its request record


def test_a_pager_that_leads_nowhere_is_a_warning(tmp_path):
    from archive.demosite import Resource

    from .pagersites import PagerSite, item, page

    data = tmp_path / "data"
    with PagerSite("literal", 3) as site:
        site.routes["/col/c1/index.html"] = Resource(page(item(0) + item(1), "<script>var pageCount = getCount();"
                                                          " showPager(pageCount);</script>"))
        proc = cli("crawl", site.url + "col/c1/index.html", data=data)
    row = next(r for r in cli_json("coverage", data=data) if r["series"].endswith("/col/c1/index.html"))
    assert any("mention paging" in w for w in row["warnings"]), row
    assert "coverage warning" in proc.stderr


def test_hostile_pager_scripts_are_stopped(tmp_path):
    from archive.demosite import Resource

    from .pagersites import PagerSite, item, page

    data = tmp_path / "data"
    forever = "<script>var countPage = Math.max(3, 1); while (true) {}\ncreatePageHTML(countPage, 0, 'index', 'html');</script>"
    with PagerSite("literal", 3) as site:
        site.routes["/col/c1/index.html"] = Resource(page(item(0), forever))
        site.routes["/col/c1/index_1.html"] = Resource(page(item(1), "<script>var a = []; var countPage = 3; "
                                                            "while (true) a.push(new Array(1e6).fill(1));</script>"))
        proc = cli("crawl", site.url + "col/c1/index.html", data=data)
    assert "time limit" in proc.stderr
    rows = cli_json("coverage", data=data)
    assert any("pager script stopped" in w for r in rows for w in r["warnings"]), rows


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium not installed (.ci/run installs it)")


@needs_chromium
def test_an_xhr_app_with_nested_paging_is_rendered_to_every_document(tmp_path):
    data, docs, live, proc, requests = crawl_form("browser-xhr", tmp_path)
    assert set(docs) <= live, proc.stderr[-2000:]
    assert ("GET", "/api/search?pageNo=3&pageSize=8") in requests


@needs_chromium
def test_a_list_that_exists_only_in_the_browser_is_rendered_archived_and_replayed(tmp_path):
    data, docs, live, proc, requests = crawl_form("browser", tmp_path)
    assert set(docs) <= live, proc.stderr[-2000:]
    assert ("GET", "/api/list?page=1&size=10") in requests and ("GET", "/api/list?page=3&size=10") in requests
    assert not [p for _, p in requests if "+" in p]  # no link taken from a script's string concatenation
    # What the browser fetched is archived, request and response paired, and the API answers are lists.
    from warcio.archiveiterator import ArchiveIterator

    records = []
    for path in sorted((data / "warcs").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            records += [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                         r.rec_headers.get_header("WARC-Concurrent-To"), r.rec_headers.get_header("WARC-Record-ID"))
                        for r in ArchiveIterator(fh)]
    api = [r for r in records if r[1] and r[1].endswith("/api/list?page=1&size=10")]
    assert {r[0] for r in api} >= {"response", "request"}
    responses = {r[3] for r in api if r[0] == "response"}
    assert any(r[2] in responses for r in api if r[0] == "request")
    lists = {p["url"] for p in cli_json("pages", "--kind", "list", data=data)}
    assert any(u.endswith("/api/list?page=1&size=10") for u in lists)
    # Replayed through pywb, in a real browser: the list renders from the archived API answer.
    from .conftest import replay_server

    with replay_server(data) as (base, _):
        start = docs[0].rsplit("/col/", 1)[0] + "/col/c1/index.html"
        dom = _render(f"{base}2100/{start}")
    assert dom.count("政务公开事项的通知") == 10, dom[:3000]


def _render(url: str) -> str:
    import asyncio

    from playwright.async_api import async_playwright

    from crawler.render import CHROMIUM_ARGS

    async def go() -> str:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await page.goto(url, wait_until="networkidle", timeout=30000)
            html = await page.content()
            await browser.close()
            return html

    return asyncio.run(go())


def test_without_a_browser_a_browser_only_list_is_reported(tmp_path):
    data = tmp_path / "data"
    from .pagersites import PagerSite

    profile = tmp_path / "nochrome.toml"
    with PagerSite("browser") as site:
        profile.write_text(f'name = "nochrome"\nstart_urls = ["{site.url}col/c1/index.html"]\nallow_private = true\n'
                           f'[settings]\nGOVARCHIVE_RENDER = "never"\n', "utf-8")
        proc = cli("crawl", "--site", str(profile), data=data)
    assert "browser" in proc.stderr  # said, not silent


@needs_chromium
def test_a_render_that_hangs_is_timed_out_and_the_crawl_goes_on(tmp_path):
    from .pagersites import PagerSite

    data = tmp_path / "data"
    profile = tmp_path / "hang.toml"
    with PagerSite("browser") as site:
        site.timeout_after = 30
        site.fault = lambda method, path: "timeout" if path == "/api/list" else None  # never answers in time
        profile.write_text(f'name = "hang"\nstart_urls = ["{site.url}col/c1/index.html"]\nallow_private = true\n'
                           f'[settings]\nGOVARCHIVE_RENDER_TIMEOUT = 3\nDOWNLOAD_TIMEOUT = 5\n', "utf-8")
        proc = cli("crawl", "--site", str(profile), data=data, timeout=120)
    assert "render(s) failed" in proc.stderr, proc.stderr[-2000:]


def test_links_resolved_by_hand_are_what_urljoin_makes():
    """pipelines/links.py resolves plain root- and directory-relative links itself (urljoin costs
    ~10 µs a link): on every link of the real pages and on random links built from the pieces that
    trip URL parsers (dot and empty segments, ';', ':', '?', '#', controls, spaces), against bases
    of every shape, the result is urldefrag(urljoin(base, href)) or it is left to urljoin."""
    import glob
    import random
    from html import unescape
    from urllib.parse import urldefrag, urljoin

    from pipelines import links

    hrefs = set()
    for f in glob.glob(str(Path(__file__).parent / "data" / "**" / "*.htm*"), recursive=True):
        for m in links._HREF.finditer(Path(f).read_bytes().decode("utf-8", "replace")):
            href = unescape(m.group(1) or m.group(2) or m.group(3) or "").strip().replace("\\", "/")
            if href:
                hrefs.add(href)
    pieces = ["a", "b", ".", "..", "", "x.html", ";p", "a:b", "?", "?q=1", "?q=1&r=2", "#f", "#", "%20", "中文",
              " ", "\t", "\n", "\x01", "index_2.html", "!", "=", "\u3000", "\xa0"]
    rng = random.Random(7)
    for _ in range(20000):
        href = "/".join(rng.choice(pieces) for _ in range(rng.randint(1, 5)))
        start = rng.choice(["", "", "/", "http://www.x.gov.cn/", "https://www.x.gov.cn/", "http://Y.gov.cn:81/",
                            "http://u@y.gov.cn/", "HTTP://y.gov.cn/", "https://y.gov.cn", "http://政府.cn/"])
        href = start + href + (rng.choice(["?", "?a=1", "#x", "?#"]) if rng.random() < 0.1 else "")
        hrefs.add(href)
    bases = ["http://www.x.gov.cn/a/b/t1.html", "https://www.x.gov.cn/a/b/", "http://www.x.gov.cn", "http://www.x.gov.cn/",
             "http://www.x.gov.cn/a//b/t.html", "http://www.x.gov.cn/a/../b/t.html", "http://www.x.gov.cn/a/b/t.html?x=1#f",
             "http://u@www.x.gov.cn:8080/a/t.html", "http://www.x.gov.cn/a;p/t.html", "http://www.x.gov.cn/中文/t.html"]
    by_hand = 0
    for base in bases:
        for href in hrefs:
            if (joined := links._join(base, href)) is not None:
                by_hand += 1
                assert joined == urldefrag(urljoin(base, href))[0], (base, href)
    assert by_hand > len(hrefs)  # the common forms do take the short way
