"""The govarchive command line: thin wrappers over the library; one clear line per error."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from . import __version__
from . import queries as q
from .db import data_dir, open_db
from .errors import GovArchiveError

DATA_HELP = "Data directory (WARC files and the database). Default ./archive-data or $GOVARCHIVE_DATA."


class _Group(click.Group):
    """Turn library errors into one line on stderr (exit 1), never a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except GovArchiveError as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:
            sys.exit(0)


def data_option(f):  # noqa: ANN001, ANN201
    return click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), default=None,
                        envvar="GOVARCHIVE_DATA", help=DATA_HELP)(f)


def baseline_option(f):  # noqa: ANN001, ANN201
    return click.option("--include-baseline", is_flag=True,
                        help="Also the pages a site's first complete crawl archived (kind 'archived').")(f)


def _db(data: Path | None):  # noqa: ANN202
    return open_db(data_dir(data), create=False)


def _emit_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _emit_csv(rows: list[dict]) -> None:
    if not rows:
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in r.items()})


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govarchive")
def main() -> None:
    """Archive Chinese government disclosure sites; track every version; diff and search them."""


@main.command()
@click.argument("urls", nargs=-1)
@click.option("--site", help="Site profile name (sites/NAME.toml) or path to a profile file.")
@data_option
@click.option("--concurrency", type=click.IntRange(1, 64), help="Requests in flight per host.")
@click.option("--max-pages", type=click.IntRange(1), help="Stop after this many responses.")
@click.option("--notify", "webhook", help="POST the crawl's change events as JSON to this URL when there are any.")
@click.option("--feed", type=click.Path(dir_okay=False, path_type=Path), help="Rewrite this Atom feed after a crawl with changes.")
@baseline_option
def crawl(urls: tuple[str, ...], site: str | None, data: Path | None, concurrency: int | None,
          max_pages: int | None, webhook: str | None, feed: Path | None, include_baseline: bool) -> None:
    """Crawl URLs within their hosts; also recheck every page the archive already knows."""
    from .crawl import run_crawl

    profile = None
    if site:
        from .sites import load_profile

        profile = load_profile(site)
    start = list(urls) or list((profile or {}).get("start_urls") or [])
    summary = run_crawl(data_dir(data), start, site=(profile or {}).get("name") or site,
                        concurrency=concurrency, max_pages=max_pages, profile=profile, user_urls=list(urls))
    for line in summary.lines():
        click.echo(line, err=True)
    webhook = webhook or (profile or {}).get("notify")
    if summary.crawl_id and (webhook or feed):
        from .notify import notify

        sent = notify(data_dir(data), summary.crawl_id, (profile or {}).get("name") or site, webhook, feed,
                      include_baseline=include_baseline)
        if sent:
            click.echo(f"  notified: {sent} events" + (f" to {webhook}" if webhook else "") +
                       (f", feed {feed}" if feed else ""), err=True)
    if summary.fatal:
        raise GovArchiveError(summary.fatal)
    if summary.reason not in ("finished", "closespider_pagecount") or summary.fetched == 0:
        sys.exit(1)


