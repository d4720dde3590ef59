"""A crawl over many machines: the shared frontier, leases and politeness in Redis. No Scrapy here.

Workers (crawler/cluster.py) take requests from here and write WARC files to shared storage; the
coordinator (archive/coordinator.py) seeds crawls, snapshots what workers need to know of the
archive, and builds the history from the workers' WARCs. The data model, every key under
``govarchive:``:

- ``q:<crawl>|<host>`` — a sorted set per crawl and host: the queued requests (JSON, Scrapy's own
  ``Request.to_dict`` with the body in base64), by priority then arrival; ``ready`` — a sorted set of
  ``<crawl>|<host>`` by the time the host may be asked again. Per-host queues give politeness
  across the cluster, as Heritrix's host queues do: a request is handed out only when its host is
  ready and has fewer requests in flight, cluster-wide, than ``per_host`` (``inflight:<host>``).
- ``leases`` / ``lease:<id>`` — a popped request is leased to its worker until it is done (its
  response archived and its links queued) or fails for good; a lease not finished in time (its
  worker died) goes back to its queue, as Browsertrix does with its pending hash.
- ``seen:<crawl>`` — fingerprints of requests queued, leased or done: a link found twice is
  queued once, and a killed worker's requests come back through their leases, not as new links.
- ``crawl:<id>`` — a crawl's configuration; ``lock:<site>`` — one coordinator per site;
  ``snap:<crawl>:…`` — the snapshot of the archive workers read (archive/state.py ``RedisState``);
  ``worker:<name>`` — heartbeats, with in-flight and done counts and open WARC files.

Every change of more than one key is one Lua script: atomic under concurrent workers.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable

from .errors import GovArchiveError
from .state import EmptyState

PREFIX = "govarchive:"
LEASE_TTL = 30.0  # seconds a popped request stays a worker's unless its heartbeat renews it

_POP = """
local now, limit, ttl, worker = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 200)
for _, member in ipairs(members) do
  local sep = string.find(member, '|', 1, true)
  local crawl, host = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  local q = KEYS[3] .. 'q:' .. member
  local per_host = tonumber(redis.call('HGET', KEYS[3] .. 'per_host', crawl) or limit)
  if redis.call('ZCARD', q) == 0 then
    redis.call('ZREM', KEYS[1], member)
  elseif tonumber(redis.call('GET', KEYS[3] .. 'inflight:' .. host) or '0') < per_host
      and tonumber(redis.call('GET', KEYS[3] .. 'next:' .. host) or '0') <= now then
    local item = redis.call('ZPOPMIN', q)
    redis.call('ZADD', KEYS[1], now, member)  -- to the back: hosts take turns, every site advances
    redis.call('INCR', KEYS[3] .. 'inflight:' .. host)
    redis.call('DECR', KEYS[3] .. 'queued:' .. crawl)
    redis.call('INCR', KEYS[3] .. 'leased:' .. crawl)
    local id = redis.call('INCR', KEYS[3] .. 'lease_seq')
    redis.call('HSET', KEYS[3] .. 'lease:' .. id, 'member', member, 'request', item[1], 'score', item[2],
               'worker', worker, 'since', now)
    redis.call('ZADD', KEYS[2], now + ttl, id)
    redis.call('HINCRBY', KEYS[3] .. 'worker:' .. worker, 'inflight', 1)
    return {tostring(id), crawl, host, item[1]}
  end
end
return false
"""

# Done (or failed for good, or handed back for a retry): the lease ends; ARGV[2] requeues a request.
_FINISH = """
local id, now, requeue, delay = ARGV[1], tonumber(ARGV[3]), ARGV[2], tonumber(ARGV[4])
local lease = KEYS[2] .. 'lease:' .. id
local member = redis.call('HGET', lease, 'member')
if not member then return 0 end
local sep = string.find(member, '|', 1, true)
local crawl, host = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
local worker = redis.call('HGET', lease, 'worker')
if redis.call('HGET', lease, 'released') ~= '1' then
  if tonumber(redis.call('DECR', KEYS[2] .. 'inflight:' .. host)) < 0 then redis.call('SET', KEYS[2] .. 'inflight:' .. host, 0) end
