"""Score govarchive's extraction against trafilatura and GNE on pages with known truth; print tables.

Two groups, scored apart: real government pages saved as served, read by hand (tests/data/devset),
and the demo site's articles (fields known from its source; the project's own template, so they
say little). Fields: title exact, published date, body start and end (first / last 40 characters
without whitespace), no boilerplate in the body, the 信息公开 fields where given. A field a peer
does not attempt (trafilatura and GNE read no 索引号) is n/a, not 0%. Speed: pages per second of
CPU time on one core, on the real pages.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.demosite.content import ORGAN, cn_date  # noqa: E402
from archive.demosite.pages import articles, build, doc_path  # noqa: E402
from pipelines.extract import extract  # noqa: E402
from pipelines.normalize import no_space  # noqa: E402

DEV = ROOT / "tests" / "data" / "devset"
BOILERPLATE = ("扫一扫", "ICP备", "公网安备", "网站标识码", "当前位置", "打印本页", "关闭窗口", "访问量",
               "浏览次数", "字号")
META = {"索引号": "index_no", "发文字号": "doc_no", "发文机关": "publisher", "成文日期": "written_on"}


def _norm_date(text: str | None) -> str | None:
    from pipelines.fields import parse_date

    return parse_date(text, with_time=False) if text else None


def cases() -> list[dict]:
    """Return [{name, html, url, content_type, truth}] for every page with known truth."""
    out = []
    manifest = {Path(r["file"]).name: r for r in csv.DictReader(open(DEV / "MANIFEST.tsv", encoding="utf-8"),
                                                                delimiter="\t")}
    for line in (DEV / "truth.jsonl").read_text("utf-8").splitlines()[1:]:
        t = json.loads(line)
        if t["kind"] != "article":
            continue
        name = Path(t["file"]).name
        truth = {"title": t["title"], "published": t["published"], "first": t["body_first_chars"],
                 "last": t["body_last_chars"]}
        for label, field in META.items():
            if t.get("metadata", {}).get(label):
                value = t["metadata"][label]
                truth[field] = _norm_date(value) if field == "written_on" else value
        out.append({"name": name, "html": (DEV / name).read_bytes(), "url": manifest[name]["original_url"].split()[0],
                    "content_type": "text/html", "truth": truth, "held_out": bool(t.get("held_out"))})
    site = build(1)
    for doc in articles(1):
        res = site[doc_path(doc)]
        lines = []
        for p in doc.paragraphs:
            lines.append("".join(p[len("TABLE|"):].replace("|", "\n").split("\n")) if p.startswith("TABLE|") else p)
        lines += [f"{i}.{n}" for i, (n, _) in enumerate(doc.attachments, 1)]
        lines += [ORGAN if doc.column != "tzgg" else "佛山高新区管委会党政办公室", cn_date(doc.written)]
        if doc.contact:
            lines.append(doc.contact)
        body = no_space("".join(lines))
        if doc.legacy_gbk:
            body = no_space("".join(doc.paragraphs) + ORGAN + cn_date(doc.written))
        truth = {"title": doc.title, "published": doc.published[:10], "first": body[:40], "last": body[-40:],
                 "index_no": doc.index_no, "written_on": doc.written}
        out.append({"name": f"demo{doc_path(doc)}", "html": res.body, "url": "http://127.0.0.1:8000" + doc_path(doc),
                    "content_type": res.content_type, "truth": truth})
    return out


def ours(case: dict) -> dict:
    rec = extract(case["html"], case["url"], case["content_type"])
    return {"title": rec.title, "published": (rec.published or "")[:10] or None, "body": rec.body,
            "index_no": rec.index_no, "doc_no": rec.doc_no, "publisher": rec.publisher,
            "written_on": rec.written_on}


def trafilatura_(case: dict) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(case["html"], url=case["url"], with_metadata=True,
                                      include_tables=True, favor_precision=False)
    if doc is None:
        return {"title": None, "published": None, "body": ""}
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return {"title": data.get("title"), "published": (data.get("date") or "")[:10] or None,
            "body": data.get("text") or ""}


def gne_(case: dict) -> dict:
    from gne import GeneralNewsExtractor

    from pipelines.decode import decode_html

    text = decode_html(case["html"], case["content_type"])[0]
    try:
        data = GeneralNewsExtractor().extract(text)
    except Exception:  # noqa: BLE001 - GNE raises on pages it finds no body in: a miss, not a crash
        return {"title": None, "published": None, "body": ""}
    return {"title": data.get("title"), "published": (data.get("publish_time") or "")[:10] or None,
            "body": data.get("content") or ""}


PEERS = {"govarchive": ours, "trafilatura": trafilatura_, "GNE": gne_}
ATTEMPTS = {"trafilatura": {"title", "published", "body start", "body end", "no boilerplate"},
            "GNE": {"title", "published", "body start", "body end", "no boilerplate"}}


def score(result: dict, truth: dict) -> dict[str, bool]:
    body = no_space(result.get("body") or "")
    s = {"title": no_space(result.get("title") or "") == no_space(truth["title"]),
         "published": result.get("published") == truth["published"],
         "body start": body[:40] == truth["first"],
         "body end": body[-40:] == truth["last"],
         "no boilerplate": bool(body) and not any(b in (result.get("body") or "") for b in BOILERPLATE)}
    for field in ("index_no", "doc_no", "publisher", "written_on"):
        if field in truth:
            s[field] = result.get(field) == truth[field]
    return s


def _cell(marks: list[bool] | None) -> str:
    if marks is None:
        return "n/a"
    return f"{100 * sum(marks) / len(marks):.0f}% ({sum(marks)}/{len(marks)})" if marks else "—"


def table(group: list[dict], title: str) -> dict[str, dict[str, list[bool]]]:
    """Score every tool on one group of pages; print the table; return the marks."""
    marks: dict[str, dict[str, list[bool]]] = {name: defaultdict(list) for name in PEERS}
    for name, fn in PEERS.items():
        for c in group:
            r = fn(c)
            for field, ok in score(r, c["truth"]).items():
                if name == "govarchive" or field in ATTEMPTS[name]:
                    marks[name][field].append(ok)
            if name == "govarchive" and "-v" in sys.argv:
                bad = [f for f, ok in score(r, c["truth"]).items() if not ok]
                if bad:
                    print(f"  {c['name']}: {', '.join(bad)}", file=sys.stderr)
    size = sum(len(c["html"]) for c in group) / max(len(group), 1) / 1024
    print(f"\n### {title}: {len(group)} pages, mean {size:.0f} KB\n")
    print("| field | " + " | ".join(PEERS) + " |\n|---|" + "---|" * len(PEERS))
    for f in marks["govarchive"]:
        print(f"| {f} | " + " | ".join(_cell(marks[n].get(f) if f in marks[n] else None) for n in PEERS) + " |")
    total = {n: [ok for v in m.values() for ok in v] for n, m in marks.items()}
    print("| all checks the tool attempts | " + " | ".join(_cell(total[n]) for n in PEERS) + " |")
    return marks


def speed(group: list[dict], rounds: int = 3) -> dict[str, float]:
    """Pages per second of CPU time. Each page is read cold: the URL cache a crawl's pages share
    (their site's navigation links) is emptied before every page, as the pages here repeat."""
    from pipelines.links import clean_url

    out = {}
    for name, fn in PEERS.items():
        fn(group[0])  # warm-up (imports)
        spent = 0.0
        for _ in range(rounds):
            for c in group:
                clean_url.cache_clear()
                start = time.process_time()
                fn(c)
                spent += time.process_time() - start
        out[name] = rounds * len(group) / max(spent, 1e-9)
    return out


def run() -> list[tuple[str, float]]:
    all_cases = cases()
    real = [c for c in all_cases if not c["name"].startswith("demo")]
    demo = [c for c in all_cases if c["name"].startswith("demo")]
    marks = table(real, "Real pages saved as served (tests/data/devset), read by hand")
    held = [c for c in real if c["held_out"]]
    if held:
        kept = [ok for c in held for ok in score(ours(c), c["truth"]).values()]
        print(f"\nheld out (scored, never looked at while writing rules: {', '.join(c['name'][:2] for c in held)}): "
              f"{100 * sum(kept) / len(kept):.0f}% ({sum(kept)}/{len(kept)})")
    table(demo, "Demo site articles (the project's own template: reported apart)")
    rates = speed(real)
    print("\n| pages/s on the real pages (one core, CPU time) | " + " | ".join(f"{rates[n]:.0f}" for n in PEERS) + " |")
    print(f"govarchive / trafilatura: {rates['govarchive'] / rates['trafilatura']:.1f}×, "
          f"govarchive / GNE: {rates['govarchive'] / rates['GNE']:.1f}×")
    ours_marks = marks["govarchive"]
    every = [ok for v in ours_marks.values() for ok in v]
    share = 100 * sum(every) / len(every)
    low = [(f, 100 * sum(v) / len(v)) for f, v in ours_marks.items() if 100 * sum(v) / len(v) < 90]
    print(f"\ngoal: ≥ 97% of all field checks on real pages, no field below 90% — measured {share:.1f}%"
          + (f", below 90%: {', '.join(f'{f} {p:.0f}%' for f, p in low)}" if low else "")
          + (": met" if share >= 97 and not low else ": NOT met"))
    fast = rates["govarchive"] >= 150 and rates["govarchive"] >= 10 * rates["trafilatura"]
    print(f"goal: ≥ 150 pages/s and ≥ 10× trafilatura on real pages — measured {rates['govarchive']:.0f} pages/s, "
          f"{rates['govarchive'] / rates['trafilatura']:.1f}×: " + ("met" if fast else "NOT met"))
    print(f"(only {len(real)} real article pages have hand-read truth: each is "
          f"{100 / max(len(real), 1):.0f}% of a field's score)")
    return [(f, 100 * sum(v) / len(v)) for f, v in ours_marks.items()]


if __name__ == "__main__":
    run()
