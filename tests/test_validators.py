"""Validators trusted, not believed (archive/state.py AUDIT_EVERY, ``untrusted_validators``).

A server that answers 304 to any conditional request — a Last-Modified that never moves, a cache,
IIS answering any If-Modified-Since — hides every change from an archive that believes it. Here a
server keeps one ETag for every version of a page and answers 304 whenever a request carries
validators: the change is found by the audit (a check without validators), said, and the host is
asked without validators from then on.
"""

from __future__ import annotations

from archive.demosite import Resource, SiteServer

from .conftest import cli, cli_json
from .oracle import profile

HTML = "text/html; charset=utf-8"


def article(text: str) -> bytes:
    return (f"<html><head><title>关于开展安全检查的通知_测试区政府网</title></head><body><h1>关于开展安全检查的通知</h1>"
            f"<div class='info'>发布时间：2024-03-01</div><div id='zoom'><p>各单位：{text}</p>"
            f"<p>测试区管委会办公室</p><p>2024年3月1日</p></div></body></html>").encode()


class NotModifiedServer(SiteServer):
    """304 to every request that carries validators; one ETag and Last-Modified for every version."""

    def __init__(self, routes: dict[str, Resource]) -> None:
        super().__init__(routes)
        base = self.httpd.RequestHandlerClass
        site = self

        class Handler(base):
            def _serve(self, head: bool) -> None:
                if self.path != "/robots.txt" and (self.headers.get("If-None-Match")
                                                   or self.headers.get("If-Modified-Since")):
                    site.log(self.command, self.path)
                    return self._send(304, b"", None, {"ETag": '"v1"'}, head)
                return super()._serve(head)

        self.httpd.RequestHandlerClass = Handler


def test_a_server_whose_304s_hide_a_change_is_audited_and_then_never_believed(tmp_path):
    index = ("<html><head><title>通知公告</title></head><body><ul><li><a href='/a.html'>关于开展安全检查的通知</a>"
             "<span>2024-03-01</span></li></ul></body></html>").encode()
    fixed = {"ETag": '"v1"'}
    routes = {"/": Resource(index, HTML, headers=fixed), "/robots.txt": Resource(b"User-agent: *\n", "text/plain"),
              "/a.html": Resource(article("请于3月10日前完成自查。"), HTML, headers=fixed)}
    data = tmp_path / "data"
    with NotModifiedServer(routes) as site:
        prof = profile(tmp_path, "lying", site.url, GOVARCHIVE_AUDIT_EVERY=3)

        def crawl() -> list[str]:
            cli("crawl", "--full", "--site", str(prof), data=data)
            return [e["kind"] for e in cli_json("changes", data=data) if e["url"].endswith("/a.html")]

        crawl()
        site.routes["/a.html"] = Resource(article("请于3月20日前完成自查。"), HTML, headers=fixed)
        assert crawl() == [] and crawl() == []  # 304, 304: believed twice (AUDIT_EVERY 3)
        assert crawl() == ["changed"]  # the third check asks without validators
        event = [e for e in cli_json("changes", data=data) if e["url"].endswith("/a.html")][-1]
        assert "3月[-10-]{+20+}日" in cli("diff", site.url + "a.html", data=data).stdout
        assert "304s are not trusted" in event["summary"], event
        site.routes["/a.html"] = Resource(article("请于3月30日前完成自查。"), HTML, headers=fixed)
        assert crawl() == ["changed", "changed"]  # the host's validators are not sent again: found at once
        asked = [p for _, p in site.requests]
    assert asked.count("/a.html") >= 5
