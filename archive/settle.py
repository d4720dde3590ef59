"""What a crawl decides only at its end: redirect chains, persisting errors, de-listing, moves.

Everything here is read back from the database (the crawl's captures), never from memory, so a
crawl killed and resumed, a live crawl and a rebuild from the WARCs all settle the same way.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pipelines.links import series_key
from pipelines.record import stored_content

from . import assembly, coverage
from .diff import field_changes
from .history import is_container_url
from .scope import Scope
from .vocab import BLOCKED_STATUSES, DOCUMENT_KINDS, GONE_STATUSES, NOT_FETCH_ERRORS, is_failure

STAND_IN_SUMMARY = {"blocked": "an anti-bot wall, a rate limit or a maintenance page",
                    "http_error": "the server's error page", "empty_page": "an empty page"}

if TYPE_CHECKING:
    from .history import History



class Settlement:
    """Settle one crawl: ``run(reason)`` returns the events it raised."""

    def __init__(self, history: History, crawl_id: str, at: str, scope: Scope | None) -> None:
        self.h = history
        self.db = history.db
        self.crawl_id = crawl_id
        self.at = at
        self.scope = scope

    def run(self, reason: str) -> list[dict]:
        events = assembly.settle(self.h, self.crawl_id)  # articles over several pages, versioned whole
        events += self._redirects()
        events += self._errors()
        if reason == "finished":
            events += self._listing()
        self._list_shows_change()
        events += self._moves()
        coverage.settle(self.db, self.crawl_id)
        return events

    def _rows(self, sql: str, params: list) -> list[dict]:
        return list(self.db.query(sql, params))

    def _last_captures(self) -> dict[str, dict]:
        """The last capture of each URL in this crawl."""
        rows = self._rows("SELECT c.* FROM captures c WHERE c.id IN (SELECT max(id) FROM captures "
                          "WHERE crawl_id = ? GROUP BY page_id)", [self.crawl_id])
        return {r["url"]: r for r in rows}

    # -- redirects ------------------------------------------------------------
    def _redirects(self) -> list[dict]:
        """Name loops and out-of-scope targets; a document redirected to a page that is gone is removed."""
        last = self._last_captures()
        events = []
        for url, cap in last.items():
            if not _is_redirect(cap) or not cap["location"]:
                continue
            chain, target = [url], cap["location"]
            while target in last and _is_redirect(last[target]) and target not in chain:
                chain.append(target)
                target = last[target]["location"]
            fault = None
            if target in chain:
                fault = "redirect_loop"
            elif target not in last and self.scope is not None and not self.scope.allows(target):
                fault = "out_of_scope"
            if fault and cap["error"] != fault:
                self.db.execute("UPDATE captures SET error = ? WHERE id = ?", [fault, cap["id"]])
            if fault is None:
                events += self._redirected_to(url, target, last.get(target))
        return events

    def _redirected_to(self, url: str, target: str, target_cap: dict | None) -> list[dict]:
        """A document that now redirects to a page that is gone (checked in this crawl, or recently
        enough that the crawl did not ask again) has been removed; one that redirects to a document
        has moved there (a site's new URLs, http to https): ``moved``, not a new document at the
        target (its ``added`` of this crawl is retracted)."""
        page = self.h.page(url)
        if page["kind"] not in DOCUMENT_KINDS or page["current_version"] is None \
                or page["state"] not in ("live", "delisted"):
            return []
        tpage = next(iter(self._rows("SELECT * FROM pages WHERE url = ?", [target])), None)
        if tpage is None:
            return []  # never fetched: nothing known about where it leads
        gone = (target_cap is not None and target_cap["status"] in GONE_STATUSES) \
            or tpage["state"] in ("missing", "removed") or tpage["kind"] in ("list", "home", "probe") \
            or is_container_url(target)
        if not gone:
            return self._moved_by_redirect(page, tpage)
        event = self.h.event(page, "removed", self.at, self.crawl_id, summary=f"redirected to {target}",
                             from_version=self.h.number(page["current_version"]), significance=1.0)
        self.h.update_page(page["id"], state="removed")
        return [event]

    def _moved_by_redirect(self, page: dict, tpage: dict) -> list[dict]:
        if tpage["kind"] not in DOCUMENT_KINDS or tpage["current_version"] is None:
            return []
        added = self.db.execute("SELECT id FROM changes WHERE page_id = ? AND crawl_id = ? AND kind = 'added'",
                                [tpage["id"], self.crawl_id]).fetchone()
        if added is not None:
            self.db.execute("DELETE FROM changes WHERE id = ?", [added[0]])
        old, new = self.h.row("versions", page["current_version"]), self.h.row("versions", tpage["current_version"])
        differs = sorted(field_changes(stored_content(old), stored_content(new))) if old["content_hash"] != \
            new["content_hash"] else []
        summary = f"moved from {page['url']} (which redirects here)" + (
            f"; differs from its last version there in: {', '.join(differs)}" if differs else "")
        event = self.h.event(tpage, "moved", self.at, self.crawl_id, to_version=new["number"], summary=summary,
                             fields=[page["url"]])
        if added is not None:
            event["retracts"] = ["added"]
        self.h.update_page(page["id"], state="redirect")
        return [event]

    # -- errors -----------------------------------------------------------------
    def _errors(self) -> list[dict]:
        events = []
        for cap in sorted(self._last_captures().values(), key=lambda c: c["page_id"]):
            status, error = cap["status"], cap["error"]
            if not _is_fetch_failure(cap):
                continue
            page = self.h.row("pages", cap["page_id"])
            streak = page["error_streak"] + 1
            kind = "blocked" if status in BLOCKED_STATUSES or error == "blocked" else "error"
            if page.get("current_version") and page.get("kind") in DOCUMENT_KINDS \
                    and page["state"] in ("live", "delisted"):
                if streak == 1:
                    why = error or f"HTTP {status}"
                    if status is not None and 200 <= status < 300:  # pipelines/standins.py
                        why = f"{error}: {STAND_IN_SUMMARY.get(error, error)} answered in its place (HTTP {status})"
                    events.append(self.h.event(page, kind, self.at, self.crawl_id, summary=why))
                if streak >= self.h.error_crawls:
                    events.append(self.h.event(page, "removed", self.at, self.crawl_id,
                                               summary=f"{kind} in {streak} crawls in a row",
                                               from_version=self.h.number(page["current_version"]),
                                               significance=1.0))
                    self.h.update_page(page["id"], state="removed")
            self.h.update_page(page["id"], error_streak=streak)
        return events

    # -- listing ----------------------------------------------------------------
    def _listed(self) -> tuple[set[str], set[str]] | None:
        """(what the lists read in this crawl hold, what failed lists may hold). The first comes from
        lists that answered 200 or 304 (their stored items). The second is a grace for a list page
        that failed: everything any page of its series (``index.html``, ``index_1.html`` …) ever held,
        since items shift between a column's pages; it keeps a document listed, it never relists one.
        None when the crawl read no list at all."""
        rows = self._rows(
            "SELECT p.id, p.url, c.version_id, c.status, c.error FROM captures c "
            "JOIN pages p ON p.id = c.page_id WHERE c.crawl_id = ? AND p.kind = 'list' "
            "AND c.id IN (SELECT max(id) FROM captures WHERE crawl_id = ? GROUP BY page_id)",
            [self.crawl_id, self.crawl_id])
        versions = {r["version_id"] for r in rows if r["version_id"] is not None}
        if not versions:
            return None
        failed = {series_key(r["url"]) for r in rows if r["version_id"] is None and _is_fetch_failure(r)}
        graced: set[int] = set()
        if failed:
            pages = [p["id"] for p in self._rows("SELECT id, url FROM pages WHERE kind = 'list'", [])
                     if series_key(p["url"]) in failed]
            for i in range(0, len(pages), 500):
                chunk = pages[i:i + 500]
                graced |= {v for (v,) in self.db.execute(
                    f"SELECT id FROM versions WHERE page_id IN ({','.join('?' * len(chunk))})", chunk)}
        return self._items(versions), self._items(graced)

    def _items(self, versions: set[int]) -> set[str]:
        out: set[str] = set()
        todo = sorted(versions)
        for i in range(0, len(todo), 500):
            chunk = todo[i:i + 500]
            for (items,) in self.db.execute(f"SELECT items FROM versions WHERE id IN ({','.join('?' * len(chunk))})",
                                            chunk):
                out.update(item["url"] for item in json.loads(items or "[]"))
        return out

    def _listing(self) -> list[dict]:
        found = self._listed()
        if found is None:
            return []
        listed, graced = found
        site = self.db.execute("SELECT site FROM crawls WHERE id = ?", [self.crawl_id]).fetchone()
        events = []
        for page in self._rows("SELECT * FROM pages WHERE kind = 'article' AND state IN ('live', 'delisted') "
                               "AND (site IS ? OR id IN (SELECT page_id FROM captures WHERE crawl_id = ?)) "
                               "ORDER BY id", [site[0] if site else None, self.crawl_id]):
            url = page["url"]
            if url in listed and not page["listed"]:
                if page["state"] == "delisted":
                    events.append(self.h.event(page, "relisted", self.at, self.crawl_id))
                self.h.update_page(page["id"], listed=1, state="live")
            elif url not in listed and url not in graced and page["listed"]:
                events.append(self.h.event(page, "delisted", self.at, self.crawl_id,
                                           summary="no longer linked from any list page", significance=0.6))
                self.h.update_page(page["id"], listed=0, state="delisted")
        return events

    def _list_shows_change(self) -> None:
        """A document a list read in this crawl shows with a date or title that list pages did not show
        for it before (a redate, a retitled notice) and that this crawl did not fetch: due next crawl
        (archive/revisit.py), however long its interval. Compared list with list — this crawl's
        versions of the lists it read against the versions the same lists had before — never list with
        document, whose own date may rightly differ from the one its list shows."""
        now_shown: dict[str, set] = {}
        before: dict[str, set] = {}
        for row in self._rows(
                "SELECT c.page_id, c.version_id FROM captures c JOIN pages p ON p.id = c.page_id "
                "WHERE c.crawl_id = ? AND p.kind = 'list' AND c.version_id IS NOT NULL "
                "AND c.id IN (SELECT max(id) FROM captures WHERE crawl_id = ? GROUP BY page_id)",
                [self.crawl_id, self.crawl_id]):
            earlier = self.db.execute(
                "SELECT version_id FROM captures WHERE page_id = ? AND crawl_id != ? AND version_id IS NOT NULL "
                "ORDER BY id DESC LIMIT 1", [row["page_id"], self.crawl_id]).fetchone()
            if earlier is None or earlier[0] == row["version_id"]:
                continue  # a list seen for the first time, or unchanged: it shows nothing new
            for version, shown in ((row["version_id"], now_shown), (earlier[0], before)):
                items = self.db.execute("SELECT items FROM versions WHERE id = ?", [version]).fetchone()[0]
                for item in json.loads(items or "[]"):
                    shown.setdefault(item["url"], set()).add((item.get("title"), item.get("date")))
        changed = sorted(url for url, pairs in now_shown.items() if url in before and pairs - before[url])
        fetched = self._last_captures()
        for url in changed:
            if url not in fetched:
                self.db.execute("UPDATE pages SET list_changed = ? WHERE url = ?", [self.at, url])

    # -- moves ------------------------------------------------------------------
    def _moves(self) -> list[dict]:
        removed = self.db.execute(
            "SELECT c.id, c.page_id, v.content_hash, c.url FROM changes c JOIN versions v "
            "ON v.page_id = c.page_id AND v.number = c.from_version "
            "WHERE c.crawl_id = ? AND c.kind = 'removed'", [self.crawl_id]).fetchall()
        events = []
        for rid, _page_id, h, old_url in removed:
            added = self.db.execute(
                "SELECT c.id, c.page_id, c.url, c.to_version, c.title FROM changes c JOIN versions v "
                "ON v.page_id = c.page_id AND v.number = c.to_version "
                "WHERE c.crawl_id = ? AND c.kind = 'added' AND v.content_hash = ?", [self.crawl_id, h]).fetchone()
            if added is None:
                continue
            self.db.execute("DELETE FROM changes WHERE id IN (?, ?)", [rid, added[0]])
            page = {"id": added[1], "url": added[2], "title": added[4]}
            moved = self.h.event(page, "moved", self.at, self.crawl_id, to_version=added[3],
                                 summary=f"moved from {old_url}", fields=[old_url])
            moved["retracts"] = ["removed", "added"]  # the two events this one replaces
            events.append(moved)
        return events


def _is_redirect(cap: dict) -> bool:
    return cap["status"] is not None and 300 <= cap["status"] < 400 and cap["status"] != 304


def _is_fetch_failure(cap: dict) -> bool:
    """A fetch that told nothing about the page (not a redirect, not a page we failed to read)."""
    if _is_redirect(cap) or cap["error"] in NOT_FETCH_ERRORS:
        return False
    return is_failure(cap["status"], cap["error"])