end
redis.call('DEL', lease)
redis.call('ZREM', KEYS[1], id)
redis.call('DECR', KEYS[2] .. 'leased:' .. crawl)
redis.call('HINCRBY', KEYS[2] .. 'worker:' .. worker, 'inflight', -1)
if requeue ~= '' then
  redis.call('ZADD', KEYS[2] .. 'q:' .. member, now, requeue)
  redis.call('ZADD', KEYS[2] .. 'ready', 'NX', now, member)
  redis.call('INCR', KEYS[2] .. 'queued:' .. crawl)
else
  redis.call('HINCRBY', KEYS[2] .. 'worker:' .. worker, 'done', 1)
  redis.call('INCR', KEYS[2] .. 'done:' .. crawl)
  redis.call('HINCRBY', KEYS[2] .. 'done_by:' .. crawl, worker, 1)
end
return 1
"""

# The download is over (the response came, or the fetch failed): the host's slot is free again.
_RELEASE = """
local lease = KEYS[1] .. 'lease:' .. ARGV[1]
local member = redis.call('HGET', lease, 'member')
if not member or redis.call('HGET', lease, 'released') == '1' then return 0 end
local host = string.sub(member, string.find(member, '|', 1, true) + 1)
redis.call('HSET', lease, 'released', '1')
if tonumber(redis.call('DECR', KEYS[1] .. 'inflight:' .. host)) < 0 then redis.call('SET', KEYS[1] .. 'inflight:' .. host, 0) end
local wait = tonumber(ARGV[2])
if wait > 0 then
  local key = KEYS[1] .. 'next:' .. host
  if tonumber(redis.call('GET', key) or '0') < wait then redis.call('SET', key, wait) end
end
return 1
"""

# Leases whose worker did not finish them in time go back to their queues.
_REAP = """
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 500)
for _, id in ipairs(ids) do
  local lease = KEYS[2] .. 'lease:' .. id
  local member = redis.call('HGET', lease, 'member')
  if member then
    local sep = string.find(member, '|', 1, true)
    local crawl, host = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
    redis.call('ZADD', KEYS[2] .. 'q:' .. member, redis.call('HGET', lease, 'score'), redis.call('HGET', lease, 'request'))
    redis.call('ZADD', KEYS[2] .. 'ready', 'NX', now, member)
    redis.call('INCR', KEYS[2] .. 'queued:' .. crawl)
    redis.call('DECR', KEYS[2] .. 'leased:' .. crawl)
    if redis.call('HGET', lease, 'released') ~= '1' then
      if tonumber(redis.call('DECR', KEYS[2] .. 'inflight:' .. host)) < 0 then redis.call('SET', KEYS[2] .. 'inflight:' .. host, 0) end
    end
    redis.call('DEL', lease)
  end
  redis.call('ZREM', KEYS[1], id)
end
return #ids
"""

# A live worker's heartbeat renews the leases it holds (ARGV[3…]): only a dead (or cut-off) worker's
# expire — and a lease its worker never learnt of (a pop whose answer was lost) expires too.
_RENEW = """
local expires, worker = tonumber(ARGV[1]), ARGV[2]
local n = 0
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2] .. 'lease:' .. ARGV[i], 'worker') == worker then
    redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[i])
    n = n + 1
  end
end
return n
"""

_PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 and ARGV[5] ~= '1' then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[6])
redis.call('INCR', KEYS[4])
return 1
"""


# -- requests as JSON, never pickle: what workers and the coordinator queue ------------------------------------
def _plain(value: object) -> object:
    """A JSON-ready copy of a request dict: bytes as {"b64": …}; what JSON cannot hold is dropped
    (per-download state like the discovery the archive attached to a failed attempt)."""
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        out = {}
        for k, val in value.items():
            plain = _plain(val)
            if plain is not _DROP:
                out[k.decode("latin-1") if isinstance(k, bytes) else str(k)] = plain
        return out
    if isinstance(value, list | tuple):
        return [p for p in (_plain(x) for x in value) if p is not _DROP]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return _DROP


_DROP = object()
_TRANSIENT = ("govarchive_discovery", "govarchive_lease", "download_slot", "download_latency", "_", "playwright")


