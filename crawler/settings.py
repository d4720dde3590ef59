"""Scrapy settings of the govarchive project (``scrapy crawl govsite`` uses these too).

Politeness and the reactor are the project's; everything the archive components need, and every
``GOVARCHIVE_`` default, is set by the add-on (crawler/addon.py), in one place, at the add-on's
priority, so this file, a site profile's [settings] and the command line all override it.
"""

BOT_NAME = "govarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
COOKIES_ENABLED = True
# Spider output is requests, not items: Scrapy starts CONCURRENT_ITEMS asyncio workers for every
# response's output (100 by default: 100 tasks per page, a tenth of the crawl process's CPU).
CONCURRENT_ITEMS = 4
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

ADDONS = {"crawler.addon.GovArchiveAddon": 0}
