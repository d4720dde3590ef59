"""HTTP download handler that keeps what Scrapy drops and a WARC record needs.

Scrapy's Response has no reason phrase, and Twisted files the connection-control headers
(Transfer-Encoding, Content-Length, Connection, Keep-Alive …) apart from the others, so they never
reach ``response.headers``. This handler subclasses Scrapy's HTTP/1.1 handler to keep both:
they travel in ``response.flags`` (Response has slots) as ``govarchive:reason:…`` and
``govarchive:header:Name:value``.
"""

from __future__ import annotations

import logging

from scrapy.core.downloader.handlers import http11

logger = logging.getLogger(__name__)
REASON = "govarchive:reason:"
HEADER = "govarchive:header:"


class _RecordingParser(http11._LenientHTTPClientParser):
    def allHeadersReceived(self) -> None:  # noqa: N802 - Twisted's name
        resp = getattr(self, "response", None)
        if resp is not None:
            resp._govarchive_conn = [(k, v) for k, vs in self.connHeaders.getAllRawHeaders() for v in vs]
        super().allHeadersReceived()


class _RecordingProtocol(http11._LenientHTTP11ClientProtocol):
    def request(self, request):  # noqa: ANN001, ANN201 - Twisted's signature
        d = super().request(request)
        # Same technique as Scrapy's own lenient protocol: swap the parser's class (no new state).
        if self._parser is not None:
            self._parser.__class__ = _RecordingParser
        return d


class _RecordingFactory(http11._LenientHTTP11ClientFactory):
    def buildProtocol(self, addr):  # noqa: ANN001, ANN201, N802
        return _RecordingProtocol(self._quiescentCallback)


class _RecordingAgent(http11._ScrapyAgent):
    def _cb_bodydone(self, result, url):  # noqa: ANN001, ANN202 - Scrapy's private signature
        response = super()._cb_bodydone(result, url)
        tx = result.get("txresponse")
        phrase = getattr(tx, "phrase", None)
        if phrase is not None:
            response.flags.append(REASON + phrase.decode("latin-1"))
        for k, v in getattr(tx, "_govarchive_conn", []):
            response.flags.append(HEADER + k.decode("latin-1").title() + ":" + v.decode("latin-1"))
        return response


class ArchivingDownloadHandler(http11.HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, keeping the reason phrase and connection headers; requests marked
    ``playwright`` go to a browser (scrapy-playwright, started on the first such request only, so a
    crawl that renders nothing never starts one)."""

    def __init__(self, crawler) -> None:  # noqa: ANN001
        super().__init__(crawler)
        self._pool._factory = _RecordingFactory
        # The handler builds its agent from this module-level name; point it at the subclass.
        # Scrapy runs downloads on one reactor thread, so this is set once and read by each download.
        http11._ScrapyAgent = _RecordingAgent
        self._crawler = crawler
        self._browser = None

    async def download_request(self, request):  # noqa: ANN001, ANN201
        if request.meta.get("playwright"):
            return await (await self._browser_handler()).download_request(request)
        return await super().download_request(request)

    async def _browser_handler(self):  # noqa: ANN202
        if self._browser is None:
            from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

            browser = ScrapyPlaywrightDownloadHandler(self._crawler)
            await browser._launch()
            self._browser = browser
        return self._browser

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        await super().close()


def wire_extras(response) -> tuple[str | None, list[tuple[str, str]]]:  # noqa: ANN001
    """Return (reason phrase, connection headers) a response carried, when this handler fetched it."""
    reason, headers = None, []
    for flag in response.flags:
        if flag.startswith(REASON):
            reason = flag[len(REASON):]
        elif flag.startswith(HEADER):
            name, _, value = flag[len(HEADER):].partition(":")
            headers.append((name, value))
    return reason, headers
