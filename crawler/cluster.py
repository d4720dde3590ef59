"""A cluster worker's Scrapy components: scrapy-redis's scheduler over the shared frontier.

scrapy-redis gives the scheduler (enqueue through a dupefilter, pop from a queue), the queue and
dupefilter interfaces and the serializer hook; archive/cluster.py holds what it lacks for this job,
as Lua scripts: per-host queues with a cluster-wide limit and delay per host, leases that go back
to the queue when a worker dies, and crawls side by side. Here:

- ``HostQueue`` (SCHEDULER_QUEUE_CLASS): push to the crawl's host queue, pop under the host limits;
  a popped request carries its lease in ``meta["govarchive_lease"]``.
- ``CrawlDupeFilter`` (DUPEFILTER_CLASS): one seen set per crawl, never cleared by a worker; its
  fingerprints. The scheduler tests the seen set and queues in one script (the queue's push), not in
  scrapy-redis's two calls: a call made again after its answer was lost must not count a link seen
  that was never queued.
- ``ClusterScheduler`` (SCHEDULER): a retry hands its lease back to the queue (another worker may
  take it, under the host's limits); requests that cannot leave this process (a browser render, whose
  meta holds live objects) stay local, counted in Redis so the crawl is not drained under them.
- ``Outbox``: what Redis did not take while it was down, sent again when it returns; the leases the
  worker holds, renewed by its heartbeat (a lease nobody holds expires and goes back to its queue).
- requests are JSON, never pickle (SCHEDULER_SERIALIZER = "archive.cluster", whose ``dumps``/``loads``
  the coordinator writes its seeds with too).
- ``ClusterSlotMiddleware``: the host's slot is freed as soon as the download is over.
- ``LeaseMiddleware``: a lease ends only when its response's callback has queued every link.
- ``ClusterArchiveExtension``: WARCs per crawl and worker, heartbeats, closing a crawl's files
  when its coordinator asks.
- ``ClusterSpider``: the project's spider, one ``CrawlContext`` per crawl, kept open while idle.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import warnings
from collections import deque
from urllib.parse import urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    DontCloseSpider,
    IgnoreRequest,
    NotConfigured,
    ScrapyDeprecationWarning,
)
from scrapy.http import Request, Response
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from archive import vocab as v
from archive.cluster import Cluster, fingerprint
from archive.recorder import CrawlConfig, Recorder
from archive.scope import Scope
from archive.warc import Exchange, repair_open_files
from pipelines.links import Discovery

from .extension import ArchiveExtension
from .spiders.govsite import CrawlContext, GovSiteSpider
from .state import archive_state

logger = logging.getLogger(__name__)
# scrapy-redis 0.9.1 predates Scrapy 2.13's deprecations (Spider.log, stats' spider argument).
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")

HEARTBEAT = 1.0  # seconds between a worker's heartbeats (and its checks for crawls to close)
IDLE_CLOSE = 5.0  # seconds without a record before a crawl's file is closed: its coordinator reads on
POLL = 0.2  # seconds before asking the frontier again when every ready host is busy
LOCAL_ONLY = ("playwright", "playwright_include_page", "playwright_page_methods")


class Outbox:
    """The worker's side of Redis: the calls that failed while Redis was unreachable, kept in order
    and made again when it returns (a link found, a lease ended, a slot freed is never lost to an
    outage), and the leases the worker holds, which its heartbeat renews.

    Every call made again must be safe to make twice: the first try may have reached Redis and only
    its answer been lost. So a link is queued by one script that tests the crawl's seen set and
    queues together, and ending a lease or freeing a slot does nothing the second time.
    """

    def __init__(self) -> None:
        self.ops: deque = deque()
        self.down_since: float | None = None
        self.held: set[str] = set()  # lease ids popped and not yet ended

    def call(self, fn, *args: object, **kw: object):  # noqa: ANN001, ANN201
        if self.ops:  # down: keep the order of what the worker did
            self.ops.append((fn, args, kw))
            return None
        try:
            return fn(*args, **kw)
        except RedisError as exc:
            self.down(exc)
            self.ops.append((fn, args, kw))
            return None

    def down(self, exc: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.time()
            what = "unreachable" if isinstance(exc, RedisConnectionError | RedisTimeoutError) else "refused a call"
            logger.error("Redis %s (%s): this worker takes no work until it answers; what it has done is "
                         "kept and sent then", what, exc)

    def flush(self) -> bool:
        """Send what waits; True when Redis answers again (or never left)."""
        while self.ops:
            fn, args, kw = self.ops[0]
            try:
                fn(*args, **kw)
            except RedisError as exc:
                self.down(exc)
                return False
            self.ops.popleft()
        if self.down_since is not None:
            logger.warning("Redis is back after %.0fs", time.time() - self.down_since)
            self.down_since = None
        return True


def outbox(crawler: Crawler) -> Outbox:
    """The worker's one Outbox (shared by the scheduler, the middlewares and the extension)."""
    box = getattr(crawler, "_govarchive_outbox", None)
    if box is None:
        box = crawler._govarchive_outbox = Outbox()
    return box


