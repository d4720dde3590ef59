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
    assert run.crawl((A, 200, page(counter=1))) == ["archived"]
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
                     (C, 200, page("第三份文件的正文内容。"))) == ["archived", "archived", "archived"]
    assert run.crawl((LIST, 200, listing(A, C)), (A, 200, page()), (B, 200, page("另一份文件的正文内容。")),
                     (C, 200, page("第三份文件的正文内容。"))) == ["delisted"]
    assert run.crawl((LIST, 200, listing(A, B, C)), (A, 200, page()), (B, 200, page("另一份文件的正文内容。")),
                     (C, 200, page("第三份文件的正文内容。"))) == ["relisted"]


def test_meta_refresh_to_the_column_is_a_removal(run):
    run.crawl((A, 200, page()))
    refresh = b'<html><head><meta http-equiv="refresh" content="0;url=/a/index.html"></head><body></body></html>'
    assert run.crawl((A, 200, refresh)) == ["removed"]


# -- issue 12: history that stays true under real HTTP ------------------------------------------
L1 = "http://x.gov.cn/a/index.html"


def state(run, url: str) -> str:
    return run.h.db.execute("SELECT state FROM pages WHERE url = ?", [url]).fetchone()[0]


L2 = "http://x.gov.cn/b/index.html"


def test_a_removed_page_back_with_its_old_bytes_is_restored_by_its_304(run):
    """The server answers 304 to the validators of the last version: the page is back, unchanged."""
    run.crawl((A, 200, page()))
    assert run.crawl((A, 404, b"")) == ["removed"]
    assert run.crawl((A, 304, None)) == ["restored"]
    assert state(run, A) == "live"


def test_delisting_counts_the_items_of_lists_that_answered_304(run):
    run.crawl((L1, 200, listing(A)), (L2, 200, listing(B)), (A, 200, page()), (B, 200, page("另一份文件。")))
    # L1 drops A; L2 is unchanged (304): only A is de-listed, B stays listed.
    assert run.crawl((L1, 200, listing(C)), (L2, 304, None), (A, 304, None), (B, 304, None),
                     (C, 200, page("第三份文件的正文内容。"))) == ["added", "delisted"]
    assert state(run, A) == "delisted" and state(run, B) == "live"
    assert run.crawl((L1, 200, listing(C, A)), (L2, 304, None), (A, 304, None), (B, 304, None),
                     (C, 304, None)) == ["relisted"]


def test_a_list_that_fails_once_delists_nothing(run):
    run.crawl((L1, 200, listing(A, B)), (L2, 200, listing(C)), (A, 200, page()), (B, 200, page("另一份文件。")),
              (C, 200, page("第三份文件的正文内容。")))
    assert run.crawl((L1, 503, b""), (L2, 200, listing(C)), (A, 304, None), (B, 304, None), (C, 304, None)) == []
    assert run.crawl((L1, None, None, "timeout"), (L2, 304, None), (A, 304, None), (B, 304, None),
                     (C, 304, None)) == []
    assert {state(run, u) for u in (A, B, C)} == {"live"}


def test_a_failed_list_page_keeps_everything_its_column_held(run):
    """Items shift between a column's pages: what the failed page holds now could be any of them."""
    L1b = L1.replace("index.html", "index_1.html")
    run.crawl((L1, 200, listing(A)), (L1b, 200, listing(B)), (A, 200, page()), (B, 200, page("另一份文件。")))
    # A new item pushes A onto page 2 while page 1 is down: A must not be taken for de-listed.
    assert run.crawl((L1, 503, b""), (L1b, 200, listing(A)), (A, 304, None), (B, 304, None)) == []


