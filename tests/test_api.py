"""The notebook API and the pages/stats commands."""

from __future__ import annotations

import pytest

from archive import Archive
from archive.demosite.pages import DELETED_NOTICE, SEED_ID
from archive.errors import EmptyArchive, UnknownURL

from .conftest import cli_json


def test_archive_api(demo_data):
    data, base = demo_data
    report = f"{base}zw/tzgg/content/post_{SEED_ID}.html"
    with Archive(data) as a:
        hits = a.search("法治政府建设年度报告", limit=50)
        assert report in {h["url"] for h in hits}
        assert [v["number"] for v in a.history(report)["versions"]] == [1, 2]
        ops = [o for o in a.diff(report)["ops"] if o["op"] != "equal"]
        assert ops[0] == {"op": "replace", "old": "48", "new": "84"}
        assert a.show(report, 1)["body"].count("惠及企业48家") == 1
        assert {c["kind"] for c in a.changes(kind="removed")} == {"removed"}
        removed = a.pages(state="removed")
        assert [p["url"] for p in removed] == [f"{base}zw/tzgg/content/post_{DELETED_NOTICE}.html"]
        with pytest.raises(UnknownURL):
            a.history("http://nowhere/")


def test_archive_on_missing_dir(tmp_path):
    archive = Archive(tmp_path / "none")  # nothing is opened until asked (a crawl creates it)
    with pytest.raises(EmptyArchive):
        archive.stats()
    assert not (tmp_path / "none").exists()


def test_pages_and_stats_commands(demo_data):
    data, _ = demo_data
    stats = cli_json("stats", data=data)
    assert stats["changes_by_kind"]["removed"] == 1 and stats["changes_by_kind"]["changed"] == 2
    assert stats["warc_files"] == 2 and stats["warc_bytes"] > 100_000
    assert stats["versions"] > stats["pages"] - 5
    delisted = cli_json("pages", "--state", "delisted", data=data)
    assert len(delisted) == 1 and delisted[0]["title"] == "佛山高新区12345热线工单办理工作规范"
