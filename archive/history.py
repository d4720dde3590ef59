"""Turn captures into history: pages, versions and change events. One path for live crawls and rebuilds.

Rules (README "History"): a version is a distinct normalised content; 404/410, a site's own
"not found" page (learned by a probe, archive/soft404.py), keyword soft 404s on pages without a
document's structure, and redirects to a column, the home page or the site's error page are
removals; errors become removals only when they persist; a crawl's list pages decide de-listing
at its end (archive/settle.py). Every capture is recorded, whatever its payload does to a parser.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import sqlite_utils

from pipelines.annual import cell_changes
from pipelines.extract import extract
from pipelines.record import PageRecord, content_hash, stored_content

from . import soft404
from .capture import Capture
from .diff import field_changes, significance, text_ops
from .scope import Scope
from .search import attachments_text, dumps, index_version
from .vocab import DOCUMENT_KINDS, GONE_STATUSES, STAND_IN_ERRORS, failure_kind, is_failure

log = logging.getLogger(__name__)

DEFAULT_ERROR_CRAWLS = 3
BATCH_CAPTURES = 200  # captures a batch commits at most (batch())


def is_container_url(url: str) -> bool:
    """True for a home page or column index: where deleted documents get redirected."""
    path = urlsplit(url).path
    return path.endswith("/") or path.rsplit("/", 1)[-1].startswith(("index", "default", "list"))


class History:
    """Apply captures to the database in order; ``end_crawl`` settles list-based events."""

    def __init__(self, db: sqlite_utils.Database, error_crawls: int = DEFAULT_ERROR_CRAWLS) -> None:
        self.db = db
        self.error_crawls = error_crawls
        self._baseline: dict[str, bool] = {}
        self._scope: dict[str, Scope | None] = {}
        self._not_found: dict[str, soft404.NotFound | None] = {}
        self._statements: dict[tuple, str] = {}
        self.batched = False  # inside batch(): captures are savepoints of one transaction

    # -- rows -----------------------------------------------------------------
    # The ingest's own writes are one prepared statement each, inside the one transaction of the
    # capture (``add``). sqlite-utils' Table.insert and .update, made for a CLI's single calls, check
    # the schema on every call (table_names, view_names, PRAGMA table_info) and commit: 66 statements
    # and 7 commits a capture, a third of the ingest's database time. Migrations, queries and the
    # CLI keep sqlite-utils.
    def insert(self, table: str, row: dict) -> int:
        """Insert ``row`` into ``table`` (names from this module, never from input); its rowid."""
        key = (table, *row)
        sql = self._statements.get(key)
        if sql is None:
            names = ", ".join(f'"{c}"' for c in row)
            sql = self._statements[key] = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(row))})'
        return self.db.conn.execute(sql, list(row.values())).lastrowid

    def row(self, table: str, rowid: int) -> dict | None:
        cur = self.db.conn.execute(f'SELECT * FROM "{table}" WHERE rowid = ?', [rowid])
        found = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], found, strict=True)) if found else None

    # -- crawls -------------------------------------------------------------
    def begin_crawl(self, crawl_id: str, started: str, site: str | None, start_urls: list[str],
                    scope: dict | None = None) -> None:
        """Open a crawl run, or reopen one that was killed (its state is read back from the database)."""
        with self.db.conn:
            self.db.execute("INSERT OR IGNORE INTO crawls(id, site, started, start_urls, scope) "
                            "VALUES (?, ?, ?, ?, ?)", [crawl_id, site, started, dumps(start_urls),
                                                       dumps(scope) if scope else None])
            if site:
                self.db.execute("INSERT OR IGNORE INTO sites(name, start_urls, created) VALUES (?, ?, ?)",
                                [site, dumps(start_urls), started])
        row = self.db.execute("SELECT site, scope FROM crawls WHERE id = ?", [crawl_id]).fetchone()
        self._scope[crawl_id] = Scope.from_dict(json.loads(row[1]) if row[1] else None)
        # A site's first complete crawl is its baseline: what it finds was there before we watched.
        self._baseline[crawl_id] = self.db.execute(
            "SELECT count(*) FROM crawls WHERE site IS ? AND id != ? AND reason = 'finished'",
            [row[0], crawl_id]).fetchone()[0] == 0

    def end_crawl(self, crawl_id: str, finished: str, reason: str = "finished",
                  stats: dict | None = None) -> list[dict]:
        """Settle redirects, de-listing, moves and persisting errors for a crawl; return its events."""
        from .settle import Settlement

        if crawl_id not in self._baseline:
            self.begin_crawl(crawl_id, finished, None, [])
        with self.db.conn:
            events = Settlement(self, crawl_id, finished, self._scope.get(crawl_id)).run(reason)
            self.db["crawls"].upsert({"id": crawl_id, "finished": finished, "reason": reason,
                                      "stats": dumps(stats or {})}, pk="id")
        self._baseline.pop(crawl_id, None)
        self._scope.pop(crawl_id, None)
        self._not_found.clear()
        return events

    # -- captures -----------------------------------------------------------
    def add(self, cap: Capture) -> list[dict]:
        """Record one capture and return the change events it caused: in a transaction of its own,
        or, inside ``batch()``, in a savepoint of the batch's (a capture that fails leaves nothing)."""
        conn = self.db.conn
        if not self.batched:
            with conn:
                return self._add(cap)
        conn.execute("SAVEPOINT capture")
        try:
            events = self._add(cap)
        except BaseException:
            conn.execute("ROLLBACK TO capture")
            conn.execute("RELEASE capture")
            raise
        conn.execute("RELEASE capture")
        return events

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold one transaction over many captures. A commit costs more than most captures (the
        WAL frames, the search index's new segment and its merges): a rebuild commits every
        ``BATCH_CAPTURES``. (The live ingest commits each capture: a crawl killed and resumed at
        once must find in the history all that its writer received.)"""
        conn = self.db.conn
        if conn.in_transaction:
            conn.commit()
        conn.execute("BEGIN")
        self.batched = True
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            self.batched = False

    def page(self, url: str, site: str | None = None, first_seen: str | None = None) -> dict:
        """The pages row of ``url``, created when the archive meets it first."""
        cur = self.db.conn.execute("SELECT * FROM pages WHERE url = ?", [url])
        row = cur.fetchone()
        if row is None:
            self.insert("pages", {"url": url, "site": site or urlsplit(url).netloc, "first_seen": first_seen,
                                  "state": "new"})
            cur = self.db.conn.execute("SELECT * FROM pages WHERE url = ?", [url])
            row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _capture_row(self, cap: Capture, page_id: int, version_id: int | None) -> int:
        return self.insert("captures", {
            "page_id": page_id, "crawl_id": cap.crawl_id, "url": cap.url, "fetched_at": cap.fetched_at,
            "status": cap.status, "error": cap.error, "record_type": cap.record_type,
            "warc_file": cap.warc_file, "warc_offset": cap.warc_offset, "warc_length": cap.warc_length,
            "record_id": cap.record_id, "payload_digest": cap.payload_digest, "etag": cap.etag,
            "last_modified": cap.last_modified, "content_type": cap.content_type,
            "location": cap.location, "version_id": version_id})

    def event(self, page: dict, kind: str, at: str, crawl_id: str | None, **kw: object) -> dict:
        """Insert a change event; in a site's baseline crawl an addition is ``archived``, and flagged."""
        baseline = self._baseline.get(crawl_id or "", False)
        if baseline and kind == "added":
            kind = "archived"
        title = kw.pop("title", None) or page.get("title")
        row = {"page_id": page["id"], "url": page["url"], "kind": kind, "at": at, "crawl_id": crawl_id,
               "title": title, "baseline": int(baseline), **kw}
        if isinstance(row.get("fields"), list | dict):
            row["fields"] = dumps(row["fields"])
        row["id"] = self.insert("changes", row)
        return row

    def update_page(self, page_id: int, **values: object) -> None:
        if values:
            names = ", ".join(f'"{name}" = ?' for name in values)
            self.db.conn.execute(f"UPDATE pages SET {names} WHERE id = ?", [*values.values(), page_id])

    def number(self, version_id: int | None) -> int | None:
        if version_id is None:
            return None
        return self.db.execute("SELECT number FROM versions WHERE id = ?", [version_id]).fetchone()[0]

    def _add(self, cap: Capture) -> list[dict]:
        page = self.page(cap.url, cap.site, cap.fetched_at)
        if soft404.is_probe(cap.url):
            return self._add_probe(cap, page)
        is_doc = page.get("kind") in DOCUMENT_KINDS
        had_versions = page.get("current_version") is not None
        events: list[dict] = []
        status = cap.status
        redirect = status is not None and 300 <= status < 400 and status != 304

        # Failures are settled at the end of the crawl: a retry that succeeds is no event.
        if not redirect and is_failure(status, cap.error):
            if cap.error is None:
                cap.error = failure_kind(status)
            self._capture_row(cap, page["id"], None)
            self.update_page(page["id"], last_status=status)
            return events

        record: PageRecord | None = None
        if cap.payload is not None and status is not None and 200 <= status < 300:
            try:
                record = extract(cap.payload, cap.url, cap.content_type, cap.overrides)
            except Exception as exc:  # noqa: BLE001 - a page no parser can read is still a capture
                log.warning("could not read %s: %s: %s", cap.url, type(exc).__name__, exc)
                cap.error = "extract_error"

        if record is not None and record.stand_in:  # a wall, an error page, nothing, in the page's place:
            # It says nothing about the page: an error of the crawl's, settled with its failures.
            cap.error = STAND_IN_ERRORS[record.stand_in["what"]]
            self._capture_row(cap, page["id"], None)
            self.update_page(page["id"], last_status=status)
            return events

        gone = status in GONE_STATUSES or (record is not None and self._is_not_found_page(cap, record))
        redirect_away = redirect and cap.location and self._is_removal_redirect(cap)
        refresh_home = record is not None and record.refresh_to and is_container_url(record.refresh_to) \
            and is_doc and len(record.body) < 200
        if gone or ((redirect_away or refresh_home) and is_doc and had_versions) \
                or (redirect_away and not had_versions and not is_container_url(cap.url)):
            self._capture_row(cap, page["id"], None)
            if had_versions and is_doc and page["state"] != "removed":
                why = f"HTTP {status}" if status in GONE_STATUSES else (
                    "soft 404" if gone else f"redirected to {cap.location or record.refresh_to}")
                events.append(self.event(page, "removed", cap.fetched_at, cap.crawl_id, summary=why,
                                         from_version=self.number(page["current_version"]),
                                         significance=1.0))
            self.update_page(page["id"], state="removed" if had_versions else "missing",
                             last_status=status, last_seen=cap.fetched_at, error_streak=0)
            return events

        if redirect:  # settled at the end of the crawl, when its target's fate is known
            self._capture_row(cap, page["id"], None)
            self.update_page(page["id"], state="redirect" if not had_versions else page["state"],
                             last_status=status, last_seen=cap.fetched_at, error_streak=0)
            return events

        if record is None and cap.payload is not None:  # a body that could not be decoded or read
            self._capture_row(cap, page["id"], None)
            self.update_page(page["id"], last_status=status, last_seen=cap.fetched_at)
            return events

        if record is None:  # 304 / server-not-modified: the version the validators came from, again
            version_id = page.get("current_version")
            self._capture_row(cap, page["id"], version_id)
            if version_id:
                self.db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [cap.fetched_at, version_id])
            if page["state"] == "removed" and had_versions and is_doc:
                events.append(self.event(page, "restored", cap.fetched_at, cap.crawl_id,
                                         to_version=self.number(version_id)))
            self.update_page(page["id"], state=_live_state(page), last_seen=cap.fetched_at,
                             last_status=status, error_streak=0)
            return events

        return self.add_content(cap, page, record)

    # -- a site's own "not found" -------------------------------------------
    def _add_probe(self, cap: Capture, page: dict) -> list[dict]:
        """Learn how the host answers a URL that cannot exist (see archive/soft404.py)."""
        title = body = ""
        if cap.payload is not None and cap.status is not None and 200 <= cap.status < 300:
            try:
                rec = extract(cap.payload, cap.url, cap.content_type, cap.overrides)
                title, body = soft404.fingerprint(rec.title), soft404.fingerprint(rec.body)
            except Exception:  # noqa: BLE001 - an unreadable probe page teaches nothing
                pass
        self._capture_row(cap, page["id"], None)
        self.update_page(page["id"], kind="probe", state="missing", last_status=cap.status,
                         last_seen=cap.fetched_at)
        if cap.status is not None and not cap.error:
            self.insert("host_probes", {"host": soft404.host_of(cap.url), "crawl_id": cap.crawl_id,
                                        "fetched_at": cap.fetched_at, "status": cap.status,
                                        "location": cap.location, "title": title, "body": body})
            self._not_found.pop(soft404.host_of(cap.url), None)
        return []

    def not_found(self, url: str) -> soft404.NotFound | None:
        """How ``url``'s host last answered its probe, or None if it never did."""
        host = soft404.host_of(url)
        if host not in self._not_found:
            row = self.db.execute("SELECT status, location, title, body FROM host_probes WHERE host = ? "
                                  "ORDER BY rowid DESC LIMIT 1", [host]).fetchone()
            self._not_found[host] = soft404.NotFound(*row) if row else None
        return self._not_found[host]

    def _is_not_found_page(self, cap: Capture, record: PageRecord) -> bool:
        if record.soft_404:
            return True
        if is_container_url(cap.url):
            return False  # a site that answers unknown URLs with its home page: the home page is not gone
        template = self.not_found(cap.url)
        return template is not None and template.matches_page(record.title, record.body)

    def _is_removal_redirect(self, cap: Capture) -> bool:
        if is_container_url(cap.location):
            return True
        template = self.not_found(cap.url)
        return template is not None and template.matches_redirect(cap.location)

    # -- content --------------------------------------------------------------
    def add_content(self, cap: Capture, page: dict, record: PageRecord, capture_id: int | None = None,
                     own: dict | None = None) -> list[dict]:
        """Version ``record``. ``capture_id``: the capture already stored (an article's first page,
        versioned whole when its crawl settles; 0 for none); ``own``: what that page itself said."""
        if record.part_of:  # page 2… of an article: versioned here, read as part of the first page's
            first = self.page(record.part_of, cap.site, cap.fetched_at)
            if page.get("part_of") != first["id"]:
                self.update_page(page["id"], part_of=first["id"])
        elif record.parts and capture_id is None:
            return self._await_parts(cap, page, record)
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
                events.append(self.event(page, "restored", cap.fetched_at, cap.crawl_id,
                                         to_version=prior[1], title=record.title))
            if is_doc and current is not None and version_id != current:
                events.append(self.event(page, "reverted", cap.fetched_at, cap.crawl_id,
                                         from_version=self.number(current), to_version=prior[1],
                                         summary=f"content returned to version {prior[1]}",
                                         title=record.title))
        else:
            number = self.db.execute("SELECT coalesce(max(number), 0) + 1 FROM versions WHERE page_id = ?",
                                     [page["id"]]).fetchone()[0]
            version_id = self._insert_version(page["id"], number, h, record, cap, own)
            if is_doc:
                if current is None:
                    summary = record.title if not record.text_error else f"{record.title} (text: {record.text_error})"
                    events.append(self.event(page, "added", cap.fetched_at, cap.crawl_id, to_version=number,
                                             title=record.title, summary=summary))
                else:
                    events += self._changed(cap, page, record, content, current, number, was_removed,
                                            kept=self._kept_validators(cap, page["id"], current))
        if capture_id is None:
            self._capture_row(cap, page["id"], version_id)
        elif capture_id:
            self.db.execute("UPDATE captures SET version_id = ? WHERE id = ?", [version_id, capture_id])
        self.update_page(page["id"], kind=kind, title=record.title, current_version=version_id,
                         state=_live_state(page) if not was_removed else "live",
                         last_seen=cap.fetched_at, last_status=cap.status, error_streak=0)
        return events

    def _kept_validators(self, cap: Capture, page_id: int, current: int) -> bool:
        """True when the server answered new content with the validators of the old — its ETag, or
        without one its Last-Modified: its 304s would hide the change. The host is remembered
        (``untrusted_validators``); conditional requests to it stop (archive/state.py)."""
        old = self.db.execute("SELECT etag, last_modified FROM captures WHERE page_id = ? AND version_id = ? "
                              "AND status = 200 ORDER BY id DESC LIMIT 1", [page_id, current]).fetchone()
        if old is None:
            return False
        etag, modified = old
        kept = cap.etag == etag if cap.etag and etag else bool(cap.last_modified and cap.last_modified == modified)
        if kept:
            self.db.execute("INSERT OR IGNORE INTO untrusted_validators (host, crawl_id, at, url) VALUES (?, ?, ?, ?)",
                            [urlsplit(cap.url).netloc.lower(), cap.crawl_id, cap.fetched_at, cap.url])
        return kept

    def _changed(self, cap: Capture, page: dict, record: PageRecord, content: dict, current: int,
                 number: int, was_removed: bool, kept: bool = False) -> list[dict]:
        events = []
        old = self.row("versions", current)
        old_content = stored_content(old)
        changed = field_changes(old_content, content)
        # A report's table cells are fields of their own: `requests.new.total: 81 → 83`.
        changed.update(cell_changes(json.loads(old["annual"]) if old.get("annual") else None, record.annual))
        ops = text_ops(old_content.get("body") or "", content.get("body") or "")
        silent = "body" in changed and record.kind != "attachment" \
            and old_content.get("published") == content.get("published")
        if was_removed:
            events.append(self.event(page, "restored", cap.fetched_at, cap.crawl_id,
                                     to_version=number, title=record.title))
        summary = _summary(changed, ops, silent)
        if record.text_error:
            summary = f"{summary}; text unreadable: {record.text_error}" if summary else \
                f"file replaced; text unreadable: {record.text_error}"
        if kept:  # (found by a request without validators: archive/state.py AUDIT_EVERY)
            summary = f"{summary}; the server kept the old version's ETag/Last-Modified: its 304s are not trusted"
        events.append(self.event(
            page, "changed", cap.fetched_at, cap.crawl_id, from_version=old["number"],
            to_version=number, fields=sorted(changed), silent_revision=int(silent),
            significance=significance(old_content, content, ops), title=record.title, summary=summary))
        return events

    def _await_parts(self, cap: Capture, page: dict, record: PageRecord) -> list[dict]:
        """The first page of an article over several pages: kept until the crawl settles, when its
        other pages have been read too and the whole is versioned (archive/assembly.py)."""
        capture_id = self._capture_row(cap, page["id"], None)
        self.db.execute("INSERT OR REPLACE INTO assemblies (crawl_id, page_id, capture_id, record) VALUES (?, ?, ?, ?)",
                        [cap.crawl_id, page["id"], capture_id,
                         dumps({"record": record.to_dict(), "overrides": cap.overrides})])
        self.update_page(page["id"], kind=record.kind, title=record.title, last_seen=cap.fetched_at,
                         last_status=cap.status, error_streak=0)
        return []

    def _insert_version(self, page_id: int, number: int, h: str, rec: PageRecord, cap: Capture,
                        own: dict | None = None) -> int:
        vid = self.insert("versions", {
            "page_id": page_id, "number": number, "content_hash": h, "kind": rec.kind, "title": rec.title,
            "published": rec.published, "source": rec.source, "index_no": rec.index_no,
            "category": rec.category, "publisher": rec.publisher, "written_on": rec.written_on,
            "doc_no": rec.doc_no, "subject": rec.subject, "body": rec.body, "signed_by": rec.signed_by,
            "signed_on": rec.signed_on, "contact": rec.contact, "attachments": dumps(rec.attachments),
            "items": dumps(rec.items), "links": dumps(rec.links), "charset": rec.charset,
            "file_digest": rec.file_digest, "text_error": rec.text_error,
            "pager": dumps(rec.pager) if rec.pager else None, "annual": dumps(rec.annual) if rec.annual else None,
            "parts": dumps(rec.parts) if rec.parts else None, "own": dumps(own) if own else None,
            "first_seen": cap.fetched_at, "last_seen": cap.fetched_at})
        if rec.kind != "part":  # a part's text is found in its document's version
            index_version(self.db, vid, rec.title, rec.body, attachments_text(rec.attachments))
        return vid


def _live_state(page: dict) -> str:
    return "delisted" if page["state"] == "delisted" else "live"


def _ignore_rules(patterns: list[str] | None) -> list[re.Pattern[str]]:
    return [re.compile(p, re.M) for p in patterns or []]


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
    meta = [k for k in changed if k != "body" and "." not in k]
    if meta:
        parts.append("fields: " + ", ".join(meta))
    cells = [f"{k}: {v['old']} → {v['new']}" for k, v in changed.items() if "." in k]
    if cells:
        parts.append("table cells: " + ", ".join(cells[:6]) + (f" … ({len(cells)} in all)" if len(cells) > 6 else ""))
    if silent:
        parts.append("silent revision (displayed date unchanged)")
    return "; ".join(parts)
