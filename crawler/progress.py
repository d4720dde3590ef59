"""Progress on a terminal (rich): pages, rate, queue, errors. Quiet when stderr is not a TTY."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from archive.vocab import STAT_ERRORS, STAT_EVENTS


class ProgressExtension:
    """Redraw one status line a second while the crawl runs."""

    def __init__(self, crawler: Crawler) -> None:
        wanted = crawler.settings.get("GOVARCHIVE_PROGRESS")  # None: when stderr is a terminal
        if not (sys.stderr.isatty() if wanted is None else crawler.settings.getbool("GOVARCHIVE_PROGRESS")):
            raise NotConfigured  # no terminal: quiet, as a pipe or a log file wants
        from rich.console import Console

        self.crawler = crawler
        self.console = Console(stderr=True)
        self.status = None
        self.loop: task.LoopingCall | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def text(self) -> str:
        stats = self.crawler.stats.get_stats()
        fetched = stats.get("response_received_count", 0)
        rate = fetched / max(time.monotonic() - self.started, 0.001)
        queued = stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0)
        errors = sum(n for k, n in stats.items() if k.startswith(STAT_ERRORS.format("")))
        events = {k.rsplit("/", 1)[-1]: n for k, n in stats.items() if k.startswith(STAT_EVENTS.format(""))}
        ev = " ".join(f"{k} {v}" for k, v in sorted(events.items()) if v)
        return f"fetched {fetched} ({rate:.1f}/s)  queued {queued}  errors {errors}  {ev}"

    def opened(self, spider) -> None:  # noqa: ANN001
        self.status = self.console.status(self.text())
        self.status.start()
        self.loop = task.LoopingCall(lambda: self.status.update(self.text()))
        self.loop.start(1.0, now=False)

    def closed(self, spider, reason: str) -> None:  # noqa: ANN001
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.status:
            self.status.stop()
