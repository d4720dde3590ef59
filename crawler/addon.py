"""The govarchive Scrapy add-on: the archive's components and every default, in one place.

Everything is set with the "addon" priority, so a project's settings, a site profile's [settings]
and the command line still win. Order numbers beside the built-ins: HttpCompressionMiddleware is
590, RetryMiddleware 550, RedirectMiddleware 600. Conditional headers are added late (after
UserAgent 500) so the WARC request record shows them; back-off (570) sees a 429 before
RetryMiddleware retries it; failures are announced at 50, after retries are exhausted. Scrapy's
HttpCompressionMiddleware is replaced (AcceptEncodingMiddleware): bodies stay as sent; the history
decodes them with a limit. Private addresses are refused at 60, before anything is sent.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings

from archive import __version__
from archive.state import AUDIT_EVERY
from archive.vocab import RETRY_STATUSES

log = logging.getLogger(__name__)

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

# Every govarchive setting and its default (README, "Settings", documents each).
DEFAULTS = {
    "GOVARCHIVE_ENABLED": True,
    "GOVARCHIVE_DATA": None,  # None: $GOVARCHIVE_DATA, else ./archive-data
    "GOVARCHIVE_STATE": "archive.state.SQLiteState",  # what the crawl reads of the archive
    "GOVARCHIVE_SITE": None,  # None: the first start URL's host
    "GOVARCHIVE_START_URLS": [],
    "GOVARCHIVE_CRAWL_ID": None,  # None: new, or the site's unfinished crawl (resumed)
    "GOVARCHIVE_CONTACT": None,  # a URL or mailto: the User-Agent carries, for site operators
    "GOVARCHIVE_WARC_PREFIX": "govarchive",
    "GOVARCHIVE_WARC_MAX_SIZE": 1_000_000_000,
    "GOVARCHIVE_MAX_BYTES": 32 * 1024 * 1024,  # a longer body is archived truncated
    "GOVARCHIVE_ERROR_CRAWLS": 3,
    "GOVARCHIVE_EXTRACT_OVERRIDES": {},
    "GOVARCHIVE_MAX_BACKOFF": 300,  # seconds: the longest Retry-After honoured
    "GOVARCHIVE_MISSING_RECHECK_DAYS": 7,
    "GOVARCHIVE_AUDIT_EVERY": AUDIT_EVERY,  # every Nth check of a page without validators (0: never)
    "GOVARCHIVE_REVISIT": "adaptive",  # which known pages a crawl checks again (archive/revisit.py); "full": all
    "GOVARCHIVE_MAX_INTERVAL_DAYS": 30,  # no known page goes unchecked longer
    "GOVARCHIVE_REVISIT_BUDGET": 0,  # rechecks per crawl, most overdue first; 0: no limit
    "GOVARCHIVE_REVISIT_NOW": None,  # the policy's "now" (ISO time) for simulations; None: the clock
    "GOVARCHIVE_INGEST_PROCESS": True,
    "GOVARCHIVE_ALLOW_PRIVATE": False,
    "GOVARCHIVE_ALLOW_PRIVATE_HOSTS": None,  # None: the spider's start URLs' hosts (typed by the user)
    "GOVARCHIVE_PROGRESS": None,  # None: when stderr is a terminal
    "GOVARCHIVE_MAX_LIST_PAGES": 500,
    "GOVARCHIVE_RENDER": "auto",
    "GOVARCHIVE_MAX_RENDERS": 50,
    "GOVARCHIVE_RENDER_TIMEOUT": 20,
    "GOVARCHIVE_CHROMIUM": None,  # None: Debian's chromium on the PATH
    "GOVARCHIVE_REDIS": None,  # a cluster worker's Redis URL (crawler/cluster.py); None: one process
    "GOVARCHIVE_WORKER": None,  # a cluster worker's name (its WARC files carry it)
    "GOVARCHIVE_LEASE_TTL": 30,  # seconds a dead worker's requests wait before others take them
    # Scrapy settings the archive components need.
    "DOWNLOAD_HANDLERS": {"http": "crawler.handler.ArchivingDownloadHandler",
                          "https": "crawler.handler.ArchivingDownloadHandler"},
    "DOWNLOAD_MAXSIZE": 0,  # no cancel: GOVARCHIVE_MAX_BYTES stops the download and keeps what came
    "DOWNLOAD_FAIL_ON_DATALOSS": False,  # keep what came; it is archived with WARC-Truncated
    "RETRY_HTTP_CODES": list(RETRY_STATUSES),
}


# A cluster worker (GOVARCHIVE_REDIS set): scrapy-redis's scheduler over the shared frontier, the
# archive extension that writes WARCs only, leases ended once links are queued (spider middleware 10,
# nearest the engine), host slots freed as a download ends (downloader middleware 1000, nearest it).
CLUSTER = {
    "SCHEDULER": "crawler.cluster.ClusterScheduler",
    "SCHEDULER_QUEUE_CLASS": "crawler.cluster.HostQueue",
    "DUPEFILTER_CLASS": "crawler.cluster.CrawlDupeFilter",
    "SCHEDULER_SERIALIZER": "archive.cluster",  # its dumps/loads: JSON
    "SCHEDULER_PERSIST": True,  # the frontier is the cluster's: a worker never flushes it
    "GOVARCHIVE_STATE": "archive.cluster.RedisState",
}
CLUSTER_EXTENSIONS = {"crawler.extension.ArchiveExtension": None, "crawler.cluster.ClusterArchiveExtension": 100}
CLUSTER_DOWNLOADER_MIDDLEWARES = {"crawler.cluster.ClusterSlotMiddleware": 1000}
CLUSTER_SPIDER_MIDDLEWARES = {"crawler.cluster.LeaseMiddleware": 10}


def user_agent(contact: str | None) -> str:
    """govarchive's User-Agent: the contact a site operator can write to, when one is set."""
    who = f"+{contact}; " if contact else ""
    return f"govarchive/{__version__} ({who}archiving public disclosure pages)"


