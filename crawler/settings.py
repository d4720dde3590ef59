"""Scrapy settings of the govarchive project (``scrapy crawl govsite`` uses these too).

govarchive's own settings (prefix GOVARCHIVE_) are documented in README.md, "Settings".
"""

BOT_NAME = "govarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Name the project and a contact URL; set your own (a profile's [settings] or -s USER_AGENT=…).
USER_AGENT = "govarchive/0.1 (+https://github.com/govarchive/govarchive; archiving public disclosure pages)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 0  # no cancel: GOVARCHIVE_MAX_BYTES stops the download and keeps what came
DOWNLOAD_HANDLERS = {"http": "crawler.handler.ArchivingDownloadHandler",
                     "https": "crawler.handler.ArchivingDownloadHandler"}
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = False  # keep what came; it is archived with WARC-Truncated
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

ADDONS = {"crawler.addon.GovArchiveAddon": 0}

GOVARCHIVE_DATA = None  # data directory; default ./archive-data or $GOVARCHIVE_DATA
GOVARCHIVE_WARC_PREFIX = "govarchive"
GOVARCHIVE_WARC_MAX_SIZE = 1_000_000_000
GOVARCHIVE_ERROR_CRAWLS = 3
GOVARCHIVE_MAX_BACKOFF = 300  # seconds: the longest Retry-After honoured
GOVARCHIVE_MISSING_RECHECK_DAYS = 7  # a link that only answered 404 is tried again after this
GOVARCHIVE_INGEST_PROCESS = True  # extraction and database writes in a second process
GOVARCHIVE_ALLOW_PRIVATE = False  # a profile's allow_private; CLI start URLs' hosts are always allowed
GOVARCHIVE_ALLOW_PRIVATE_HOSTS = None  # None: the spider's start URLs' hosts (typed by the user)
GOVARCHIVE_MAX_BYTES = 32 * 1024 * 1024  # a longer body is archived truncated (WARC-Truncated: length)
GOVARCHIVE_RENDER = "auto"  # auto: render lists that exist only in a browser; browser: every dynamic page; never
GOVARCHIVE_MAX_RENDERS = 50  # pages rendered in the browser per crawl
GOVARCHIVE_RENDER_TIMEOUT = 20  # seconds: a render's navigation limit
GOVARCHIVE_CHROMIUM = None  # the browser; None: Debian's chromium on the PATH
GOVARCHIVE_MAX_LIST_PAGES = 500  # pages followed per list series: a list declaring more is capped, with a warning