def dumps(obj: dict) -> str:
    meta = {k: val for k, val in (obj.get("meta") or {}).items() if not k.startswith(_TRANSIENT)}
    return json.dumps(_plain({**obj, "meta": meta}), ensure_ascii=False)


def _unplain(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        return {k: _unplain(val) for k, val in value.items()}
    if isinstance(value, list):
        return [_unplain(x) for x in value]
    return value


def loads(raw: str | bytes) -> dict:
    return _unplain(json.loads(raw))


def request_dict(key: str, meta: dict, priority: int = 0, dont_filter: bool = False) -> dict:
    """A request in Scrapy's dict form (``Request.to_dict``) for a request key (a POST's carries its
    body): how the coordinator queues its seeds for the workers' spider."""
    from .capture import split_key

    url, method, body = split_key(key)
    headers = {"Content-Type": ["application/x-www-form-urlencoded"]} if method == "POST" else {}
    return {"url": url, "method": method, "body": body or b"", "headers": headers, "meta": meta,
            "callback": "parse", "errback": None, "priority": priority, "dont_filter": dont_filter,
            "cookies": {}, "flags": [], "cb_kwargs": {}, "encoding": "utf-8"}


def fingerprint(method: str, url: str, body: bytes | None) -> str:
    """A request's identity in a crawl's seen set: scrapy-redis's (canonical URL, method, body), so
    the coordinator marks requests seen exactly as the workers' dupefilter tests them."""
    import hashlib

    from w3lib.url import canonicalize_url

    data = {"method": method, "url": canonicalize_url(url), "body": (body or b"").hex()}
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()


class ClusterError(GovArchiveError):
    """Redis cannot be reached, or refuses what the cluster needs."""


class Cluster:
    """The shared state of a govarchive cluster, in one Redis database."""

    def __init__(self, url: str, client=None) -> None:  # noqa: ANN001 - a redis.Redis to share
        import redis

        self.url = url
        self.r = client or redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                                health_check_interval=30)
        try:
            self.r.ping()
        except redis.RedisError as exc:
            raise ClusterError(f"cannot reach Redis at {url}: {exc}") from None
        self._pop = self.r.register_script(_POP)
        self._finish = self.r.register_script(_FINISH)
        self._release = self.r.register_script(_RELEASE)
        self._reap = self.r.register_script(_REAP)
        self._push = self.r.register_script(_PUSH)
        self._renew = self.r.register_script(_RENEW)

    def key(self, name: str) -> str:
        return PREFIX + name

    # -- crawls -------------------------------------------------------------------------------
    def lock_site(self, site: str, crawl_id: str, ttl: int = 600) -> bool:
        """Take a site for one coordinator of ``crawl_id`` (or keep it: a coordinator restarted for
        the same crawl); False when another crawl holds it."""
        if self.r.set(self.key(f"lock:{site}"), crawl_id, nx=True, ex=ttl):
            return True
        if self.site_lock_holder(site) == crawl_id:
            self.r.expire(self.key(f"lock:{site}"), ttl)
            return True
        return False

    def refresh_lock(self, site: str, crawl_id: str, ttl: int = 600) -> None:
        if self.r.get(self.key(f"lock:{site}")) == crawl_id.encode():
            self.r.expire(self.key(f"lock:{site}"), ttl)

    def unlock_site(self, site: str, crawl_id: str) -> None:
        if self.r.get(self.key(f"lock:{site}")) == crawl_id.encode():
            self.r.delete(self.key(f"lock:{site}"))

    def site_lock_holder(self, site: str) -> str | None:
        held = self.r.get(self.key(f"lock:{site}"))
        return held.decode() if held else None

    def register(self, crawl_id: str, config: dict) -> None:
        self.r.set(self.key(f"crawl:{crawl_id}"), json.dumps(config, ensure_ascii=False))
        self.r.sadd(self.key("crawls"), crawl_id)

    def config(self, crawl_id: str) -> dict | None:
        raw = self.r.get(self.key(f"crawl:{crawl_id}"))
        return json.loads(raw) if raw else None

    def active(self) -> list[str]:
        return sorted(m.decode() for m in self.r.smembers(self.key("crawls")))

    def set_phase(self, crawl_id: str, phase: str) -> None:
        self.r.hset(self.key("phase"), crawl_id, phase)

    def phase(self, crawl_id: str) -> str | None:
        raw = self.r.hget(self.key("phase"), crawl_id)
        return raw.decode() if raw else None

    def forget(self, crawl_id: str) -> None:
        """Drop a finished crawl's keys (its queues are empty by then)."""
        self.r.srem(self.key("crawls"), crawl_id)
        self.r.hdel(self.key("phase"), crawl_id)
        for pattern in (f"snap:{crawl_id}:*", f"q:{crawl_id}|*"):
            for k in self.r.scan_iter(self.key(pattern), count=500):
                self.r.delete(k)
        self.r.delete(*(self.key(n) for n in (f"crawl:{crawl_id}", f"seen:{crawl_id}", f"queued:{crawl_id}",
                                              f"leased:{crawl_id}", f"done:{crawl_id}", f"closed:{crawl_id}",
                                              f"done_by:{crawl_id}", f"local:{crawl_id}")))
        self.r.hdel(self.key("per_host"), crawl_id)

    # -- the frontier ---------------------------------------------------------------------------
    def push(self, crawl_id: str, host: str, fingerprint: str | None, request: dict | str, priority: int = 0,
             force: bool = False) -> bool:
        """Queue a request (Scrapy's dict form, JSON-ready, or already serialised) unless the crawl has
        seen its fingerprint (None: the caller checked); True if queued."""
        member = f"{crawl_id}|{host}"
        score = -priority * 1e10 + time.time()
        return bool(self._push(keys=[self.key(f"seen:{crawl_id}"), self.key(f"q:{member}"), self.key("ready"),
                                     self.key(f"queued:{crawl_id}")],
                               args=[fingerprint or "", score,
                                     request if isinstance(request, str) else json.dumps(request, ensure_ascii=False),
                                     time.time(), "1" if force else "0", member]))

    def mark_seen(self, crawl_id: str, fingerprints: list[str]) -> None:
        """Count requests as seen without queueing them (what a resumed crawl already captured)."""
        for i in range(0, len(fingerprints), 5000):
            self.r.sadd(self.key(f"seen:{crawl_id}"), *fingerprints[i:i + 5000])

    def clear_seen(self, crawl_id: str) -> None:
        """Forget what a crawl has seen (it is queued again from the archive, which says what is done)."""
        self.r.delete(self.key(f"seen:{crawl_id}"))

    def seen(self, crawl_id: str, fingerprint: str) -> bool:
        """Count a request as seen; True if it was already (scrapy-redis's dupefilter test)."""
        return self.r.sadd(self.key(f"seen:{crawl_id}"), fingerprint) == 0

    def set_limits(self, crawl_id: str, per_host: int) -> None:
        """Requests of this crawl's hosts in flight at once, across every worker."""
        self.r.hset(self.key("per_host"), crawl_id, per_host)

    def pop(self, worker: str, per_host: int = 2,
            lease_ttl: float = LEASE_TTL) -> tuple[str, str, str, str] | None:
        """A request whose host is ready and under its cluster-wide limit (its crawl's, else
        ``per_host``): (lease, crawl, host, the request as queued)."""
        got = self._pop(keys=[self.key("ready"), self.key("leases"), PREFIX],
                        args=[time.time(), per_host, lease_ttl, worker])
        if not got:
            return None
        lease, crawl, host, raw = (x.decode() if isinstance(x, bytes) else x for x in got)
        return lease, crawl, host, raw

    def release(self, lease: str, delay: float = 0.0) -> None:
        """The download is over: its host's slot is free (after ``delay`` seconds, when politeness asks)."""
        self._release(keys=[PREFIX], args=[lease, time.time() + delay if delay > 0 else 0])

    def finish(self, lease: str, requeue: str | None = None) -> None:
        """The request is done (archived, its links queued) — or handed back, as ``requeue`` (the
        request serialised), for a retry."""
        self._finish(keys=[self.key("leases"), PREFIX], args=[lease, requeue or "", time.time(), 0])

    def renew(self, worker: str, leases: Iterable[str], lease_ttl: float = LEASE_TTL) -> int:
        """Keep the leases a live worker holds (their ids); return how many are still its own."""
        held = list(leases)
        if not held:
            return 0
        return int(self._renew(keys=[self.key("leases"), PREFIX], args=[time.time() + lease_ttl, worker, *held]))

    def hand_back(self, worker: str) -> int:
        """Return every lease a worker holds to its queue (the worker is stopping); return how many."""
        mine = [i for i in self.r.zrange(self.key("leases"), 0, -1)
                if self.r.hget(self.key(f"lease:{i.decode()}"), "worker") == worker.encode()]
        if mine:
            self.r.zadd(self.key("leases"), {i: 0 for i in mine})
        return self.reap() if mine else 0

    def local(self, crawl_id: str, worker: str, token: str, waiting: bool, url: str = "") -> None:
        """A request a worker keeps to itself (a browser render of ``url``), by its token: the crawl is
        not drained while any waits. Made twice (an answer lost), it counts once."""
        field = f"{token}|{worker}"
        if waiting:
            self.r.hset(self.key(f"local:{crawl_id}"), field, url or "-")
        else:
            self.r.hdel(self.key(f"local:{crawl_id}"), field)

    def orphaned_local(self, crawl_id: str, live: set[str]) -> list[tuple[str, str]]:
        """Take the local requests of workers no longer alive off the crawl: (worker, the page URL) —
        what died with them, to be queued again."""
        key = self.key(f"local:{crawl_id}")
        out = []
        for field, url in self.r.hgetall(key).items():
            worker = field.decode().partition("|")[2]
            if worker not in live and self.r.hdel(key, field):
                out.append((worker, url.decode()))
        return out

    def reap(self) -> int:
        """Hand back the requests of leases that expired (their worker died); return how many."""
        return int(self._reap(keys=[self.key("leases"), PREFIX], args=[time.time()]))

    def pending(self, crawl_id: str, live: set[str] | None = None) -> int:
        """Requests of a crawl queued or leased, and kept by live workers (``live``: their names)."""
        queued, leased = self.r.mget(self.key(f"queued:{crawl_id}"), self.key(f"leased:{crawl_id}"))
        local = sum(1 for f in self.r.hkeys(self.key(f"local:{crawl_id}"))
                    if live is None or f.decode().partition("|")[2] in live)
        return max(0, int(queued or 0)) + max(0, int(leased or 0)) + local

    def done_count(self, crawl_id: str) -> int:
        return int(self.r.get(self.key(f"done:{crawl_id}")) or 0)

    def done_by(self, crawl_id: str) -> dict[str, int]:
        """Requests of a crawl each worker finished."""
        return {k.decode(): int(v) for k, v in self.r.hgetall(self.key(f"done_by:{crawl_id}")).items()}

    # -- workers --------------------------------------------------------------------------------
    def heartbeat(self, worker: str, ttl: int = 30, **info: object) -> None:
        key = self.key(f"worker:{worker}")
        fields = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in info.items()}
        fields["seen"] = time.time()
        self.r.hset(key, mapping=fields)
        self.r.expire(key, ttl)
        self.r.sadd(self.key("workers"), worker)

    def workers(self) -> list[dict]:
        """Live workers: name, last heartbeat, in-flight and done counts, leases held, open files."""
        out = []
        leases_by_worker: dict[str, int] = {}
        for lease_id in self.r.zrange(self.key("leases"), 0, -1):
            w = self.r.hget(self.key(f"lease:{lease_id.decode()}"), "worker")
            if w:
                leases_by_worker[w.decode()] = leases_by_worker.get(w.decode(), 0) + 1
        for name in sorted(m.decode() for m in self.r.smembers(self.key("workers"))):
            raw = self.r.hgetall(self.key(f"worker:{name}"))
            if not raw:
                self.r.srem(self.key("workers"), name)  # its heartbeat expired: gone
                continue
            info = {k.decode(): v.decode() for k, v in raw.items()}
            out.append({"name": name, "seen": float(info.get("seen", 0)), "inflight": int(info.get("inflight", 0)),
                        "done": int(info.get("done", 0)), "leases": leases_by_worker.get(name, 0),
                        "open": json.loads(info.get("open", "{}")), "host": info.get("host", ""),
                        "pid": int(info.get("pid", 0) or 0)})
        return out

    def request_close(self, crawl_id: str) -> None:
        """Ask every worker to close its WARC files of a crawl whose frontier is drained."""
        self.set_phase(crawl_id, "closing")

    def ack_closed(self, crawl_id: str, worker: str) -> None:
        self.r.sadd(self.key(f"closed:{crawl_id}"), worker)

    def closed_by(self, crawl_id: str) -> set[str]:
        return {m.decode() for m in self.r.smembers(self.key(f"closed:{crawl_id}"))}

    # -- the snapshot workers read (archive/state.py RedisState) ----------------------------------------
    def put_snapshot(self, crawl_id: str, validators: dict[str, list], links: dict[str, list[str]],
                     payloads: dict[str, tuple[str, str]]) -> None:
        for name, data in (("validators", validators), ("links", links), ("payloads", payloads)):
            key = self.key(f"snap:{crawl_id}:{name}")
            self.r.delete(key)
            items = list(data.items())
            for i in range(0, len(items), 5000):
                self.r.hset(key, mapping={k: json.dumps(v, ensure_ascii=False) for k, v in items[i:i + 5000]})

    def snapshot_get(self, crawl_id: str, name: str, field: str) -> object | None:
        raw = self.r.hget(self.key(f"snap:{crawl_id}:{name}"), field)
        return json.loads(raw) if raw else None

    def snapshot_add_payload(self, crawl_id: str, digest: str, url: str, date: str) -> None:
        self.r.hsetnx(self.key(f"snap:{crawl_id}:payloads"), digest, json.dumps([url, date]))

    def memory(self) -> int:
        """Bytes Redis uses (INFO memory)."""
        return int(self.r.info("memory")["used_memory"])


