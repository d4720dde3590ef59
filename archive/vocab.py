"""The archive's vocabulary, defined once: what an answer means, the kinds of errors and events,
the stats a crawl keeps. Imports nothing: the crawler, the history and the CLI all read it here.

(What defines a version — the content fields — belongs to the record itself:
pipelines/record.py ``CONTENT_FIELDS``.)
"""

from __future__ import annotations

# -- what an HTTP status means --------------------------------------------------------------------
GONE_STATUSES = frozenset({404, 410})  # the page is not there: a removal
BLOCKED_STATUSES = frozenset({403, 412, 521})  # refused, or an anti-bot wall (瑞数 412, 加速乐 521)
RATE_LIMITED = frozenset({429})
# Answers after which the crawl slows down for the host (Retry-After honoured).
BACKOFF_STATUSES = frozenset({429, 500, 502, 503, 504, 412, 521, 522, 524})
# Answers worth asking again within the same crawl (Scrapy's RETRY_HTTP_CODES).
RETRY_STATUSES = (500, 502, 503, 504, 522, 524, 408, 429)


def is_failure(status: int | None, error: str | None) -> bool:
    """A fetch that says nothing about the page: an error, a 5xx, a 429, or an anti-bot wall."""
    if error:
        return True
    return status is not None and (status >= 500 or status in BLOCKED_STATUSES or status in RATE_LIMITED)


def failure_kind(status: int | None) -> str:
    """The error kind of a failing status (a fetch error names its own kind)."""
    return "blocked" if status in BLOCKED_STATUSES else "http_error"


# -- error kinds (``captures.error``, `govarchive history`) ----------------------------------------
ERROR_KINDS = {
    "timeout": "no answer within the download timeout",
    "connection_lost": "the connection closed mid-answer (archived as far as it came)",
    "connection_refused": "the server refused the connection",
    "dns_error": "the host name did not resolve",
    "fetch_error": "the fetch failed otherwise",
    "too_large": "the body passed GOVARCHIVE_MAX_BYTES (archived truncated)",
    "decompression_bomb": "the body inflates past the decoded-size limit",
    "decode_error": "the body's Content-Encoding could not be undone",
    "blocked": "403, 412 or 521, or a 200 whose page is an anti-bot wall, a rate limit or maintenance",
    "http_error": "a 5xx or 429 answer, or a 200 whose page is the server's error page",
    "empty_page": "a 200 with nothing in it: no text, no title, no script",
    "redirect_loop": "a chain of redirects that returns to itself",
    "out_of_scope": "a redirect to a URL the crawl may not fetch",
    "extract_error": "the page answered, and no parser could read it",
    "private_address": "a host that resolves to a private or loopback address (refused)",
}
# What answered 200 in a page's place (pipelines/standins.py), as the error kind it is.
STAND_IN_ERRORS = {"wall": "blocked", "server_error": "http_error", "empty": "empty_page"}
# Kinds that say the page answered: they never count as the page failing.
NOT_FETCH_ERRORS = frozenset({"extract_error", "redirect_loop", "out_of_scope"})


def classify_exception(exc: BaseException) -> str:
    """The error kind of a download that raised instead of answering."""
    name = type(exc).__name__
    text = str(exc).lower()
    if "timeout" in name.lower() or "timed out" in text:
        return "timeout"
    if "maxsize" in text or ("exceeds" in text and "size" in text):
        return "too_large"
    if "dns" in name.lower():
        return "dns_error"
    if name == "ConnectionRefusedError" or "refused" in text:
        return "connection_refused"
    if name in ("ResponseFailed", "ConnectionLost", "PotentialDataLoss", "ConnectionDone",
                "ResponseNeverReceived", "ConnectionAborted", "DownloadFailedError"):
        return "connection_lost"
    return "fetch_error"


# -- pages and events -------------------------------------------------------------------------------
DOCUMENT_KINDS = ("article", "attachment", "other")  # what events are raised for
# "part": page 2… of an article split over several; its text is versioned in the first page's document.
PAGE_KINDS = ("article", "part", "list", "home", "attachment", "other", "sitemap", "resource", "probe")
PAGE_STATES = ("live", "removed", "delisted", "redirect", "missing")
EVENT_LABELS = {  # kind -> label, in the order a summary names them
    "archived": "基线 archived", "added": "新增 added", "changed": "修改 changed", "removed": "删除 removed",
    "restored": "恢复 restored", "reverted": "回退 reverted", "delisted": "撤出列表 delisted",
    "relisted": "重回列表 relisted", "moved": "迁移 moved", "error": "错误 error", "blocked": "拦截 blocked",
}
EVENT_KINDS = tuple(EVENT_LABELS)

# -- stats a crawl keeps (Scrapy stats; the crawl report reads them) --------------------------------
STAT_PREFIX = "govarchive/"
STAT_RECORDS = "govarchive/records/{}"  # response | revisit
STAT_EVENTS = "govarchive/events/{}"
STAT_ERRORS = "govarchive/errors/{}"  # by error kind
STAT_LINKS_OUT_OF_SCOPE = "govarchive/links/out_of_scope"  # links not followed (not errors)
STAT_CONDITIONAL = "govarchive/conditional_requests"
STAT_BACKOFFS = "govarchive/backoffs"
STAT_MAX_BACKOFF = "govarchive/max_backoff_s"
STAT_REDIRECTED_AWAY = "govarchive/redirected_away/{}"  # by host outside the crawl's: redirects to it
STAT_ROBOTS_FORBIDDEN = "govarchive/robots_forbidden"  # URLs robots.txt forbade (the first few; Scrapy counts them)
STAT_STAND_INS = "govarchive/stand_ins"  # 200 answers that were not the page (pipelines/standins.py): asked again
STAT_WARC_BYTES = "govarchive/warc_bytes"
STAT_WARC_FILES = "govarchive/warc_files"
STAT_SLOWEST = "govarchive/slowest_hosts"
STAT_RESUMED = "govarchive/resumed"
STAT_CRAWL_ID = "govarchive/crawl_id"
STAT_FATAL = "govarchive/fatal"
STAT_INGEST_ERRORS = "govarchive/ingest_errors"
STAT_PROBED_PAGES = "govarchive/coverage/probed_pages"
STAT_REVISIT = "govarchive/revisit/{}"  # rechecked | not_due | over_budget (archive/revisit.py)
STAT_RENDER = "govarchive/render/{}"  # requested | responses | failed | unrendered | over_budget
