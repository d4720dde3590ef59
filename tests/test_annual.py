"""Annual reports as data, against hand-read truth (tests/data/annual/truth.jsonl: two real Shanghai
reports in the 2019 format), and on a crawled 年度报告 column: `annual`, `deadlines`, cell-level
diffs, year-over-year reuse, Datasette's canned queries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.annual import read_report

from .annualsite import DEPT, GOV, AnnualSite
from .conftest import cli, cli_json

DATA = Path(__file__).parent / "data" / "annual"
TRUTH = {json.loads(line)["file"]: json.loads(line) for line in (DATA / "truth.jsonl").read_text("utf-8").splitlines()}


def failing(report: dict) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in report["checks"] if not c["ok"]}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_every_number_of_the_three_tables_as_read_by_hand(name):
    truth = TRUTH[name]
    report = read_report((DATA / name).read_text("utf-8"))
    assert (report["kind"], report["year"], report["format"]) == ("ogi", truth["year"], "2019")
    assert truth["organ"].startswith(report["organ"])
    for part in ("active", "requests", "review_litigation"):
        want = {k: v for k, v in truth["annual"][part].items() if k != "columns"}
        assert report[part] == want, part
    assert report["deadline"]["published"] == truth["published"] and report["deadline"]["late_days"] == 0


def test_r1_reports_its_blank_totals_and_the_prose_that_disagrees():
    report = read_report((DATA / "R1_shanghai_2019_ogi_annual_report_2019format.html").read_text("utf-8"))
    bad = failing(report)
    # The column identity holds in every column (blank counted as nothing), so it is not reported.
    assert not any(name.startswith("一+二") for name in bad)
    assert "总计 left blank in granted" in bad["每行总计 = 各申请人之和"]
    assert bad["正文「予以公开及部分公开258件」与表三"] == "text 258, table 275"
    assert bad["正文「无法提供265件」与表三"] == "text 265, table 337"
    assert "正文「均获维持」与表四" in bad  # the text says all upheld; the table has cases pending
    ok = {c["name"] for c in report["checks"] if c["ok"]}
    assert {"正文「不予公开35件」与表三", "正文「不予处理158件」与表三", "review 总计 = 各结果之和"} <= ok
    assert report["deadline"] == {"due": "2020-01-31", "published": "2020-01-31", "late_days": 0}  # a 办公厅: Jan 31


def test_r2_reports_the_five_columns_that_do_not_add_up():
    report = read_report((DATA / "R2_shanghai_2020_ogi_annual_report_2019format.html").read_text("utf-8"))
    bad = failing(report)
    columns = {re.search(r"\[(\w+)\]", n).group(1) for n in bad if n.startswith("一+二")}
    assert columns == {"natural_person", "commercial", "research", "public_interest", "legal_service"}
    assert bad["一+二=三（七）+四 [natural_person]"] == "28281 ≠ 28214 (+67)"
    assert bad["每行总计 = 各申请人之和"] == "new: 29126 ≠ 29130"
    assert report["deadline"]["due"] == "2021-03-31"  # a government: March 31
    assert not any("正文" in n for n in bad)  # its prose agrees with its 总计 column


def test_one_altered_total_fails_the_right_identity():
    html = (DATA / "R1_shanghai_2019_ogi_annual_report_2019format.html").read_text("utf-8")
    altered = html.replace('<p align="center">805</p>', '<p align="center">806</p>', 1)
    assert altered != html
    before, after = failing(read_report(html)), failing(read_report(altered))
    assert set(after) - set(before) == {"一+二=三（七）+四 [total]"}
    assert after["一+二=三（七）+四 [total]"] == "877 ≠ 878 (-1)"


def test_a_report_that_is_only_an_image_says_so():
    html = "<p>2023年某某县人民政府政府信息公开工作年度报告</p><p><img src='ndbg2023.jpg'></p>"
    report = read_report(html)
    assert report["tables"] is None and "image" in report["reason"]
    assert report["checks"] == [] and report["deadline"]["due"] == "2024-03-31"


def test_extract_carries_the_report(tmp_path):
    out = cli_json("extract", str(DATA / "R2_shanghai_2020_ogi_annual_report_2019format.html"))
    assert out["annual"]["requests"]["new"]["total"] == 29130
    assert out["annual"]["review_litigation"]["litigation_after_review"]["total"] == 289


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("annual")
    data = tmp / "data"
    with AnnualSite(edition=1) as site:
        profile = site.profile(tmp)
        cli("crawl", "--site", str(profile), data=data)
        site.set_edition(2)
        cli("crawl", "--site", str(profile), data=data)
        yield data, profile, site.url


def test_annual_lists_every_report_with_its_numbers_and_reuse(crawled):
    data, _, base = crawled
    rows = {(r["organ"], r["kind"], r["year"]): r for r in cli_json("annual", data=data)}
    assert set(rows) == {(GOV, "ogi", 2021), (GOV, "ogi", 2022), (DEPT, "ogi", 2022), (GOV, "rule_of_law", 2022)}
    late = rows[(GOV, "ogi", 2022)]
    assert (late["due"], late["published"], late["late_days"]) == ("2023-03-31", "2023-04-15", 15)
    assert late["requests.new.natural_person"] == 823  # the current version's number
    assert late["reused_flag"] and late["reused_share"] > 0.95 and late["previous"].endswith("post_2021.html")
    assert rows[(DEPT, "ogi", 2022)]["late_days"] == 0  # a department, due January 31
    csv_out = cli("annual", "--year", "2022", "--csv", data=data).stdout
    assert "requests.new.total" in csv_out.splitlines()[0]
    failing_rows = cli_json("annual", "--failing", data=data)
    assert {r["organ"] for r in failing_rows} == {GOV, DEPT}


def test_deadlines_late_missing_on_time_and_changed(crawled):
    data, profile, _ = crawled
    rows = {(r["organ"], r["kind"]): r for r in cli_json("deadlines", "--year", "2022", "--site", str(profile),
                                                          data=data)}
    assert rows[(GOV, "ogi")]["status"] == "late, changed after publication"
    assert rows[(GOV, "ogi")]["changed_cells"]["requests.new.natural_person"] == {"old": 821, "new": 823}
    assert rows[(DEPT, "ogi")]["status"] == "on time"
    assert rows[(GOV, "rule_of_law")]["status"] == "on time"
    older = {(r["organ"], r["kind"]): r["status"] for r in cli_json("deadlines", "--year", "2021", "--site",
                                                                      str(profile), data=data)}
    assert older == {(GOV, "ogi"): "on time", (DEPT, "ogi"): "missing", (GOV, "rule_of_law"): "missing"}


def test_a_changed_cell_is_a_field_of_the_diff_and_of_the_event(crawled):
    data, _, base = crawled
    url = base + "zwgk/ndbg/content/post_2022.html"
    d = json.loads(cli("diff", url, "--format", "json", data=data).stdout)
    assert d["fields"]["requests.new.natural_person"] == {"old": 821, "new": 823}
    events = [e for e in cli_json("changes", "--kind", "changed", data=data) if e["url"] == url]
    assert events and "requests.new.natural_person" in events[0]["fields"]
    assert "requests.new.natural_person: 821 → 823" in events[0]["summary"]


def test_diff_against_last_years_report(crawled):
    data, _, base = crawled
    d = json.loads(cli("diff", base + "zwgk/ndbg/content/post_2022.html", "--against",
                       base + "zwgk/ndbg/content/post_2021.html", "--format", "json", data=data).stdout)
    assert d["against"].endswith("post_2021.html")
    assert d["fields"]["title"]["old"].startswith("2021年") and d["fields"]["title"]["new"].startswith("2022年")
    changed = [o for o in d["ops"] if o["op"] != "equal"]
    assert changed and len(changed) < 20  # a year's report copied from the last: few edits


def test_canned_queries_answer_in_datasette(crawled):
    import urllib.parse
    import urllib.request

    from .conftest import datasette_server

    data, profile, _ = crawled
    cli("deadlines", "--year", "2021", "--site", str(profile), data=data)  # the profile's expectations, recorded
    with datasette_server(data / "govarchive.db") as base:
        def get(query: str, **params: str) -> list[dict]:
            q = urllib.parse.urlencode({**params, "_shape": "array"})
            return json.loads(urllib.request.urlopen(f"{base}/govarchive/{query}.json?{q}", timeout=10).read())

        assert [(r["organ"], r["late_days"]) for r in get("late_reports")] == [(GOV, 15)]
        assert {(r["organ"], r["kind"]) for r in get("missing_reports", year="2021")} == {(DEPT, "ogi"),
                                                                                          (GOV, "rule_of_law")}
        assert {r["organ"] for r in get("failing_reports")} == {GOV, DEPT}
        yoy = {(r["organ"], r["kind"], r["year"]): r for r in get("reports_year_over_year")}
        assert yoy[(GOV, "ogi", 2022)]["received_year_before"] == 859
        assert yoy[(GOV, "ogi", 2021)]["received_year_before"] is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_2021_format_report_is_read_to_every_number_and_every_identity_holds(seed):
    from .ogi2021 import numbers, page

    truth = numbers(seed)
    report = read_report(page("佛山市南海区人民政府", 2022, "2023-03-30", truth))
    assert (report["kind"], report["year"], report["format"]) == ("ogi", 2022, "2021")
    assert report["organ"] == "佛山市南海区人民政府"
    for part in ("active", "requests", "review_litigation"):
        assert report[part] == truth[part], part
    assert report["requests"]["new"]["research"] is None  # a blank cell is null, not 0
    assert failing(report) == {}
    names = {c["name"] for c in report["checks"]}
    assert {"每行总计 = 各申请人之和", "（一）…（六）=（七）", "review 总计 = 各结果之和",
            "一+二=三（七）+四 [total]"} <= names
    assert any(n.startswith("正文「新收申请") for n in names)  # the prose was read and agrees
    assert report["deadline"] == {"due": "2023-03-31", "published": "2023-03-30", "late_days": 0}


def test_a_2021_format_report_with_one_cell_altered_fails_the_right_identities():
    from .ogi2021 import numbers, page

    truth = numbers(4)
    truth["requests"]["granted"]["natural_person"] += 1  # one cell, nothing else adjusted
    report = read_report(page("佛山市南海区人民政府", 2022, "2023-03-30", truth))
    bad = failing(report)
    assert set(bad) == {"每行总计 = 各申请人之和", "（一）…（六）=（七）"}
    assert bad["每行总计 = 各申请人之和"].startswith("granted: ")
    assert bad["（一）…（六）=（七）"].startswith("natural_person: ")
