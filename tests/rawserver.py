"""A loopback HTTP server that writes raw bytes: chunking, truncation, odd reason phrases."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable

from archive.demosite.files import attachment

GBK_NAME = "附件一：统计表.pdf".encode("gbk")
PAGE = "<html><head><title>{t}</title></head><body><h1>{t}</h1><div id=\"zoom\"><p>{t}的正文内容，共计13561件。</p></div></body></html>"


def _page(title: str) -> bytes:
    return PAGE.format(t=title).encode("utf-8")


def _resp(status: str, headers: list[tuple[bytes, bytes]], body: bytes, length: bool = True) -> bytes:
    head = b"HTTP/1.1 " + status.encode() + b"\r\n"
    if length:
        headers = [*headers, (b"Content-Length", str(len(body)).encode())]
    head += b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    return head + b"\r\n" + body


class RawServer:
    """Serve fixed raw answers per path on 127.0.0.1; record every request's head."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.sent: dict[str, bytes] = {}  # path -> body bytes the server meant to send
        self.latency = 0.0
        self._stop = False
        self.routes: dict[str, Callable[[bytes], bytes | None]] = self._routes()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _routes(self) -> dict[str, Callable[[bytes], bytes | None]]:
        html = [(b"Content-Type", b"text/html; charset=utf-8")]
        links = "".join(f'<li><a href="{p}">{p}</a><span>2024-01-0{i + 1}</span></li>'
                        for i, p in enumerate(["/gzip.html", "/chunked.html", "/cookies.html",
                                               "/download?id=7&x=1", "/etag.html", "/truncated.html",
                                               "/reason.html", "/gbk.html"]))
        index = f"<html><body><ul>{links}</ul></body></html>".encode()
        gz_body = _page("压缩页面")
        chunk_body = _page("分块页面")
        gbk_body = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
                    '<title>旧版页面</title></head><body><h1>旧版页面</h1><div id="zoom"><p>旧版页面正文，'
                    '字符集只在meta中声明。</p></div></body></html>').encode("gbk")
        pdf, _ = attachment("x.pdf")
        self.sent = {"/gzip.html": gz_body, "/chunked.html": chunk_body, "/gbk.html": gbk_body,
                     "/download": pdf, "/cookies.html": _page("多个Cookie"), "/reason.html": _page("原因短语")}

        def chunked(_: bytes) -> bytes:
            parts = [chunk_body[:50], chunk_body[50:120], chunk_body[120:]]
            body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"
            return _resp("200 OK", [*html, (b"Transfer-Encoding", b"chunked")], body, length=False)

        def etag(req: bytes) -> bytes:
            if b'if-none-match: "v1"' in req.lower():
                return _resp("304 Not Modified", [(b"ETag", b'"v1"')], b"", length=False)
            return _resp("200 OK", [*html, (b"ETag", b'"v1"')], _page("带ETag的页面"))

        def truncated(_: bytes) -> bytes:
            body = _page("截断页面") * 20
            return _resp("200 OK", [*html, (b"Content-Length", str(len(body) * 3).encode())], body, length=False)

        return {
            "/": lambda _: _resp("200 OK", html, index),
            "/robots.txt": lambda _: _resp("200 OK", [(b"Content-Type", b"text/plain")], b"User-agent: *\n"),
            "/gzip.html": lambda _: _resp("200 OK", [*html, (b"Content-Encoding", b"gzip")],
                                          gzip.compress(gz_body, mtime=0)),
            "/chunked.html": chunked,
            "/cookies.html": lambda _: _resp("200 OK", [*html, (b"Set-Cookie", b"a=1; Path=/"),
                                                        (b"Set-Cookie", b"b=2; Path=/")], self.sent["/cookies.html"]),
            "/download": lambda _: _resp("200 OK", [(b"Content-Type", b"application/pdf"),
                                                    (b"Content-Disposition", b'attachment; filename="' + GBK_NAME + b'"')],
                                         pdf),
            "/etag.html": etag,
            "/truncated.html": truncated,
            "/reason.html": lambda _: _resp("200 Very OK", html, self.sent["/reason.html"]),
            "/gbk.html": lambda _: _resp("200 OK", [(b"Content-Type", b"text/html")], gbk_body),
        }

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            self.requests.append(buf)
            path = buf.split(b" ", 2)[1].decode()
            if self.latency:
                time.sleep(self.latency)
            route = self.routes.get(path.split("?")[0])
            raw = route(buf) if route else _resp("404 Not Found", [(b"Content-Type", b"text/html")], b"not found")
            try:
                conn.sendall(raw)
            except OSError:  # the crawler gave up (timeout, size limit): nothing to do
                pass

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self.sock.close()
