"""An Atom feed of change events, with stable ids (RFC 4151 tag URIs), for any feed reader."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from . import queries as q
from .report import safe_href
from .vocab import EVENT_LABELS

ATOM = "http://www.w3.org/2005/Atom"
TAG_AUTHORITY = "govarchive.invalid,2024"


def entry_id(event: dict) -> str:
    """A stable id: the same event keeps it across feed rebuilds and database reindexing."""
    return f"tag:{TAG_AUTHORITY}:change/{event['kind']}/{event['at']}/{event['url']}"


def _iso(ts: str) -> str:
    return ts[:19] + "Z" if not ts.endswith("Z") or "." in ts else ts


def build_feed(db: sqlite_utils.Database, since: str | None = None, title: str = "govarchive changes",
               limit: int = 500, include_baseline: bool = False) -> bytes:
    """Return the Atom XML of the newest ``limit`` change events (a site's baseline only if asked)."""
    ET.register_namespace("", ATOM)
    events = q.changes(db, since=since, include_baseline=include_baseline)[-limit:][::-1]
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"tag:{TAG_AUTHORITY}:feed/{since or 'all'}"
    updated = _iso(events[0]["at"]) if events else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "govarchive"
    for e in events:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        label = EVENT_LABELS.get(e["kind"], e["kind"])
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"[{label}] {e['title'] or e['url']}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = entry_id(e)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(e["at"])
        if safe_href(e["url"]):
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=e["url"])
        ET.SubElement(entry, f"{{{ATOM}}}category", term=e["kind"])
        parts = [e["summary"] or ""]
        if e["kind"] == "changed":
            parts.append("fields: " + ", ".join(e["fields"]))
            if e["silent_revision"]:
                parts.append("silent revision: the displayed date did not change")
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = "\n".join(p for p in parts if p)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def write_feed(db: sqlite_utils.Database, out: Path, since: str | None = None,
               include_baseline: bool = False) -> int:
    """Write the feed file; return the number of entries."""
    data = build_feed(db, since, include_baseline=include_baseline)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return data.count(b"<entry>")
