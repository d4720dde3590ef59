"""A hostile site on loopback: 200 good articles among every fault a government server can produce."""

from __future__ import annotations

import os
import socket
import threading
import time
import zlib
from functools import lru_cache

from .rawserver import RawServer, _resp

HTML = [(b"Content-Type", b"text/html; charset=utf-8")]
GOOD = 200
FAULTS = {
    "/flaky.html": "500 once, then 200",
    "/slow.html": "answers after the download timeout",
    "/cut.html": "closes mid-body after promising a longer Content-Length",
    "/bomb.html": "gzip bomb: 1 MB inflating to 1 GB",
    "/huge.html": "a 60 MB page",
    "/binary.html": "binary bytes labelled text/html",
    "/loop1.html": "redirect loop",
    "/away.html": "redirect to another host",
    "/malformed.html": "malformed HTML",
    "/wrongcharset.html": "GBK bytes declared utf-8",
    "/wall412.html": "HTTP 412 anti-bot wall (瑞数)",
    "/wall521.html": "HTTP 521 anti-bot wall (加速乐)",
    "/ratelimited.html": "429 with Retry-After, then 200",
    "/traversal.pdf": "attachment named ../../../../tmp/govarchive-evil.txt",
}


def article(i: int) -> bytes:
    return (f"<html><head><title>第{i}号通知_测试政府网</title></head><body><h1>第{i}号通知</h1>"
            f"<div id=\"zoom\"><p>这是第{i}号通知的正文，内容用于测试抓取的完整性。</p><p>测试政府办公室</p>"
            f"<p>2024年1月2日</p></div></body></html>").encode()


@lru_cache(maxsize=1)
def bomb() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    return b"".join([*(c.compress(chunk) for _ in range(1024)), c.flush()])


class FaultServer(RawServer):
    """RawServer with the faults above; ``sent_bad`` and timers are per path."""

    def __init__(self) -> None:
        super().__init__()
        bomb()  # built before serving: building it takes seconds, longer than the crawl's timeout
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        links = [f"/good/{i}.html" for i in range(GOOD)] + list(FAULTS)
        items = "".join(f'<li><a href="{p}">条目 {p}</a><span>2024-01-02</span></li>' for p in links)
        index = f"<html><head><title>测试政府网</title></head><body><ul>{items}</ul></body></html>".encode()
        self.routes = {"/": lambda _: _resp("200 OK", HTML, index),
                       "/robots.txt": lambda _: _resp("200 OK", [(b"Content-Type", b"text/plain")], b"User-agent: *\n")}
        for i in range(GOOD):
            self.routes[f"/good/{i}.html"] = (lambda body: lambda _: _resp("200 OK", HTML, body))(article(i))
        self.routes.update({
            "/flaky.html": self._flaky, "/slow.html": self._slow, "/cut.html": self._cut,
            "/bomb.html": lambda _: _resp("200 OK", [*HTML, (b"Content-Encoding", b"gzip")], bomb()),
            "/huge.html": self._huge, "/binary.html": lambda _: _resp("200 OK", HTML, os.urandom(50_000)),
            "/loop1.html": lambda _: _resp("302 Found", [(b"Location", b"/loop2.html")], b""),
            "/loop2.html": lambda _: _resp("302 Found", [(b"Location", b"/loop1.html")], b""),
            "/away.html": lambda _: _resp("302 Found", [(b"Location", b"http://elsewhere.example.org/x.html")], b""),
            "/malformed.html": lambda _: _resp("200 OK", HTML, "<html><body><p <<>> <div><p>未闭合的段落<table><tr><td>单元格".encode()),
            "/wrongcharset.html": lambda _: _resp("200 OK", HTML, (
                '<html><head><meta charset="utf-8"><title>编码错误的页面</title></head><body><h1>编码错误的页面</h1>'
                '<div id="zoom"><p>此页面实际使用GBK编码，却声明为UTF-8。</p></div></body></html>').encode("gbk")),
            "/wall412.html": lambda _: _resp("412 Precondition Failed", HTML, b"<script>var _$a='obfuscated';</script>"),
            "/wall521.html": lambda _: _resp("521 Web Server Is Down", [*HTML, (b"Set-Cookie", b"__jsl_clearance=1; Path=/")],
                                             b"<script>document.cookie='x'</script>"),
            "/ratelimited.html": self._ratelimited,
            "/traversal.pdf": lambda _: _resp("200 OK", [(b"Content-Type", b"application/pdf"), (
                b"Content-Disposition", b'attachment; filename="../../../../tmp/govarchive-evil.txt"')], b"%PDF-1.4\n%%EOF\n"),
        })

    def _count(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def _flaky(self, _: bytes) -> bytes:
        if self._count("/flaky.html") == 1:
            return _resp("500 Internal Server Error", HTML, b"oops")
        return _resp("200 OK", HTML, article(9999))

    def _ratelimited(self, _: bytes) -> bytes:
        if self._count("/ratelimited.html") == 1:
            return _resp("429 Too Many Requests", [*HTML, (b"Retry-After", b"1")], b"slow down")
        return _resp("200 OK", HTML, article(9998))

    def _slow(self, _: bytes) -> bytes:
        time.sleep(8)
        return _resp("200 OK", HTML, article(9997))

    def _cut(self, _: bytes) -> bytes:
        body = article(9996)
        return _resp("200 OK", [*HTML, (b"Content-Length", str(len(body) * 50).encode())], body, length=False)

    def _huge(self, _: bytes) -> None:
        return None  # streamed by _handle

    def _handle(self, conn: socket.socket) -> None:
        peek = conn.recv(65536, socket.MSG_PEEK)
        if peek.startswith(b"GET /huge.html"):
            with conn:
                conn.recv(65536)
                self.requests.append(peek)
                size = 60 * 1024 * 1024
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + str(size).encode()
                             + b"\r\n\r\n")
                block = ("<p>" + "很长的页面" * 200 + "</p>\n").encode()
                sent = 0
                try:
                    while sent < size:
                        piece = block[: size - sent]
                        conn.sendall(piece)
                        sent += len(piece)
                except OSError:
                    pass
            return
        super()._handle(conn)
