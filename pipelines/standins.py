"""What a server answers with 200 in a page's place: a wall, its own error page, nothing at all.

瑞数 (Rivers Security) answers 412 and 加速乐 521 when they stop a crawler, a failing server 500 —
archive/vocab.py reads those by their status — but the same answers also come with 200: a wall's
challenge, a rate limit or WAF page (安全狗, 云锁, a CMS's own "访问过于频繁"), a maintenance page,
a Tomcat "HTTP Status 500" or "系统繁忙" page, an empty body. Read as the page, each is a document
whose text vanished, then came back: a false ``changed`` and a false ``reverted``, and a list
behind one loses its items (``delisted``) — the very events the archive exists to get right. What
such a page says is nothing about the document.

A cascade on a page with almost no text of its own (``STAND_IN_MAX_TEXT``: a real document that
mentions 访问过于频繁 has a body, a stand-in has a sentence). What it finds (``what``):

1. ``wall`` — 瑞数's challenge (its ``$_ts`` script state).
2. ``wall`` — a cookie challenge (加速乐's ``__jsl_clearance`` and the like): no text, a script
   that sets a cookie and loads the page again.
3. ``wall`` — a wall's sentence: rate limited, intercepted, refused (``WALL_PHRASES``).
4. ``wall`` — a maintenance page (系统维护中 …), when undated: a dated page saying so is a notice
   about the maintenance, a document.
5. ``server_error`` — the server's own error page (``SERVER_ERROR``), when undated.
6. ``empty`` — nothing at all: no text, no title, and no markup but a page's skeleton (a page of
   scripts is one a browser fills in, crawler/render.py; of frames, an image, a refresh, a link:
   a page all the same).
"""

from __future__ import annotations

import re

STAND_IN_MAX_TEXT = 300  # a stand-in's whole visible text, chrome included: a sentence or two
CHALLENGE_MAX_TEXT = 20  # a script challenge shows (almost) nothing
STAND_IN_MAX_BYTES = 16 * 1024  # what the crawler reads for one: a small page (those seen: under 5 KB)
SMALL_PAGE = 1024  # a page this short is read whatever its markup names

_RIVERS = re.compile(r"\$_ts\s*=\s*window\s*\[\s*['\"]\$_ts['\"]\s*\]|\$_ts\.(?:nsd|cd)\s*=")
_SETS_COOKIE = re.compile(r"document\s*\.\s*cookie\s*=")
_RELOADS = re.compile(r"location\s*(?:\.\s*(?:href|replace|reload|assign)\b|=)|window\s*\.\s*location")
WALL_PHRASES = re.compile(
    r"(?:访问|请求|操作|刷新)(?:过于|太过|太)频繁|访问频率过(?:高|快)|访问(?:次数)?超(?:过|出)(?:了)?限制|"
    r"(?:您的)?(?:访问|请求)(?:已)?被(?:拦截|阻断|拒绝)|已被网站管理员设置拦截|网站防火墙|"
    r"疑似(?:黑客)?攻击|(?:请求|参数)(?:带有|含有)?不合法参数|安全狗|云锁|创宇盾|"
    r"Access\s+Denied|Too\s+Many\s+Requests|请(?:开启|启用)\s*JavaScript\s*(?:并|后)?\s*刷新"
)
MAINTENANCE = re.compile(r"(?:系统|网站|服务器|平台)(?:正在)?(?:维护|升级)|(?:维护|升级)(?:中|期间)|暂停(?:访问|服务)")
SERVER_ERROR = re.compile(
    r"HTTP\s+Status\s+5\d\d|Internal\s+Server\s+Error|Service\s+(?:Temporarily\s+)?Unavailable|Bad\s+Gateway|"
    r"Gateway\s+Time-?out|Runtime\s+Error|Server\s+Error\s+in\s+'/'|Whitelabel\s+Error\s+Page|java\.lang\.\w+|"
    r"(?:系统|服务器)(?:繁忙|忙碌)|服务器(?:内部)?错误|数据库连接(?:失败|错误|异常)|(?:系统|程序)(?:出现)?(?:异常|错误|出错)",
    re.I)
