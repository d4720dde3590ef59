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


@pytest.mark.parametrize("plan", ["few", "walk", "probe"])
@pytest.mark.parametrize("query", ["法", "法治", "治政", "行政诉讼", "高新区公开", "2023年", "icp", "府建设年"])
def test_results_equal_substring_truth(db, query, plan, monkeypatch):
    """Each plan (archive/search.py) finds exactly what contains the query, newest first."""
    import archive.search as s

    monkeypatch.setattr(s, "_plan", lambda *a: plan)
    got = {r["url"] for r in search(db, query, limit=10_000)}
    want = {u for u, text in db.docs if query.lower() in text.lower()}
    assert got == want
    newest = [r["url"] for r in search(db, query, limit=5)]
    assert len(newest) == min(5, len(want)) and set(newest) <= want
    monkeypatch.setattr(s, "_plan", lambda *a: "walk")
    assert newest == [r["url"] for r in search(db, query, limit=5)]


def test_the_plan_follows_the_candidates(db, monkeypatch):
    """Few candidates: read them all; so many that 20 are among the newest PROBE_ROWS: look the
    newest up one by one; in between, or filtered: walk with the candidates' set."""
    import archive.search as s

    plans = []
    real = s._plan
    monkeypatch.setattr(s, "_plan", lambda *a: plans.append(real(*a)) or plans[-1])
    monkeypatch.setattr(s, "FEW_CANDIDATES", 50)
    monkeypatch.setattr(s, "PROBE_ROWS", 20)  # 300 versions: probing needs 300 candidates
    monkeypatch.setattr(s, "PROBE_MARGIN", 1)
    monkeypatch.setattr(s, "PROBE_MIN_CANDIDATES", 0)
    search(db, "文件12")  # 文件12, 文件120…129: a dozen rows
    search(db, "文件")  # every title
    search(db, "文件", site="x")  # filtered
    search(db, "法治")  # many, not every row
    search(db, "文件 2")  # every title holds both words' tokens: a longer query is checked, never probed
    assert plans == ["few", "probe", "walk", "walk", "walk"]


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
