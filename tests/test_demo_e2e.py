"""End to end: the demo site through editions 1 → 2 → 3, crawled by the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.demosite import DemoSite
from archive.demosite.content import new_notice
from archive.demosite.pages import (
    DELETED_NOTICE,
    DELISTED_POLICY,
    REDATED_POLICY,
    SEED_ID,
    articles,
    doc_path,
)

from .conftest import cli, cli_json


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Crawl editions 1, 2, 3 of the demo site into one data dir; keep what the server saw."""
    data = tmp_path_factory.mktemp("demo") / "data"
    with DemoSite(edition=1) as site:
        for edition in (1, 2, 3):
            site.set_edition(edition)
            cli("crawl", site.url, data=data)
        yield {"data": data, "site": site, "base": site.url.rstrip("/"), "requests": list(site.requests)}


def _by_crawl(data) -> list[list[dict]]:
    events = cli_json("changes", "--include-baseline", data=data)
    crawls: dict[str, list[dict]] = {}
    for e in events:
        crawls.setdefault(e["crawl_id"], []).append(e)
    return list(crawls.values())


def _url(base: str, doc_id: int) -> str:
    doc = next(d for d in articles(3) if d.doc_id == doc_id)
    return base + doc_path(doc)


def test_first_crawl_archives_every_document_and_nothing_else(crawled):
    first = _by_crawl(crawled["data"])[0]
    assert {e["kind"] for e in first} == {"archived"} and all(e["baseline"] for e in first)
    # The baseline is not news: left out of `changes` unless asked for.
    assert not {e["crawl_id"] for e in cli_json("changes", data=crawled["data"])} & {first[0]["crawl_id"]}
    expected = {crawled["base"] + doc_path(d) for d in articles(1)}
    added = {e["url"] for e in first}
    articles_added = {u for u in added if "/attachments/" not in u}
    assert articles_added == expected
    assert len(added - articles_added) == 3  # the PDF, DOCX and XLSX attachments


def test_edition_two_events_are_exact(crawled):
    base = crawled["base"]
    second = _by_crawl(crawled["data"])[1]
    got = {(e["kind"], e["url"]) for e in second}
    assert got == {
        ("added", base + doc_path(new_notice())),
        ("changed", _url(base, SEED_ID)),
        ("changed", _url(base, REDATED_POLICY)),
        ("removed", _url(base, DELETED_NOTICE)),
        ("delisted", _url(base, DELISTED_POLICY)),
    }
    by_url = {e["url"]: e for e in second}
    report = by_url[_url(base, SEED_ID)]
    assert report["fields"] == ["body"] and report["silent_revision"] is True
    redated = by_url[_url(base, REDATED_POLICY)]
    assert redated["fields"] == ["published"] and redated["silent_revision"] is False


def test_edition_three_restores_the_deleted_notice_only(crawled):
    third = _by_crawl(crawled["data"])[2]
    assert [(e["kind"], e["url"]) for e in third] == [("restored", _url(crawled["base"], DELETED_NOTICE))]


def test_diff_of_revised_report_is_the_number_and_the_sentence(crawled):
    url = _url(crawled["base"], SEED_ID)
    d = json.loads(cli("diff", url, "--format", "json", data=crawled["data"]).stdout)
    assert (d["from"], d["to"]) == (1, 2)
    assert d["fields"] == {}
    edits = [op for op in d["ops"] if op["op"] != "equal"]
    assert edits == [{"op": "replace", "old": "48", "new": "84"},
                     {"op": "insert", "old": "", "new": "全年新增科技型中小企业入库412家。"}]


def test_robots_disallowed_path_never_requested(crawled):
    paths = [p for _, p in crawled["requests"]]
    assert "/robots.txt" in paths
    assert not any(p.startswith("/search/") for p in paths)


def test_gbk_article_title_and_body(crawled):
    legacy = next(d for d in articles(1) if d.legacy_gbk)
    rec = cli_json("show", crawled["base"] + doc_path(legacy), data=crawled["data"])
    assert rec["title"] == legacy.title
    assert rec["body"].startswith(legacy.paragraphs[0])
    assert legacy.paragraphs[-1] in rec["body"]
    assert rec["published"] == "2022-03-25"


def test_show_returns_the_metadata_table_and_signature(crawled):
    rec = cli_json("show", _url(crawled["base"], SEED_ID), data=crawled["data"])
    assert rec["title"] == "佛山高新技术产业开发区管理委员会2023年法治政府建设年度报告"
    assert rec["published"] == "2024-03-04"
    assert rec["written_on"] == "2023-12-27"
    assert rec["publisher"] == "佛山高新技术产业开发区管理委员会"
    assert rec["signed_on"] == "2023-12-27"
    assert rec["index_no"].endswith("/2024-16497")
    assert "扫一扫" not in rec["body"] and "ICP" not in rec["body"] and "访问量" not in rec["body"]


def test_warc_files_pass_warcio_check_and_pair_records(crawled):
    warcs = sorted((crawled["data"] / "warcs").glob("*.warc.gz"))
    assert len(warcs) == 3
    proc = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, warcs)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for path in warcs:
        with open(path, "rb") as fh:
            records = list((r.rec_type, dict(r.rec_headers.headers)) for r in ArchiveIterator(fh))
        assert records[0][0] == "warcinfo"
        ids = {h["WARC-Record-ID"]: t for t, h in records}
        for rtype, h in records:
            assert h.get("WARC-Type") == rtype
            if rtype == "request":
                assert ids[h["WARC-Concurrent-To"]] in ("response", "revisit")


def test_recrawl_of_unchanged_site_sends_conditional_requests_and_writes_little(crawled):
    data = crawled["data"]
    before = sum(p.stat().st_size for p in (data / "warcs").glob("*.warc.gz"))
    first = min((data / "warcs").glob("*.warc.gz")).stat().st_size
    proc = cli("crawl", crawled["site"].url, data=data)  # edition 3 again, unchanged
    after = sum(p.stat().st_size for p in (data / "warcs").glob("*.warc.gz"))
    assert "conditional requests" in proc.stderr
    # Demo pages are small (~3 KB gzipped), so the fixed cost of a revisit + request pair
    # (~1 KB) weighs more than on real pages; issue 3 tracks the 10% target on real-sized pages.
    assert after - before < first / 3, (after - before, first)
    fourth = _by_crawl(data)
    assert len(fourth) == 3  # an unchanged recrawl adds no event at all


def test_reindex_equals_live(crawled, tmp_path):
    cli("rebuild", "--into", str(tmp_path), data=crawled["data"])
    live = sqlite3.connect(crawled["data"] / "govarchive.db")
    rebuilt = sqlite3.connect(tmp_path / "govarchive.db")
    for sql in ("SELECT url, kind, state, listed, title FROM pages ORDER BY url",
                "SELECT p.url, v.number, v.content_hash, v.first_seen FROM versions v "
                "JOIN pages p ON p.id = v.page_id ORDER BY 1, 2",
                "SELECT url, kind, at, from_version, to_version, fields, silent_revision FROM changes "
                "ORDER BY url, at, kind",
                "SELECT url, fetched_at, status, record_type, warc_file, warc_offset FROM captures ORDER BY 1, 2"):
        assert live.execute(sql).fetchall() == rebuilt.execute(sql).fetchall(), sql


def test_search_two_character_word(crawled):
    rows = cli_json("search", "法治", "--limit", "100", data=crawled["data"])
    assert rows and all("法治" in (r["title"] + r["snippet"]) for r in rows)
    urls = {r["url"] for r in rows}
    assert _url(crawled["base"], SEED_ID) in urls
