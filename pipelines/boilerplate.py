"""What is never part of a document's text: site chrome, tools, footers, counters."""

from __future__ import annotations

import re

# Lines that are chrome wherever they appear in or around a body container.
_LINE_PATTERNS = [
    r"^(当前位置|您现在的位置|你的位置|您的位置)[:：]?",
    r"^首页\s*[>＞»]",
    r"^[【\[]?\s*字号\s*[:：]?\s*(大|中|小|\s|[】\]]|[【\[])*$",
    r"^(【|\[)?\s*(打印本页|打印|关闭窗口|关闭|返回顶部|收藏|分享到?|字体)\s*(】|\])?$",
    r"扫一扫在手机(上)?(查看|打开)(当前)?页面",
    r"^分享到[:：]?",
    r"^(浏览次数|访问量|阅读次数|点击数|访问次数|浏览量|阅读量)[:：]?\s*\d*",
    r"网站标识码",
    r"ICP备\s*\d+",
    r"公网安备\s*\d+",
    r"^(主办单位|承办单位|技术支持|版权所有|Copyright)[:：©]?",
    r"^(网站地图|联系我们|友情链接)(\s*\|\s*(网站地图|联系我们))*$",
    r"^(网站支持IPv6|无障碍浏览|长者模式|繁体|简体|English|中文)$",
    r"^(上一篇|下一篇)[:：]",
    r"^相关(链接|文章|阅读)[:：]?$",
    r"^政府网站找错$",
    # The tools under a 政策文件: its 解读 in other forms, the file in other formats.
    r"^((附件下载|文字解读|图片解读|图文解读|H5解读|视频解读|动漫解读|相关解读|(pdf|word|ofd)\s*下载)[\s|｜/]*)+$",
    r"^(今天是|今日)\s*\d{4}年",
]
_LINE_RE = re.compile("|".join(f"(?:{p})" for p in _LINE_PATTERNS), re.I)
# A line made only of page tools (【字体：大 中 小】【打印本页】【关闭窗口】分享到：微信 微博 …).
_TOOLS = re.compile(
    r"(打印本页|打印|关闭窗口|关闭本页|关闭|收藏本页|收藏|加入收藏|分享到|分享|字号|字体|默认|返回顶部|顶部|"
    r"我要纠错|纠错|微信|微博|QQ空间|QQ|扫一扫|保存|大|中|小|[【】\[\]()（）:：|/,，·\s])+")
# A byline of the page's staff: (责编：汤诗瑶、丁涛), 作者：未知 责任编辑：棒棒不是糖.
_EDITOR = re.compile(r"^[（(]?\s*(?:(?:作者|责任编辑|责编|编辑|审核|审校|校对)[:：][^。：:]{0,30}?\s*){1,3}[)）]?$")

# CSS selectors for chrome blocks dropped before the body is read.
CHROME_SELECTORS = [
    "script", "style", "noscript", "template", "iframe", "object", "embed",
    "nav", "header", "footer", ".header", ".footer", "#header", "#footer",
    ".nav", "#nav", ".menu", ".breadcrumb", ".position", ".location", ".crumb",
    ".share", ".bdsharebuttonbox", ".print", ".fontsize", ".font-size", ".qrcode",
    ".counter", ".visit", "#visit", ".related", ".article-tools",
]

SOFT_404_RE = re.compile(
    r"(页面不存在|页面未找到|信息已删除|该信息已撤销|信息已撤销|已被删除|您访问的页面不存在|"
    r"找不到(您要|该)?(访问的)?页面|404\s*Not\s*Found|文章不存在|信息不存在)",
    re.I,
)


def is_boilerplate_line(line: str) -> bool:
    """True when a body line is site chrome rather than document text."""
    line = line.strip()
    return bool(_LINE_RE.search(line) or _EDITOR.match(line)
                or (len(line) <= 80 and _TOOLS.fullmatch(line) and not line.isspace()))


def strip_boilerplate_lines(lines: list[str]) -> list[str]:
    """Drop chrome lines; keep everything else in order."""
    return [line for line in lines if not is_boilerplate_line(line)]


SOFT_404_MAX_TEXT = 2000  # a "not found" page is short: its whole text, chrome included
SOFT_404_MAX_BODY = 200  # …and its body is a sentence or two


def looks_soft_404(title: str | None, text: str, body: str = "", dated: bool = False,
                   titled: bool = False) -> bool:
    """True when a 200 page says the document is gone (页面不存在, 信息已删除 …).

    Keywords alone cannot decide it: a genuine notice about deleted records says 已被删除 too.
    They are trusted only on a short page without the structure of a document — a date, or a
    title the page states as one (a heading, the 标题 field) that is not itself the message; a
    site's own 404 template is recognised by comparison instead (archive/soft404.py).
    """
    if dated or titled or len(body) > SOFT_404_MAX_BODY or len(text) >= SOFT_404_MAX_TEXT:
        return False
    head = (title or "") + "\n" + text[:400]
    return bool(SOFT_404_RE.search(head))
