"""The SQLite history database: schema (sqlite-utils migrations), connection, views."""

from __future__ import annotations

import os

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .errors import EmptyArchive
from .paths import DB_NAME, data_dir, warc_dir  # noqa: F401 - re-exported: db.data_dir …

migrations = Migrations("govarchive")


def open_db(data: str | os.PathLike | None = None, create: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the database of a data directory; WAL so readers never block the crawl."""
    root = data_dir(data)
    path = root / DB_NAME
    if not create and not path.exists():
        raise EmptyArchive(f"no archive in {root} (run `govarchive crawl URL --data {root}` first)")
    root.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.conn.execute("PRAGMA busy_timeout=30000")
    db.conn.execute("PRAGMA synchronous=NORMAL")
    db.conn.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)  # an archive made by an older govarchive is brought up to date
    return db


@migrations()
def m001_history(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE sites (
            name TEXT PRIMARY KEY, hosts TEXT, start_urls TEXT, created TEXT
        );
        CREATE TABLE crawls (
            id TEXT PRIMARY KEY, site TEXT, started TEXT, finished TEXT, reason TEXT,
            start_urls TEXT, stats TEXT
        );
        CREATE TABLE pages (
            id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, site TEXT, kind TEXT,
            first_seen TEXT, last_seen TEXT, state TEXT NOT NULL DEFAULT 'new',
            current_version INTEGER, listed INTEGER NOT NULL DEFAULT 0,
            error_streak INTEGER NOT NULL DEFAULT 0, last_status INTEGER, title TEXT
        );
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY, page_id INTEGER NOT NULL REFERENCES pages(id),
            number INTEGER NOT NULL, content_hash TEXT NOT NULL, kind TEXT,
            title TEXT, published TEXT, source TEXT, index_no TEXT, category TEXT, publisher TEXT,
            written_on TEXT, doc_no TEXT, subject TEXT, body TEXT, signed_by TEXT, signed_on TEXT,
            contact TEXT, attachments TEXT, items TEXT, links TEXT, charset TEXT,
            first_seen TEXT, last_seen TEXT, first_capture INTEGER,
            UNIQUE (page_id, number)
        );
        CREATE TABLE captures (
            id INTEGER PRIMARY KEY, page_id INTEGER NOT NULL REFERENCES pages(id), crawl_id TEXT,
            url TEXT NOT NULL, fetched_at TEXT NOT NULL, status INTEGER, error TEXT,
            record_type TEXT, warc_file TEXT, warc_offset INTEGER, warc_length INTEGER,
            record_id TEXT, payload_digest TEXT, etag TEXT, last_modified TEXT,
            content_type TEXT, location TEXT, version_id INTEGER REFERENCES versions(id)
        );
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY, page_id INTEGER NOT NULL REFERENCES pages(id), url TEXT NOT NULL,
            kind TEXT NOT NULL, at TEXT NOT NULL, crawl_id TEXT, from_version INTEGER, to_version INTEGER,
            fields TEXT, silent_revision INTEGER NOT NULL DEFAULT 0, significance REAL,
            summary TEXT, title TEXT
        );
        CREATE INDEX captures_page ON captures(page_id, fetched_at);
        CREATE INDEX captures_digest ON captures(payload_digest);
        CREATE INDEX versions_page ON versions(page_id, number);
        CREATE INDEX versions_hash ON versions(page_id, content_hash);
        CREATE INDEX changes_at ON changes(at);
        CREATE INDEX pages_site ON pages(site, state);
        """
    )


@migrations()
def m002_search(db: sqlite_utils.Database) -> None:
    # Bigrams of each version's text (see archive/search.py). Contentless, and without positions:
    # candidates are verified on the stored text, so the index only has to say which rows and
    # columns hold every bigram of the query. That keeps it near the size of the text.
    db.executescript(
        """
        CREATE VIRTUAL TABLE search_index USING fts5(
            title, body, attachments, content = '', detail = column,
            tokenize = 'unicode61 remove_diacritics 0'
        );
        CREATE INDEX versions_recent ON versions(coalesce(published, first_seen), id);
        """
    )


@migrations()
def m003_views(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE VIEW latest_versions AS
            SELECT p.url, p.site, p.state, v.* FROM pages p JOIN versions v ON v.id = p.current_version;
        CREATE VIEW removed_pages AS
            SELECT p.url, p.site, p.title, c.at AS removed_at FROM pages p
            JOIN changes c ON c.page_id = p.id AND c.kind = 'removed'
            WHERE p.state = 'removed'
              AND c.id = (SELECT max(id) FROM changes WHERE page_id = p.id AND kind = 'removed');
        CREATE VIEW silent_revisions AS
            SELECT c.url, c.title, c.at, c.from_version, c.to_version, c.fields, c.significance
            FROM changes c WHERE c.silent_revision = 1;
        CREATE VIEW changes_per_site_month AS
            SELECT p.site, substr(c.at, 1, 7) AS month, c.kind, count(*) AS n
            FROM changes c JOIN pages p ON p.id = c.page_id GROUP BY 1, 2, 3;
        """
    )


@migrations()
def m004_frontier(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE frontier (
            crawl_id TEXT NOT NULL, url TEXT NOT NULL, depth INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (crawl_id, url)
        );
        CREATE INDEX captures_crawl ON captures(crawl_id, url);
        """
    )


@migrations()
def m005_capture_url_index(db: sqlite_utils.Database) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS captures_url ON captures(url, status)")