@main.command()
@click.option("--since", help="Only events at or after this date (YYYY-MM-DD or ISO time).")
@click.option("--kind", help="Only this kind (added, changed, removed, restored, delisted …).")
@click.option("--site", help="Only this site.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@baseline_option
@data_option
def changes(since: str | None, kind: str | None, site: str | None, as_json: bool, include_baseline: bool,
            data: Path | None) -> None:
    """List change events, oldest first (a site's baseline left out unless asked)."""
    rows = q.changes(_db(data), since=since, kind=kind, site=site, include_baseline=include_baseline)
    if as_json:
        return _emit_json(rows)
    for r in rows:
        extra = " [silent revision]" if r["silent_revision"] else ""
        fields = f" ({', '.join(r['fields'])})" if r["fields"] and r["kind"] == "changed" else ""
        click.echo(f"{r['at'][:19]}  {r['kind']:<9} {r['title'] or ''}{fields}{extra}\n{'':21}{r['url']}")


@main.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@data_option
def history(url: str, as_json: bool, data: Path | None) -> None:
    """Show every capture and every distinct version of one page."""
    h = q.history(_db(data), url)
    if as_json:
        return _emit_json(h)
    click.echo(f"{h['url']}  ({h['kind'] or 'unknown'}, {h['state']})")
    click.echo("captures:")
    for c in h["captures"]:
        what = c["error"] or c["status"]
        ver = f" v{c['version']}" if c["version"] else ""
        click.echo(f"  {c['fetched_at'][:19]}  {what!s:<6} {c['record_type']:<8}{ver}  {c['warc_file']}")
    click.echo("versions:")
    for v in h["versions"]:
        click.echo(f"  v{v['number']}  {v['first_seen'][:19]} … {v['last_seen'][:19]}  {v['title'] or ''}")
    if h["changes"]:
        click.echo("changes:")
        for e in h["changes"]:
            click.echo(f"  {e['at'][:19]}  {e['kind']:<9} {e['summary'] or ''}")


@main.command()
@click.argument("url")
@click.option("--version", "number", type=int, help="Version number (default: current).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@data_option
def show(url: str, number: int | None, as_json: bool, data: Path | None) -> None:
    """Show the normalised record of a page."""
    rec = q.record(_db(data), url, number)
    if as_json:
        return _emit_json(rec)
    for key in ("url", "version", "title", "published", "source", "index_no", "category", "publisher",
                "written_on", "doc_no", "subject", "signed_by", "signed_on", "contact"):
        if rec.get(key) not in (None, ""):
            click.echo(f"{key:>10}: {rec[key]}")
    for a in rec["attachments"]:
        click.echo(f"{'attachment':>10}: {a['name']} <{a['url']}>")
    click.echo("")
    click.echo(rec["body"] or "")


@main.command()
@click.argument("url")
@click.option("--from", "from_n", type=int, help="Old version number.")
@click.option("--to", "to_n", type=int, help="New version number.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@data_option
def diff(url: str, from_n: int | None, to_n: int | None, fmt: str, data: Path | None) -> None:
    """Diff two versions of a page (default: the last two), sentence- and word-aligned for Chinese."""
    from .diff import format_text

    db = _db(data)
    d = q.diff(db, url, from_n, to_n)
    if fmt == "json":
        return _emit_json(d)
    if fmt == "html":
        from .report import standalone_diff

        return click.echo(standalone_diff(d, q.record(db, url, d["to"])["title"]))
    click.echo(format_text(d, color=sys.stdout.isatty()))


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write the report site into.")
@click.option("--since", help="Only changes at or after this date.")
@click.option("--replay", default="http://127.0.0.1:8080/govarchive", show_default=True,
              help="Base URL of `govarchive replay` for links to captures ('' for none).")
@baseline_option
@data_option
def report(out: Path, since: str | None, replay: str, include_baseline: bool, data: Path | None) -> None:
    """Write a static HTML report of changes (index by site and day, one page per change)."""
    from .report import write_report

    info = write_report(_db(data), out, since=since, replay=replay or None, include_baseline=include_baseline)
    click.echo(f"{info['path']}: {info['changes']} changes", err=True)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .atom file.")
@click.option("--since", help="Only changes at or after this date.")
@baseline_option
@data_option
def feed(out: Path, since: str | None, include_baseline: bool, data: Path | None) -> None:
    """Write an Atom feed of change events (stable ids, readable by any feed reader)."""
    from .feed import write_feed

    n = write_feed(_db(data), out, since=since, include_baseline=include_baseline)
    click.echo(f"{out}: {n} entries", err=True)


@main.command()
@click.argument("query")
@click.option("--site", help="Only this site.")
@click.option("--kind", type=click.Choice(["article", "list", "home", "attachment", "other"]))
@click.option("--since", help="Published (or first seen) on or after this date.")
@click.option("--until", help="Published (or first seen) before this date.")
@click.option("--field", type=click.Choice(["title", "body", "attachments"]))
@click.option("--all-versions", is_flag=True, help="Search every version, not only the latest.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV output.")
@data_option
def search(query: str, site: str | None, kind: str | None, since: str | None, until: str | None,
           field: str | None, all_versions: bool, limit: int, as_json: bool, as_csv: bool,
           data: Path | None) -> None:
    """Full-text search (exact for Chinese words of any length)."""
    from .search import search as run

    rows = run(_db(data), query, limit=limit, site=site, kind=kind, since=since, until=until, field=field,
               all_versions=all_versions)
    if as_json:
        return _emit_json(rows)
    if as_csv:
        return _emit_csv(rows)
    for r in rows:
        gone = "  [removed]" if r["removed"] else ""
        click.echo(f"{r['published'] or '':<16} {r['title'] or ''} (v{r['version']}){gone}\n  {r['url']}\n"
                   f"  {r['snippet']}")


@main.command()
@click.option("--site", help="Only this site.")
@click.option("--kind", type=click.Choice(["article", "list", "home", "attachment", "other"]))
@click.option("--state", type=click.Choice(["live", "removed", "delisted", "redirect", "missing"]))
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV output.")
@data_option
def pages(site: str | None, kind: str | None, state: str | None, as_json: bool, as_csv: bool,
          data: Path | None) -> None:
    """List archived pages with their state and number of versions."""
    rows = q.pages(_db(data), site=site, kind=kind, state=state)
    if as_json:
        return _emit_json(rows)
    if as_csv:
        return _emit_csv(rows)
    for r in rows:
        click.echo(f"{r['state']:<9} {r['kind'] or '-':<10} v{r['current_version'] or 0:<3} {r['title'] or ''}\n"
                   f"{'':24}{r['url']}")


@main.command()
@click.option("--site", help="Only this site.")
@click.option("--crawl", "crawl_id", help="This crawl (default: each site's latest).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@data_option
def coverage(site: str | None, crawl_id: str | None, as_json: bool, data: Path | None) -> None:
    """Per list series: pages declared and fetched, items declared, listed and captured, warnings."""
    from .coverage import report as run

    rows = run(_db(data), site=site, crawl_id=crawl_id)
    if as_json:
        return _emit_json(rows)
    for r in rows:
        declared = f"{r['pages_declared']}" if r["pages_declared"] is not None else "?"
        items = f" of {r['items_declared']} declared" if r["items_declared"] else ""
        failed = f", {r['pages_failed']} failed" if r["pages_failed"] else ""
        via = ", ".join(r["hints"]) or "links"
        click.echo(f"{r['series']}\n  pages {r['pages_fetched']} fetched / {declared} declared{failed}; "
                   f"items {r['items_listed']} listed{items}, {r['items_captured']} captured; via {via}")
        for w in r["warnings"]:
            click.echo(f"  warning: {w}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@data_option
def stats(as_json: bool, data: Path | None) -> None:
    """Counts: pages, versions, captures, changes by kind, WARC bytes, per site."""
    from .api import warc_sizes

    root = data_dir(data)
    s = q.stats(_db(data), warc_sizes(root))
    if as_json:
        return _emit_json(s)
    click.echo(f"{s['pages']} pages, {s['versions']} versions, {s['captures']} captures in {s['crawls']} crawls; "
               f"{s['warc_files']} WARC files, {s['warc_bytes']:,} bytes")
    click.echo("changes: " + ", ".join(f"{k} {v}" for k, v in sorted(s["changes_by_kind"].items())))
    for site, v in s["sites"].items():
        states = ", ".join(f"{k} {n}" for k, n in sorted(v["pages_by_state"].items()))
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(v["changes_by_kind"].items()))
        click.echo(f"  {site}: {v['pages']} pages ({states}), {v['versions']} versions, {v['captures']} captures; "
                   f"changes: {kinds or 'none'}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The URL the file was fetched from (resolves links).")
@click.option("--content-type", help="The Content-Type it was served with.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def extract(file: Path, url: str | None, content_type: str | None, as_json: bool) -> None:
    """Normalise one saved HTML file or attachment (no database)."""
    from pipelines.extract import extract as run

    rec = run(file.read_bytes(), url or file.resolve().as_uri(), content_type).to_dict()
    if as_json:
        return _emit_json(rec)
    for key in ("kind", "title", "published", "source", "index_no", "publisher", "written_on", "doc_no",
                "signed_by", "signed_on", "contact", "charset"):
        if rec.get(key):
            click.echo(f"{key:>10}: {rec[key]}")
    click.echo("")
    click.echo(rec["body"])


@main.command()
@data_option
@click.option("--into", type=click.Path(file_okay=False, path_type=Path),
              help="Write the rebuilt database into this directory instead of replacing the data dir's.")
def reindex(data: Path | None, into: Path | None) -> None:
    """Rebuild the database from the WARC files alone."""
    from .reindex import reindex as run

    counts = run(data_dir(data), into)
    click.echo(f"rebuilt from {counts['records']} records: {counts['captures']} captures in "
               f"{counts['crawls']} crawls", err=True)


@main.command()
@data_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the index (default DATA/index.cdxj).")
def index(data: Path | None, out: Path | None) -> None:
    """Write a CDXJ index of the WARC files, sorted by SURT (what pywb reads)."""
    from .package import write_index

    path = write_index(data_dir(data), out)
    click.echo(str(path))


@main.group()
def export() -> None:
    """Export the archive in a standard package."""


@export.command("wacz")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", help="Only captures at or after this date.")
@click.option("--site", help="Only this site.")
@data_option
def export_wacz(out: Path, since: str | None, site: str | None, data: Path | None) -> None:
    """Write a WACZ 1.1.1 package (WARCs, sorted index, pages.jsonl, datapackage with sha256)."""
    from .package import export_wacz as run

    info = run(data_dir(data), out, since=since, site=site)
    click.echo(f"{info['path']}: {info['pages']} pages from {info['warcs']} WARC files", err=True)


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@data_option
def replay(port: int, data: Path | None) -> None:
    """Serve the archive through pywb on 127.0.0.1 (http://127.0.0.1:PORT/govarchive/)."""
    from .replay import COLLECTION, serve

    proc = serve(data_dir(data), port)
    click.echo(f"replaying at http://127.0.0.1:{port}/{COLLECTION}/ (Ctrl-C to stop)", err=True)
    try:
        sys.exit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()


@main.command()
@click.option("--check", is_flag=True, help="Also fetch each start URL once and report which answer (online).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def sites(check: bool, as_json: bool) -> None:
    """List and validate the site profiles (sites/*.toml, $GOVARCHIVE_SITES)."""
    import tomllib

    from . import sites as profiles

    rows, bad = [], 0
    for path in profiles.profile_files():
        try:
            p = profiles.load_profile(str(path))
            errors = []
        except GovArchiveError as exc:
            p, errors = {"name": path.stem, "path": str(path), "start_urls": []}, [str(exc)]
            try:
                p.update(tomllib.loads(path.read_text("utf-8")))
            except (OSError, tomllib.TOMLDecodeError):
                pass
        bad += bool(errors)
        row = {"name": p.get("name"), "path": str(path), "valid": not errors, "errors": errors,
               "schedule": p.get("schedule"), "start_urls": p.get("start_urls", []),
               "derived": (p.get("derived") or "").strip()}
        if check and not errors:
            row["check"] = [{"url": u, "outcome": o} for u, o in profiles.check(p)]
        rows.append(row)
    if as_json:
        _emit_json(rows)
    else:
        for r in rows:
            state = "ok" if r["valid"] else "INVALID: " + "; ".join(r["errors"])
            click.echo(f"{r['name']:<12} {r['schedule'] or '-':<14} {len(r['start_urls'])} start URLs  {state}\n"
                       f"{'':12} {r['path']}")
            for c in r.get("check", []):
                click.echo(f"{'':14}{c['outcome']:<24} {c['url']}")
    if bad:
        sys.exit(1)


@main.command()
@click.option("--site", "names", multiple=True, help="Profile name or file (repeatable; default: all with a schedule).")
@data_option
@click.option("--jitter", type=float, default=60.0, show_default=True, help="Random delay added to each run (s).")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Log file (default DATA/logs/scheduler.log).")
@click.option("--print-cron", is_flag=True, help="Print crontab lines instead of running.")
@click.option("--print-systemd", is_flag=True, help="Print systemd service and timer units instead of running.")
def schedule(names: tuple[str, ...], data: Path | None, jitter: float, log_file: Path | None, print_cron: bool,
             print_systemd: bool) -> None:
    """Run each site's crawl on its cron schedule until SIGTERM; or print cron/systemd units."""
    import logging
    import shutil
    import signal

    from . import schedule as sched
    from .sites import load_profile, profile_files

    root = data_dir(data)
    if names:
        chosen = [load_profile(n) for n in names]
    else:
        chosen = [p for p in (load_profile(str(f)) for f in profile_files()) if p.get("schedule")]
    if not chosen:
        raise GovArchiveError("no site profile with a schedule (sites/*.toml)")
    exe = shutil.which("govarchive") or f"{sys.executable} -m archive.cli"
    if print_cron:
        return click.echo("\n".join(sched.cron_lines(chosen, root, exe)))
    if print_systemd:
        return click.echo(sched.systemd_units(chosen, root, exe))
    log_path = log_file or root / "logs" / "scheduler.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        handlers=[logging.FileHandler(log_path, encoding="utf-8"), logging.StreamHandler()])
    runner = sched.Scheduler(chosen, root, jitter=jitter)
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.run()


@main.command("demo-site")
@click.option("--edition", type=click.IntRange(1, 3), default=1, show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def demo_site(edition: int, port: int) -> None:
    """Serve the bundled demo site (an edition of it) on 127.0.0.1 until interrupted."""
    from .demosite import DemoSite

    site = DemoSite(edition=edition, port=port)
    click.echo(f"demo site edition {edition} at {site.url} (Ctrl-C to stop)", err=True)
    try:
        site.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.httpd.server_close()


@main.command()
@data_option
def demo(data: Path | None) -> None:
    """Crawl the demo site's edition 1, then edition 2, and show what changed."""
    from .demo import run_demo

    run_demo(data_dir(data) if data else Path("demo-data"))


if __name__ == "__main__":
    main()