def test_a_document_redirected_to_its_new_url_has_moved(run):
    """A site's new URLs (http to https, a new CMS's paths) answered by a 301 from the old ones: the
    document moved — not a new document at the new URL (its ``added`` retracted), and said once."""
    run.crawl((A, 200, page()))
    assert run.crawl((A, 301, b"", None, B), (B, 200, page())) == ["moved"]
    assert state(run, A) == "redirect" and state(run, B) == "live"
    assert run.crawl((A, 301, b"", None, B), (B, 200, page())) == []
    # …to a page known before, its text edited on the way: moved, and what differs is said.
    c, d = "http://x.gov.cn/a/t3.html", "http://x.gov.cn/b/t3.html"
    run.crawl((c, 200, page("第三号通知正文。")), (d, 200, page("第三号通知正文，有修改。")))
    assert run.crawl((c, 301, b"", None, d), (d, 200, page("第三号通知正文，有修改。"))) == ["moved"]
    summary = run.h.db.execute("SELECT summary FROM changes ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert summary.startswith(f"moved from {c}") and "body" in summary, summary


def test_a_document_redirected_to_an_error_page_is_removed(run):
    run.crawl((A, 200, page()))
    error_page = "<html><head><title>页面不存在或已被删除</title></head><body>页面不存在或已被删除</body></html>"
    assert run.crawl((A, 302, b"", None, "http://x.gov.cn/404.html"),
                     ("http://x.gov.cn/404.html", 200, error_page.encode())) == ["removed"]


NOTICE = """<html><head><title>关于注销部分账户的公告_某某区人民政府</title></head><body>
<h1>关于注销部分账户的公告</h1><div class="TRS_Editor"><p>经核查，以下12个账户信息已被删除，特此公告。</p>
<p>某某区人民政府</p></div></body></html>"""


def test_a_genuine_notice_about_deleted_records_is_a_document(run):
    assert run.crawl((A, 200, NOTICE.encode())) == ["archived"]
    assert state(run, A) == "live"


TEMPLATE = """<html><head><title>某某区人民政府</title></head><body><div class="tip">抱歉，您访问的内容暂时无法显示，
请返回首页浏览其他信息。</div><div class="url">/a/{0}</div></body></html>"""


def test_the_sites_own_not_found_page_is_learned_from_its_probe(run):
    from archive.soft404 import probe_url

    probe = probe_url(A)
    run.crawl((probe, 200, TEMPLATE.format("x").encode()), (A, 200, page()))
    # No keyword a list could match: only the comparison with the probe's answer says it is gone.
    assert run.crawl((probe, 200, TEMPLATE.format("x").encode()), (A, 200, TEMPLATE.format("t1").encode())) \
        == ["removed"]
    assert run.h.db.execute("SELECT count(*) FROM pages WHERE kind = 'probe'").fetchone()[0] == 1


def test_a_redirect_where_the_probe_was_sent_is_a_removal(run):
    from archive.soft404 import probe_url

    probe = probe_url(A)
    run.crawl((probe, 302, b"", None, "http://x.gov.cn/error.jsp"), (A, 200, page()))
    assert run.crawl((A, 302, b"", None, "http://x.gov.cn/error.jsp")) == ["removed"]


def test_an_unreadable_attachment_is_recorded_and_versioned_on_its_bytes(run):
    pdf = "http://x.gov.cn/a/P020240101.pdf"
    broken = b"%PDF-1.4\n1 0 obj\n<< /Type /Pages >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
    assert run.crawl((pdf, 200, broken)) == ["archived"]
    v = run.h.db.execute("SELECT text_error, file_digest FROM versions").fetchone()
    assert "No /Root" in v[0] and v[1].startswith("sha1:")
    assert run.crawl((pdf, 200, broken)) == []
    assert run.crawl((pdf, 200, broken + b"% another file\n")) == ["changed"]
    assert run.h.db.execute("SELECT count(*) FROM captures WHERE url = ?", [pdf]).fetchone()[0] == 3


WIDGET = """<html><head><title>{title}-某某区人民政府</title></head><body>
<div class="top">今天是<span id="date">2024年4月{day}日</span></div>
<h1>{title}</h1><div class="TRS_Editor"><p>正文第一段，共计十五件。</p>
<p><a href="http://www-x-gov-cnx{tok}20240401xx.ipv6best.cn/files/guide.pdf">办事指南.pdf</a></p></div>
</body></html>"""


def test_header_date_widgets_and_gateway_hosts_are_noise(run):
    def noisy(day: int) -> bytes:
        return WIDGET.format(title="关于某事项的通知", day=day, tok=f"{day * 977 % 65536:04x}").encode()

    run.crawl((A, 200, noisy(1)))
    assert run.h.db.execute("SELECT published FROM versions").fetchone()[0] is None
    assert run.crawl((A, 200, noisy(2))) == []
    assert run.crawl((A, 200, noisy(3))) == []


def test_the_first_complete_crawl_is_a_baseline(run):
    assert run.crawl((A, 200, page())) == ["archived"]
    assert run.crawl((B, 200, page("另一份文件。"))) == ["added"]
    flags = dict(run.h.db.execute("SELECT kind, baseline FROM changes").fetchall())
    assert flags == {"archived": 1, "added": 0}


def test_the_grace_of_a_failed_list_page_ignores_pages_gone_before(run):
    """A column page that vanished long ago (its list shrank) still has an old version listing a
    document since de-listed: a failure of the column's first page must not bring it back."""
    L1b = L1.replace("index.html", "index_1.html")
    run.crawl((L1, 200, listing(A)), (L1b, 200, listing(B)), (A, 200, page()), (B, 200, page("另一份文件。")))
    assert run.crawl((L1, 200, listing(A)), (L1b, 404, b""), (A, 304, None), (B, 304, None)) == ["delisted"]
    assert run.crawl((L1, 503, b""), (L1b, 404, b""), (A, 304, None), (B, 304, None)) == []