def is_local(request: Request, spider) -> bool:  # noqa: ANN001
    """A request that cannot be handed to another process: live objects in its meta, or a callback
    that is not a method of the spider."""
    if any(k in request.meta for k in LOCAL_ONLY):
        return True
    for cb in (request.callback, request.errback):
        if cb is not None and getattr(cb, "__self__", None) is not spider:
            return True
    return False


# -- scrapy-redis components ----------------------------------------------------------------------------
class HostQueue(Base):
    """The crawl's host queues in Redis (archive/cluster.py), behind scrapy-redis's queue interface."""

    def __init__(self, server, spider, key, serializer=None) -> None:  # noqa: ANN001
        super().__init__(server, spider, key, serializer)
        settings = spider.settings
        self.cluster = Cluster(settings.get("GOVARCHIVE_REDIS"), client=server)
        self.worker = settings.get("GOVARCHIVE_WORKER")
        self.per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.lease_ttl = settings.getfloat("GOVARCHIVE_LEASE_TTL")
        self.outbox = outbox(spider.crawler)

    def __len__(self) -> int:
        try:
            return sum(self.cluster.pending(c) for c in self.cluster.active())
        except RedisError:
            return 0

    def push(self, request: Request, fp: str | None = None) -> bool | None:
        """Queue a request unless the crawl has seen ``fp`` (None: queue it anyway), testing and
        queueing in one step; True if queued, False if seen, None if it waits for Redis."""
        crawl = request.meta["govarchive_crawl"]
        return self.outbox.call(self.cluster.push, crawl, urlsplit(request.url).netloc, fp,
                                self._encode_request(request), priority=request.priority, force=fp is None)

    def requeue(self, request: Request) -> None:
        """Hand a leased request back (a retry): another worker may fetch it."""
        lease = request.meta["govarchive_lease"]
        self.outbox.held.discard(lease)
        self.outbox.call(self.cluster.finish, lease, requeue=self._encode_request(request))

    def pop(self, timeout: int = 0) -> Request | None:
        if not self.outbox.flush():
            return None
        try:
            got = self.cluster.pop(self.worker, self.per_host, self.lease_ttl)
        except RedisError as exc:
            self.outbox.down(exc)
            return None
        if got is None:
            return None
        lease, crawl, _, raw = got
        try:
            request = self._decode_request(raw)
        except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the worker
            logger.error("dropped a queued request of crawl %s that cannot be read: %s", crawl, exc)
            self.outbox.call(self.cluster.finish, lease)
            return None
        request.meta["govarchive_lease"] = lease
        request.meta.setdefault("govarchive_crawl", crawl)
        self.outbox.held.add(lease)
        return request

    def clear(self) -> None:
        """A worker never clears the shared frontier: its coordinator forgets a crawl when it ends."""


class CrawlDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with one seen set per crawl, which no worker clears. The scheduler
    takes its fingerprints only: it tests the seen set and queues in one script (``HostQueue.push``),
    so ``request_seen`` is here for scrapy-redis's interface."""

    @classmethod
    def from_spider(cls, spider) -> CrawlDupeFilter:  # noqa: ANN001
        df = super().from_spider(spider)
        df.cluster = Cluster(spider.settings.get("GOVARCHIVE_REDIS"), client=df.server)
        return df

    def request_fingerprint(self, request: Request) -> str:
        return fingerprint(request.method, request.url, request.body)

    def request_seen(self, request: Request) -> bool:
        return self.cluster.seen(request.meta["govarchive_crawl"], self.request_fingerprint(request))

    def close(self, reason: str = "") -> None:
        """Kept: the crawl goes on with other workers."""

    def clear(self) -> None:
        """Kept: the crawl goes on with other workers."""


