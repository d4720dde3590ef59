"""A static HTML change report: archived text is always escaped, never embedded live.

Every page carries a Content-Security-Policy that allows only the report's own script and style
files: even if archived text escaped somewhere, no inline script, event handler or ``javascript:``
URL could run, no ``<base>`` could redirect links and no form could post.
"""

from __future__ import annotations

import shutil
from html import escape
from importlib import resources
from itertools import groupby
from pathlib import Path
from urllib.parse import quote, urlsplit

import sqlite_utils

from . import queries as q
from .vocab import EVENT_LABELS

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")


def safe_href(url: str | None) -> str | None:
    """Return an escaped href for http(s) URLs only; anything else (javascript:, data:) is no link."""
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return None
    return escape(url, quote=True)


def _page(title: str, body: str, depth: int = 0) -> str:
    up = "../" * depth
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="referrer" content="no-referrer">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title><link rel="stylesheet" href="{up}report.css">'
            f'<script src="{up}report.js" defer></script></head><body>{body}</body></html>\n')


def render_ops(ops: list[dict]) -> str:
    """Render diff ops inline: <del> for removed text, <ins> for added text, the rest as is."""
    out = []
    for op in ops:
        old, new = escape(op["old"]), escape(op["new"])
        if op["op"] == "equal":
            out.append(f'<span class="eq">{old}</span>')
        else:
            if old:
                out.append(f"<del>{old}</del>")
            if new:
                out.append(f"<ins>{new}</ins>")
    return "".join(out).replace("\n", "<br>")


