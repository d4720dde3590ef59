"""A real HTTP/1.1 server for the demo site: ETag, Last-Modified, 304, gzip, chunked, editions.

It behaves like the nginx in front of a real TRS site, so what it measures is the client: Nagle's
algorithm is off (TCP_NODELAY) and each response leaves in one write, headers and body together;
an unchanged resource keeps its bytes, its ETag and its Last-Modified, and a conditional request
for it gets 304.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from .pages import EDITION_DAYS, Resource, build

NOT_FOUND = "<html><head><title>404</title></head><body>页面不存在</body></html>".encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):  # the client gave up: normal
            super().handle_error(request, client_address)

    def get_request(self):  # noqa: ANN201 - socketserver's signature
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class SiteServer:
    """Serve a map of path -> Resource on a loopback address with ETag/Last-Modified, 304s and gzip.

    ``fault(method, path)`` may return a raw fault for one request: ``"503"``, ``"timeout"`` (answer
    after ``timeout_after`` seconds) or ``"reset"`` (close without answering); None serves normally.
    ``not_found(path)`` answers paths the routes do not hold.
    """

    def __init__(self, routes: dict[str, Resource] | None = None, port: int = 0, host: str = "127.0.0.1",
                 latency: float = 0.0, last_modified: str = "Mon, 01 Apr 2024 00:00:00 GMT") -> None:
        self.routes = routes if routes is not None else {}
        self.last_modified = last_modified
        self.latency = latency
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for tests
        self.active = 0  # requests being answered now; the most at once (the server's own count)
        self.max_active = 0
        self.fault: Callable[[str, str], str | None] | None = None
        self.post: Callable[[str, bytes], Resource | None] | None = None  # (path with query, body)
        self.posts: list[tuple[str, bytes]] = []
        self.not_found: Callable[[str], Resource] = lambda path: Resource(NOT_FOUND, status=404)
        self.timeout_after = 5.0
        self._gzip: dict[int, tuple[Resource, bytes]] = {}
        self._lock = threading.Lock()
        self.httpd = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def resolve(self, path: str) -> Resource | None:
        return self.routes.get(path)

    def gzipped(self, res: Resource) -> bytes:
        """The gzip of a resource's body, made once (the server's CPU is not what is measured)."""
        key = id(res)
        cached = self._gzip.get(key)
        if cached is None or cached[0] is not res:
            cached = (res, gzip.compress(res.body, mtime=0))
            self._gzip[key] = cached
        return cached[1]

    def log(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    def start(self):  # noqa: ANN201
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):  # noqa: ANN204
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DemoSite(SiteServer):
    """Serve the demo site; switch editions while it runs."""

    def __init__(self, edition: int = 1, port: int = 0, host: str = "127.0.0.1", latency: float = 0.0) -> None:
        super().__init__(build(edition), port=port, host=host, latency=latency)
        self.set_edition(edition)

    def set_edition(self, edition: int) -> None:
        """Publish another edition (1, 2 or 3)."""
        self.routes = build(edition)
        self.last_modified = EDITION_DAYS[edition][1]
        self.edition = edition


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _handler_for(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "TRS-WCM/7.0"
        sys_version = ""

        def log_message(self, *args: object) -> None:  # quiet: tests read site.requests instead
            pass

        def handle_one_request(self) -> None:
            """Count the request in flight from its first byte read to its last byte written."""
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            site.enter()
            try:
                if not self.parse_request():
                    return
                method = getattr(self, "do_" + self.command, None)
                if method is None:
                    self.send_error(501, f"Unsupported method ({self.command!r})")
                    return
                method()
                self.wfile.flush()
            finally:
                site.leave()

        def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
            self._serve(head=True)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(head=False)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            site.log("POST", self.path)
            site.posts.append((self.path, body))
            res = site.post(self.path, body) if site.post else None
            if res is None:
                res = site.not_found(self.path)
            self._send(res.status, res.body, res.content_type, dict(res.headers), head=False)

        def _serve(self, head: bool) -> None:
            site.log(self.command, self.path)
            if site.latency:
                time.sleep(site.latency)
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            fault = site.fault(self.command, path) if site.fault else None
            if fault == "reset":
                self.close_connection = True
                return
            if fault == "timeout":
                time.sleep(site.timeout_after)
            elif fault == "503":
                return self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html",
                                  {"Retry-After": "0"}, head)
            res = site.resolve(f"{path}?{parts.query}") if parts.query else None  # a route of its own
            if res is None:
                res = site.resolve(path)
            if res is None:
                res = site.not_found(path)
            if res.status in (301, 302, 303, 307, 308):
                return self._send(res.status, b"", "text/html", res.headers, head)
            etag = etag_of(res.body)
            last_modified = res.last_modified or site.last_modified
            headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=600",
                       **res.headers}
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if res.status == 200 and ((inm and inm == etag) or (not inm and ims == last_modified)):
                return self._send(304, b"", None, headers, head)
            body = res.body
            if "gzip" in (self.headers.get("Accept-Encoding") or "") and \
                    res.content_type.startswith(("text/", "application/javascript", "application/json")):
                body = site.gzipped(res)
                headers["Content-Encoding"] = "gzip"
                headers["Vary"] = "Accept-Encoding"
            self._send(res.status, body, res.content_type, headers, head, chunked=res.chunked)

        def _send(self, status: int, body: bytes, ctype: str | None, headers: dict, head: bool,
                  chunked: bool = False) -> None:
            lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                     f"Server: {self.server_version}", f"Date: {self.date_time_string()}"]
            if ctype:
                lines.append(f"Content-Type: {ctype}")
            lines += [f"{k}: {v}" for k, v in headers.items()]
            if chunked and status != 304:
                lines.append("Transfer-Encoding: chunked")
                half = len(body) // 2
                parts = [p for p in (body[:half], body[half:]) if p]
                body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"
            elif status != 304:
                lines.append(f"Content-Length: {len(body)}")
            raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            if not head and status != 304:
                raw += body
            self.wfile.write(raw)  # one write: headers and body leave together

    return Handler
