"""A disclosure site that evolves like a real one, with the ground truth of every change it makes.

The oracle of the history tests (tests/test_simulated_history.py) and of `make soak`
(bench/soak.py). A seeded random site of TRS-style columns and articles is served by a real HTTP
server (archive/demosite/server.py) that behaves like nginx in front of a static CMS: an unchanged
page keeps its bytes, its ETag and its Last-Modified, so a conditional request gets 304; a list
changes only when its items do; some answers are gzipped, some chunked. Each ``evolve()`` publishes
the next edition by drawing operations — additions, deletions in every form sites use, restores
with old and new bytes, silent revisions, date corrections, de-listing and re-listing, moves
(the old URL gone, or redirecting to the new), reverts, replaced and unreadable attachments, a list page down for a crawl, transient 5xx and
timeouts, documents down for a crawl, documents and list pages answered for a crawl with a 200
that is not the page (STAND_INS: walls, rate limits, maintenance, the server's error page, an
empty body) — and returns the events a correct archive must report for it. Noise that must never count (visit counters, a header date widget, rotating IPv6-gateway
hosts) changes on every edition.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import format_datetime

from archive.demosite import Resource, SiteServer
from archive.demosite.files import _pdf

SITE = "某某市高新区管委会"
COLUMNS = {"tzgg": "通知公告", "zcwj": "政策文件", "gsgg": "公示公告"}
PER_PAGE = 5
FIRST_DAY = date(2024, 4, 1)
SUBJECTS = ["高新技术企业认定", "人才团队项目", "安全生产", "政务公开", "知识产权质押融资", "消防安全",
            "网络安全检查", "营商环境", "行政复议", "财政预决算", "政府采购", "生态环境保护", "城市更新",
            "科技金融", "就业创业", "医疗保障", "教育督导", "文物保护", "森林防灭火", "统计调查"]
SENTENCES = [
    "各单位要高度重视，明确分管领导和具体联系人，认真组织实施，确保各项工作按时保质完成。",
    "申报单位应当如实填写申报材料，对材料的真实性、合法性负责，不得弄虚作假、重复申报。",
    "管委会将会同有关部门对申报材料进行审核，必要时组织专家评审和实地核查。",
    "各园区管理局要加强统筹协调，做好政策宣传解读和企业服务，帮助企业用好用足政策。",
    "工作中遇到的问题，请及时向管委会反映，重大情况按程序报告，不得迟报、漏报、瞒报。",
    "本通知执行过程中如遇上级政策调整，按上级最新规定执行。",
    "各单位要严格落实廉洁自律各项规定，自觉接受纪检监察机构和社会各界的监督。",
]
# The site's own "not found" page when unknown URLs answer 200: no keyword a list could match.
SOFT_TEMPLATE = "抱歉，您访问的内容暂时无法显示，请返回首页浏览其他信息。"
ERROR_PAGE = "页面不存在或已被删除"
REVOKED = "该信息已撤销"
# What stands in a page's place, answered 200, when a wall stops a crawler, a site limits its rate,
# is under maintenance or fails (the same also come as 412, 521, 5xx; these are the 200 forms, as
# such servers send them). A document's is an error event of its crawl: the kind of each.
STAND_INS = {
    "rivers": ("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
               "<meta http-equiv=\"Cache-Control\" content=\"no-cache\"><meta id=\"FSSBBIl1UgzbN7N\" "
               "content=\"x7Ld2WQvB0qPbBm3lV1sgJ.p_k8mZqL7Yt1Qa6GvxZ3Hd9wKc2RfE\" r=\"m\"><script type=\"text/javascript\" "
               "r=\"m\">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=51743;$_ts.cd=\"qhlbrrAlDqGlcGAtrAqmcsAq\";"
               "</script><script type=\"text/javascript\" charset=\"utf-8\" src=\"/ftUwwuNmpaZA/c.FxJzG50F.dfe1675.js\" "
               "r=\"m\"></script></head><body><script type=\"text/javascript\" r=\"m\">$_ts.lcd();</script></body></html>"),
    "jsl": ("<html><body><script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')"
            "+('a')+('n')+('c')+('e')+('_')+('s')+('=')+(-~[]+'')+'7'+'3'+'2'+'8'+('|')+('-1')+';Max-age=3600;path=/';"
            "location.href=location.pathname+location.search</script></body></html>"),
    "safedog": ("<html><head><meta charset=\"utf-8\"><title>网站防火墙</title></head><body><div class=\"main\">"
                "<h2>您的请求带有不合法参数，已被网站管理员设置拦截！</h2><p>可能原因：您提交的内容包含危险的攻击请求</p>"
                "<p>如何解决：</p><p>1）检查提交内容；</p><p>2）如网站托管，请联系空间提供商；</p>"
                "<p>3）普通网站访客，请联系网站管理员；</p></div></body></html>"),
    "rate": ("<html><head><meta charset=\"utf-8\"><title>提示信息</title></head><body><div class=\"tip\">"
             "<p>您的访问过于频繁，请稍后再试。</p></div></body></html>"),
    "maintenance": ("<html><head><meta charset=\"utf-8\"><title>系统维护</title></head><body><div class=\"wh\">"
                    "<h3>系统维护中</h3><p>为提供更好的服务，网站正在进行升级维护，暂停访问，给您带来不便敬请谅解。</p>"
                    "</div></body></html>"),
    "tomcat": ("<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head>"
               "<body><h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception "
               "Report</p><p><b>Message</b> Request processing failed; nested exception is java.sql.SQLException"
               "</p><hr class=\"line\" /><h3>Apache Tomcat/8.5.47</h3></body></html>"),
    "busy": "<html><head><title>系统繁忙</title></head><body><p>系统繁忙，请稍后再试！</p></body></html>",
    "empty": "",
}
STAND_IN_EVENTS = {"rivers": "blocked", "jsl": "blocked", "safedog": "blocked", "rate": "blocked",
                   "maintenance": "blocked", "tomcat": "error", "busy": "error", "empty": "error"}
BROKEN_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Pages >>\nendobj\ntrailer\n<< /Size 2 >>\nstartxref\n9\n%%EOF\n"


def day(edition: int) -> date:
    return FIRST_DAY + timedelta(days=edition - 1)


def http_date(edition: int) -> str:
    from datetime import UTC, datetime, time

    return format_datetime(datetime.combine(day(edition), time(2, 0), tzinfo=UTC), usegmt=True)


@dataclass
class Event:
    """One event the archive must report: kind, path, and for a changed article its fields."""

    kind: str
    path: str
    fields: frozenset[str] | None = None

    def key(self) -> tuple[str, str]:
        return (self.kind, self.path)


@dataclass
class Doc:
    id: int
    column: str
    title: str
    published: str  # YYYY-MM-DD
    paras: list[str]
    flavour: str  # "table": metadata table and 发布时间 line; "line": the line only; "bare": no date
    noisy: bool
    path: str
    attachment: str | None = None
    att_rev: int = 0
    att_broken: bool = False
    state: str = "live"  # live | gone | moved
    gone_mode: str | None = None  # gone: how it answers; moved: "redirect" (301 to moved_to) or None (gone)
    moved_to: str | None = None
    listed: bool = True
    seen: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # contents the archive captured
    down_last: bool = False

    def content(self) -> tuple[str, tuple[str, ...]]:
        return (self.published, tuple(self.paras))


class EvolvingSite(SiteServer):
    """The site, served on loopback; ``evolve()`` publishes the next edition and returns its truth."""

    def __init__(self, seed: int, docs: int = 24, host: str = "127.0.0.1") -> None:
        super().__init__({}, host=host)
        self.rng = random.Random(seed)
        self.seed = seed
        self.edition = 0
        # How the site answers a URL it does not hold: like nginx (404), like a CMS that serves a
        # template with 200, or by redirecting to an error page that answers 200.
        self.not_found_mode = self.rng.choice(["hard", "soft", "redirect"])
        self.docs: list[Doc] = []
        self._next_id = 1000
        self._lm: dict[str, tuple[bytes, str]] = {}
        self.fail_once: set[str] = set()
        self.timeout_once: set[str] = set()
        self.down: set[str] = set()
        self.walled: dict[str, str] = {}  # path -> the STAND_INS entry answering for it in this edition
        self._hits: dict[str, int] = {}
        self.timeout_after = 3.0
        self.fault = self._fault
        self.not_found = self._not_found
        self.oplog: list[str] = []  # what each edition did, for a failing run's report
        for _ in range(docs):
            self._new_doc(published=str(day(1) - timedelta(days=self.rng.randint(1, 400))))

    # -- documents --------------------------------------------------------------
    def _new_doc(self, published: str, column: str | None = None) -> Doc:
        rng = self.rng
        i = self._next_id
        self._next_id += 1
        column = column or rng.choice(list(COLUMNS))
        subject = rng.choice(SUBJECTS)
        if rng.random() < 0.1:  # a genuine notice that says 已被删除: never a soft 404
            title = f"关于注销部分失效账户信息的公告（{i}）"
            paras = [f"经核查，以下{rng.randint(3, 40)}个账户信息已被删除，特此公告。", rng.choice(SENTENCES)]
        else:
            title = f"关于做好{published[:4]}年度{subject}工作的通知（{i}）"
            paras = [f"为做好{subject}工作，现将有关事项通知如下，共涉及{rng.randint(2, 90)}家单位。",
                     *rng.sample(SENTENCES, 3)]
        flavour = rng.choices(["table", "line", "bare"], [6, 2, 2])[0]
        yyyymm = published[:7].replace("-", "")
        path = f"/col/{column}/{yyyymm}/t{published.replace('-', '')}_{i}.html"
        doc = Doc(i, column, title, published, paras, flavour, noisy=rng.random() < 0.3, path=path)
        if rng.random() < 0.35:
            doc.attachment = f"/files/att_{i}.pdf"
        self.docs.append(doc)
        return doc

    def live(self) -> list[Doc]:
        return [d for d in self.docs if d.state == "live"]

    # -- rendering ----------------------------------------------------------------
    def _chrome(self, title: str, main: str, noisy: bool = False) -> str:
        e = self.edition
        widget = ""
        if noisy:
            d = day(e)
            widget = f'<span id="date">{d.year}年{d.month}月{d.day}日 星期{"一二三四五六日"[d.weekday()]}</span>'
        nav = "".join(f'<li><a href="/col/{c}/index.html">{n}</a></li>' for c, n in COLUMNS.items())
        return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}_{SITE}</title>'
                f'</head><body><div class="top">{widget}</div><div class="header"><a href="/">{SITE}</a></div>'
                f'<div class="nav"><ul>{nav}</ul></div><div class="main">{main}</div>'
                f'<div class="footer"><p>主办单位：{SITE}</p><p>网站标识码 4406000001</p></div></body></html>')

    def _article(self, doc: Doc) -> bytes:
        e = self.edition
        body = "".join(f"<p>　　{html.escape(p)}</p>" for p in doc.paras)
        if doc.attachment:
            body += f'<p>附件：<a href="{doc.attachment}">附件{doc.id}.pdf</a></p>'
        body += f'<p style="text-align:right">{SITE}</p>'
        y, m, d = (int(x) for x in doc.published.split("-"))
        meta = ""
        if doc.flavour == "table":
            meta = (f'<table class="xxgk"><tr><td>索引号：</td><td>11440600MB2C93421X/2024-{doc.id:05d}</td>'
                    f'<td>发布机构：</td><td>{SITE}</td></tr><tr><td>发布日期：</td><td>{y}年{m}月{d}日</td>'
                    f'<td>文号：</td><td></td></tr></table>')
        line = f'<div class="info">发布时间：{doc.published} 来源：{SITE}</div>' if doc.flavour != "bare" else ""
        noise = ""
        if doc.noisy:
            token = f"{(e * 7919 + doc.id) % 65536:04x}{20240400 + e}"
            noise = (f'<div class="visit">浏览次数：{100 + e * 13 + doc.id % 7}</div>'
                     f'<p><a href="http://www-sim-gov-cnx{token}xx.ipv6best.cn/files/guide_{doc.id}.pdf">'
                     f"办事指南.pdf</a></p>")
        main = (f'{meta}<div class="article"><h1>{html.escape(doc.title)}</h1>{line}'
                f'<div class="TRS_Editor">{body}</div>{noise}</div>')
        return self._chrome(doc.title, main, noisy=doc.noisy).encode("utf-8")

    def _attachment(self, doc: Doc) -> bytes:
        if doc.att_broken:
            return BROKEN_PDF + f"% {doc.id} {doc.att_rev}\n".encode()
        return _pdf([f"Attachment {doc.id} revision {doc.att_rev}", f"Fund {doc.id * 37 + doc.att_rev} yuan"])

    def list_pages(self, column: str) -> dict[str, bytes]:
        items = sorted((d for d in self.live() if d.column == column and d.listed),
                       key=lambda d: (d.published, d.id), reverse=True)
        count = max(1, -(-len(items) // PER_PAGE))
        out = {}
        for n in range(count):
            lis = "".join(f'<li><a href="{d.path}" title="{html.escape(d.title)}">{html.escape(d.title)}</a>'
                          f'<span class="date">{d.published}</span></li>'
                          for d in items[n * PER_PAGE:(n + 1) * PER_PAGE])
            main = (f'<h2>{COLUMNS[column]}</h2><ul class="list">{lis}</ul>'
                    f'<div class="page"><script>createPageHTML({count}, {n}, "index", "html");</script></div>')
            out[f"/col/{column}/index{'' if n == 0 else f'_{n}'}.html"] = \
                self._chrome(COLUMNS[column], main).encode("utf-8")
        return out

    def _routes(self) -> dict[str, Resource]:
        pages: dict[str, tuple[bytes, str]] = {}
        for doc in self.live():
            pages[doc.path] = (self._article(doc), "text/html; charset=utf-8")
        for doc in self.docs:
            if doc.attachment and doc.state != "moved":  # a deleted document's file stays online
                pages[doc.attachment] = (self._attachment(doc), "application/pdf")
            if doc.state == "gone" and doc.gone_mode in ("410", "notice"):
                if doc.gone_mode == "410":
                    pages[doc.path] = (self._chrome("410", "<p>Gone</p>").encode(), "text/html; charset=utf-8")
                else:
                    body = f"<html><head><title>提示</title></head><body><p>{REVOKED}</p></body></html>"
                    pages[doc.path] = (body.encode(), "text/html; charset=utf-8")
        for column in COLUMNS:
            for path, body in self.list_pages(column).items():
                pages[path] = (body, "text/html; charset=utf-8")
        for path, wall in self.walled.items():
            pages[path] = (STAND_INS[wall].encode("utf-8"), "text/html; charset=utf-8")
        home = "".join(f'<li><a href="/col/{c}/index.html">{n}</a></li>' for c, n in COLUMNS.items())
        pages["/"] = (self._chrome("首页", f"<ul>{home}</ul>").encode(), "text/html; charset=utf-8")
        pages["/404.html"] = (self._error_page(), "text/html; charset=utf-8")
        pages["/robots.txt"] = (b"User-agent: *\nDisallow: /search/\n", "text/plain")
        routes = {}
        for path, (body, ctype) in pages.items():
            prior = self._lm.get(path)
            if prior is None or prior[0] != body:
                self._lm[path] = (body, http_date(self.edition))
            res = Resource(body, ctype, last_modified=self._lm[path][1],
                           chunked=sum(map(ord, path)) % 4 == 0)
            routes[path] = res
        for doc in self.docs:
            if doc.state == "gone" and doc.gone_mode == "410":
                routes[doc.path].status = 410
            elif doc.state == "gone" and doc.gone_mode == "column":
                routes[doc.path] = Resource(b"", status=302, headers={"Location": f"/col/{doc.column}/index.html"})
            elif doc.state == "gone" and doc.gone_mode == "errorpage":
                routes[doc.path] = Resource(b"", status=302, headers={"Location": "/404.html"})
            elif doc.state == "moved" and doc.gone_mode == "redirect":  # the old URL sends readers on
                routes[doc.path] = Resource(b"", status=301, headers={"Location": doc.moved_to})
        return routes

    def _error_page(self) -> bytes:
        return f"<html><head><title>{ERROR_PAGE}</title></head><body><p>{ERROR_PAGE}</p></body></html>".encode()

    def _not_found(self, path: str) -> Resource:
        if self.not_found_mode == "redirect":
            return Resource(b"", status=302, headers={"Location": "/404.html"})
        body = self._chrome(SITE, f'<div class="tip">{SOFT_TEMPLATE}</div>').encode("utf-8")
        return Resource(body, status=404 if self.not_found_mode == "hard" else 200)

    def _fault(self, method: str, path: str) -> str | None:
        with self._lock:
            n = self._hits.get(path, 0)
            self._hits[path] = n + 1
        if path in self.down:
            return "503"
        if n == 0 and path in self.fail_once:
            return "503"
        if n == 0 and path in self.timeout_once:
            return "timeout"
        return None

    # -- editions ----------------------------------------------------------------
    def publish_first(self) -> list[Event]:
        """Edition 1: everything is the baseline."""
        self.edition = 1
        self.routes = self._routes()
        truth = []
        for d in self.live():
            truth.append(Event("archived", d.path))
            if d.attachment:
                truth.append(Event("archived", d.attachment))
        self._remember()
        return truth

    def _remember(self) -> None:
        for d in self.live():
            if d.path not in self.down and d.path not in self.walled and d.content() not in d.seen:
                d.seen.append(d.content())

    def evolve(self) -> list[Event]:
        """Publish the next edition; return the events a correct archive reports for its crawl."""
        self.edition += 1
        rng = self.rng
        truth: list[Event] = []
        self.fail_once, self.timeout_once, self._hits = set(), set(), {}
        was_down = {*self.down, *self.walled}
        self.down, self.walled = set(), {}
        for d in self.docs:
            d.down_last = d.path in was_down
        used: set[int] = set()
        down_col = None
        if rng.random() < 0.4:  # one list page down for this whole crawl
            down_col = rng.choice(list(COLUMNS))
            page = rng.choice(sorted(self.list_pages(down_col)))
            if rng.random() < 0.5:
                self.down.add(page)
            else:  # …or a stand-in answering 200 in its place: the same list that was down
                self.walled[page] = rng.choice(sorted(STAND_INS))

        def pick(pred, most: int = 2, op: str = "") -> list[Doc]:  # noqa: ANN001
            pool = [d for d in self.docs if d.id not in used and pred(d)]
            chosen = rng.sample(pool, min(len(pool), rng.choice(range(most + 1))))
            used.update(d.id for d in chosen)
            self.oplog += [f"edition {self.edition}: {op} {d.path}" for d in chosen]
            return chosen

        def listable(d: Doc) -> bool:
            return d.column != down_col

        def edited(d: Doc, what: str) -> Event:
            """An edit that lands on a version the archive has seen (a revision undone by a later one:
            2 → 3 → reverted to 2 → revised to 3) is a revert, not a change."""
            return Event("reverted", d.path) if d.content() in d.seen else Event("changed", d.path, frozenset({what}))

        for _ in range(rng.choice([0, 1, 2])):
            d = self._new_doc(published=str(day(self.edition)),
                              column=rng.choice([c for c in COLUMNS if c != down_col]))
            used.add(d.id)
            if d.attachment and rng.random() < 0.3:
                d.att_broken = True
            truth.append(Event("added", d.path))
            self.oplog.append(f"edition {self.edition}: add {d.path}")
            if d.attachment:
                truth.append(Event("added", d.attachment))
        if down_col:
            self.oplog.append(f"edition {self.edition}: list down {sorted(self.down) or sorted(self.walled)}")
        for d in pick(lambda d: d.state == "live", op="delete"):
            d.state, d.gone_mode = "gone", rng.choice(["unknown", "410", "column", "errorpage", "notice"])
            truth.append(Event("removed", d.path))
        for d in pick(lambda d: d.state == "gone" and listable(d), 1, op="restore_old"):
            d.state, d.listed, d.gone_mode = "live", True, None
            truth.append(Event("restored", d.path))
        for d in pick(lambda d: d.state == "gone" and listable(d), 1, op="restore_new"):
            d.state, d.listed, d.gone_mode = "live", True, None
            d.paras = [*d.paras, f"本通知自{day(self.edition)}起重新发布。"]
            truth += [Event("restored", d.path), Event("changed", d.path, frozenset({"body"}))]
        for d in pick(lambda d: d.state == "live", op="revise"):
            if rng.random() < 0.5:
                d.paras = [re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), d.paras[0], count=1), *d.paras[1:]]
            else:
                d.paras = [*d.paras[:2], rng.choice(SENTENCES).replace("。", "，并报管委会备案。"), *d.paras[2:]]
            truth.append(edited(d, "body"))
        for d in pick(lambda d: d.state == "live" and d.flavour != "bare", 1, op="redate"):
            d.published = str(date.fromisoformat(d.published) - timedelta(days=rng.randint(1, 20)))
            truth.append(edited(d, "published"))
        for d in pick(lambda d: d.state == "live" and d.listed and listable(d), 1, op="delist"):
            d.listed = False
            truth.append(Event("delisted", d.path))
        for d in pick(lambda d: d.state == "live" and not d.listed and listable(d), 1, op="relist"):
            d.listed = True
            truth.append(Event("relisted", d.path))
        for d in pick(lambda d: d.state == "live" and d.listed and listable(d), 1, op="move"):
            old = Doc(d.id, d.column, d.title, d.published, list(d.paras), d.flavour, d.noisy, path=d.path,
                      state="moved", seen=list(d.seen), gone_mode="redirect" if rng.random() < 0.5 else None)
            self.docs.append(old)
            d.path = old.moved_to = d.path.replace(".html", "_1.html")
            d.seen = [d.content()]  # the new URL's page has this one version
            truth.append(Event("moved", d.path))
        for d in pick(lambda d: d.state == "live" and len(d.seen) >= 2, 1, op="revert"):
            d.published, paras = rng.choice([c for c in d.seen if c != d.content()])
            d.paras = list(paras)
            truth.append(Event("reverted", d.path))
        for d in pick(lambda d: d.state == "live" and d.attachment is not None, 1, op="attachment"):
            if d.att_broken or rng.random() < 0.5:
                d.att_broken = not d.att_broken
            d.att_rev += 1
            truth.append(Event("changed", d.attachment))
        for d in pick(lambda d: d.state == "live" and not d.down_last, 1, op="down"):
            self.down.add(d.path)
            truth.append(Event("error", d.path))
        for d in pick(lambda d: d.state == "live", op="transient"):
            (self.fail_once if rng.random() < 0.5 else self.timeout_once).add(d.path)
        if rng.random() < 0.3:  # a list page that fails once, then answers
            self.fail_once.add(rng.choice(sorted(self.list_pages(rng.choice(list(COLUMNS))))))
        # A stand-in answering 200 for a crawl: a document's is an error of the crawl, never a
        # change (a list page's is a list that was down: see down_col).
        for d in pick(lambda d: d.state == "live" and not d.down_last, 1, op="stand-in"):
            self.walled[d.path] = rng.choice(sorted(STAND_INS))
            truth.append(Event(STAND_IN_EVENTS[self.walled[d.path]], d.path))
        self.routes = self._routes()
        self._remember()
        return truth
