"""The coordinator of a cluster crawl: seed the shared frontier, build the history from the
workers' WARC files, end the crawl. No Scrapy here: the workers (crawler/cluster.py) fetch.

One coordinator per site (a lock in Redis, and the data directory's own lock); it is the database's
only writer. Its steps:

1. Lock the site; resume its unfinished crawl (from Redis if the crawl is still there, else from
   the database) or begin one, writing the crawl's warcinfo to its own WARC file.
2. Put what workers need of the archive into Redis (archive/state.py ``SQLiteState.snapshot``:
   validators, the links behind a 304, stored payloads) and the crawl's configuration.
3. Queue each host's soft-404 probe and wait for them; then the start URLs, sitemaps, what a
   killed run left and every known page (archive/seeds.py, as one process does).
4. Until the frontier is drained: hand expired leases back, and ingest what workers wrote —
   closed files only, up to a watermark below which no open file can still add a record, in
   WARC-Date order across files, idempotently (a record whose WARC-Record-ID the history holds is
   skipped): the same path as ``govarchive rebuild``, so the database equals what one machine builds.
5. Ask workers to close the crawl's files; repair a dead worker's; ingest the rest; settle the
   crawl (delisting, moves …); write its ``crawl-end`` record last; forget its Redis keys.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from . import seeds as seeding
from .cluster import Cluster, fingerprint, request_dict
from .db import open_db, warc_dir
from .errors import GovArchiveError
from .history import History
from .rebuild import Rebuilder, Unit, _Crawl, _fields, _started, catch_up, file_order, file_units
from .recorder import new_crawl_id
from .scope import Scope
from .state import SQLiteState
from .warc import OPEN_SUFFIX, WarcWriter, repair_open_files, warc_date

log = logging.getLogger("govarchive")

POLL = 1.0  # seconds between the coordinator's looks at the frontier and the WARC directory
MARGIN = timedelta(seconds=10)  # a record is written within this of its WARC-Date
LOCK_TTL = 60  # seconds the site's lock outlives a coordinator that stopped refreshing it
CLOSE_WAIT = 120.0  # seconds to wait for workers to close a drained crawl's files
PROBE_WAIT = 120.0  # seconds to wait for the soft-404 probes before seeding anyway


@dataclass
class ClusterCrawl:
    """One cluster crawl as its coordinator runs it."""

    data: Path
    cluster: Cluster
    site: str
    start_urls: list[str]
    scope: Scope
    overrides: dict
    per_host: int = 2
    prefix: str = "govarchive"
    recheck: bool = True
    sitemaps: bool = True
    missing_recheck_days: int = 7
    error_crawls: int = 3
    contact: str | None = None
    allow_private: bool = False  # a profile's allow_private: links may reach private networks
    allow_private_hosts: tuple[str, ...] = ()  # the hosts of URLs the user typed: crawled wherever they point


class Ingester:
    """Feed the history the records of one crawl's closed WARC files, in WARC-Date order, as they
    become safe to read: below the watermark no file still open can add a record."""

    def __init__(self, data: Path, db, crawl_id: str, error_crawls: int,  # noqa: ANN001 - a Database
                 own: list[str] | None = None) -> None:
        self.own = own if own is not None else []  # the coordinator's files: warcinfo and crawl-end only
        self.wdir = warc_dir(data)
        self.crawl_id = crawl_id
        known = {r for (r,) in db.execute("SELECT record_id FROM captures WHERE crawl_id = ? AND record_id IS NOT NULL",
                                          [crawl_id])}
        self.history = History(db, error_crawls=error_crawls)
        self.rebuilder = Rebuilder(self.history, skip=known)
        self.rebuilder.warcs = self.wdir
        self.cursor: dict[str, int] = {}  # file -> offset of its next unit not fed
        self.crawl_of: dict[str, str | None] = {}
        self.fed = 0

    def begin(self, started: str, site: str, start_urls: list[str], scope: dict, overrides: dict) -> None:
        """The crawl is in the history before any capture (a rebuild begins it at the coordinator's
        warcinfo, the first record of the crawl)."""
        self.history.begin_crawl(self.crawl_id, started, site, start_urls, scope)
        self.rebuilder.crawls[self.crawl_id] = _Crawl(self.crawl_id, site, overrides or {})

    def _crawl_of(self, path: Path) -> str | None:
        name = path.name
        if name.removesuffix(OPEN_SUFFIX) in self.own:
            return None
        if name not in self.crawl_of:
            try:
                with open(path, "rb") as fh:
                    rec = next(iter(ArchiveIterator(fh)), None)
                    crawl = _fields(rec.raw_stream.read()).get("govarchive-crawl-id") if rec is not None and \
                        rec.rec_type == "warcinfo" else None
            except (OSError, ValueError, StopIteration):
                return None  # just created, nothing readable yet: asked again next time
            self.crawl_of[name] = crawl
        return self.crawl_of[name]

    def open_files(self) -> list[Path]:
        """This crawl's files still being written."""
        return [p for p in self.wdir.glob("*.warc.gz" + OPEN_SUFFIX) if self._crawl_of(p) == self.crawl_id]

    def watermark(self) -> str:
        """Records dated before this are all in closed files (or in no file at all)."""
        now = datetime.now(UTC)
        starts = [_started(p.with_name(p.name[: -len(OPEN_SUFFIX)])) for p in self.open_files()]
        mark = warc_date(now - MARGIN)
        earliest = min((s for s in starts if s), default=None)
        if earliest is not None:
            opened = datetime.strptime(earliest, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
            mark = min(mark, warc_date(opened - MARGIN))
        return mark

    def poll(self, final: bool = False) -> int:
        """Feed what is safe to feed (everything, when ``final``); return how many units."""
        mark = None if final else self.watermark()
        units: list[Unit] = []
        for path in sorted(self.wdir.glob("*.warc.gz"), key=file_order):
            if self._crawl_of(path) != self.crawl_id:
                continue
            start = self.cursor.get(path.name, 0)
            for unit in file_units(path, start):
                if mark is not None and unit.date >= mark:
                    break
                units.append(unit)
                self.cursor[path.name] = unit.end
        units.sort(key=lambda u: (u.date, file_order(u.path), u.offset))
        for unit in units:
            self.rebuilder.feed(unit)
        self.fed += len(units)
        return len(units)


def coordinate(job: ClusterCrawl, progress=None) -> dict:  # noqa: ANN001 - a callable taking one line
    """Run one crawl through the cluster; return what the crawl report needs."""
    say = progress or (lambda line: log.warning("%s", line))
    cluster = job.cluster
    data = job.data
    state = SQLiteState(data)
    wdir = warc_dir(data)
    wdir.mkdir(parents=True, exist_ok=True)
    resumed = state.unfinished_crawl(job.site)
    crawl_id = resumed or new_crawl_id()
    if not cluster.lock_site(job.site, crawl_id, ttl=LOCK_TTL):
        raise GovArchiveError(f"a crawl of {job.site} is already coordinated through this Redis "
                              f"(crawl {cluster.site_lock_holder(job.site)}): one coordinator per site")
    attached = cluster.config(crawl_id) is not None  # a coordinator that stopped: the crawl went on
    db = open_db(data)
    writer: WarcWriter | None = None
    try:
        if resumed and not attached:
            repair_open_files(wdir)  # files dead writers left (a live writer's stay locked)
            caught = catch_up(data, db, resumed)
            say(f"resuming crawl {resumed} of {job.site}, which did not finish" +
                (f" ({caught} captures recorded from its WARC files)" if caught else ""))
        info = {"isPartOf": crawl_id, "govarchive-crawl-id": crawl_id, "govarchive-site": job.site,
                "govarchive-scope": job.scope.to_dict(), "govarchive-extract": job.overrides or "",
                "start-urls": job.start_urls, "operator": job.contact or "",
                "govarchive-cluster": cluster.url.rsplit("@", 1)[-1], "govarchive-role": "coordinator"}
        writer = WarcWriter(wdir, prefix=f"{job.prefix}-coordinator", info=info, host=socket.gethostname())
        started = writer.open().date
        ingester = Ingester(data, db, crawl_id, job.error_crawls, own=writer.files)
        ingester.begin(started, job.site, job.start_urls, job.scope.to_dict(), job.overrides)
        if attached:
            say(f"attached to crawl {crawl_id} of {job.site}, running in the cluster")
        else:
            _seed(job, cluster, state, crawl_id, resumed, ingester, say)
        _drain(job, cluster, crawl_id, ingester, say)
        _close(cluster, crawl_id, ingester, wdir, say)
        ended = warc_date()
        by_worker = cluster.done_by(crawl_id)
        stats = {"workers": by_worker, "captures_ingested": ingester.fed}
        events = Counter()
        with db.conn:
            for e in ingester.history.end_crawl(crawl_id, ended, "finished", stats):
                events[e["kind"]] += 1
        writer.write_metadata(f"urn:govarchive:crawl:{crawl_id}",
                              {"govarchive": "crawl-end", "crawl_id": crawl_id, "reason": "finished",
                               "stats": stats}, extra={"WARC-Date": ended})
        cluster.forget(crawl_id)
        cluster.unlock_site(job.site, crawl_id)
        return {"crawl_id": crawl_id, "resumed": resumed, "workers": by_worker}
    finally:
        if writer is not None:
            writer.close()
        db.conn.close()


def _seed(job: ClusterCrawl, cluster: Cluster, state: SQLiteState, crawl_id: str, resumed: str | None,
          ingester: Ingester, say) -> None:  # noqa: ANN001
    validators, links, payloads = state.snapshot()
    cluster.put_snapshot(crawl_id, validators, links, payloads)
    cluster.set_limits(crawl_id, job.per_host)
    cluster.register(crawl_id, {"site": job.site, "start_urls": job.start_urls, "scope": job.scope.to_dict(),
                                "overrides": job.overrides, "info": {"operator": job.contact or ""},
                                "allow_private": job.allow_private,
                                "allow_private_hosts": sorted(job.allow_private_hosts)})
    cluster.set_phase(crawl_id, "probing")
    meta = {"govarchive_crawl": crawl_id}
    probes = seeding.probes(job.start_urls, job.scope)
    for seed in probes:
        _push(cluster, crawl_id, seed, meta, check_seen=False)
    waited = _wait(cluster, crawl_id, PROBE_WAIT, ingester, say, "the soft-404 probes")
    if not waited:
        say(f"the soft-404 probes did not finish within {PROBE_WAIT:.0f}s: seeding anyway")
    cluster.set_phase(crawl_id, "running")
    found = seeding.seeds(job.start_urls, job.scope, state, job.site, sitemaps=job.sitemaps, recheck=job.recheck,
                          missing_recheck_days=job.missing_recheck_days, crawl_id=resumed or crawl_id)
    from .capture import split_key

    cluster.mark_seen(crawl_id, [fingerprint(*_method_url_body(split_key(k))) for k in found.done])
    for seed in found.requests:
        _push(cluster, crawl_id, seed, meta, check_seen=not seed.dont_filter)
    say(f"crawl {crawl_id} of {job.site}: {len(found.requests)} requests queued for the cluster")


def _method_url_body(parts: tuple[str, str, bytes | None]) -> tuple[str, str, bytes | None]:
    url, method, body = parts
    return method, url, body


def _push(cluster: Cluster, crawl_id: str, seed: seeding.Seed, meta: dict, check_seen: bool) -> None:
    from urllib.parse import urlsplit

    from .capture import split_key

    url, method, body = split_key(seed.key)
    req = request_dict(seed.key, {**seed.meta, **meta}, priority=seed.priority, dont_filter=seed.dont_filter)
    fp = fingerprint(method, url, body)
    from .cluster import dumps

    cluster.push(crawl_id, urlsplit(url).netloc, fp, dumps(req), priority=seed.priority, force=not check_seen)


def _live(cluster: Cluster) -> set[str]:
    return {w["name"] for w in cluster.workers()}


def _wait(cluster: Cluster, crawl_id: str, timeout: float | None, ingester: Ingester, say, what: str) -> bool:  # noqa: ANN001
    """Poll until the crawl's frontier is empty twice running (reaping, refreshing the lock,
    ingesting); False on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    empty = 0
    quiet_since = time.monotonic()
    site = (cluster.config(crawl_id) or {}).get("site")
    while True:
        cluster.reap()
        if site:
            cluster.refresh_lock(site, crawl_id, LOCK_TTL)
        live = _live(cluster)
        ingester.poll()
        pending = cluster.pending(crawl_id, live)
        empty = empty + 1 if pending == 0 else 0
        if empty >= 2:
            return True
        if not live and time.monotonic() - quiet_since > 30:
            say(f"waiting for {what}: no worker is running (start one: govarchive worker --redis {cluster.url})")
            quiet_since = time.monotonic()
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(POLL)


def _drain(job: ClusterCrawl, cluster: Cluster, crawl_id: str, ingester: Ingester, say) -> None:  # noqa: ANN001
    _wait(cluster, crawl_id, None, ingester, say, "the crawl")


def _close(cluster: Cluster, crawl_id: str, ingester: Ingester, wdir: Path, say) -> None:  # noqa: ANN001
    """Every worker closes the crawl's files; a dead worker's are repaired; the rest is ingested."""
    cluster.request_close(crawl_id)
    deadline = time.monotonic() + CLOSE_WAIT
    while True:
        for name, cut in repair_open_files(wdir):  # only files no live writer holds
            say(f"repaired {name} (a dead worker's): cut {cut} bytes of an unfinished record")
        left = ingester.open_files()
        if not left:
            break
        if time.monotonic() > deadline:
            say(f"{len(left)} file(s) of crawl {crawl_id} still open after {CLOSE_WAIT:.0f}s, left out: "
                + ", ".join(p.name for p in left))
            break
        time.sleep(POLL / 2)
    ingester.poll(final=True)
