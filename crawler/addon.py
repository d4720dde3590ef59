"""The govarchive Scrapy add-on: wires the archive components in with "addon" priority."""

from __future__ import annotations

from scrapy.settings import BaseSettings

# Order numbers beside the built-ins: HttpCompressionMiddleware is 590, RetryMiddleware 550,
# RedirectMiddleware 600. Conditional headers are added late (after UserAgent 500) so the WARC
# request record shows them; back-off (570) sees a 429 before RetryMiddleware retries it;
# failures are recorded at 50, after retries are exhausted. Scrapy's HttpCompressionMiddleware is
# replaced (AcceptEncodingMiddleware): bodies stay as sent; the history decodes them with a limit.
# Private addresses are refused at 60, before anything is sent.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.AcceptEncodingMiddleware": 590,
    "crawler.middlewares.PrivateAddressMiddleware": 60,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    "crawler.middlewares.BackoffMiddleware": 570,
    "crawler.middlewares.FailureRecorderMiddleware": 50,
}
EXTENSIONS = {"crawler.extension.ArchiveExtension": 100, "crawler.progress.ProgressExtension": 900,
              "scrapy.extensions.throttle.AutoThrottle": None, "crawler.throttle.ConditionalAutoThrottle": 0}


class GovArchiveAddon:
    """Add the WARC/history extension and the conditional-request middleware."""

    def update_settings(self, settings: BaseSettings) -> None:
        for key, components in (("DOWNLOADER_MIDDLEWARES", DOWNLOADER_MIDDLEWARES),
                                ("EXTENSIONS", EXTENSIONS)):
            current = settings.getdict(key)
            for path, order in components.items():
                if order is None or path not in current:
                    current[path] = order
            settings.set(key, current, "addon")
        # The browser for lists that exist only in one: Debian's chromium, never a downloaded one.
        if settings.get("GOVARCHIVE_RENDER") != "never":
            from .render import chromium_path, playwright_settings

            executable = chromium_path(settings.get("GOVARCHIVE_CHROMIUM"))
            if executable:
                for key, value in playwright_settings(executable, settings.getfloat("GOVARCHIVE_RENDER_TIMEOUT")).items():
                    settings.set(key, value, "addon")
