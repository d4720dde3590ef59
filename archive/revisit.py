"""Which known pages a crawl checks again: the crawl budget.

Lists, home pages and sitemaps are read every crawl: they are where new documents and delistings
show. A document is checked again when it is due, by the shortest of three intervals, each within
[``MIN_INTERVAL_DAYS``, the profile's maximum (default ``MAX_INTERVAL_DAYS``)] so that nothing goes
unchecked for longer than the maximum:

1. **Its own change rate.** From its checks (n intervals over T days, X of them ending in a change)
   the estimator of Cho & Garcia-Molina for Poisson change ("Estimating frequency of change", ACM
   TOIT 2003): λ̂ = −ln((n − X + 0.5) / (n + 0.5)) · n / T. It is checked ``CHECKS_PER_CHANGE`` times
   per expected change: interval = 1 / (CHECKS_PER_CHANGE · λ̂). A page never seen to change has no
   such bound.
2. **Its age.** Documents are corrected most soon after they are published: interval = age /
   ``AGE_DIVISOR`` (a 4-day-old notice daily, a 2016 notice at the maximum). A page found changed
   is young again — corrections come in bursts, a revision is often followed by another or undone:
   interval = days since that change / ``CHANGE_DIVISOR``.
3. **Its kind.** An annual report in its first year: at most ``ANNUAL_REPORT_DAYS`` (reports are
   quietly re-issued with changed numbers).

A page is due at once when something happened to it since its last check: delisted, an error
whose persistence decides a removal, or a list showing it with a new date or title (a redate or a
retitled notice shows on the list before anyone rechecks the page; archive/settle.py compares the
lists' versions). A per-site budget is spent on the most overdue first, and
what it leaves is counted and reported. ``full`` checks every known page (``crawl --full``).
Pure functions over ``PageChecks`` rows: the state (archive/state.py) reads them from the archive.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

ADAPTIVE, FULL = "adaptive", "full"
MODES = (ADAPTIVE, FULL)
MIN_INTERVAL_DAYS = 1.0
MAX_INTERVAL_DAYS = 30.0  # a profile's `max_interval_days` (GOVARCHIVE_MAX_INTERVAL_DAYS)
CHECKS_PER_CHANGE = 2.0
AGE_DIVISOR = 4.0
CHANGE_DIVISOR = 2.0
ANNUAL_REPORT_DAYS = 7.0
ALWAYS_KINDS = frozenset({"list", "home", "sitemap"})
# A site profile's keys and the settings they set (archive/runner.py), read back by Policy.
PROFILE_SETTINGS = {"revisit": "GOVARCHIVE_REVISIT", "max_interval_days": "GOVARCHIVE_MAX_INTERVAL_DAYS",
                    "revisit_budget": "GOVARCHIVE_REVISIT_BUDGET"}


@dataclass(frozen=True)
class PageChecks:
    """What the archive knows of one page's checks."""

    url: str
    kind: str | None
    state: str
    checks: int  # fetches that told something (any answer, errors included)
    changes: int  # checks that found a new version, a removal or a restoration
    first_checked: str | None  # ISO times
    last_checked: str | None
    published: str | None = None  # the document's own date (YYYY-MM-DD), else when first seen
    last_event: str | None = None  # the newest event on the page (ISO time)
    error_streak: int = 0
    annual: bool = False
    last_change: str | None = None  # when a check last found it changed (ISO time)
    list_changed: str | None = None  # when a list last showed it with a new date or title (ISO time)


@dataclass(frozen=True)
class Policy:
    mode: str = ADAPTIVE
    max_interval_days: float = MAX_INTERVAL_DAYS
    budget: int = 0  # rechecks per crawl; 0: no limit
    now: datetime | None = None  # None: the clock (a simulation or a test sets it)

    @classmethod
    def from_settings(cls, settings) -> Policy:  # noqa: ANN001 - Scrapy Settings or a mapping with .get
        return cls(mode=settings.get("GOVARCHIVE_REVISIT") or ADAPTIVE,
                   max_interval_days=float(settings.get("GOVARCHIVE_MAX_INTERVAL_DAYS") or MAX_INTERVAL_DAYS),
                   budget=int(settings.get("GOVARCHIVE_REVISIT_BUDGET") or 0),
                   now=policy_now(settings.get("GOVARCHIVE_REVISIT_NOW")))

    @classmethod
    def from_profile(cls, profile: dict | None, mode: str | None = None) -> Policy:
        """The policy of a site profile (``mode``: the command line's, over the profile's); the
        simulation clock from ``$GOVARCHIVE_REVISIT_NOW``, as a crawl in this process reads it."""
        values = {setting: (profile or {}).get(key) for key, setting in PROFILE_SETTINGS.items()}
        return cls.from_settings({**values, "GOVARCHIVE_REVISIT": mode or values["GOVARCHIVE_REVISIT"],
                                  "GOVARCHIVE_REVISIT_NOW": os.environ.get("GOVARCHIVE_REVISIT_NOW")})

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)


@dataclass
class Decision:
    url: str
    due: bool
    interval_days: float | None  # None: every crawl
    next_check: datetime | None
    why: str
    overdue: float = 0.0  # elapsed / interval: the budget goes to the largest first


