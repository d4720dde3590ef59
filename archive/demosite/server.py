"""A real HTTP/1.1 server for the demo site: ETag, Last-Modified, 304, gzip, editions."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from .pages import EDITION_DAYS, Resource, build


class SiteServer:
    """Serve a map of path -> Resource on 127.0.0.1 with ETag/Last-Modified, 304s and gzip."""

    def __init__(self, routes: dict[str, Resource] | None = None, port: int = 0, host: str = "127.0.0.1",
                 latency: float = 0.0, last_modified: str = "Mon, 01 Apr 2024 00:00:00 GMT") -> None:
        self.routes = routes if routes is not None else {}
        self.last_modified = last_modified
        self.latency = latency
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for tests
        self._gzip: dict[int, tuple[Resource, bytes]] = {}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
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


def _handler_for(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "TRS-WCM/7.0"
        sys_version = ""

        def log_message(self, *args: object) -> None:  # quiet: tests read site.requests instead
            pass

        def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
            self._serve(head=True)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(head=False)

        def _serve(self, head: bool) -> None:
            site.log(self.command, self.path)
            if site.latency:
                time.sleep(site.latency)
            path = unquote(urlsplit(self.path).path)
            res = site.resolve(path)
            if res is None:
                body = "<html><head><title>404</title></head><body>页面不存在</body></html>".encode()
                return self._send(404, body, "text/html; charset=utf-8", {}, head)
            if res.status in (301, 302):
                return self._send(res.status, b"", "text/html", res.headers, head)
            etag = '"' + hashlib.sha1(res.body).hexdigest()[:20] + '"'
            last_modified = site.last_modified
            headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=600"}
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (inm and inm == etag) or (not inm and ims == last_modified):
                return self._send(304, b"", None, headers, head)
            body = res.body
            if "gzip" in (self.headers.get("Accept-Encoding") or "") and res.content_type.startswith(("text/", "application/javascript")):
                body = site.gzipped(res)
                headers["Content-Encoding"] = "gzip"
                headers["Vary"] = "Accept-Encoding"
            self._send(200, body, res.content_type, headers, head)

        def _send(self, status: int, body: bytes, ctype: str | None, headers: dict, head: bool) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and status != 304:
                self.wfile.write(body)

    return Handler