@migrations()
def m006_history_truth(db: sqlite_utils.Database) -> None:
    # baseline: events of a site's crawls before its first complete one (what was already there).
    # file_digest/text_error: files versioned on their bytes when their text cannot be read.
    # scope: what the crawl was allowed to fetch (judges out-of-scope redirects on rebuild too).
    # host_probes: how each host answers a URL that cannot exist (archive/soft404.py).
    db.executescript(
        """
        ALTER TABLE changes ADD COLUMN baseline INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE versions ADD COLUMN file_digest TEXT;
        ALTER TABLE versions ADD COLUMN text_error TEXT;
        ALTER TABLE crawls ADD COLUMN scope TEXT;
        CREATE TABLE host_probes (
            host TEXT NOT NULL, crawl_id TEXT, fetched_at TEXT, status INTEGER, location TEXT,
            title TEXT, body TEXT
        );
        CREATE INDEX host_probes_host ON host_probes(host);
        CREATE INDEX changes_crawl ON changes(crawl_id, kind);
        CREATE INDEX captures_version ON captures(url, version_id);
        """
    )


@migrations()
def m007_coverage(db: sqlite_utils.Database) -> None:
    # pager: what a list page declared of its series (pages, items, hints; pipelines/pager.py).
    # coverage: per crawl and list series, what was declared against what was reached.
    db.executescript(
        """
        ALTER TABLE versions ADD COLUMN pager TEXT;
        CREATE TABLE coverage (
            crawl_id TEXT NOT NULL, site TEXT, series TEXT NOT NULL,
            pages_declared INTEGER, pages_fetched INTEGER NOT NULL DEFAULT 0,
            pages_failed INTEGER NOT NULL DEFAULT 0, items_declared INTEGER,
            items_listed INTEGER NOT NULL DEFAULT 0, items_captured INTEGER NOT NULL DEFAULT 0,
            hints TEXT, warnings TEXT, PRIMARY KEY (crawl_id, series)
        );
        """
    )


@migrations()
def m008_annual_reports(db: sqlite_utils.Database) -> None:
    # annual: an annual report read as data (pipelines/annual.py), JSON, on the versions that are one.
    # expected_reports: the reports a site profile expects (`reports`), for `deadlines` and Datasette.
    db.executescript(
        """
        ALTER TABLE versions ADD COLUMN annual TEXT;
        CREATE TABLE expected_reports (
            site TEXT NOT NULL, organ TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (site, organ, kind)
        );
        CREATE VIEW annual_reports AS
            SELECT p.url, p.site, p.state, v.number AS version, v.title,
                   json_extract(v.annual, '$.kind') AS kind, json_extract(v.annual, '$.organ') AS organ,
                   json_extract(v.annual, '$.year') AS year, json_extract(v.annual, '$.deadline.published') AS published,
                   json_extract(v.annual, '$.deadline.due') AS due, json_extract(v.annual, '$.deadline.late_days') AS late_days,
                   (SELECT count(*) FROM json_each(v.annual, '$.checks') WHERE json_extract(value, '$.ok') = 0)
                       AS failing_checks,
                   v.annual
            FROM pages p JOIN versions v ON v.id = p.current_version WHERE v.annual IS NOT NULL;
        """
    )


@migrations()
def m009_changes_by_page(db: sqlite_utils.Database) -> None:
    # The revisit policy reads each page's changes (archive/state.py CHECKS_SQL): without this index
    # each page scanned the whole changes table, quadratic in the size of a site.
    db.execute("CREATE INDEX changes_page ON changes(page_id, kind, at)")


@migrations()
def m010_list_shows_change(db: sqlite_utils.Database) -> None:
    # When a list read by a crawl showed a document with a new date or title (archive/settle.py):
    # the revisit policy checks that document in the next crawl, whenever it would otherwise be due.
    db.execute("ALTER TABLE pages ADD COLUMN list_changed TEXT")


@migrations()
def m011_multipage_documents(db: sqlite_utils.Database) -> None:
    # An article split over several pages is one document (archive/assembly.py): its first page's
    # versions hold the whole text; ``own`` keeps what the first page itself said (body, attachments)
    # and ``parts`` its other pages, in order. ``part_of`` ties page 2… to the first page.
    # assemblies: first pages read in a crawl, waiting for the crawl's end to be versioned whole.
    db.executescript(
        """
        ALTER TABLE versions ADD COLUMN parts TEXT;
        ALTER TABLE versions ADD COLUMN own TEXT;
        ALTER TABLE pages ADD COLUMN part_of INTEGER REFERENCES pages(id);
        CREATE INDEX pages_part_of ON pages(part_of) WHERE part_of IS NOT NULL;
        CREATE TABLE assemblies (
            crawl_id TEXT NOT NULL, page_id INTEGER NOT NULL REFERENCES pages(id),
            capture_id INTEGER NOT NULL REFERENCES captures(id), record TEXT NOT NULL,
            PRIMARY KEY (crawl_id, page_id)
        );
        """
    )


@migrations()
def m012_untrusted_validators(db: sqlite_utils.Database) -> None:
    # Hosts whose 304s cannot be trusted: a page of theirs changed while its ETag (or, without one,
    # its Last-Modified) did not (archive/history.py). Conditional requests to them stop (archive/state.py).
    db.execute("CREATE TABLE untrusted_validators (host TEXT PRIMARY KEY, crawl_id TEXT, at TEXT, url TEXT)")
