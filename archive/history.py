"""Turn captures into history: pages, versions and change events. One path for live and reindex."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlite_utils

from pipelines.extract import extract
from pipelines.record import PageRecord, content_hash

from .diff import field_changes, significance, text_ops
from .search import attachments_text, dumps, index_version

BLOCKED_STATUSES = (412, 521, 403)
GONE_STATUSES = (404, 410)
DOCUMENT_KINDS = ("article", "attachment", "other")
DEFAULT_ERROR_CRAWLS = 3


@dataclass
class Capture:
    """One fetch as the history sees it (from a live crawl or read back from a WARC)."""

    url: str
    fetched_at: str
    crawl_id: str | None = None
    status: int | None = None
    error: str | None = None
    content_type: str | None = None
    payload: bytes | None = None  # decoded (no Content-Encoding); None for 304s and failures
    record_type: str = "response"
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    record_id: str | None = None
    payload_digest: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None
    site: str | None = None
    overrides: dict = field(default_factory=dict)


def _is_container_url(url: str) -> bool:
    """True for a home page or column index: where deleted documents get redirected."""
    path = urlsplit(url).path
    return path.endswith("/") or path.rsplit("/", 1)[-1].startswith(("index", "default", "list"))


class History:
    """Apply captures to the database in order; ``end_crawl`` settles list-based events."""

    def __init__(self, db: sqlite_utils.Database, error_crawls: int = DEFAULT_ERROR_CRAWLS) -> None:
        self.db = db
        self.error_crawls = error_crawls
        self._crawl_listed: dict[str, set[str]] = {}
        self._crawl_lists_seen: dict[str, int] = {}
        self._crawl_errors: dict[str, set[int]] = {}

    # -- crawls -------------------------------------------------------------
    def begin_crawl(self, crawl_id: str, started: str, site: str | None, start_urls: list[str]) -> None:
        """Open a crawl run, or reopen one that was killed (its state is read back from the database)."""
        with self.db.conn:
            self.db.execute("INSERT OR IGNORE INTO crawls(id, site, started, start_urls) VALUES (?, ?, ?, ?)",
                            [crawl_id, site, started, dumps(start_urls)])
            if site:
                self.db.execute("INSERT OR IGNORE INTO sites(name, start_urls, created) VALUES (?, ?, ?)",
                                [site, dumps(start_urls), started])
        listed = self._crawl_listed.setdefault(crawl_id, set())
        for (items,) in self.db.execute(
                "SELECT v.items FROM captures c JOIN versions v ON v.id = c.version_id "
                "WHERE c.crawl_id = ? AND v.kind = 'list'", [crawl_id]):
            listed.update(i["url"] for i in json.loads(items or "[]"))
            self._crawl_lists_seen[crawl_id] = self._crawl_lists_seen.get(crawl_id, 0) + 1
        for (page_id,) in self.db.execute(
                "SELECT DISTINCT page_id FROM captures WHERE crawl_id = ? AND (error IS NOT NULL OR status >= 500 "
                "OR status IN (403, 412, 429, 521))", [crawl_id]):
            self._crawl_errors.setdefault(crawl_id, set()).add(page_id)

    def end_crawl(self, crawl_id: str, finished: str, reason: str = "finished",
                  stats: dict | None = None) -> list[dict]:
        """Settle de-listing, moves and persisting errors for a crawl; return its events."""
        with self.db.conn:
            events = []
            if reason == "finished" and self._crawl_lists_seen.get(crawl_id):
                events += self._settle_listing(crawl_id, finished)
            events += self._settle_errors(crawl_id, finished)
            events += self._settle_moves(crawl_id, finished)
            self.db["crawls"].upsert({"id": crawl_id, "finished": finished, "reason": reason,
                                      "stats": dumps(stats or {})}, pk="id")
        self._crawl_listed.pop(crawl_id, None)
        self._crawl_lists_seen.pop(crawl_id, None)
        self._crawl_errors.pop(crawl_id, None)
        return events

    def _settle_errors(self, crawl_id: str, at: str) -> list[dict]:
        events = []
        for page_id in sorted(self._crawl_errors.get(crawl_id, ())):
            last = self.db.execute("SELECT status, error FROM captures WHERE page_id = ? AND crawl_id = ? "
                                   "ORDER BY id DESC LIMIT 1", [page_id, crawl_id]).fetchone()
            status, error = last
            if not (error or (status is not None and (status >= 500 or status in BLOCKED_STATUSES
                                                      or status == 429))):
                continue  # a later attempt in the same crawl succeeded
            page = self.db["pages"].get(page_id)
            streak = page["error_streak"] + 1
            kind = "blocked" if status in BLOCKED_STATUSES else "error"
            if page.get("current_version") and page.get("kind") in DOCUMENT_KINDS \
                    and page["state"] in ("live", "delisted"):
                if streak == 1:
                    events.append(self._event(page, kind, at, crawl_id, summary=error or f"HTTP {status}"))
                if streak >= self.error_crawls:
                    events.append(self._event(page, "removed", at, crawl_id,
                                              summary=f"{kind} in {streak} crawls in a row",
                                              from_version=self._number(page["current_version"]),
                                              significance=1.0))
                    self._update_page(page_id, state="removed")
            self._update_page(page_id, error_streak=streak)
        return events

    # -- captures -----------------------------------------------------------
    def add(self, cap: Capture) -> list[dict]:
        """Record one capture and return the change events it caused."""
        with self.db.conn:
            return self._add(cap)

    def _page(self, cap: Capture) -> dict:
        row = self.db.execute("SELECT * FROM pages WHERE url = ?", [cap.url]).fetchone()
        if row is None:
            site = cap.site or urlsplit(cap.url).netloc
            self.db["pages"].insert({"url": cap.url, "site": site, "first_seen": cap.fetched_at,
                                     "state": "new"})
            row = self.db.execute("SELECT * FROM pages WHERE url = ?", [cap.url]).fetchone()
        cols = [d[0] for d in self.db.execute("SELECT * FROM pages LIMIT 0").description]
        return dict(zip(cols, row, strict=True))

    def _capture_row(self, cap: Capture, page_id: int, version_id: int | None) -> int:
        return self.db["captures"].insert({
            "page_id": page_id, "crawl_id": cap.crawl_id, "url": cap.url, "fetched_at": cap.fetched_at,
            "status": cap.status, "error": cap.error, "record_type": cap.record_type,
            "warc_file": cap.warc_file, "warc_offset": cap.warc_offset, "warc_length": cap.warc_length,
            "record_id": cap.record_id, "payload_digest": cap.payload_digest, "etag": cap.etag,
            "last_modified": cap.last_modified, "content_type": cap.content_type,
            "location": cap.location, "version_id": version_id}).last_pk

    def _event(self, page: dict, kind: str, at: str, crawl_id: str | None, **kw: object) -> dict:
        title = kw.pop("title", None) or page.get("title")
        row = {"page_id": page["id"], "url": page["url"], "kind": kind, "at": at, "crawl_id": crawl_id,
               "title": title, **kw}
        if isinstance(row.get("fields"), list | dict):
            row["fields"] = dumps(row["fields"])
        row["id"] = self.db["changes"].insert(row).last_pk
        return row

    def _update_page(self, page_id: int, **values: object) -> None:
        self.db["pages"].update(page_id, values)

    def _add(self, cap: Capture) -> list[dict]:
        page = self._page(cap)
        is_doc = page.get("kind") in DOCUMENT_KINDS
        had_versions = page.get("current_version") is not None
        events: list[dict] = []
        status = cap.status

        # Failures are settled at the end of the crawl: a retry that succeeds is no event.
        redirect = status is not None and 300 <= status < 400 and status != 304
        if not redirect and (cap.error or (status is not None and (status >= 500 or status in BLOCKED_STATUSES
                                                                   or status == 429))):
            if cap.error is None:
                cap.error = "blocked" if status in BLOCKED_STATUSES else "http_error"
            self._capture_row(cap, page["id"], None)
            self._crawl_errors.setdefault(cap.crawl_id or "", set()).add(page["id"])
            self._update_page(page["id"], last_status=status)
            return events

        record: PageRecord | None = None
        if cap.payload is not None and status is not None and 200 <= status < 300:
            record = extract(cap.payload, cap.url, cap.content_type, cap.overrides)

        gone = status in GONE_STATUSES or (record is not None and record.soft_404)
        redirect_home = (status is not None and 300 <= status < 400 and cap.location
                         and _is_container_url(cap.location))
        refresh_home = record is not None and record.refresh_to and _is_container_url(record.refresh_to) \
            and is_doc and len(record.body) < 200
        if gone or ((redirect_home or refresh_home) and is_doc and had_versions):
            self._capture_row(cap, page["id"], None)
            if had_versions and is_doc and page["state"] != "removed":
                why = f"HTTP {status}" if status in GONE_STATUSES else (
                    "soft 404" if gone else f"redirected to {cap.location or record.refresh_to}")
                events.append(self._event(page, "removed", cap.fetched_at, cap.crawl_id, summary=why,
                                          from_version=self._number(page["current_version"]),
                                          significance=1.0))
            self._update_page(page["id"], state="removed" if had_versions else "missing",
                              last_status=status, last_seen=cap.fetched_at, error_streak=0)
            return events

        if status is not None and 300 <= status < 400:
            self._capture_row(cap, page["id"], None)
            self._update_page(page["id"], state="redirect" if not had_versions else page["state"],
                              last_status=status, last_seen=cap.fetched_at, error_streak=0)
            return events

        if record is None and cap.error:  # e.g. a body that could not be decoded
            self._capture_row(cap, page["id"], None)
            return events

        if record is None:  # 304 / server-not-modified: the current version, seen again
            version_id = page.get("current_version")
            self._capture_row(cap, page["id"], version_id)
            if version_id:
                self.db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [cap.fetched_at, version_id])
                self._note_listing(cap.crawl_id, page.get("kind"), version_id)
            if page["state"] == "removed" and had_versions and is_doc:
                events.append(self._event(page, "restored", cap.fetched_at, cap.crawl_id,
                                          to_version=self._number(version_id)))
            self._update_page(page["id"], state=self._live_state(page), last_seen=cap.fetched_at,
                              last_status=status, error_streak=0)
            return events

        return self._add_content(cap, page, record)

    def _live_state(self, page: dict) -> str:
        return "delisted" if page["state"] == "delisted" else "live"

    def _number(self, version_id: int | None) -> int | None:
        if version_id is None:
            return None
        return self.db.execute("SELECT number FROM versions WHERE id = ?", [version_id]).fetchone()[0]

    def _version(self, version_id: int) -> dict:
        return self.db["versions"].get(version_id)

    def _add_content(self, cap: Capture, page: dict, record: PageRecord) -> list[dict]:
        content = record.content(_ignore_rules(cap.overrides.get("ignore")))
        if content.get("body") is not None and content["body"] != record.body and record.kind != "list":
            record.body = content["body"]  # what the profile ignores is not part of the version either
        h = content_hash(content)
        events: list[dict] = []
        kind = record.kind
        is_doc = kind in DOCUMENT_KINDS
        prior = self.db.execute("SELECT id, number FROM versions WHERE page_id = ? AND content_hash = ? "
                                "ORDER BY number DESC LIMIT 1", [page["id"], h]).fetchone()
        current = page.get("current_version")
        was_removed = page["state"] == "removed"
        if prior is not None:
            version_id = prior[0]
            self.db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [cap.fetched_at, version_id])
            if is_doc and was_removed:
                events.append(self._event(page, "restored", cap.fetched_at, cap.crawl_id,
                                          to_version=prior[1], title=record.title))
            if is_doc and current is not None and version_id != current:
                events.append(self._event(page, "reverted", cap.fetched_at, cap.crawl_id,
                                          from_version=self._number(current), to_version=prior[1],
                                          summary=f"content returned to version {prior[1]}",
                                          title=record.title))
        else:
            number = self.db.execute("SELECT coalesce(max(number), 0) + 1 FROM versions WHERE page_id = ?",
                                     [page["id"]]).fetchone()[0]
            version_id = self._insert_version(page["id"], number, h, record, cap)
            if is_doc:
                if current is None:
                    events.append(self._event(page, "added", cap.fetched_at, cap.crawl_id, to_version=number,
                                              title=record.title, summary=record.title))
                else:
                    old = self._version(current)
                    old_content = {k: _loads_field(k, old.get(k)) for k in content}
                    changed = field_changes(old_content, content)
                    ops = text_ops(old_content.get("body") or "", content.get("body") or "")
                    silent = "body" in changed and old_content.get("published") == content.get("published")
                    if was_removed:
                        events.append(self._event(page, "restored", cap.fetched_at, cap.crawl_id,
                                                  to_version=number, title=record.title))
                    events.append(self._event(
                        page, "changed", cap.fetched_at, cap.crawl_id, from_version=old["number"],
                        to_version=number, fields=sorted(changed), silent_revision=int(silent),
                        significance=significance(old_content, content, ops), title=record.title,
                        summary=_summary(changed, ops, silent)))
        self._capture_row(cap, page["id"], version_id)
        self._note_listing(cap.crawl_id, kind, version_id, record.items)
        self._update_page(page["id"], kind=kind, title=record.title, current_version=version_id,
                          state=self._live_state(page) if not was_removed else "live",
                          last_seen=cap.fetched_at, last_status=cap.status, error_streak=0)
        return events

    def _insert_version(self, page_id: int, number: int, h: str, rec: PageRecord, cap: Capture) -> int:
        vid = self.db["versions"].insert({
            "page_id": page_id, "number": number, "content_hash": h, "kind": rec.kind, "title": rec.title,
            "published": rec.published, "source": rec.source, "index_no": rec.index_no,
            "category": rec.category, "publisher": rec.publisher, "written_on": rec.written_on,
            "doc_no": rec.doc_no, "subject": rec.subject, "body": rec.body, "signed_by": rec.signed_by,
            "signed_on": rec.signed_on, "contact": rec.contact, "attachments": dumps(rec.attachments),
            "items": dumps(rec.items), "links": dumps(rec.links), "charset": rec.charset,
            "first_seen": cap.fetched_at, "last_seen": cap.fetched_at}).last_pk
        index_version(self.db, vid, rec.title, rec.body, attachments_text(rec.attachments))
        return vid

    # -- listing, moves -----------------------------------------------------
    def _note_listing(self, crawl_id: str | None, kind: str | None, version_id: int | None,
                      items: list[dict] | None = None) -> None:
        if kind != "list" or crawl_id is None:
            return
        if items is None and version_id is not None:
            items = json.loads(self.db.execute("SELECT items FROM versions WHERE id = ?",
                                               [version_id]).fetchone()[0] or "[]")
        self._crawl_lists_seen[crawl_id] = self._crawl_lists_seen.get(crawl_id, 0) + 1
        self._crawl_listed.setdefault(crawl_id, set()).update(i["url"] for i in items or [])

    def _settle_listing(self, crawl_id: str, at: str) -> list[dict]:
        listed = self._crawl_listed.get(crawl_id, set())
        events = []
        rows = self.db.execute(
            "SELECT DISTINCT p.* FROM pages p JOIN captures c ON c.page_id = p.id AND c.crawl_id = ? "
            "WHERE p.kind = 'article'", [crawl_id]).fetchall()
        cols = [d[0] for d in self.db.execute("SELECT * FROM pages LIMIT 0").description]
        for row in rows:
            page = dict(zip(cols, row, strict=True))
            now = page["url"] in listed
            if now and not page["listed"]:
                if page["state"] == "delisted":
                    events.append(self._event(page, "relisted", at, crawl_id))
                self._update_page(page["id"], listed=1, state="live" if page["state"] == "delisted"
                                  else page["state"])
            elif not now and page["listed"] and page["state"] in ("live", "delisted"):
                events.append(self._event(page, "delisted", at, crawl_id,
                                          summary="no longer linked from any list page", significance=0.6))
                self._update_page(page["id"], listed=0, state="delisted")
        return events

    def _settle_moves(self, crawl_id: str, at: str) -> list[dict]:
        removed = self.db.execute(
            "SELECT c.id, c.page_id, v.content_hash, c.url FROM changes c JOIN versions v "
            "ON v.page_id = c.page_id AND v.number = c.from_version "
            "WHERE c.crawl_id = ? AND c.kind = 'removed'", [crawl_id]).fetchall()
        events = []
        for rid, _page_id, h, old_url in removed:
            added = self.db.execute(
                "SELECT c.id, c.page_id, c.url, c.to_version, c.title FROM changes c JOIN versions v "
                "ON v.page_id = c.page_id AND v.number = c.to_version "
                "WHERE c.crawl_id = ? AND c.kind = 'added' AND v.content_hash = ?", [crawl_id, h]).fetchone()
            if added is None:
                continue
            self.db.execute("DELETE FROM changes WHERE id IN (?, ?)", [rid, added[0]])
            page = {"id": added[1], "url": added[2], "title": added[4]}
            moved = self._event(page, "moved", at, crawl_id, to_version=added[3],
                                summary=f"moved from {old_url}", fields=[old_url])
            moved["retracts"] = ["removed", "added"]  # the two events this one replaces
            events.append(moved)
        return events


def _ignore_rules(patterns: list[str] | None) -> list[re.Pattern[str]]:
    return [re.compile(p, re.M) for p in patterns or []]


def _loads_field(name: str, value: object) -> object:
    if name == "attachments" and isinstance(value, str):
        return [{"name": a.get("name"), "url": a.get("url")} for a in json.loads(value)]
    return value


def _summary(changed: dict, ops: list[dict], silent: bool) -> str:
    parts = []
    edits = [o for o in ops if o["op"] != "equal"]
    for o in edits[:3]:
        if o["op"] == "replace":
            parts.append(f"{o['old'][:20]}→{o['new'][:20]}")
        elif o["op"] == "insert":
            parts.append(f"+{o['new'][:30]}")
        else:
            parts.append(f"-{o['old'][:30]}")
    meta = [k for k in changed if k != "body"]
    if meta:
        parts.append("fields: " + ", ".join(meta))
    if silent:
        parts.append("silent revision (displayed date unchanged)")
    return "; ".join(parts)
