"""Anti-bot walls and rate limits a server answers with 200 instead of the page.

瑞数 (Rivers Security) answers 412 and 加速乐 521 when they stop a crawler — archive/vocab.py reads
those as ``blocked`` — but the same walls are also served with 200, and so are the rate-limit and
WAF pages (安全狗, 云锁, a CMS's own "访问过于频繁"). Read as the page, such an answer is a
document whose text vanished, then came back: a false ``changed`` and a false ``reverted``, the
very events the archive exists to get right. What the page says is nothing about the document.

A cascade, each rule on a page with almost no text of its own (``WALL_MAX_TEXT``): a real
document that mentions 访问过于频繁 has a body, a wall has a sentence.

1. 瑞数's challenge: its ``$_ts`` script state.
2. A cookie challenge (加速乐's ``__jsl_clearance``, and the like): no text, a script that sets a
   cookie and loads the page again.
3. A wall's sentence: rate limited, intercepted, refused (``WALL_PHRASES``).
4. A maintenance page answering for every URL (系统维护中, 网站升级中 …), when undated: a dated
   page saying so is a notice about the maintenance, a document.
"""

from __future__ import annotations

import re

WALL_MAX_TEXT = 300  # a wall's whole visible text, chrome included: a sentence or two
CHALLENGE_MAX_TEXT = 20  # a script challenge shows (almost) nothing

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

# A page the cascade could call a wall has one of these in its markup (the crawler's cheap test).
_MAY_BE_WALL = re.compile(r"\$_ts|document\s*\.\s*cookie|" + WALL_PHRASES.pattern + "|" + MAINTENANCE.pattern)
WALL_MAX_BYTES = 32 * 1024  # a wall is a small page (those seen: under 5 KB)


def page_wall(body: bytes, url: str, content_type: str | None) -> str | None:
    """``wall`` of a fetched page's bytes, for the crawler to back off and ask again. Cheap for
    the pages that are not walls: a large page, or one whose markup names nothing a wall says, is
    not read. (Markup can hide a wall's sentence from this test — split by a tag, written as
    entities —; the history reads every page whole, and such a wall is an error there all the same.)"""
    if len(body) > WALL_MAX_BYTES:
        return None
    from .decode import decode_html
    from .extract import extract_html

    html, _ = decode_html(body, content_type)
    return extract_html(html, url).wall if _MAY_BE_WALL.search(html) else None


def wall(html: str, text: str, dated: bool = False) -> str | None:
    """What stood in the page's place, or None for a page: ``html`` as served, ``text`` what a
    reader sees of it (scripts left out), ``dated``: the page gives a date of publication."""
    visible = len(re.sub(r"\s+", "", text))
    if visible >= WALL_MAX_TEXT:
        return None
    if _RIVERS.search(html):
        return "瑞数 (Rivers Security) challenge"
    if visible <= CHALLENGE_MAX_TEXT and _SETS_COOKIE.search(html) and _RELOADS.search(html):
        return "cookie challenge (加速乐 or the like)"
    m = WALL_PHRASES.search(text)
    if m:
        return f"wall or rate limit: {m.group(0)}"
    m = None if dated else MAINTENANCE.search(text)
    if m:
        return f"maintenance page: {m.group(0)}"
    return None
