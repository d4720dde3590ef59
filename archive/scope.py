"""Which URLs a crawl may fetch: hosts, path prefixes, deny patterns (shared by crawler and history)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SKIP_EXT = re.compile(
    r"\.(jpe?g|png|gif|bmp|webp|svg|ico|css|js|mp3|mp4|avi|flv|wmv|swf|woff2?|ttf|exe|apk|dmg|iso)$", re.I)


class Scope:
    """Hosts, path prefixes and deny patterns; ``allows(url)`` says whether a crawl may fetch it."""

    def __init__(self, hosts: list[str], prefixes: list[str] | None = None, deny: list[str] | None = None) -> None:
        self.hosts = {h.lower() for h in hosts}
        self.prefixes = list(prefixes or [])
        self.deny_patterns = list(deny or [])
        self.deny = [re.compile(p) for p in self.deny_patterns]

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in self.hosts:
            return False
        if self.prefixes and not any(parts.path.startswith(p) for p in self.prefixes):
            return False
        if SKIP_EXT.search(parts.path):
            return False
        return not any(p.search(url) for p in self.deny)

    def to_dict(self) -> dict:
        """What the warcinfo record and the crawls table keep, so a rebuild judges scope the same."""
        return {"hosts": sorted(self.hosts), "prefixes": self.prefixes, "deny": self.deny_patterns}

    @classmethod
    def from_dict(cls, data: dict | None) -> Scope | None:
        if not data or not data.get("hosts"):
            return None
        return cls(data["hosts"], data.get("prefixes"), data.get("deny"))
