"""What a server answers with 200 in a page's place (pipelines/standins.py) — walls, rate limits,
maintenance, its own error page, nothing — errors of a crawl, never versions of the page.

Read as the page, a 瑞数 challenge, a "访问过于频繁" page, a Tomcat "HTTP Status 500" page or an
empty body was a document whose text had gone (``changed``), back the next crawl (``reverted``),
and a list page behind one lost every item (``delisted``, then ``relisted``). The simulated site
(tests/simsite.py, STAND_INS) draws such answers among its other faults; here, each kind on
documents and on a list, through real crawls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.demosite import Resource, SiteServer
from pipelines.extract import extract

from .conftest import cli, cli_json
from .oracle import profile, rebuild_differences
from .simsite import STAND_IN_EVENTS, STAND_INS

DEVSET = Path(__file__).parent / "data" / "devset"
HTML = "text/html; charset=utf-8"


def article(i: int, extra: str = "") -> bytes:
    return (f"<html><head><title>关于第{i}号事项的通知_测试区政府网</title></head><body>"
            f"<div class='nav'>首页 政务公开 通知公告</div><h1>关于第{i}号事项的通知</h1>"
            f"<div class='info'>发布时间：2024-01-0{i}</div><div id='zoom'><p>各单位：现将第{i}号事项通知如下，"
            f"请认真贯彻执行，确保各项工作落实到位。{extra}</p><p>测试区管委会办公室</p><p>2024年1月{i}日</p></div>"
            f"</body></html>").encode()


@pytest.mark.parametrize("name", sorted(STAND_INS))
def test_each_stand_in_is_recognised(name):
    rec = extract(STAND_INS[name].encode(), "http://127.0.0.1/art/1.html", HTML)
    want = "wall" if STAND_IN_EVENTS[name] == "blocked" else "empty" if name == "empty" else "server_error"
    assert rec.stand_in is not None and rec.stand_in["what"] == want, (name, rec.stand_in)


def test_pages_are_not_stand_ins():
    # A document that speaks of rate limits, a page that only redirects, a notice of maintenance,
    # pages with no text that are pages all the same (a browser's, frames, an image, a refresh),
    # real pages.
    notice = article(1, "近期部分网站出现访问过于频繁、已被网站管理员设置拦截等提示，请各单位使用正规渠道办理业务。" * 6)
    redirect = b"<html><head><script>location.href='/new/1.html';</script></head><body></body></html>"
    maintenance = ("<html><head><title>关于网站系统维护的公告</title></head><body><h1>关于网站系统维护的公告</h1>"
                   "<p>发布时间：2024-05-01</p><p>因系统升级，本网站将于5月3日暂停访问。</p></body></html>").encode()
    shells = [b"<html><head><title>\xe6\x94\xbf\xe5\x8a\xa1\xe5\x85\xac\xe5\xbc\x80</title></head><body><div id='app'></div></body></html>",
              b"<html><body><div id='app'></div><script src='/js/app.1f2e.js'></script></body></html>",
              b"<html><frameset rows='80,*'><frame src='top.html'><frame src='main.html'></frameset></html>",
              b"<html><body><p><img src='W020240501.jpg'></p></body></html>",  # a notice scanned
              b'<html><head><meta http-equiv="refresh" content="0;url=/a/index.html"></head><body></body></html>']
    pages = [notice, redirect, maintenance, *shells,
             *(p.read_bytes() for p in sorted(DEVSET.glob("*.htm*")))]
    assert len(pages) > 10
    for body in pages:
        assert extract(body, "http://127.0.0.1/a.html", HTML).stand_in is None


def test_a_stand_in_answered_with_200_is_an_error_of_the_crawl_not_a_change(tmp_path):
    """Baseline; then five documents and the list answered by stand-ins (walls, the server's error
    pages, an empty body); then the site as it was. Only ``blocked`` and ``error`` for the
    documents — no change, no revert, no de-listing — and the history rebuilt from the WARCs is
    the live one."""
    index = ("<html><head><title>通知公告_测试区政府网</title></head><body><ul>" + "".join(
        f"<li><a href='/art/{i}.html'>关于第{i}号事项的通知</a><span>2024-01-0{i}</span></li>" for i in range(1, 6))
        + "</ul></body></html>").encode()
    good = {"/": Resource(index, HTML), "/robots.txt": Resource(b"User-agent: *\n", "text/plain"),
            **{f"/art/{i}.html": Resource(article(i), HTML) for i in range(1, 6)}}
    data = tmp_path / "data"
    with SiteServer(dict(good)) as site:
        prof = profile(tmp_path, "stand-ins", site.url)  # no back-off to wait out (each is asked again)

        def crawl() -> str:
            return cli("crawl", "--full", "--site", str(prof), data=data).stderr

        crawl()
        instead = {"/": "busy", "/art/1.html": "rivers", "/art/2.html": "jsl", "/art/3.html": "safedog",
                   "/art/4.html": "tomcat", "/art/5.html": "empty"}
        site.routes = {**good, **{p: Resource(STAND_INS[w].encode(), HTML) for p, w in instead.items()}}
        answered = crawl()
        site.routes = dict(good)
        crawl()
    events = cli_json("changes", "--include-baseline", data=data)
    kinds = [(e["kind"], e["url"].rsplit("/", 1)[-1]) for e in events]
    assert sorted(k for k in kinds if k[0] != "archived") == [
        *(("blocked", f"{i}.html") for i in (1, 2, 3)), ("error", "4.html"), ("error", "5.html")], kinds
    assert "errors: blocked 3, empty_page 1, http_error 2" in answered  # the list too: said, not silent
    for i in range(1, 6):
        page = cli("history", f"{site.url}art/{i}.html", data=data).stdout
        assert "(article, live)" in page and "v2" not in page, page
    pages = {p["url"].rsplit("/", 1)[-1]: p for p in cli_json("pages", data=data)}
    assert all(pages[f"{i}.html"]["state"] == "live" for i in range(1, 6)), pages
    assert rebuild_differences(data, tmp_path) == []


def test_the_crawl_summary_counts_stand_ins_among_errors(tmp_path):
    """A page never archived before that a wall answers: no event can say it, the summary does."""
    with SiteServer({"/": Resource(STAND_INS["rate"].encode(), HTML)}) as site:
        prof = profile(tmp_path, "wall", site.url)
        out = cli("crawl", "--site", str(prof), data=tmp_path / "data").stderr
    assert "errors: blocked 1" in out, out
    capture = json.loads(cli("history", site.url, "--json", data=tmp_path / "data").stdout)["captures"][0]
    assert (capture["status"], capture["error"]) == (200, "blocked")


class WalledOnce(SiteServer):
    """A site whose rate limit answers the first request of some paths (200), then lets it through."""

    def __init__(self, routes: dict[str, Resource], walled: set[str]) -> None:
        super().__init__(routes)
        self.walled = set(walled)

    def resolve(self, path: str) -> Resource | None:
        if path in self.walled:
            self.walled.discard(path)
            return Resource(STAND_INS["rate"].encode(), HTML)
        return super().resolve(path)


def test_the_crawler_slows_down_and_asks_again_after_a_stand_in(tmp_path):
    """A wall that lets the second request through costs nothing: the page is archived, no error."""
    index = ("<html><head><title>通知公告_测试区政府网</title></head><body><ul>" + "".join(
        f"<li><a href='/art/{i}.html'>关于第{i}号事项的通知</a><span>2024-01-0{i}</span></li>" for i in range(1, 4))
        + "</ul></body></html>").encode()
    routes = {"/": Resource(index, HTML), "/robots.txt": Resource(b"User-agent: *\n", "text/plain"),
              **{f"/art/{i}.html": Resource(article(i), HTML) for i in range(1, 4)}}
    data = tmp_path / "data"
    with WalledOnce(routes, {"/art/2.html", "/"}) as site:
        out = cli("crawl", site.url, data=data).stderr
        asked = [p for m, p in site.requests if p in ("/", "/art/2.html")]
    assert sorted(asked) == ["/", "/", "/art/2.html", "/art/2.html"], site.requests
    assert "errors 0" in out and "blocked" not in out, out
    pages = {p["url"].removeprefix(site.url): p for p in cli_json("pages", data=data)}
    assert all(pages[f"art/{i}.html"]["versions"] == 1 for i in (1, 2, 3)), pages
    history = json.loads(cli("history", f"{site.url}art/2.html", "--json", data=data).stdout)
    assert [(c["status"], c["error"]) for c in history["captures"]] == [(200, "blocked"), (200, None)]