def diff_html(diff: dict, title: str | None = None, replay: str | None = None) -> str:
    """The body of a diff page: fields table and inline body diff."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td><del>{escape(str(v['old'] or ''))}</del></td>"
                   f"<td><ins>{escape(str(v['new'] or ''))}</ins></td></tr>" for k, v in diff["fields"].items())
    fields = (f'<table class="fields"><tr><th>field</th><th>old</th><th>new</th></tr>{rows}</table>'
              if rows else "")
    href = safe_href(diff["url"])
    link = f'<a href="{href}" rel="noreferrer nofollow">{escape(diff["url"])}</a>' if href else escape(diff["url"])
    return (f'<h1>{escape(title or diff["url"])}</h1><p class="url">{link}</p>'
            f'<p>version {diff["from"]} → {diff["to"]}</p>{fields}'
            f'<div class="diff">{render_ops(diff["ops"])}</div>')


def standalone_diff(diff: dict, title: str | None = None) -> str:
    """One self-contained HTML page for `govarchive diff --format html` (style inline, no script)."""
    css = resources.files(__package__).joinpath("report_assets/report.css").read_text("utf-8")
    csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}"><title>{escape(title or diff["url"])}</title>'
            f"<style>{css}</style></head><body>{diff_html(diff, title)}</body></html>\n")


def _replay_link(replay: str | None, ts: str | None, url: str, label: str) -> str:
    if not replay or not ts or not safe_href(url):
        return ""
    stamp = "".join(ch for ch in ts if ch.isdigit())[:14]
    return f'<a class="replay" href="{escape(replay.rstrip("/"))}/{stamp}/{escape(quote(url, safe=":/?&=%#"))}">{label}</a>'


def _change_page(db: sqlite_utils.Database, e: dict, replay: str | None) -> str:
    title = e["title"] or e["url"]
    silent = " · <strong>silent revision</strong>" if e["silent_revision"] else ""
    sig = f" · significance {e['significance']:.2f}" if e["significance"] is not None else ""
    head = (f'<p class="nav"><a href="../index.html">← all changes</a></p>'
            f'<p><span class="kind {escape(e["kind"])}">{escape(EVENT_LABELS.get(e["kind"], e["kind"]))}</span> '
            f'{escape(e["at"][:19].replace("T", " "))} · {escape(e["site"] or "")}{silent}{sig}</p>'
            f'<p class="summary">{escape(e["summary"] or "")}</p>')
    caps = {r["number"]: r["first_seen"] for r in db.query(
        "SELECT v.number, v.first_seen FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ?", [e["url"]])}
    links = " ".join(x for x in (
        _replay_link(replay, caps.get(e["from_version"]), e["url"], f"replay version {e['from_version']}"),
        _replay_link(replay, caps.get(e["to_version"]), e["url"], f"replay version {e['to_version']}"),
        _replay_link(replay, e["at"], e["url"], "replay at this time")) if x)
    body = head + (f'<p class="links">{links}</p>' if links else "")
    if e["kind"] in ("changed", "reverted") and e["from_version"] and e["to_version"]:
        d = q.diff(db, e["url"], e["from_version"], e["to_version"])
        body += diff_html(d, title)
    else:
        href = safe_href(e["url"])
        link = f'<a href="{href}" rel="noreferrer nofollow">{escape(e["url"])}</a>' if href else escape(e["url"])
        body += f'<h1>{escape(title)}</h1><p class="url">{link}</p>'
        number = e["to_version"] or e["from_version"]
        if number:
            rec = q.record(db, e["url"], number)
            meta = "".join(f"<tr><th>{k}</th><td>{escape(str(rec[k]))}</td></tr>" for k in
                           ("published", "source", "index_no", "publisher", "written_on", "doc_no") if rec.get(k))
            text = escape(rec["body"] or "").replace("\n", "<br>")
            body += f'<table class="fields">{meta}</table><div class="text">{text}</div>'
    return _page(title, body, depth=1)


def summary_words(counts: dict[str, int]) -> str:
    """'3 added, 1 changed, 2 removed' — the counts of a set of events, in words, fixed order."""
    order = list(EVENT_LABELS)
    parts = [f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: (
        order.index(kv[0]) if kv[0] in order else len(order), kv[0])) if n]
    return ", ".join(parts) if parts else "no changes"


def write_report(db: sqlite_utils.Database, out: Path, since: str | None = None,
                 replay: str | None = "http://127.0.0.1:8080/govarchive", include_baseline: bool = False) -> dict:
    """Write the report site into ``out``: index.html, one page per change, assets."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "changes").mkdir(exist_ok=True)
    assets = resources.files(__package__).joinpath("report_assets")
    for name in ("report.css", "report.js"):
        with resources.as_file(assets.joinpath(name)) as src:
            shutil.copyfile(src, out / name)
    events = list(reversed(q.changes(db, since=since, include_baseline=include_baseline)))
    events.sort(key=lambda e: (e["site"] or "", e["at"][:10]), reverse=True)
    sections = []
    for site, by_site in groupby(events, key=lambda e: e["site"] or ""):
        days = []
        for day, items in groupby(by_site, key=lambda e: e["at"][:10]):
            rows = []
            for e in sorted(items, key=lambda e: e["at"], reverse=True):
                (out / "changes" / f"{e['id']}.html").write_text(_change_page(db, e, replay), encoding="utf-8")
                flag = ' <span class="silent">silent revision</span>' if e["silent_revision"] else ""
                fields = f' <span class="fieldnames">{escape(", ".join(e["fields"]))}</span>' \
                    if e["kind"] == "changed" and e["fields"] else ""
                rows.append(f'<li class="change" data-kind="{escape(e["kind"])}" data-site="{escape(site)}">'
                            f'<span class="time">{escape(e["at"][11:16])}</span> '
                            f'<span class="kind {escape(e["kind"])}">{escape(EVENT_LABELS.get(e["kind"], e["kind"]))}</span> '
                            f'<a href="changes/{e["id"]}.html">{escape(e["title"] or e["url"])}</a>{fields}{flag}</li>')
            days.append(f'<h3>{escape(day)}</h3><ul class="changes">{"".join(rows)}</ul>')
        sections.append(f'<section data-site="{escape(site)}"><h2>{escape(site)}</h2>{"".join(days)}</section>')
    kinds = sorted({e["kind"] for e in events})
    sites = sorted({e["site"] or "" for e in events})
    controls = ('<form class="filters" id="filters">'
                '<label>site <select id="f-site"><option value="">all</option>'
                + "".join(f'<option value="{escape(s)}">{escape(s)}</option>' for s in sites) + "</select></label> "
                '<label>kind <select id="f-kind"><option value="">all</option>'
                + "".join(f'<option value="{escape(k)}">{escape(EVENT_LABELS.get(k, k))}</option>' for k in kinds)
                + '</select></label> <label>text <input id="f-text" type="search"></label></form>')
    summary = summary_words({k: sum(1 for e in events if e["kind"] == k) for k in kinds})
    if not include_baseline:
        n = db.execute("SELECT count(*) FROM changes WHERE baseline = 1").fetchone()[0]
        if n:
            summary += f" (and {n} pages archived by first crawls, not shown)"
    body = (f"<h1>govarchive: changes{f' since {escape(since)}' if since else ''}</h1>"
            f'<p class="counts">{escape(summary)}</p>{controls}'
            + ("".join(sections) or "<p>No changes.</p>"))
    (out / "index.html").write_text(_page("govarchive changes", body), encoding="utf-8")
    return {"changes": len(events), "path": str(out / "index.html")}
