"""History rules on synthetic captures: versions, reverts, removals, moves, persisting errors."""

from __future__ import annotations

import pytest

from archive.db import open_db
from archive.history import Capture, History

PAGE = """<html><head><title>{title}-某某区人民政府</title></head><body>
<div class="nav">首页 政府信息公开</div>
<table><tr><td>索引号：</td><td>0001/2024-1</td><td>发布日期：</td><td>{date}</td></tr></table>
<h1>{title}</h1><div class="TRS_Editor"><p>{body}</p><p>某某区人民政府</p><p>2024年1月2日</p></div>
<div class="footer">网站标识码1234 访问量：{counter}</div></body></html>"""


def page(body: str = "正文第一段。", title: str = "关于某事项的通知", date: str = "2024-01-05", counter: int = 1) -> bytes:
    return PAGE.format(body=body, title=title, date=date, counter=counter).encode()


class Run:
    def __init__(self, db):
        self.h = History(db, error_crawls=2)
        self.n = 0

    def crawl(self, *caps):
        self.n += 1
        cid = f"c{self.n}"
        self.h.begin_crawl(cid, f"2024-01-{self.n:02d}", "x", [])
        for url, status, payload, *rest in caps:
            cap = Capture(url=url, fetched_at=f"2024-01-{self.n:02d}T00:00:00Z", crawl_id=cid, status=status,
                          payload=payload, content_type="text/html",
                          error=rest[0] if rest else None, location=rest[1] if len(rest) > 1 else None)
            self.h.add(cap)
        self.h.end_crawl(cid, f"2024-01-{self.n:02d}T01:00:00Z")
        return [k for (k,) in self.h.db.execute("SELECT kind FROM changes WHERE crawl_id = ? ORDER BY id", [cid])]


@pytest.fixture
def run(tmp_path):
    return Run(open_db(tmp_path))


A = "http://x.gov.cn/a/t1.html"
B = "http://x.gov.cn/a/t2.html"


def test_noise_makes_no_version(run):
    assert run.crawl((A, 200, page(counter=1))) == ["added"]
    assert run.crawl((A, 200, page(counter=999))) == []


def test_change_then_revert_without_new_version(run):
    run.crawl((A, 200, page("本通知自印发之日起施行，有效期三年。")))
    assert run.crawl((A, 200, page("本通知自印发之日起施行，有效期五年。"))) == ["changed"]
    assert run.crawl((A, 200, page("本通知自印发之日起施行，有效期三年。"))) == ["reverted"]
    assert run.h.db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2


def test_removed_by_404_soft_404_and_redirect_home_then_restored(run):
    run.crawl((A, 200, page()))
    assert run.crawl((A, 404, b"")) == ["removed"]
    assert run.crawl((A, 404, b"")) == []
    assert run.crawl((A, 200, page())) == ["restored"]
    soft = "<html><head><title>提示</title></head><body>信息已删除</body></html>".encode()
    assert run.crawl((A, 200, soft)) == ["removed"]
    assert run.crawl((A, 200, page())) == ["restored"]
    assert run.crawl((A, 302, b"", None, "http://x.gov.cn/")) == ["removed"]


def test_errors_become_removed_only_when_they_persist(run):
    run.crawl((A, 200, page()))
    assert run.crawl((A, None, None, "timeout")) == ["error"]
    assert run.crawl((A, None, None, "timeout")) == ["removed"]


def test_retry_success_in_same_crawl_is_no_event(run):
    run.crawl((A, 200, page()))
    assert run.crawl((A, 503, b""), (A, 200, page())) == []


def test_blocked_wall(run):
    run.crawl((A, 200, page()))
    assert run.crawl((A, 412, b"<script>x</script>")) == ["blocked"]


def test_move_is_one_event(run):
    run.crawl((A, 200, page()))
    assert run.crawl((A, 404, b""), (B, 200, page())) == ["moved"]


def test_metadata_change_names_field_and_silent_revision(run):
    run.crawl((A, 200, page()))
    run.crawl((A, 200, page(date="2024-01-06")))
    run.crawl((A, 200, page(body="正文第一段，有修改。", date="2024-01-06")))
    rows = list(run.h.db.query("SELECT kind, fields, silent_revision FROM changes ORDER BY id"))
    assert rows[1] == {"kind": "changed", "fields": '["published"]', "silent_revision": 0}
    assert rows[2] == {"kind": "changed", "fields": '["body"]', "silent_revision": 1}


def listing(*urls: str) -> bytes:
    items = "".join(f'<li><a href="{u}">关于某事项的通知{i}</a><span>2024-01-0{i + 1}</span></li>'
                    for i, u in enumerate(urls))
    return f"<html><head><title>通知公告</title></head><body><ul>{items}</ul></body></html>".encode()


LIST = "http://x.gov.cn/a/index.html"
C = "http://x.gov.cn/a/t3.html"


def test_delisted_then_relisted(run):
    assert run.crawl((LIST, 200, listing(A, B, C)), (A, 200, page()), (B, 200, page("另一份文件的正文内容。")),
                     (C, 200, page("第三份文件的正文内容。"))) == ["added", "added", "added"]
    assert run.crawl((LIST, 200, listing(A, C)), (A, 200, page()), (B, 200, page("另一份文件的正文内容。")),
                     (C, 200, page("第三份文件的正文内容。"))) == ["delisted"]
    assert run.crawl((LIST, 200, listing(A, B, C)), (A, 200, page()), (B, 200, page("另一份文件的正文内容。")),
                     (C, 200, page("第三份文件的正文内容。"))) == ["relisted"]


def test_meta_refresh_to_the_column_is_a_removal(run):
    run.crawl((A, 200, page()))
    refresh = b'<html><head><meta http-equiv="refresh" content="0;url=/a/index.html"></head><body></body></html>'
    assert run.crawl((A, 200, refresh)) == ["removed"]