class ClusterScheduler(Scheduler):
    """scrapy-redis's scheduler, with leases handed back on retry and a local queue."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.local = deque()
        scheduler._nudge = None
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        crawl = request.meta.get("govarchive_crawl")
        if crawl is None:
            logger.error("a request outside any crawl was dropped: %s", request.url)
            return False
        if is_local(request, self.spider):
            request.meta["govarchive_local"] = (crawl, uuid.uuid4().hex)
            self.queue.outbox.call(self.queue.cluster.local, crawl, self.queue.worker, request.meta["govarchive_local"][1],
                                   True, request.url)
            self.local.append(request)
            return True
        if request.meta.get("govarchive_lease"):  # a retry: back to the host's queue, under its limits
            self.queue.requeue(request)
            return True
        # The seen test and the queueing in one script, not scrapy-redis's two calls: a call whose
        # answer was lost (Redis killed after it ran) and is made again cannot leave a link counted
        # as seen but never queued. While Redis is down, it waits in the outbox (None).
        queued = self.queue.push(request, fp=None if request.dont_filter else self.df.request_fingerprint(request))
        if queued is False:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.local:
            return self.local.popleft()
        request = super().next_request()
        if request is None and self._nudge is None:
            from twisted.internet import reactor  # the one Scrapy installed (never at import time)

            # Ready hosts may all be busy with other workers: ask again soon, not at Scrapy's next
            # 5-second heartbeat (the engine's own wake-up call, scheduled).
            self._nudge = reactor.callLater(POLL, self._wake)
        return request

    def _wake(self) -> None:
        self._nudge = None
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def has_pending_requests(self) -> bool:
        return bool(self.local)

    def close(self, reason: str) -> None:
        if self._nudge is not None and self._nudge.active():
            self._nudge.cancel()
        for request in self.local:  # never fetched: counted no more
            crawl, token = request.meta["govarchive_local"]
            self.queue.outbox.call(self.queue.cluster.local, crawl, self.queue.worker, token, False)
        self.local.clear()


# -- leases and slots -------------------------------------------------------------------------------------
class ClusterSlotMiddleware:
    """Free the host's cluster-wide slot as soon as a download is over (response or failure),
    setting when the host may be asked again: the crawl's delay, or what the server asked for."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.get("GOVARCHIVE_REDIS"):
            raise NotConfigured("not a cluster worker")
        self.cluster = Cluster(crawler.settings.get("GOVARCHIVE_REDIS"))
        self.outbox = outbox(crawler)
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.max_backoff = crawler.settings.getfloat("GOVARCHIVE_MAX_BACKOFF")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterSlotMiddleware:
        return cls(crawler)

    def _release(self, request: Request, delay: float) -> None:
        lease = request.meta.get("govarchive_lease")
        if lease and not request.meta.get("govarchive_released"):
            request.meta["govarchive_released"] = True
            self.outbox.call(self.cluster.release, lease, delay)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:  # noqa: ANN001
        delay = self.delay
        if response.status in v.BACKOFF_STATUSES:
            retry_after = response.headers.get(b"Retry-After")
            try:
                delay = max(delay, min(float(retry_after or 0), self.max_backoff))
            except ValueError:
                pass
        self._release(request, delay)
        return response

    def process_exception(self, request: Request, exception: BaseException, spider=None) -> None:  # noqa: ANN001
        self._release(request, self.delay)


