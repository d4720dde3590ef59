"""Datasette serves the database with the shipped metadata.yml: canned queries and search work."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from .conftest import DATASETTE, cli_json, datasette_server


@pytest.fixture(scope="module")
def datasette(demo_data):
    data, base = demo_data
    with datasette_server(data / "govarchive.db") as url:
        yield url, data, base


def get(url: str, path: str, **params: str) -> list[dict]:
    query = urllib.parse.urlencode({**params, "_shape": "array"})
    return json.loads(urllib.request.urlopen(f"{url}{path}.json?{query}", timeout=10).read())


@pytest.mark.skipif(DATASETTE is None, reason="datasette not installed")
def test_canned_queries(datasette):
    url, data, base = datasette
    recent = get(url, "/govarchive/recent_changes", days="36500")
    assert {r["kind"] for r in recent} >= {"added", "changed", "removed", "delisted"}
    silent = get(url, "/govarchive/silent_revisions")
    assert [r["title"] for r in silent] == ["佛山高新技术产业开发区管理委员会2023年法治政府建设年度报告"]
    for q in ("法治政府", "诉讼", "法", "2023年"):
        canned = {r["url"] for r in get(url, "/govarchive/search", q=q)}
        ours = {r["url"] for r in cli_json("search", q, "--limit", "500", "--kind", "article", data=data)}
        ours |= {r["url"] for r in cli_json("search", q, "--limit", "500", "--kind", "attachment", data=data)}
        assert canned >= ours and ours, q


@pytest.mark.skipif(DATASETTE is None, reason="datasette not installed")
def test_datasette_table_search_two_characters(datasette):
    url, _, _ = datasette
    rows = get(url, "/govarchive/versions", _search="法治")
    assert rows and all("法治" in (r["title"] or "") + (r["body"] or "") for r in rows)