@dataclass
class Plan:
    """A crawl's rechecks, most overdue first, and what was left for later."""

    recheck: list[Decision] = field(default_factory=list)
    not_due: int = 0
    over_budget: int = 0
    # Not due, and not fetched this crawl even when a list links them (a removed page a list links
    # again is fetched: it may be back).
    waiting: set[str] = field(default_factory=set)

    def stats(self) -> dict[str, int]:
        return {"rechecked": len(self.recheck), "not_due": self.not_due, "over_budget": self.over_budget}


def policy_now(text: str | None) -> datetime | None:
    """``GOVARCHIVE_REVISIT_NOW``: an ISO time, or ``+N`` days from the clock (a simulation whose
    editions stand for days), or None (the clock)."""
    if not text:
        return None
    text = str(text).strip()
    if text.startswith("+"):
        return datetime.now(UTC) + timedelta(days=float(text[1:].removesuffix("d")))
    return parse_time(text)


def parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def change_rate(checks: int, changes: int, days: float) -> float | None:
    """Changes per day (Cho & Garcia-Molina's estimator), or None with too little history."""
    n = checks - 1  # intervals between checks
    if n < 1 or days <= 0:
        return None
    x = min(max(changes, 0), n)
    return -math.log((n - x + 0.5) / (n + 0.5)) * n / days


def decide(page: PageChecks, policy: Policy) -> Decision:
    """When ``page`` is next due under ``policy``, and why."""
    now = policy.clock()
    if policy.mode == FULL:
        return Decision(page.url, True, None, None, "full recheck")
    if page.kind in ALWAYS_KINDS or page.kind is None:
        why = f"a {page.kind} page: read every crawl" if page.kind else "never read: every crawl until it is"
        return Decision(page.url, True, None, None, why)
    if page.last_checked is None:
        return Decision(page.url, True, None, None, "never checked")
    last = parse_time(page.last_checked)
    if page.error_streak:
        return Decision(page.url, True, None, None, f"failed in the last {page.error_streak} check(s): "
                        "checked every crawl until it answers or counts as removed")
    if page.list_changed and parse_time(page.list_changed) > last:
        return Decision(page.url, True, None, None, "a list shows it with a new date or title")
    if page.last_event and parse_time(page.last_event) > last:
        return Decision(page.url, True, None, None, "an event since its last check")
    cap = max(policy.max_interval_days, MIN_INTERVAL_DAYS)
    interval, why = cap, f"the maximum interval ({cap:g} days)"
    first = parse_time(page.first_checked) if page.first_checked else last
    rate = change_rate(page.checks, page.changes, (last - first).total_seconds() / 86400)
    if rate:
        by_rate = 1 / (CHECKS_PER_CHANGE * rate)
        if by_rate < interval:
            interval, why = by_rate, f"changed {page.changes} time(s) in {page.checks} checks (≈ every {1 / rate:.1f} days)"
    born = _date(page.published) or first
    changed = parse_time(page.last_change) if page.last_change else None
    age = max((now - born).total_seconds() / 86400, 0.0)
    if age / AGE_DIVISOR < interval:
        interval, why = age / AGE_DIVISOR, f"{age:.0f} days old"
    if changed and changed > born:  # a revised page is young again: corrections come in bursts
        quiet = max((now - changed).total_seconds() / 86400, 0.0)
        if quiet / CHANGE_DIVISOR < interval:
            interval, why = quiet / CHANGE_DIVISOR, f"changed {quiet:.0f} days ago"
    if page.annual and age < 365 and ANNUAL_REPORT_DAYS < interval:
        interval, why = ANNUAL_REPORT_DAYS, "an annual report in its first year"
    interval = min(max(interval, MIN_INTERVAL_DAYS), cap)
    due_at = last + timedelta(days=interval)
    elapsed = (now - last).total_seconds() / 86400
    return Decision(page.url, now >= due_at, interval, due_at, why, overdue=elapsed / interval)


def plan(pages: list[PageChecks], policy: Policy) -> Plan:
    """The known pages a crawl checks again: every one due, the most overdue first, within the budget."""
    policy = replace(policy, now=policy.clock())  # one "now" for the whole plan, read once
    decisions = [decide(p, policy) for p in pages]
    due = [d for d in decisions if d.due]
    out = Plan(not_due=len(decisions) - len(due),
               waiting={d.url for d, p in zip(decisions, pages, strict=True) if not d.due and p.state != "removed"})
    due.sort(key=lambda d: (d.interval_days is not None, -d.overdue))  # every-crawl pages first
    if policy.budget and policy.mode != FULL:
        always = [d for d in due if d.interval_days is None]
        rest = [d for d in due if d.interval_days is not None]
        room = max(policy.budget - len(always), 0)
        out.over_budget = max(len(rest) - room, 0)
        out.waiting |= {d.url for d in rest[room:]}
        due = always + rest[:room]
    out.recheck = due
    return out


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_time(text if "T" in text else text[:10] + "T00:00:00+00:00")
    except ValueError:
        return None