class LeaseMiddleware:
    """End a request's lease once its callback has queued every link (a worker killed before that
    loses nothing: the lease expires and another worker fetches the request again)."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.get("GOVARCHIVE_REDIS"):
            raise NotConfigured("not a cluster worker")
        self.cluster = Cluster(crawler.settings.get("GOVARCHIVE_REDIS"))
        self.worker = crawler.settings.get("GOVARCHIVE_WORKER")
        self.outbox = outbox(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseMiddleware:
        return cls(crawler)

    def done(self, request: Request) -> None:
        finish(self.outbox, self.cluster, self.worker, request)

    def process_spider_output(self, response: Response, result, spider=None):  # noqa: ANN001, ANN201
        yield from result
        self.done(response.request)

    async def process_spider_output_async(self, response: Response, result, spider=None):  # noqa: ANN001, ANN201
        async for item in result:
            yield item
        self.done(response.request)

    def process_spider_exception(self, response: Response, exception: BaseException, spider=None) -> None:  # noqa: ANN001
        self.done(response.request)


def finish(box: Outbox, cluster: Cluster, worker: str, request: Request | None) -> None:
    """A request is over for good: end its lease, or count its local request done."""
    if request is None:
        return
    lease = request.meta.pop("govarchive_lease", None)
    if lease:
        box.held.discard(lease)
        box.call(cluster.finish, lease)
    local = request.meta.pop("govarchive_local", None)
    if local:
        box.call(cluster.local, local[0], worker, local[1], False)


# -- the archive ------------------------------------------------------------------------------------------
class ClusterArchiveExtension(ArchiveExtension):
    """One Recorder per crawl, writing ``<prefix>-<worker>-…`` WARC files and never the database."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        if not settings.get("GOVARCHIVE_REDIS"):
            raise NotConfigured("not a cluster worker")
        self.cluster = Cluster(settings.get("GOVARCHIVE_REDIS"))
        self.worker = settings.get("GOVARCHIVE_WORKER")
        self.recorders: dict[str, Recorder] = {}
        self.since: dict[str, str] = {}  # crawl -> when its current file opened
        self.last_write: dict[str, float] = {}  # crawl -> when a record was last written
        self.loop: task.LoopingCall | None = None
        self.lease_ttl = settings.getfloat("GOVARCHIVE_LEASE_TTL")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterArchiveExtension:
        ext = super().from_crawler(crawler)
        return ext

    def prefix(self) -> str:
        return f"{self.crawler.settings.get('GOVARCHIVE_WARC_PREFIX')}-{self.worker}"

    def spider_opened(self, spider) -> None:  # noqa: ANN001
        # This worker's files a killed run of it left: repaired now (others' files are theirs).
        for name, cut in repair_open_files(self.data / "warcs", prefix=self.prefix() + "-"):
            logger.warning("repaired %s: cut %d bytes of an unfinished record", name, cut)
        self.loop = task.LoopingCall(self.heartbeat)
        self.loop.start(HEARTBEAT, now=True)

    def spider_closed(self, spider, reason: str) -> None:  # noqa: ANN001
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        for crawl in list(self.recorders):
            self._close(crawl)
        box = outbox(self.crawler)
        try:
            if box.flush():
                handed = self.cluster.hand_back(self.worker)
                if handed:
                    logger.warning("handed %d unfinished requests back to the frontier", handed)
                self.cluster.r.delete(self.cluster.key(f"worker:{self.worker}"))
        except RedisError:
            pass
        if box.ops:  # Redis never came back: what this worker found is in its WARCs, and its leases expire
            logger.error("stopping with %d changes Redis never received: the requests it leased go back to "
                         "the frontier when their leases expire; links found are in this worker's WARC files",
                         len(box.ops))

    def _recorder(self, meta: dict) -> Recorder | None:
        crawl = meta.get("govarchive_crawl")
        if crawl is None:
            return None
        recorder = self.recorders.get(crawl)
        if recorder is None:
            config = self.cluster.config(crawl)
            if config is None:
                logger.error("crawl %s is not in Redis (its coordinator ended it): response dropped", crawl)
                return None
            s = self.crawler.settings
            recorder = Recorder(self.data, CrawlConfig(
                site=config["site"], start_urls=config["start_urls"], scope=config.get("scope"),
                overrides=config.get("overrides") or {}, crawl_id=crawl, prefix=f"{self.prefix()}-{crawl[-6:]}",
                max_size=s.getint("GOVARCHIVE_WARC_MAX_SIZE"),
                info={**config.get("info", {}), "govarchive-worker": self.worker}),
                archive_state(self.crawler).for_crawl(crawl), history=False)
            recorder.open()
            self.recorders[crawl] = recorder
        if crawl not in self.since:
            self.since[crawl] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self.last_write[crawl] = time.monotonic()
        return recorder

    def request_scheduled(self, request: Request, spider) -> None:  # noqa: ANN001
        """The frontier is Redis: nothing to keep here."""

    def browser_response(self, exchange: Exchange, request: Request | None = None) -> Discovery:
        return super().browser_response(exchange, request)

    def fetch_failed(self, request: Request, exception: BaseException) -> None:
        if not isinstance(exception, IgnoreRequest):
            super().fetch_failed(request, exception)
        finish(outbox(self.crawler), self.cluster, self.worker, request)

    def _close(self, crawl: str) -> None:
        recorder = self.recorders.pop(crawl, None)
        if recorder is not None:
            recorder.close("worker", {})
        self.since.pop(crawl, None)
        self.last_write.pop(crawl, None)
        forget = getattr(self.crawler.spider, "forget", None)
        if forget is not None:
            forget(crawl)

    def heartbeat(self) -> None:
        """Tell the cluster this worker lives (its leases renewed); close the files of crawls whose
        coordinator asks; send what waited while Redis was unreachable."""
        box = outbox(self.crawler)
        if not box.flush():
            return
        now = time.monotonic()
        for crawl, recorder in self.recorders.items():
            # A crawl this worker has nothing to do for: its file closed, so the coordinator's
            # watermark moves on (a new file opens with the next record).
            if recorder.writer is not None and recorder.writer.is_open and now - self.last_write.get(crawl, now) > IDLE_CLOSE:
                recorder.writer.close()
                self.since.pop(crawl, None)
        try:
            for crawl in list(self.recorders):
                if self.cluster.phase(crawl) in (None, "closing"):
                    self._close(crawl)
                    self.cluster.ack_closed(crawl, self.worker)
            self.cluster.heartbeat(self.worker, ttl=max(int(HEARTBEAT * 10), 5), host=socket.gethostname(),
                                   pid=os.getpid(), open=dict(self.since))
            self.cluster.renew(self.worker, box.held, self.lease_ttl)
            self.cluster.reap()
        except RedisError as exc:
            box.down(exc)