class GovArchiveAddon:
    """Add the archive's components and defaults."""

    def update_settings(self, settings: BaseSettings) -> None:
        self._components(settings, DOWNLOADER_MIDDLEWARES=DOWNLOADER_MIDDLEWARES, EXTENSIONS=EXTENSIONS)
        for key, value in DEFAULTS.items():
            settings.set(key, value, "addon")
        settings.set("USER_AGENT", user_agent(settings.get("GOVARCHIVE_CONTACT")), "addon")
        if settings.get("GOVARCHIVE_REDIS"):
            self._cluster(settings)
        # The browser for lists that exist only in one: Debian's chromium, never a downloaded one.
        if settings.get("GOVARCHIVE_RENDER") != "never":
            from .render import chromium_path, playwright_settings

            executable = chromium_path(settings.get("GOVARCHIVE_CHROMIUM"))
            if executable:
                timeout = settings.getfloat("GOVARCHIVE_RENDER_TIMEOUT")
                for key, value in playwright_settings(executable, timeout).items():
                    settings.set(key, value, "addon")

    @staticmethod
    def _components(settings: BaseSettings, **groups: dict) -> None:
        for key, components in groups.items():
            current = settings.getdict(key)
            for path, order in components.items():
                if order is None or path not in current:
                    current[path] = order
            settings.set(key, current, "addon")

    def _cluster(self, settings: BaseSettings) -> None:
        """A cluster worker's components (README, "A cluster")."""
        self._components(settings, EXTENSIONS=CLUSTER_EXTENSIONS, DOWNLOADER_MIDDLEWARES=CLUSTER_DOWNLOADER_MIDDLEWARES,
                         SPIDER_MIDDLEWARES=CLUSTER_SPIDER_MIDDLEWARES)
        for key, value in CLUSTER.items():
            settings.set(key, value, "addon")
        settings.set("REDIS_URL", settings.get("GOVARCHIVE_REDIS"), "addon")