class RedisState(EmptyState):
    """ArchiveState for cluster workers: the snapshot the coordinator put in Redis, per crawl.

    ``for_crawl`` gives the view of one crawl (a worker serves several at once); the questions only
    a coordinator asks (known pages' checks, a killed run's frontier) get EmptyState's empty
    answers here: the coordinator seeds from its database.
    """

    def __init__(self, cluster: Cluster, crawl_id: str | None = None) -> None:
        self.cluster = cluster
        self.crawl_id = crawl_id
        self._views: dict[str, RedisState] = {}

    @classmethod
    def from_settings(cls, settings) -> RedisState:  # noqa: ANN001 - any mapping with .get
        return cls(Cluster(settings.get("GOVARCHIVE_REDIS")))

    def for_crawl(self, crawl_id: str | None) -> RedisState:
        if crawl_id is None or crawl_id == self.crawl_id:
            return self
        if crawl_id not in self._views:
            self._views[crawl_id] = RedisState(self.cluster, crawl_id)
        return self._views[crawl_id]

    def _get(self, name: str, field: str) -> object | None:
        """A field of the snapshot; None while Redis is unreachable (the request goes out
        unconditional, the payload is stored in full: more bytes, nothing wrong)."""
        from redis.exceptions import RedisError

        try:
            return self.cluster.snapshot_get(self.crawl_id, name, field) if self.crawl_id else None
        except RedisError:
            return None

    def validator(self, key: str) -> tuple[str | None, str | None]:
        v = self._get("validators", key)
        return (v[0], v[1]) if v else (None, None)

    def revisit_target(self, key: str) -> tuple[str, str, str] | None:
        v = self._get("validators", key)
        return (v[2], v[3], v[4]) if v else None

    def payload(self, digest: str) -> tuple[str, str] | None:
        v = self._get("payloads", digest)
        return (v[0], v[1]) if v else None

    def remember_payload(self, digest: str, url: str, date: str) -> None:
        from redis.exceptions import RedisError

        if self.crawl_id:
            try:
                self.cluster.snapshot_add_payload(self.crawl_id, digest, url, date)
            except RedisError:
                pass  # another worker stores the same payload in full: more bytes, nothing wrong

    def stored_links(self, key: str) -> list[str]:
        # Never guessed: a 304's links missing would drop a list's documents without a word.
        raw = self.cluster.snapshot_get(self.crawl_id, "links", key) if self.crawl_id else None
        return list(raw or [])