# -- the spider -------------------------------------------------------------------------------------------
class ClusterSpider(GovSiteSpider):
    """The project's spider for a cluster worker: requests come from the shared frontier, each with
    its crawl id; every crawl has its own scope and memory (a ``CrawlContext``)."""

    name = "govcluster"

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("start_urls", "cluster:")
        super().__init__(*args, **kwargs)
        self.start_urls = []
        self.contexts: dict[str, CrawlContext] = {}
        self.private_ok: dict[str, bool | set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args, **kwargs) -> ClusterSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        spider.cluster = Cluster(crawler.settings.get("GOVARCHIVE_REDIS"))
        return spider

    def idle(self) -> None:
        raise DontCloseSpider  # waits for the next crawl; SIGTERM stops it

    async def start(self):  # noqa: ANN201 - the frontier is Redis: nothing to start with
        return
        yield

    def context(self, meta: dict) -> CrawlContext:
        crawl = meta["govarchive_crawl"]
        ctx = self.contexts.get(crawl)
        if ctx is None:
            config = self.cluster.config(crawl)
            scope = Scope.from_dict((config or {}).get("scope")) or Scope([])
            ctx = CrawlContext(scope, meta={"govarchive_crawl": crawl})
            # A crawl Redis does not name (ended, or lost and not yet queued again) follows nothing,
            # and is asked about again next time.
            if config is not None:
                self.contexts[crawl] = ctx
        return ctx

    def forget(self, crawl: str) -> None:
        self.contexts.pop(crawl, None)
        self.private_ok.pop(crawl, None)

    def allows_private(self, request: Request) -> bool:
        """Whether this request's crawl may reach a private address there: the hosts its user typed
        (or every host, for a profile with ``allow_private``)."""
        crawl = request.meta.get("govarchive_crawl")
        host = urlsplit(request.url).netloc.lower()
        if crawl is None:  # robots.txt, asked for by Scrapy for a request of some crawl
            return any(self._private_ok(c, host) for c in self.cluster.active())
        return self._private_ok(crawl, host)

    def _private_ok(self, crawl: str, host: str) -> bool:
        ok = self.private_ok.get(crawl)
        if ok is None:
            config = self.cluster.config(crawl)
            if config is None:  # not named by Redis now: nothing allowed, asked again next time
                return False
            ok = self.private_ok[crawl] = True if config.get("allow_private") else set(config.get("allow_private_hosts", []))
        return ok is True or host in ok