_TAG = re.compile(r"<\s*([A-Za-z][\w-]*)")
SKELETON = frozenset("html head body meta title link style div span p br center font table tbody tr td".split())
_REFRESH = re.compile(r"http-equiv\s*=\s*[\"']?\s*refresh", re.I)

# Words one of the rules above needs (the crawler's test, as literals: the rules' own patterns,
# case-insensitive alternations, read a 4 KB page in 0.8 ms — every page the crawl fetches).
_CJK_WORDS = ("频繁", "频率", "限制", "拦截", "阻断", "拒绝", "防火墙", "攻击", "不合法", "安全狗", "云锁", "创宇盾",
              "请开启", "请启用", "维护", "升级", "暂停", "繁忙", "忙碌", "错误", "数据库", "异常", "出错")
# …looked for in the bytes as sent, in the two encodings Chinese pages use (decoding first cost more).
_WORD_BYTES = tuple({w.encode(c) for w in _CJK_WORDS for c in ("utf-8", "gb18030")})
_ASCII_WORDS = (b"$_ts", b"cookie", b"access denied", b"too many requests", b"status 5", b"internal server error",
                b"unavailable", b"bad gateway", b"gateway time", b"runtime error", b"server error in", b"whitelabel",
                b"java.lang.")


def stand_in(html: str, text: str, title: str | None = None, dated: bool = False) -> dict | None:
    """What answered in the page's place — ``{"what": "wall" | "server_error" | "empty", "why": …}``
    — or None for a page: ``html`` as served, ``text`` what a reader sees of it (scripts left out),
    ``title`` its <title>, ``dated``: it gives a date of publication."""
    if len("".join(text[:4 * STAND_IN_MAX_TEXT].split())) >= STAND_IN_MAX_TEXT:
        return None  # (most pages: their start has the text already, the rest is not read)
    visible = len("".join(text.split()))
    if visible >= STAND_IN_MAX_TEXT:
        return None
    if _RIVERS.search(html):
        return {"what": "wall", "why": "瑞数 (Rivers Security) challenge"}
    if visible <= CHALLENGE_MAX_TEXT and _SETS_COOKIE.search(html) and _RELOADS.search(html):
        return {"what": "wall", "why": "cookie challenge (加速乐 or the like)"}
    if m := WALL_PHRASES.search(text):
        return {"what": "wall", "why": f"wall or rate limit: {m.group(0)}"}
    if not dated and (m := MAINTENANCE.search(text)):
        return {"what": "wall", "why": f"maintenance page: {m.group(0)}"}
    if not dated and (m := SERVER_ERROR.search(f"{title or ''}\n{text}")):
        return {"what": "server_error", "why": f"the server's error page: {m.group(0)}"}
    if not visible and not (title or "").strip() and not _REFRESH.search(html) \
            and all(t.lower() in SKELETON for t in _TAG.findall(html)):
        return {"what": "empty", "why": "an empty page"}
    return None


def page_stand_in(body: bytes, url: str, content_type: str | None) -> dict | None:
    """``stand_in`` of a fetched page's bytes, for the crawler to back off and ask again. Cheap for
    the pages that are not: a large page, or one whose markup names nothing a stand-in says, is not
    read. (Markup can hide a wall's sentence from this test — split by a tag, written as entities —;
    the history reads every page whole, and such a page is an error there all the same.)"""
    if len(body) > STAND_IN_MAX_BYTES:
        return None
    if len(body) >= SMALL_PAGE and not any(w in body for w in _WORD_BYTES):
        low = body.lower()
        if not any(w in low for w in _ASCII_WORDS):
            return None
    from .decode import decode_html
    from .extract import extract_html

    return extract_html(decode_html(body, content_type)[0], url).stand_in
