"""The govarchive command line: a thin skin over ``archive.Archive``; one clear line per error.

Each command is one library call; ``--json`` (and ``--csv`` where rows are flat) come from one
shared decorator; data goes to stdout, progress and summaries to stderr.
"""

from __future__ import annotations

import csv
import functools
import json
import signal
import sys
from pathlib import Path

import click

from . import __version__
from .api import Archive
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


def pass_archive(f):  # noqa: ANN001, ANN201
    """Add --data and hand the command an Archive of it."""
    @click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), default=None,
                  envvar="GOVARCHIVE_DATA", help=DATA_HELP)
    @functools.wraps(f)
    def wrapper(*args: object, data: Path | None, **kwargs: object):  # noqa: ANN202
        with Archive(data) as archive:
            return f(archive, *args, **kwargs)
    return wrapper


def output(text=None, csv_rows: bool = False):  # noqa: ANN001, ANN201
    """--json (and --csv): the command returns its data; this prints it (``text`` for a terminal)."""
    def decorate(f):  # noqa: ANN001, ANN202
        @functools.wraps(f)
        def wrapper(*args: object, as_json: bool = False, as_csv: bool = False, **kwargs: object):  # noqa: ANN202
            data = f(*args, **kwargs)
            if as_json:
                click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            elif as_csv:
                _emit_csv(data)
            elif text is not None:
                text(data)
        wrapper = click.option("--json", "as_json", is_flag=True, help="JSON output.")(wrapper)
        if csv_rows:
            wrapper = click.option("--csv", "as_csv", is_flag=True, help="CSV output.")(wrapper)
        return wrapper
    return decorate


def _emit_csv(rows: list[dict]) -> None:
    if not rows:
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in r.items()})


def baseline_option(f):  # noqa: ANN001, ANN201
    return click.option("--include-baseline", is_flag=True,
                        help="Also the pages a site's first complete crawl archived (kind 'archived').")(f)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govarchive")
def main() -> None:
    """Archive Chinese government disclosure sites; track every version; diff and search them."""


# -- crawling -------------------------------------------------------------------------------------
@main.command()
@click.argument("urls", nargs=-1)
@click.option("--site", "sites", multiple=True,
              help="Site profile name (sites/NAME.toml) or path to a profile file (several: with --redis).")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Requests in flight per host.")
@click.option("--max-pages", type=click.IntRange(1), help="Stop after this many responses.")
@click.option("--contact", help="URL or mailto: a site operator can reach you at (carried in the User-Agent).")
@click.option("--notify", "webhook", help="POST the crawl's change events as JSON to this URL when there are any.")
@click.option("--feed", type=click.Path(dir_okay=False, path_type=Path), help="Rewrite this Atom feed after a crawl with changes.")
@click.option("--revisit", type=click.Choice(["adaptive", "full"]), envvar="GOVARCHIVE_REVISIT",
              help="Which known pages to check again: those due by their change rate and age (adaptive, the "
                   "default, or the profile's `revisit`), or all of them.")
@click.option("--full", is_flag=True, help="Check every known page again (--revisit full).")
@click.option("--redis", metavar="URL",
              help="Coordinate the crawl(s) through this cluster's workers (govarchive worker); build the history here.")
@click.option("--tsa", metavar="URL", envvar="GOVARCHIVE_TSA",
              help="An RFC 3161 time-stamping authority: stamp the WARC chain's head after the crawl.")
