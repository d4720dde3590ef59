"""The crawl budget (archive/revisit.py): which known pages a crawl checks again.

The policy's rules on rows made by hand, then real crawls of a 1,000-article site under the
adaptive policy, with its clock moved forward (GOVARCHIVE_REVISIT_NOW=+N days) to stand for the
days between crawls: an immediate recrawl asks for little; a silent revision is found once its
page is due; nothing goes unchecked past the maximum interval; a budget leaves pages for later and
says so."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from archive.db import warc_dir
from archive.demosite import Resource, SiteServer
from archive.demosite.generated import generated_site
from archive.revisit import FULL, MAX_INTERVAL_DAYS, PageChecks, Policy, change_rate, decide, plan

from .conftest import cli, cli_json

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def page(url: str = "http://x/a.html", kind: str = "article", checks: int = 5, changes: int = 0,
         first: float = 100, last: float = 1, published: str | None = "2020-01-01", **kw: object) -> PageChecks:
    return PageChecks(url, kind, kw.pop("state", "live"), checks, changes, ago(first), ago(last), published, **kw)


POLICY = Policy(now=NOW)


def test_the_estimator_is_cho_and_garcia_molinas():
    # n = 10 intervals over 20 days, 4 of them ending in a change: -ln((10-4+0.5)/(10+0.5)) / 2 per day
    assert change_rate(11, 4, 20) == pytest.approx(-math.log(6.5 / 10.5) / 2)
    assert change_rate(11, 0, 20) == 0  # never seen to change
    assert change_rate(1, 0, 20) is None  # one check: no interval yet
    assert change_rate(11, 10, 20) == pytest.approx(-math.log(0.5 / 10.5) / 2)  # every check: finite


def test_lists_and_pages_in_trouble_are_read_every_crawl():
    for kind in ("list", "home", "sitemap"):
        assert decide(page(kind=kind, last=0.001), POLICY).due
    assert decide(page(last=0.001, error_streak=1), POLICY).due  # a removal is decided by consecutive checks
    delisted = decide(page(last=0.5, last_event=ago(0.1)), POLICY)
    assert delisted.due and "event" in delisted.why
    assert not decide(page(last=0.5, last_event=ago(0.9)), POLICY).due  # checked since


def test_old_quiet_documents_wait_the_maximum_and_never_longer():
    d = decide(page(last=29), POLICY)
    assert not d.due and d.interval_days == MAX_INTERVAL_DAYS and "maximum" in d.why
    assert decide(page(last=30.01), POLICY).due
    short = Policy(now=NOW, max_interval_days=7)
    assert decide(page(last=7.01), short).due and not decide(page(last=6.9), short).due


def test_young_documents_changing_documents_and_new_annual_reports_are_checked_more_often():
    young = decide(page(first=2, last=1.1, published=ago(3)[:10]), POLICY)
    assert young.due and young.interval_days == 1 and "days old" in young.why
    forty = decide(page(first=30, last=5, published=ago(40)[:10]), POLICY)
    assert forty.interval_days == pytest.approx(10, abs=0.3) and not forty.due
    busy = decide(page(checks=21, changes=10, first=40, last=3), POLICY)  # changed in half its checks
    assert busy.due and busy.interval_days < 3 and "changed 10 time(s)" in busy.why
    fixed = decide(page(last=1.5, last_change=ago(2.5)), POLICY)  # a 2020 page revised 2.5 days ago
    assert fixed.due and fixed.interval_days == pytest.approx(1.25) and "changed 2 days ago" in fixed.why
    assert decide(page(last=1.5, last_change=ago(80)), POLICY).interval_days == MAX_INTERVAL_DAYS
    report = decide(page(published=ago(100)[:10], last=8, annual=True), POLICY)
    assert report.due and report.interval_days == 7 and "annual report" in report.why
    assert decide(page(published=ago(400)[:10], last=8, annual=True), POLICY).interval_days == MAX_INTERVAL_DAYS


def test_a_budget_goes_to_the_most_overdue_and_counts_what_it_leaves():
    pages = [page(f"http://x/{i}.html", last=30 + i) for i in range(10)] + [page("http://x/l", kind="list")]
    p = plan(pages, Policy(now=NOW, budget=4))
    assert [d.url for d in p.recheck] == ["http://x/l", "http://x/9.html", "http://x/8.html", "http://x/7.html"]
    assert p.stats() == {"rechecked": 4, "not_due": 0, "over_budget": 7}
    assert plan(pages, Policy(now=NOW, mode=FULL, budget=4)).stats()["rechecked"] == 11  # --full: all


# -- real crawls -----------------------------------------------------------------------------------
ADAPTIVE = {"GOVARCHIVE_REVISIT": "adaptive"}


def warc_bytes(data) -> int:  # noqa: ANN001
    return sum(f.stat().st_size for f in warc_dir(data).glob("*.warc.gz")) if data.exists() else 0


def crawl(site: SiteServer, data, days: float = 0, *args: str) -> tuple[int, int, str]:  # noqa: ANN001
    """Crawl ``days`` after the clock: (requests the server saw, WARC bytes written, the report)."""
    before, size = len(site.requests), warc_bytes(data)
    env = {**ADAPTIVE, "GOVARCHIVE_REVISIT_NOW": f"+{days}"} if days else ADAPTIVE
    proc = cli("crawl", site.url, "--concurrency", "8", *args, data=data, env=env)
    return len(site.requests) - before, warc_bytes(data) - size, proc.stderr


@pytest.fixture(scope="module")
def site_and_data(tmp_path_factory):
    routes = dict(generated_site(1000))
    with SiteServer(routes) as site:
        data = tmp_path_factory.mktemp("revisit") / "data"
        first = crawl(site, data)
        yield site, data, first


def test_an_immediate_recrawl_asks_for_the_lists_only(site_and_data):
    site, data, (requests, size, _) = site_and_data
    assert requests > 1000
    assert size > 1_000_000
    again, again_bytes, report = crawl(site, data)
    assert again_bytes > 0  # the lists' revisit records
    assert again <= 0.15 * requests, (again, requests)
    assert again_bytes <= 0.10 * size, (again_bytes, size)
    m = re.search(r"rechecked (\d+) known pages \((\d+) not due yet\)", report)
    assert m and int(m.group(2)) >= 1000, report
    # Lists are read every crawl: every list page of the first crawl was asked again, no article was.
    lists = {urlsplit(r["url"]).path for r in cli_json("pages", "--kind", "list", data=data)}
    asked = {p for _, p in site.requests[-again:]}
    assert len(lists) > 40 and lists <= asked
    assert not [p for p in asked if "/content/post_" in p]


def test_a_silent_revision_is_found_when_its_page_is_due_and_not_before(site_and_data):
    site, data, _ = site_and_data
    path = next(p for p in sorted(site.routes) if "/content/post_" in p and p.endswith(".html"))
    res = site.routes[path]
    body = res.body.decode("utf-8").replace("</p>", "（本文已于近日修订）</p>", 1)
    site.routes[path] = Resource(body.encode("utf-8"), res.content_type)
    url = site.url.rstrip("/") + path
    crawl(site, data, 2)  # two days on: a document from 2016-2025, quiet so far, is not due
    assert not [e for e in cli_json("changes", "--kind", "changed", data=data) if e["url"] == url]
    h = cli_json("history", url, data=data)
    assert h["next_check"]["every_days"] == MAX_INTERVAL_DAYS and "maximum" in h["next_check"]["why"]
    assert "next check: " in cli("history", url, data=data).stdout
    requests, _, report = crawl(site, data, 31)  # past the maximum interval: every known page is due
    assert requests > 1000 and "rechecked" in report
    changed = [e for e in cli_json("changes", "--kind", "changed", data=data) if e["url"] == url]
    assert len(changed) == 1 and changed[0]["silent_revision"]


def test_a_budget_leaves_pages_for_the_next_crawl_and_says_so(site_and_data, tmp_path):
    site, data, _ = site_and_data
    profile = tmp_path / "budget.toml"
    profile.write_text(f'name = "budget"\nstart_urls = ["{site.url}"]\nallow_private = true\n'
                       "revisit_budget = 300\n", "utf-8")
    env = {**ADAPTIVE, "GOVARCHIVE_REVISIT_NOW": "+70"}
    proc = cli("crawl", "--site", str(profile), "--concurrency", "8", data=data, env=env)
    m = re.search(r"rechecked (\d+) known pages \((\d+) not due yet; (\d+) due and left for the next crawl by "
                  r"the budget\)", proc.stderr)
    assert m, proc.stderr
    assert int(m.group(1)) == 300 and int(m.group(3)) > 700


def test_full_rechecks_everything(site_and_data):
    site, data, (requests, _, _) = site_and_data
    again, _, _ = crawl(site, data, 0, "--full")
    assert again >= 0.95 * requests


def test_profile_keys_are_validated(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nstart_urls = ["http://127.0.0.1:1/"]\nrevisit = "sometimes"\n'
                   'max_interval_days = 0\n', "utf-8")
    proc = cli("sites", "--check", check=False, env={"GOVARCHIVE_SITES": str(tmp_path)})
    out = proc.stdout + proc.stderr
    assert "revisit must be adaptive or full" in out and "max_interval_days must be" in out


def test_the_checks_query_seeks_each_pages_rows_and_scans_only_pages(tmp_path):
    # Read once per crawl over every known page: a scan of `changes` per page was quadratic (an
    # immediate recrawl of an 11,000-page site spent a minute here before the index).
    from archive.db import open_db
    from archive.state import CHECKS_SQL

    db = open_db(tmp_path)
    plan = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + CHECKS_SQL + " WHERE p.state != 'missing'").fetchall()]
    assert [p for p in plan if p.startswith("SCAN")] == ["SCAN p"], plan


def test_a_new_date_on_a_list_makes_its_document_due_next_crawl(tmp_path):
    """A redate shows on the column list before the document is due: the list's versions are compared
    (this crawl's against the same lists' earlier ones), the document is checked in the next crawl
    and the change found; a list date that never matched the document's own date changes nothing."""
    routes = dict(generated_site(60))
    listing = "/zw/tzgg/index.html"
    items = re.findall(r'<a href="(/zw/tzgg/content/post_\d+\.html)"[^>]*>[^<]*</a><span class="date">([^<]+)<',
                       routes[listing].body.decode("utf-8"))
    (x, x_date), (y, y_date) = items[-1], items[-2]  # the oldest on the page: long past their young days

    def edit(path: str, old: str, new: str) -> None:
        res = routes[path]
        body = res.body.decode("utf-8")
        assert old in body, (path, old)
        routes[path] = Resource(body.replace(old, new).encode("utf-8"), res.content_type)

    # y: the list shows a date its page never carries, from the start (a 成文日期, an update date).
    edit(listing, f'<span class="date">{y_date}</span>', '<span class="date">2011-01-01</span>')
    with SiteServer(routes) as site:
        data = tmp_path / "data"
        crawl(site, data)
        x_url, y_url = site.url.rstrip("/") + x, site.url.rstrip("/") + y
        # x is redated: on its list and on its page.
        new_date = "2012-02-02"
        edit(listing, f'<span class="date">{x_date}</span>', f'<span class="date">{new_date}</span>')
        page = routes[x].body.decode("utf-8")
        stamp = re.search(r'name="PubDate" content="(\d{4})-(\d\d)-(\d\d)', page)
        edit(x, stamp.group(0), 'name="PubDate" content="2012-02-02')
        year, month, day_ = (int(v) for v in stamp.groups())
        edit(x, f"发布日期：</td><td>{year}年{month}月{day_}日", "发布日期：</td><td>2012年2月2日")
        site.routes.update(routes)

        def asked(path: str, n: int) -> bool:
            return any(p == path for _, p in site.requests[-n:])

        n, _, _ = crawl(site, data, 2)  # x is not due: not fetched, though its list links it
        assert n and not asked(x, n) and not asked(y, n)
        h = cli_json("history", x_url, data=data)
        assert "list shows it with a new date" in h["next_check"]["why"], h["next_check"]
        assert "list" not in cli_json("history", y_url, data=data)["next_check"]["why"]
        n, _, _ = crawl(site, data, 3)  # the next crawl checks x and finds the change
        assert asked(x, n) and not asked(y, n)
        changed = [e for e in cli_json("changes", "--kind", "changed", data=data) if e["url"] == x_url]
        assert len(changed) == 1 and "published" in changed[0]["fields"], changed
        assert "list" not in cli_json("history", x_url, data=data)["next_check"]["why"]  # seen since
        n, _, _ = crawl(site, data, 4)  # (x, just revised, is young again: rechecked by its own rule)
        assert n and not asked(y, n)
