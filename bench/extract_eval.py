"""Score govarchive's extraction against trafilatura on pages with known truth; print a table.

Truth: tests/data/devset (real government pages, read by hand) and every article of the demo site
(fields known from its source). Fields: title exact, published date, body start and end (first /
last 40 characters without whitespace), no boilerplate in the body, metadata fields where given.
Also pages per second for both, on one core.
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
                    "content_type": "text/html", "truth": truth})
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


def score(result: dict, truth: dict) -> dict[str, bool]:
    body = no_space(result.get("body") or "")
    s = {"title": (result.get("title") or "") == truth["title"],
         "published": result.get("published") == truth["published"],
         "body start": body[:40] == truth["first"],
         "body end": body[-40:] == truth["last"],
         "no boilerplate": bool(body) and not any(b in (result.get("body") or "") for b in BOILERPLATE)}
    for field in ("index_no", "doc_no", "publisher", "written_on"):
        if field in truth:
            s[field] = result.get(field) == truth[field]
    return s


def run() -> list[tuple[str, float, float]]:
    all_cases = cases()
    table = []
    totals: dict[str, dict[str, list[bool]]] = {"govarchive": defaultdict(list), "trafilatura": defaultdict(list)}
    speed = {}
    for name, fn in (("govarchive", ours), ("trafilatura", trafilatura_)):
        fn(all_cases[0])  # warm-up (imports, jieba-free)
        start = time.process_time()
        results = [fn(c) for c in all_cases]
        speed[name] = len(all_cases) / max(time.process_time() - start, 1e-9)
        for c, r in zip(all_cases, results, strict=True):
            for field, ok in score(r, c["truth"]).items():
                totals[name][field].append(ok)
            if name == "govarchive" and "-v" in sys.argv:
                bad = [f for f, ok in score(r, c["truth"]).items() if not ok]
                if bad:
                    print(f"  {c['name']}: {', '.join(bad)}", file=sys.stderr)
    fields = list(totals["govarchive"])
    print(f"{len(all_cases)} pages ({sum(1 for c in all_cases if not c['name'].startswith('demo'))} real "
          f"government pages, the rest from the demo site)\n")
    print("| field | govarchive | trafilatura |\n|---|---|---|")
    for f in fields:
        a = totals["govarchive"][f]
        b = totals["trafilatura"].get(f) or [False] * len(a)
        pa, pb = 100 * sum(a) / len(a), 100 * sum(b) / len(b)
        table.append((f, pa, pb))
        print(f"| {f} | {pa:.0f}% ({sum(a)}/{len(a)}) | {pb:.0f}% ({sum(b)}/{len(b)}) |")
    print(f"| pages/s, all pages (one core, CPU time) | {speed['govarchive']:.0f} | {speed['trafilatura']:.0f} |")
    typical = [c for c in all_cases if c["name"].startswith("demo")]
    for name, fn in (("govarchive", ours), ("trafilatura", trafilatura_)):
        start = time.process_time()
        for c in typical * 3:
            fn(c)
        speed[name] = 3 * len(typical) / max(time.process_time() - start, 1e-9)
    print(f"| pages/s, typical article pages (15 KB) | {speed['govarchive']:.0f} | {speed['trafilatura']:.0f} |")
    return table


if __name__ == "__main__":
    rows = run()
    fails = [f for f, a, b in rows if a < 95 or a < b]
    if fails:
        print(f"\nbelow target (>= 95% and ahead of trafilatura): {', '.join(fails)}")
