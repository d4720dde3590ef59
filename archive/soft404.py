"""A site's own "not found" page, learned per crawl by asking for a page that cannot exist.

Keywords (页面不存在, 已被删除 …) cannot tell a soft 404 from a genuine notice about deleted
records. Bar-Yossef et al. ("Sic transit gloria telae", WWW 2004) showed the way: ask each host for a
random URL that cannot exist and remember what it answers — a 404, a redirect to some error page, or
a 200 page with the site's template. A document that later answers the same way is gone.

The probe's path is fixed per host (a random-looking name derived from the host), so each crawl
asks for the same non-existent URL and the archive keeps one probe page per host, not one per crawl.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

PROBE_PREFIX = "/govarchive-404-probe-"
SIMILAR = 0.85  # share of character trigrams two bodies must have in common to be the same template
_NOISE = re.compile(r"https?://\S+|/\S+\.\w{2,5}\b|\d+|\s+")


def probe_url(url: str) -> str:
    """The URL that cannot exist on ``url``'s host: ``/govarchive-404-probe-<hex>.html``."""
    parts = urlsplit(url)
    token = hashlib.sha1(parts.netloc.lower().encode()).hexdigest()[:12]
    return urlunsplit((parts.scheme, parts.netloc, f"{PROBE_PREFIX}{token}.html", "", ""))


def is_probe(url: str) -> bool:
    """True for a soft-404 probe URL (archived, but not a page of the site)."""
    return urlsplit(url).path.startswith(PROBE_PREFIX)


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def fingerprint(text: str | None) -> str:
    """Text with what a template varies per request removed: URLs, paths, numbers, whitespace."""
    return _NOISE.sub("", text or "")[:4000]


@dataclass
class NotFound:
    """How a host answered its probe: a status, a redirect target, or a 200 page's title and body."""

    status: int | None
    location: str | None = None
    title: str = ""
    body: str = ""

    def matches_page(self, title: str | None, body: str | None) -> bool:
        """True when a 200 page is this host's "not found" template."""
        if self.status is None or not 200 <= self.status < 300:
            return False
        return similar(self.body, fingerprint(body)) and (
            self.title == fingerprint(title) or self.body == fingerprint(body))

    def matches_redirect(self, location: str | None) -> bool:
        """True when a redirect goes where the host sends requests for pages that do not exist."""
        if not location or not self.location or self.status is None or not 300 <= self.status < 400:
            return False
        return _strip(location) == _strip(self.location)


def _strip(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))


def similar(a: str, b: str) -> bool:
    """Character-trigram Jaccard similarity at least SIMILAR (exact equality for short texts)."""
    if a == b:
        return True
    if len(a) < 20 or len(b) < 20:
        return False
    ga = {a[i:i + 3] for i in range(len(a) - 2)}
    gb = {b[i:i + 3] for i in range(len(b) - 2)}
    return len(ga & gb) / len(ga | gb) >= SIMILAR
