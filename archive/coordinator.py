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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from warcio.exceptions import ArchiveLoadFailed

from . import seeds as seeding
from .capture import split_key
from .cluster import Cluster, dumps, fingerprint, request_dict
from .db import open_db, warc_dir
from .errors import GovArchiveError
from .history import History
from .rebuild import (
    Rebuilder,
    Unit,
    _Crawl,
    _started,
    catch_up,
    file_order,
    file_units,
    merge_by_date,
    warcinfo_crawl,
)
from .recorder import new_crawl_id
from .revisit import Policy
from .scope import Scope
from .state import SQLiteState
from .warc import (
    OPEN_SUFFIX,
    WarcWriter,
    first_member,
    last_complete_offset,
    repair_open_files,
    warc_date,
)

log = logging.getLogger("govarchive")

POLL = 0.5  # seconds between the coordinator's looks at the frontier and the WARC directory
MARGIN = timedelta(seconds=3)  # a record is written within this of its WARC-Date
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
    policy: Policy = field(default_factory=Policy)  # which known pages are checked again (archive/revisit.py)


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
        self.cursor: dict[str, int] = {}  # file (its final name) -> offset of its next unit not read
        self.last_date: dict[str, str] = {}  # file -> date of its last unit read
        self.waiting: dict[str, list[Unit]] = {}  # file -> its units read, not yet fed, in the file's order
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
                first = first_member(path)
                if first is None:
                    return None  # its first record not whole yet: asked again next time, never taken as foreign
                crawl = warcinfo_crawl(first)
            except (OSError, ValueError, ArchiveLoadFailed):
                return None
            self.crawl_of[name] = crawl
        return self.crawl_of[name]

    def open_files(self) -> list[Path]:
        """This crawl's files still being written."""
        return [p for p in self.wdir.glob("*.warc.gz" + OPEN_SUFFIX) if self._crawl_of(p) == self.crawl_id]

    def _read(self, name: str, path: Path, closed: bool) -> None:
        """Read a file's new units into the waiting list. A file being written is read to its last
        whole record, and its last unit is held back (its request record may follow)."""
        start = self.cursor.get(name, 0)
        stop = None if closed else last_complete_offset(path, start)
        if stop is not None and stop <= start:
            return
        units = list(file_units(path, start, stop))
        if not closed and units:
            units.pop()
        final = self.wdir / name
        for unit in units:
            unit.path = final  # captures name the file as it will be called once closed
            self.waiting.setdefault(name, []).append(unit)
            self.cursor[name] = unit.end
            self.last_date[name] = max(self.last_date.get(name, ""), unit.date)

    def poll(self, final: bool = False) -> int:
        """Feed what is safe to feed (everything, when ``final``); return how many units.

        Each writer appends its records in time order, so a file being written will add nothing
        dated before its last record read (less a margin): the oldest of those, over the crawl's open
        files, is the watermark below which every record of the crawl has been read.
        """
        mark = None if final else warc_date(datetime.now(UTC) - MARGIN)
        for path in sorted(self.wdir.glob("*.warc.gz*"), key=lambda p: file_order(Path(p.name.removesuffix(OPEN_SUFFIX)))):
            closed = not path.name.endswith(OPEN_SUFFIX)
            if not closed and not path.name.endswith(".warc.gz" + OPEN_SUFFIX):
                continue
            if self._crawl_of(path) != self.crawl_id:
                continue
            name = path.name.removesuffix(OPEN_SUFFIX)
            try:
                self._read(name, path, closed)
            except FileNotFoundError:  # closed (renamed) meanwhile: read under its final name
                self._read(name, self.wdir / name, True)
            if not closed and mark is not None:
                last = self.last_date.get(name) or _started(Path(name))
                if not last:
                    continue
                held = datetime.strptime(last[:26].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
                mark = min(mark, warc_date(held - MARGIN))
        # Each file's units go in the file's own order, merged by date as `rebuild` reads them (a
        # record dated before its file's warcinfo still follows it): of each file, the units before
        # the first not yet below the watermark.
        streams = []
        for name, units in self.waiting.items():
            n = len(units) if mark is None else next((i for i, u in enumerate(units) if u.date >= mark), len(units))
            if n:
                streams.append(("", iter(units[:n])))
                self.waiting[name] = units[n:]
        ready = list(merge_by_date(streams))
        for unit in ready:
            self.rebuilder.feed(unit)
        self.fed += len(ready)
        return len(ready)


class _Run:
    """One crawl's way through the phases: probing, running, closing, ended (and lost, while a crawl
    Redis lost is queued again)."""

    def __init__(self, job: ClusterCrawl, say) -> None:  # noqa: ANN001 - a callable taking one line
        self.job = job
        self.say = say
        self.cluster = job.cluster
        self.wdir = warc_dir(job.data)
        self.state = SQLiteState(job.data)
        self.resumed = self.state.unfinished_crawl(job.site)
        self.crawl_id = self.resumed or new_crawl_id()
        self.db = None
        self.writer: WarcWriter | None = None
        self.ingester: Ingester | None = None
        self.phase = "probing"
        self.empty = 0  # polls in a row that found the frontier empty
        self.deadline = 0.0
        self.revisit: dict[str, int] = {}  # the revisit plan's counts (archive/revisit.py)

    def lock(self) -> None:
        if not self.cluster.lock_site(self.job.site, self.crawl_id, ttl=LOCK_TTL):
            raise GovArchiveError(f"a crawl of {self.job.site} is already coordinated through this Redis "
                                  f"(crawl {self.cluster.site_lock_holder(self.job.site)}): one coordinator per site")

    def open(self) -> None:
        job, cluster = self.job, self.cluster
        self.wdir.mkdir(parents=True, exist_ok=True)
        attached = cluster.config(self.crawl_id) is not None  # a coordinator that stopped: the crawl went on
        self.db = open_db(job.data)
        if self.resumed and not attached:
            repair_open_files(self.wdir)  # files dead writers left (a live writer's stay locked)
            caught = catch_up(job.data, self.db, self.resumed)
            self.say(f"resuming crawl {self.resumed} of {job.site}, which did not finish" +
                     (f" ({caught} captures recorded from its WARC files)" if caught else ""))
        info = {"isPartOf": self.crawl_id, "govarchive-crawl-id": self.crawl_id, "govarchive-site": job.site,
                "govarchive-scope": job.scope.to_dict(), "govarchive-extract": job.overrides or "",
                "start-urls": job.start_urls, "operator": job.contact or "", "govarchive-role": "coordinator"}
        self.writer = WarcWriter(self.wdir, prefix=f"{job.prefix}-coordinator", info=info, host=socket.gethostname())
        started = self.writer.open().date
        self.ingester = Ingester(job.data, self.db, self.crawl_id, job.error_crawls, own=self.writer.files)
        self.ingester.begin(started, job.site, job.start_urls, job.scope.to_dict(), job.overrides)
        if attached:
            self.phase = cluster.phase(self.crawl_id) or "running"
            self.say(f"attached to crawl {self.crawl_id} of {job.site}, {self.phase} in the cluster")
            if self.phase == "closing":
                self.deadline = time.monotonic() + CLOSE_WAIT
            return
        self._register()
        cluster.set_phase(self.crawl_id, "probing")
        # First each host's soft-404 probe, and its answer: the history must know the site's own
        # "not found" page before it judges the site's pages (archive/soft404.py).
        for seed in seeding.probes(job.start_urls, job.scope):
            self._push(seed, check_seen=False)
        self.deadline = time.monotonic() + PROBE_WAIT

    def _register(self) -> None:
        """Put the crawl in Redis: what workers read of the archive, its limits, its configuration."""
        job, cluster = self.job, self.cluster
        validators, links, payloads = self.state.snapshot()
        cluster.put_snapshot(self.crawl_id, validators, links, payloads)
        cluster.set_limits(self.crawl_id, job.per_host)
        cluster.register(self.crawl_id, {
            "site": job.site, "start_urls": job.start_urls, "scope": job.scope.to_dict(), "overrides": job.overrides,
            "info": {"operator": job.contact or ""}, "allow_private": job.allow_private,
            "allow_private_hosts": sorted(job.allow_private_hosts)})

    def _lost(self) -> None:
        """Redis came back without the crawl (restarted without its data): its frontier is gone. The
        crawl is queued again from the archive, as a killed one-process crawl resumes: what it captured
        counts as done; its start URLs, the links of the pages it captured and has not fetched, and the
        known pages due are queued."""
        if self.phase != "lost":  # (again at each step until it is queued: each step below may be made twice)
            self.say(f"Redis lost crawl {self.crawl_id} of {self.job.site} (restarted without its data? run it "
                     "with appendonly yes): queueing the crawl again from the archive")
            self.phase = "lost"
            self.deadline = time.monotonic() + CLOSE_WAIT
        if not self.cluster.lock_site(self.job.site, self.crawl_id, ttl=LOCK_TTL):
            raise GovArchiveError(f"while Redis was empty, crawl {self.cluster.site_lock_holder(self.job.site)} "
                                  f"took {self.job.site}: crawl {self.crawl_id} stops (run it again to resume it)")
        # What the workers wrote is the archive the crawl is queued again from: all of it, so wait for
        # them to close their files of a crawl Redis no longer names (their next heartbeat) — a dead
        # worker's are repaired — then read everything.
        repair_open_files(self.wdir)
        if self.ingester.open_files() and time.monotonic() <= self.deadline:
            self.ingester.poll()
            return
        self.ingester.poll(final=True)
        self._register()
        # Links the workers queued while Redis had no configuration for the crawl may have been taken
        # and their answers dropped (a worker records only a crawl Redis names): counted as seen, they
        # would never be queued again. The archive says what is done; the rest is queued anew.
        self.cluster.clear_seen(self.crawl_id)
        self.empty = 0
        self._seed()

    def _push(self, seed: seeding.Seed, check_seen: bool = True) -> None:
        url, method, body = split_key(seed.key)
        req = request_dict(seed.key, {**seed.meta, "govarchive_crawl": self.crawl_id}, priority=seed.priority,
                           dont_filter=seed.dont_filter)
        self.cluster.push(self.crawl_id, urlsplit(url).netloc, fingerprint(method, url, body), dumps(req),
                          priority=seed.priority, force=not check_seen)

    def _seed(self) -> None:
        job = self.job
        found = seeding.seeds(job.start_urls, job.scope, self.state, job.site, sitemaps=job.sitemaps,
                              recheck=job.recheck, missing_recheck_days=job.missing_recheck_days,
                              crawl_id=self.resumed or self.crawl_id, policy=job.policy)
        self.revisit = found.revisit.stats()
        done = [split_key(k) for k in found.done]
        self.cluster.mark_seen(self.crawl_id, [fingerprint(m, u, b) for u, m, b in done])
        for seed in found.requests:
            self._push(seed, check_seen=not seed.dont_filter)
        self.cluster.set_phase(self.crawl_id, "running")
        self.phase = "running"
        self.say(f"crawl {self.crawl_id} of {job.site}: {len(found.requests)} requests queued for the cluster "
                 f"({self.revisit['rechecked']} known pages due again, {self.revisit['not_due']} not due)")

    def step(self, live: set[str]) -> bool:
        """One look at the crawl; True once it has ended."""
        if self.phase == "lost" or self.cluster.config(self.crawl_id) is None:
            self._lost()
            return False
        self.cluster.refresh_lock(self.job.site, self.crawl_id, LOCK_TTL)
        if self.phase in ("probing", "running"):
            for worker, url in self.cluster.orphaned_local(self.crawl_id, live):
                # A page its worker was rendering when it died: fetched again (whole, not a 304),
                # the next worker renders it as the first would have.
                self.say(f"worker {worker} died rendering {url}: queued again")
                if url.startswith(("http://", "https://")):
                    self._push(seeding.Seed(url, {"handle_httpstatus_all": True, "govarchive_unconditional": True},
                                           dont_filter=True),
                               check_seen=False)
            self.ingester.poll()
            self.empty = self.empty + 1 if self.cluster.pending(self.crawl_id, live) == 0 else 0
            if self.phase == "probing" and (self.empty >= 2 or time.monotonic() > self.deadline):
                if self.empty < 2:
                    self.say(f"the soft-404 probes of {self.job.site} did not finish within {PROBE_WAIT:.0f}s: "
                             "seeding anyway")
                self.empty = 0
                self._seed()
            elif self.phase == "running" and self.empty >= 2:  # drained: every worker closes its files
                self.cluster.request_close(self.crawl_id)
                self.phase = "closing"
                self.deadline = time.monotonic() + CLOSE_WAIT
            return False
        for name, cut in repair_open_files(self.wdir):  # only files no live writer holds
            self.say(f"repaired {name} (a dead worker's): cut {cut} bytes of an unfinished record")
        left = self.ingester.open_files()
        if left and time.monotonic() <= self.deadline:
            return False
        if left:
            self.say(f"{len(left)} file(s) of crawl {self.crawl_id} still open after {CLOSE_WAIT:.0f}s, left "
                     "out of its history (a rebuild adds them once closed): " + ", ".join(p.name for p in left))
        self.ingester.poll(final=True)
        self._end()
        return True

    def _end(self) -> None:
        ended = warc_date()
        self.workers = self.cluster.done_by(self.crawl_id)
        stats = {"workers": self.workers, "units_ingested": self.ingester.fed}
        with self.db.conn:
            self.ingester.history.end_crawl(self.crawl_id, ended, "finished", stats)
        self.writer.write_metadata(f"urn:govarchive:crawl:{self.crawl_id}",
                                   {"govarchive": "crawl-end", "crawl_id": self.crawl_id, "reason": "finished",
                                    "stats": stats}, extra={"WARC-Date": ended})
        self.cluster.forget(self.crawl_id)
        self.cluster.unlock_site(self.job.site, self.crawl_id)
        self.phase = "ended"

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.db is not None:
            self.db.conn.close()


def coordinate(jobs: list[ClusterCrawl], progress=None) -> list[dict]:  # noqa: ANN001 - a callable taking one line
    """Run crawls through the cluster side by side, one per site; return what each crawl report needs.

    Interrupted (Ctrl-C, SIGTERM), a crawl goes on in the cluster: run the same command again and
    its coordinator attaches to it.
    """
    say = progress or (lambda line: log.warning("%s", line))
    runs = [_Run(job, say) for job in jobs]
    if len({r.job.site for r in runs}) < len(runs):
        raise GovArchiveError("a site is given twice")
    cluster = jobs[0].cluster
    locked: list[_Run] = []
    try:
        for run in runs:  # every lock first: a refused site starts nothing
            run.lock()
            locked.append(run)
    except GovArchiveError:
        for run in locked:
            cluster.unlock_site(run.job.site, run.crawl_id)
        raise
    try:
        for run in runs:
            run.open()
        active = list(runs)
        quiet_since = time.monotonic()
        down_since = None
        while active:
            try:
                cluster.reap()
                live = {w["name"] for w in cluster.workers()}
                active = [r for r in active if not r.step(live)]
            except RedisError as exc:  # the crawl waits in Redis: go on when it returns
                if down_since is None:
                    down_since = time.monotonic()
                    say(f"Redis unreachable ({exc}): waiting for it")
                time.sleep(POLL * 5)
                continue
            if down_since is not None:
                say(f"Redis is back after {time.monotonic() - down_since:.0f}s")
                down_since = None
            if active and not live and time.monotonic() - quiet_since > 30:
                say(f"waiting: no worker is running (start one: govarchive worker --redis {cluster.url} --data …)")
                quiet_since = time.monotonic()
            if active:
                time.sleep(POLL)
    finally:
        for run in runs:
            run.close()
    return [{"crawl_id": r.crawl_id, "site": r.job.site, "resumed": r.resumed, "workers": getattr(r, "workers", {}),
             "revisit": r.revisit}
            for r in runs]
