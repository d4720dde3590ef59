"""The history against an oracle we did not tune to: a seeded site that evolves like a real one.

tests/simsite.py serves a site that behaves like nginx in front of a static CMS (304s for unchanged
pages and lists, byte-identical files, gzip and chunked answers) and changes it edition by edition
in every way the issue lists, with the ground truth of each edition's events. Every event the
archive reports is compared with it exactly, and the database rebuilt from the WARCs with the live
one, column for column. `make soak` runs the same over 50 seeds × 8 editions.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, cli, cli_json
from .oracle import crawl, profile, rebuild_differences, run
from .simsite import EvolvingSite


@pytest.mark.parametrize("seed", [3, 5, 8])
def test_every_event_true_and_none_missing(seed, tmp_path):
    score, rebuilt = run(seed, editions=4, tmp=tmp_path)
    assert score.ok(), "\n".join(score.details)
    assert sum(score.expected.values()) > 30  # the run exercised something
    assert rebuilt == [], "\n".join(rebuilt)


def test_two_crawls_of_two_sites_share_a_data_directory(tmp_path):
    """What `schedule` does when two profiles' times overlap: neither corrupts the other's WARC."""
    data = tmp_path / "data"
    with EvolvingSite(21, docs=30, host="127.0.0.2") as one, EvolvingSite(22, docs=30, host="127.0.0.3") as two:
        one.latency = two.latency = 0.03
        one.publish_first()
        two.publish_first()
        procs = []
        for name, site in (("one", one), ("two", two)):
            prof = profile(tmp_path, name, site.url, GOVARCHIVE_WARC_MAX_SIZE=30_000)
            procs.append(subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", "--site", str(prof),
                                           "--data", str(data)], cwd=ROOT, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
            time.sleep(1.0)  # the second starts (and looks for files to repair) while the first writes
        outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert not any("repaired" in o[1] for o in outs), outs
    files = sorted((data / "warcs").glob("*.warc.gz"))
    assert len(files) > 4 and not list((data / "warcs").glob("*.open"))  # both rotated several times
    subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)], check=True, capture_output=True)
    db = sqlite3.connect(data / "govarchive.db")
    assert db.execute("SELECT site, reason FROM crawls ORDER BY site").fetchall() == [("one", "finished"),
                                                                                        ("two", "finished")]
    # Rebuilt from the interleaved files of the two crawls: the same rows by their natural keys — a
    # page by its URL, a version by its page's URL and number — not by the row ids, which follow the
    # order the two crawls' captures reached their two writers (the rebuild reads them by date).
    rebuilt = tmp_path / "rebuilt"
    cli("rebuild", "--into", str(rebuilt), data=data)
    natural = {
        "captures": "SELECT c.crawl_id, c.url, c.fetched_at, c.status, c.error, c.record_type, c.warc_file, "
                    "c.warc_offset, c.warc_length, c.record_id, c.payload_digest, c.etag, c.last_modified, "
                    "c.content_type, c.location, v.number FROM captures c LEFT JOIN versions v ON v.id = c.version_id",
        "versions": "SELECT p.url, v.number, v.content_hash, v.first_seen, v.last_seen FROM versions v "
                    "JOIN pages p ON p.id = v.page_id",
        "changes": "SELECT url, kind, at, crawl_id, from_version, to_version, fields, summary, baseline FROM changes",
    }
    for table, sql in natural.items():
        live, again = (sorted(map(str, sqlite3.connect(d / "govarchive.db").execute(sql))) for d in (data, rebuilt))
        assert live == again, table


def test_a_dead_history_writer_stops_the_crawl_with_one_line_and_it_resumes(tmp_path):
    data = tmp_path / "data"
    with EvolvingSite(31, docs=60) as site:
        site.latency = 0.05
        site.publish_first()
        prof = profile(tmp_path, "sim31", site.url)
        proc = subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", "--site", str(prof), "--data", str(data)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and len(site.requests) < 15:
            time.sleep(0.05)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert children, "no ingest process"
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)  # killed, as the kernel's OOM killer would
        out, err = proc.communicate(timeout=60)  # never blocks on the full queue
        assert proc.returncode == 1
        lines = [line for line in err.splitlines() if line.startswith("Error:")]
        assert len(lines) == 1 and "history writer" in lines[0] and "resume" in lines[0], err[-2000:]
        assert not list((data / "warcs").glob("*.open"))
        subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, (data / "warcs").glob("*.warc.gz"))],
                       check=True, capture_output=True)
        again = crawl(prof, data)
        assert again.returncode == 0 and "resuming crawl" in again.stderr, again.stderr[-2000:]
        articles = {site.url.rstrip("/") + d.path for d in site.live()}
    assert articles <= {p["url"] for p in cli_json("pages", "--state", "live", data=data)}
    # The writer held a batch open when it was killed (History.batch): what it had not committed
    # came back from the WARCs, so the history is what a rebuild from them makes.
    assert rebuild_differences(data, tmp_path) == []


def _docx_bomb() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (200 * 1024 * 1024) + b"</w:document>")
    return out.getvalue()


def test_unreadable_attachments_reach_the_history_and_reindex_goes_on(tmp_path):
    from archive.demosite import Resource, SiteServer
    from tests.simsite import BROKEN_PDF

    page = ('<html><head><title>附件测试_某区</title></head><body><h1>附件测试</h1><div id="zoom"><p>正文。</p>'
            '<a href="/f/a.pdf">a.pdf</a> <a href="/f/b.docx">b.docx</a> <a href="/f/c.pdf">c.pdf</a></div></body></html>')
    from archive.demosite.files import _pdf

    routes = {"/": Resource('<a href="/t1.html">附件测试</a>'.encode()), "/t1.html": Resource(page.encode()),
              "/f/a.pdf": Resource(BROKEN_PDF, "application/pdf"),
              "/f/b.docx": Resource(_docx_bomb(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
              "/f/c.pdf": Resource(_pdf(["readable"]), "application/pdf")}
    data = tmp_path / "data"
    with SiteServer(routes) as site:
        proc = cli("crawl", site.url, data=data)
    assert "could not record" not in proc.stderr and "Traceback" not in proc.stderr
    for name, reason in (("a.pdf", "No /Root"), ("b.docx", "zip bomb"), ("c.pdf", None)):
        rec = cli_json("show", f"{site.url}f/{name}", data=data)
        assert rec["kind"] == "attachment" and (reason is None) == (rec["text_error"] is None), rec
        if reason:
            assert reason in rec["text_error"] and rec["file_digest"].startswith("sha1:")
    assert rebuild_differences(data, tmp_path) == []
