"""Search is exact: what it returns is exactly what contains the query, for 1, 2, 4+ characters."""

from __future__ import annotations

import random

import pytest

from archive.db import open_db
from archive.errors import BadQuery
from archive.search import fts_query, search, shadow

WORDS = ["法治", "政府", "建设", "年度", "报告", "行政", "诉讼", "高新区", "公开", "信息", "2023年", "ICP", "申请"]


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path)
    rng = random.Random(7)
    docs = []
    for i in range(300):
        body = "，".join("".join(rng.sample(WORDS, 3)) for _ in range(6)) + "。"
        title = f"文件{i}" + rng.choice(WORDS)
        pid = db["pages"].insert({"url": f"http://x/{i}", "site": "x", "state": "live"}).last_pk
        vid = db["versions"].insert({"page_id": pid, "number": 1, "content_hash": str(i), "kind": "article",
                                     "title": title, "body": body, "first_seen": "2024"}).last_pk
        db["pages"].update(pid, {"current_version": vid})
        db.execute("INSERT INTO search_index(rowid, title, body, attachments) VALUES (?, ?, ?, '')",
                   [vid, shadow(title), shadow(body)])
        docs.append((f"http://x/{i}", title + "\n" + body))
    db.docs = docs
    return db


@pytest.mark.parametrize("query", ["法", "法治", "治政", "行政诉讼", "高新区公开", "2023年", "icp", "府建设年"])
def test_results_equal_substring_truth(db, query):
    got = {r["url"] for r in search(db, query, limit=10_000)}
    want = {u for u, text in db.docs if query.lower() in text.lower()}
    assert got == want


def test_shadow_and_query():
    assert shadow("法治政府") == "法 治 政 府 法治 治政 政府"
    assert fts_query("法治政府") == '"政府" AND "治政" AND "法治"'
    assert fts_query("法") == "\"法\""
    assert fts_query("，") is None


@pytest.mark.parametrize("query", ["'; DROP TABLE pages; --", '"unbalanced', "AND OR NOT", "NEAR("])
def test_hostile_queries_are_safe(db, query):
    search(db, query)  # no exception, no damage
    assert db["pages"].count == 300


def test_empty_query_is_a_clear_error(db):
    with pytest.raises(BadQuery):
        search(db, "   ")
