"""The normalised page record and its content hash."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from .normalize import apply_ignore, canonical_url

# Fields that define a version: a change in any of them is a change of the document.
CONTENT_FIELDS = ("title", "published", "source", "index_no", "category", "publisher",
                  "written_on", "doc_no", "subject", "body", "signed_by", "signed_on",
                  "contact", "attachments", "file_digest")
# The text fields of a record (what `show` prints), and the fields beside the body (what a
# metadata change touches).
TEXT_FIELDS = tuple(f for f in CONTENT_FIELDS if f not in ("attachments", "file_digest"))
META_FIELDS = tuple(f for f in CONTENT_FIELDS if f not in ("body", "file_digest"))


@dataclass
class PageRecord:
    """What the pipelines understand of one fetched page or attachment."""

    url: str
    kind: str = "other"
    title: str | None = None
    published: str | None = None
    source: str | None = None
    index_no: str | None = None
    category: str | None = None
    publisher: str | None = None
    written_on: str | None = None
    doc_no: str | None = None
    subject: str | None = None
    body: str = ""
    signed_by: str | None = None
    signed_on: str | None = None
    contact: str | None = None
    attachments: list[dict] = field(default_factory=list)
    charset: str | None = None
    items: list[dict] = field(default_factory=list)
    pagination: list[str] = field(default_factory=list)
    # An article split over several pages: on its first page, the others (stem_2.html …) in order;
    # on one of the others (kind "part"), the first page, whose document its text is part of.
    parts: list[str] = field(default_factory=list)
    part_of: str | None = None
    links: list[str] = field(default_factory=list)
    soft_404: bool = False
    # What answered 200 in the page's place (pipelines/standins.py): {"what": wall|server_error|empty, "why"}.
    stand_in: dict | None = None
    refresh_to: str | None = None
    # A file with no text we can read (broken, encrypted, scanned, a zip bomb) is versioned on its
    # bytes: ``file_digest`` is their sha1, ``text_error`` says why the text could not be read.
    file_digest: str | None = None
    text_error: str | None = None
    # What a list page says of its series (pipelines/pager.py): declared pages and items, hints.
    pager: dict | None = None
    # An annual report read as data (pipelines/annual.py): kind, organ, year, tables, checks, deadline.
    annual: dict | None = None

    def to_dict(self) -> dict:
        """Return the record as plain JSON-ready data."""
        return asdict(self)

    def content(self, ignore: list[re.Pattern[str]] | None = None) -> dict:
        """Return only the fields that define a version (noise-free content).

        ``ignore``: a site profile's rules for text that still flickers; removed before hashing.
        """
        data = {name: getattr(self, name) for name in CONTENT_FIELDS}
        if data["file_digest"] is None:
            del data["file_digest"]  # absent, not null: the hashes of pages stay what they were
        data["attachments"] = [{"name": a.get("name"), "url": canonical_url(a["url"]) if a.get("url") else None}
                               for a in self.attachments]
        if self.kind == "list":
            # A list page's version is its items — where each leads included: a document that moved
            # keeps its title and date — and the text around them is layout.
            data["body"] = "\n".join(f"{i['title']}\t{i.get('date') or ''}\t{canonical_url(i['url'])}"
                                     for i in self.items)
        if ignore:
            for name in ("title", "body", "source", "contact"):
                if data.get(name):
                    data[name] = apply_ignore(data[name], ignore) or None
        return data


def content_hash(content: dict) -> str:
    """Hash a record's content fields stably (sorted keys, UTF-8)."""
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def stored_content(row: dict) -> dict:
    """The content dict of a stored version (a database row: attachments as JSON text), exactly as
    ``PageRecord.content`` made it when the version was hashed."""
    data = {name: row.get(name) for name in CONTENT_FIELDS}
    attachments = row.get("attachments")
    attachments = json.loads(attachments or "[]") if isinstance(attachments, str) else attachments or []
    data["attachments"] = [{"name": a.get("name"), "url": canonical_url(a["url"]) if a.get("url") else None}
                           for a in attachments]
    if data["file_digest"] is None:
        del data["file_digest"]
    return data