@click.option("--tsa-ca", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The TSA's root certificate (PEM), kept beside the tokens.")
@baseline_option
@pass_archive
def crawl(archive: Archive, urls: tuple[str, ...], sites: tuple[str, ...], concurrency: int | None,
          max_pages: int | None, contact: str | None, webhook: str | None, feed: Path | None, revisit: str | None,
          full: bool, redis: str | None, tsa: str | None, tsa_ca: Path | None, include_baseline: bool) -> None:
    """Crawl URLs within their hosts; also check again the known pages that are due (--full: all)."""
    from .sites import load_profile

    profiles = [load_profile(s) for s in sites]
    if len(profiles) > 1 and not redis:
        raise GovArchiveError("several sites at once need a cluster (--redis URL); here, crawl them one by one")
    if len(profiles) > 1 and urls:
        raise GovArchiveError("give URLs or several --site, not both")
    if redis and max_pages:
        raise GovArchiveError("--max-pages is for a crawl in this process, not through a cluster")
    tsa = tsa or next((p["tsa"] for p in profiles if p.get("tsa")), None)
    revisit = "full" if full else revisit
    if len(profiles) > 1:
        summaries = archive.crawl_cluster(redis, [(list(p["start_urls"]), p, []) for p in profiles],
                                          concurrency=concurrency, contact=contact, tsa=tsa, tsa_ca=tsa_ca,
                                          revisit=revisit)
    else:
        profile = profiles[0] if profiles else None
        start = list(urls) or list((profile or {}).get("start_urls") or [])
        summaries = [archive.crawl(start, redis=redis, site=(profile or {}).get("name"), concurrency=concurrency,
                                   max_pages=max_pages, profile=profile, user_urls=list(urls), contact=contact,
                                   tsa=tsa, tsa_ca=tsa_ca, revisit=revisit)]
    failed = False
    for i, summary in enumerate(summaries):
        profile = profiles[i] if i < len(profiles) else None
        for line in summary.lines():
            click.echo(line, err=True)
        hook = webhook or (profile or {}).get("notify")
        if summary.crawl_id and (hook or feed):
            from .notify import notify

            sent = notify(archive.path, summary.crawl_id, (profile or {}).get("name"), hook, feed,
                          include_baseline=include_baseline)
            if sent:
                click.echo(f"  notified: {sent} events" + (f" to {hook}" if hook else "") +
                           (f", feed {feed}" if feed else ""), err=True)
        if summary.fatal:
            raise GovArchiveError(summary.fatal)
        failed |= summary.reason not in ("finished", "closespider_pagecount") or summary.fetched == 0
    if failed:
        sys.exit(1)


# -- reading --------------------------------------------------------------------------------------
def _changes_text(rows: list[dict]) -> None:
    for r in rows:
        extra = " [silent revision]" if r["silent_revision"] else ""
        fields = f" ({', '.join(r['fields'])})" if r["fields"] and r["kind"] == "changed" else ""
        click.echo(f"{r['at'][:19]}  {r['kind']:<9} {r['title'] or ''}{fields}{extra}\n{'':21}{r['url']}")


@main.command()
@click.option("--since", help="Only events at or after this date (YYYY-MM-DD or ISO time).")
@click.option("--kind", help="Only this kind (added, changed, removed, restored, delisted …).")
@click.option("--site", help="Only this site.")
@baseline_option
@output(_changes_text, csv_rows=True)
@pass_archive
def changes(archive: Archive, since: str | None, kind: str | None, site: str | None, include_baseline: bool) -> list:
    """List change events, oldest first (a site's baseline left out unless asked)."""
    return archive.changes(since=since, kind=kind, site=site, include_baseline=include_baseline)


def _history_text(h: dict) -> None:
    click.echo(f"{h['url']}  ({h['kind'] or 'unknown'}, {h['state']})")
    nxt = h.get("next_check") or {}
    if nxt.get("at"):
        click.echo(f"next check: {nxt['at'][:19]} (every {nxt['every_days']:g} days: {nxt['why']})")
    elif nxt:
        click.echo(f"next check: every crawl ({nxt['why']})")
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
@output(_history_text)
@pass_archive
def history(archive: Archive, url: str) -> dict:
    """Show every capture and every distinct version of one page."""
    return archive.history(url)


def _record_text(rec: dict) -> None:
    from pipelines.record import TEXT_FIELDS

    for key in ("url", "version", *(f for f in TEXT_FIELDS if f != "body"), "text_error"):
        if rec.get(key) not in (None, ""):
            click.echo(f"{key:>10}: {rec[key]}")
    for a in rec.get("attachments", []):
        click.echo(f"{'attachment':>10}: {a['name']} <{a['url']}>")
    for n, part in enumerate(rec.get("parts") or [], 2):
        click.echo(f"{'page ' + str(n):>10}: {part}")
    if rec.get("part_of"):
        click.echo(f"{'part of':>10}: {rec['part_of']}")
    click.echo("")
    click.echo(rec.get("body") or "")


@main.command()
@click.argument("url")
@click.option("--version", "number", type=int, help="Version number (default: current).")
@output(_record_text)
@pass_archive
def show(archive: Archive, url: str, number: int | None) -> dict:
    """Show the normalised record of a page."""
    return archive.show(url, number)


@main.command()
@click.argument("url")
@click.option("--from", "from_n", type=int, help="Old version number.")
@click.option("--to", "to_n", type=int, help="New version number.")
@click.option("--against", "other", metavar="OTHER_URL",
              help="Diff against another document (e.g. last year's report) instead of another version.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@pass_archive
def diff(archive: Archive, url: str, from_n: int | None, to_n: int | None, other: str | None, fmt: str) -> None:
    """Diff two versions of a page (default: the last two), sentence- and word-aligned for Chinese."""
    from .diff import format_text

    if other and (from_n is not None or to_n is not None):
        raise GovArchiveError("--against compares current versions: no --from/--to with it")
    d = archive.diff_documents(url, other) if other else archive.diff(url, from_n, to_n)
    if fmt == "json":
        return click.echo(json.dumps(d, ensure_ascii=False, indent=2))
    if fmt == "html":
        from .report import standalone_diff

        return click.echo(standalone_diff(d, archive.show(url, d["to"])["title"]))
    click.echo(format_text(d, color=sys.stdout.isatty()))


def _search_text(rows: list[dict]) -> None:
    for r in rows:
        gone = "  [removed]" if r["removed"] else ""
        click.echo(f"{r['published'] or '':<16} {r['title'] or ''} (v{r['version']}){gone}\n  {r['url']}\n"
                   f"  {r['snippet']}")


@main.command()
@click.argument("query")
@click.option("--site", help="Only this site.")
@click.option("--kind", type=click.Choice(["article", "list", "home", "attachment", "other"]))
@click.option("--since", help="Published (or first seen) on or after this date.")
@click.option("--until", help="Published (or first seen) before this date.")
@click.option("--field", type=click.Choice(["title", "body", "attachments"]))
@click.option("--all-versions", is_flag=True, help="Search every version, not only the latest.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@output(_search_text, csv_rows=True)
@pass_archive
def search(archive: Archive, query: str, site: str | None, kind: str | None, since: str | None, until: str | None,
           field: str | None, all_versions: bool, limit: int) -> list:
    """Full-text search (exact for Chinese words of any length)."""
    return archive.search(query, limit=limit, site=site, kind=kind, since=since, until=until, field=field,
                          all_versions=all_versions)


def _pages_text(rows: list[dict]) -> None:
    for r in rows:
        click.echo(f"{r['state']:<9} {r['kind'] or '-':<10} v{r['current_version'] or 0:<3} {r['title'] or ''}\n"
                   f"{'':24}{r['url']}")


@main.command()
@click.option("--site", help="Only this site.")
@click.option("--kind", type=click.Choice(["article", "list", "home", "attachment", "other", "sitemap", "resource",
                                           "probe"]))
@click.option("--state", type=click.Choice(["live", "removed", "delisted", "redirect", "missing"]))
@output(_pages_text, csv_rows=True)
@pass_archive
def pages(archive: Archive, site: str | None, kind: str | None, state: str | None) -> list:
    """List archived pages with their state and number of versions."""
    return archive.pages(site=site, kind=kind, state=state)


def _coverage_text(rows: list[dict]) -> None:
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
@click.option("--site", help="Only this site.")
@click.option("--crawl", "crawl_id", help="This crawl (default: each site's latest).")
@output(_coverage_text, csv_rows=True)
@pass_archive
def coverage(archive: Archive, site: str | None, crawl_id: str | None) -> list:
    """Per list series: pages declared and fetched, items declared, listed and captured, warnings."""
    return archive.coverage(site=site, crawl_id=crawl_id)


def _stats_text(s: dict) -> None:
    click.echo(f"{s['pages']} pages, {s['versions']} versions, {s['captures']} captures in {s['crawls']} crawls; "
               f"{s['warc_files']} WARC files, {s['warc_bytes']:,} bytes")
    click.echo("changes: " + ", ".join(f"{k} {v}" for k, v in sorted(s["changes_by_kind"].items())))
    for site, v in s["sites"].items():
        states = ", ".join(f"{k} {n}" for k, n in sorted(v["pages_by_state"].items()))
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(v["changes_by_kind"].items()))
        click.echo(f"  {site}: {v['pages']} pages ({states}), {v['versions']} versions, {v['captures']} captures; "
                   f"changes: {kinds or 'none'}")


@main.command()
@output(_stats_text)
@pass_archive
def stats(archive: Archive) -> dict:
    """Counts: pages, versions, captures, changes by kind, WARC bytes, per site."""
    return archive.stats()


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The URL the file was fetched from (resolves links).")
@click.option("--content-type", help="The Content-Type it was served with.")
@output(_record_text)
def extract(file: Path, url: str | None, content_type: str | None) -> dict:
    """Normalise one saved HTML file or attachment (no database)."""
    from pipelines.extract import extract as run

    return run(file.read_bytes(), url or file.resolve().as_uri(), content_type).to_dict()


# -- writing what others read ------------------------------------------------------------------------
@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write the report site into.")
@click.option("--since", help="Only changes at or after this date.")
@click.option("--replay", default="http://127.0.0.1:8080/govarchive", show_default=True,
              help="Base URL of `govarchive replay` for links to captures ('' for none).")
@baseline_option
@pass_archive
def report(archive: Archive, out: Path, since: str | None, replay: str, include_baseline: bool) -> None:
    """Write a static HTML report of changes (index by site and day, one page per change)."""
    info = archive.report(out, since=since, replay=replay or None, include_baseline=include_baseline)
    click.echo(f"{info['path']}: {info['changes']} changes", err=True)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .atom file.")
@click.option("--since", help="Only changes at or after this date.")
@baseline_option
@pass_archive
def feed(archive: Archive, out: Path, since: str | None, include_baseline: bool) -> None:
    """Write an Atom feed of change events (stable ids, readable by any feed reader)."""
    n = archive.feed(out, since=since, include_baseline=include_baseline)
    click.echo(f"{out}: {n} entries", err=True)


@main.command()
@click.option("--into", type=click.Path(file_okay=False, path_type=Path),
              help="Write the rebuilt database into this directory instead of replacing the data dir's.")
@pass_archive
def rebuild(archive: Archive, into: Path | None) -> None:
    """Rebuild the database from the WARC files alone (they are the record of truth)."""
    counts = archive.rebuild(into)
    click.echo(f"rebuilt from {counts['records']} records: {counts['captures']} captures in "
               f"{counts['crawls']} crawls", err=True)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the index (default DATA/index.cdxj).")
@pass_archive
def cdx(archive: Archive, out: Path | None) -> None:
    """Write a CDXJ index of the WARC files, sorted by SURT (what pywb reads)."""
    click.echo(str(archive.cdx(out)))


def _alias(name: str, command: click.Command) -> click.Command:
    """An old name kept for one release: the same command, which says what it is now called."""
    @click.pass_context
    def run(ctx: click.Context, **kwargs: object) -> None:
        click.echo(f"`govarchive {name}` is now `govarchive {command.name}`; the old name goes in the next release",
                   err=True)
        ctx.invoke(command, **kwargs)

    return click.Command(name, params=command.params, callback=run, hidden=True,
                         help=f"Old name of `{command.name}`.")


main.add_command(_alias("reindex", rebuild))
main.add_command(_alias("index", cdx))


@main.group()
def export() -> None:
    """Export the archive in a standard package."""


@export.command("wacz")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", help="Only captures at or after this date.")
@click.option("--site", help="Only this site.")
@click.option("--sign", is_flag=True, help="Sign the package (WACZ signing 0.1.0, anonymous ECDSA).")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path),
              help="The private key (PEM) to sign with (default: the data directory's own, keys/signing.pem).")
@pass_archive
def export_wacz(archive: Archive, out: Path, since: str | None, site: str | None, sign: bool, key: Path | None) -> None:
    """Write a WACZ 1.1.1 package (WARCs, sorted index, pages.jsonl, datapackage with sha256)."""
    if key and not sign:
        raise GovArchiveError("--key is for --sign")
    info = archive.export_wacz(out, since=since, site=site, sign=sign, key=key)
    click.echo(f"{info['path']}: {info['pages']} pages from {info['warcs']} WARC files", err=True)
    if sign:
        click.echo(f"signed; public key {info['signed_by']}", err=True)


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def keygen(out: Path) -> None:
    """Make an ECDSA signing key (PEM, mode 0600) for `export wacz --sign --key`; print its public key."""
    from .signing import keygen as make

    click.echo(make(out))


@main.command()
@click.argument("wacz", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="GOVARCHIVE_DATA", help=DATA_HELP)
@click.option("--tsa-ca", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The time-stamping authority's root certificate(s), PEM, to check the chain's tokens against.")
@click.option("--public-key", help="For a WACZ: the signer's public key (base64) it must be signed with.")
def verify(wacz: Path | None, data: Path | None, tsa_ca: Path | None, public_key: str | None) -> None:
    """Check, offline, that nothing changed after it was closed: the WARC chain, every file's hash,
    every record's digests and the timestamps (a data directory), or a signed WACZ. Exit 1 and one
    line per failure otherwise."""
    if wacz is not None:
        from .signing import verify_wacz

        if not wacz.exists():
            raise GovArchiveError(f"no such file: {wacz}")
        failures, held = verify_wacz(wacz, public_key)
    else:
        from .verify import verify_data

        with Archive(data) as archive:
            verdict = verify_data(archive.path, tsa_ca)
        failures, held = verdict.failures, verdict.held
    for line in failures:
        click.echo(line, err=True)
    if failures:
        sys.exit(1)
    for line in held:
        click.echo(f"ok: {line}")


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@pass_archive
def replay(archive: Archive, port: int) -> None:
    """Serve the archive through pywb on 127.0.0.1 (http://127.0.0.1:PORT/govarchive/)."""
    from .replay import COLLECTION

    proc = archive.replay(port)
    click.echo(f"replaying at http://127.0.0.1:{port}/{COLLECTION}/ (Ctrl-C to stop)", err=True)

    def stop(signum: int, frame: object) -> None:  # SIGTERM (systemd, kill) ends pywb too, as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        sys.exit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()


# -- sites and schedules -------------------------------------------------------------------------
def _sites_text(rows: list[dict]) -> None:
    for r in rows:
        state = "ok" if r["valid"] else "INVALID: " + "; ".join(r["errors"])
        click.echo(f"{r['name']:<12} {r['schedule'] or '-':<14} {len(r['start_urls'])} start URLs  {state}\n"
                   f"{'':12} {r['path']}")
        for c in r.get("check", []):
            click.echo(f"{'':14}{c['outcome']:<24} {c['url']}")


@main.command()
@click.option("--check", is_flag=True, help="Also fetch each start URL once and report which answer (online).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def sites(check: bool, as_json: bool) -> None:
    """List and validate the site profiles (shipped, ./sites, $GOVARCHIVE_SITES)."""
    from .sites import report as profiles

    rows = profiles(check)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _sites_text(rows)
    if any(not r["valid"] for r in rows):
        sys.exit(1)


@main.command()
@click.option("--site", "names", multiple=True, help="Profile name or file (repeatable; default: all with a schedule).")
@click.option("--jitter", type=float, default=60.0, show_default=True, help="Random delay added to each run (s).")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Log file (default DATA/logs/scheduler.log).")
@click.option("--print-cron", is_flag=True, help="Print crontab lines instead of running.")
@click.option("--print-systemd", is_flag=True, help="Print systemd service and timer units instead of running.")
@click.option("--redis", metavar="URL", help="Run each crawl through this cluster (govarchive crawl --redis).")
@pass_archive
def schedule(archive: Archive, names: tuple[str, ...], jitter: float, log_file: Path | None, print_cron: bool,
             print_systemd: bool, redis: str | None) -> None:
    """Run each site's crawl on its cron schedule until SIGTERM; or print cron/systemd units."""
    import logging
    import signal

    from . import schedule as sched
    from .sites import load_profile, profile_files

    root = archive.path
    if names:
        chosen = [load_profile(n) for n in names]
    else:
        chosen = [p for p in (load_profile(str(f)) for f in profile_files()) if p.get("schedule")]
    if not chosen:
        raise GovArchiveError("no site profile with a schedule (sites/*.toml)")
    exe = invoked_as()
    if print_cron:
        return click.echo("\n".join(sched.cron_lines(chosen, root, exe, redis)))
    if print_systemd:
        return click.echo(sched.systemd_units(chosen, root, exe, redis))
    if redis:
        from .cluster import Cluster

        Cluster(redis)  # unreachable: one line now, not at the first crawl
    log_path = log_file or root / "logs" / "scheduler.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        handlers=[logging.FileHandler(log_path, encoding="utf-8"), logging.StreamHandler()])
    runner = sched.Scheduler(chosen, root, jitter=jitter, redis=redis)
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.run()


# -- annual reports -------------------------------------------------------------------------------
def _annual_text(rows: list[dict]) -> None:
    for r in rows:
        late = f"late {r['late_days']} days" if r["late_days"] else ("on time" if r["late_days"] == 0 else "date unknown")
        reuse = f", {r['reused_share']:.0%} of sentences from {r['year'] - 1}" if r["reused_share"] is not None else ""
        flag = "  [REUSED]" if r["reused_flag"] else ""
        click.echo(f"{r['year'] or '?'} {r['kind']:<11} {r['organ'] or '?'}  published {r['published'] or '?'} "
                   f"(due {r['due'] or '?'}, {late}){reuse}{flag}\n  {r['url']}")
        if r["reason"]:
            click.echo(f"  tables: none ({r['reason']})")
        for f in r["failing_checks"]:
            click.echo(f"  check failed: {f}")


@main.command()
@click.option("--site", help="Only this site.")
@click.option("--year", type=int, help="Only reports covering this year.")
@click.option("--failing", is_flag=True, help="Only reports whose identities or prose figures do not hold.")
@output(_annual_text, csv_rows=True)
@pass_archive
def annual(archive: Archive, site: str | None, year: int | None, failing: bool) -> list[dict]:
    """Annual reports as data: one row per report with every number, its checks, deadline and reuse."""
    return archive.annual(site=site, year=year, failing=failing)


def _deadlines_text(rows: list[dict]) -> None:
    for r in rows:
        cells = ", ".join(f"{k}: {v['old']} → {v['new']}" for k, v in list(r["changed_cells"].items())[:5])
        click.echo(f"{r['site']:<14} {r['kind']:<11} {r['organ']}  {r['status']}"
                   + (f" ({r['late_days']} days)" if r["late_days"] else "")
                   + f"  due {r['due']}" + (f", published {r['published']}" if r["published"] else "")
                   + (f"\n  changed cells: {cells}" if cells else "") + (f"\n  {r['url']}" if r["url"] else ""))


@main.command()
@click.option("--year", type=int, required=True, help="The year the reports cover.")
@click.option("--site", help="Only this site's profile.")
@output(_deadlines_text)
@pass_archive
def deadlines(archive: Archive, year: int, site: str | None) -> list[dict]:
    """Per site profile (`reports`): which reports for YEAR came on time, late, not at all, or changed later."""
    from .sites import load_profile, profile_files

    profiles = [load_profile(site)] if site else [load_profile(str(f)) for f in profile_files()]
    profiles = [p for p in profiles if p.get("reports")]
    if not profiles:
        raise GovArchiveError("no site profile lists the reports it expects (`reports = {ogi = [...]}`)")
    return archive.deadlines(profiles, year)


# -- a cluster ----------------------------------------------------------------------------------------
REDIS_HELP = "The cluster's Redis (redis://host:6379/0)."


@main.command()
@click.option("--redis", required=True, metavar="URL", help=REDIS_HELP)
@click.option("--concurrency", type=click.IntRange(1, 256), default=4, show_default=True,
              help="Requests in flight in this worker (each host's limit is its crawl's, across the cluster).")
@click.option("--name", help="This worker's name, unique in the cluster (default: the machine's name).")
@click.option("--contact", help="URL or mailto: a site operator can reach you at (carried in the User-Agent).")
@click.option("--lease-ttl", type=click.FloatRange(1), default=30, show_default=True,
              help="Seconds before a dead worker's requests go to other workers (a live worker renews its own).")
@click.option("--print-systemd", is_flag=True, help="Print a systemd unit running this worker instead of running.")
@pass_archive
def worker(archive: Archive, redis: str, concurrency: int, name: str | None, contact: str | None, lease_ttl: float,
           print_systemd: bool) -> None:
    """Fetch for a cluster until SIGTERM, writing WARC files into --data (shared storage)."""
    if print_systemd:
        from .schedule import worker_unit

        return click.echo(worker_unit(invoked_as(), archive.path, redis, concurrency, name, contact))
    def started(resolved: str) -> None:  # Redis reached, the name free: only now is the worker said to run
        click.echo(f"worker {resolved}: fetching for {redis}, writing to {archive.path} (SIGTERM stops it)", err=True)

    stats = archive.work(redis, name=name, concurrency=concurrency, contact=contact,
                         extra={"GOVARCHIVE_LEASE_TTL": lease_ttl}, started=started)
    click.echo(f"worker stopped: {stats.get('response_received_count', 0)} responses", err=True)


def _workers_text(rows: list[dict]) -> None:
    import time

    if not rows:
        click.echo("no live workers", err=True)
    for w in rows:
        files = ", ".join(sorted(w["open"])) or "-"
        click.echo(f"{w['name']:<20} {w['host']}:{w['pid']:<8} seen {time.time() - w['seen']:4.1f}s ago  "
                   f"in flight {w['inflight']:<3} leases {w['leases']:<3} done {w['done']:<7} open crawls {files}")


@main.command()
@click.option("--redis", required=True, metavar="URL", help=REDIS_HELP)
@output(_workers_text, csv_rows=True)
def workers(redis: str) -> list[dict]:
    """A cluster's live workers: in-flight and done counts, leases held, crawls with open files."""
    return Archive.workers(redis)


def invoked_as() -> str:
    """The command as the user invoked it: `govarchive` when that is what the PATH finds, else
    the path typed (`.venv/bin/govarchive`), else `python -m archive.cli`."""
    import os
    import shutil

    argv0 = sys.argv[0] if sys.argv else ""
    name = os.path.basename(argv0)
    if name == "govarchive":
        on_path = shutil.which("govarchive")
        if on_path and os.path.realpath(on_path) == os.path.realpath(argv0):
            return "govarchive"
        return argv0
    return f"{sys.executable} -m archive.cli"


# -- the demo ---------------------------------------------------------------------------------------
@main.command("demo-site")
@click.option("--edition", type=click.IntRange(1, 3), default=1, show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def demo_site(edition: int, port: int) -> None:
    """Serve the bundled demo site (an edition of it) on 127.0.0.1 until interrupted."""
    from .demosite import DemoSite

    site = DemoSite(edition=edition, port=port)
    click.echo(f"demo site edition {edition} at {site.url} (Ctrl-C to stop)", err=True)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Interrupted whatever the parent left: a process started in the background of a script (nohup
    # …&, make under one) inherits SIGINT ignored, and Python keeps it so — Ctrl-C did nothing.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        site.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.httpd.server_close()


@main.command()
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory for the demo (default ./demo-data; replaced on each run).")
def demo(data: Path | None) -> None:
    """Crawl the demo site's edition 1, then edition 2, and show what changed."""
    from .demo import run_demo

    run_demo(data or Path("demo-data"), invoked_as())


if __name__ == "__main__":
    main()
