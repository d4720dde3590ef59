"""Annual reports as data: 政府信息公开工作年度报告 tables read into numbers, their identities checked.

Two report kinds: ``ogi`` (政府信息公开工作年度报告, 条例 第五十条) and ``rule_of_law`` (法治政府建设年度报告,
prose). An ``ogi`` report in the national format — 国办公开办函〔2021〕30号, or the 2019 format it
replaced — has three tables: 二 (主动公开, ``active``), 三 (申请, ``requests``) and 四 (复议诉讼,
``review_litigation``). Tables are expanded into a grid (rowspan, colspan) before their labels are
read; a value is read from the cell at the column of its header, except in table 二, whose header
and data rows often split their columns differently (a header 1+2+1 over data 2+1+1): there the
values are taken in the order of the row's cells, as a reader does. Blank cells are null, never 0.

Checks (each ``{name, ok, detail}``): 一 + 二 = 三（七）+ 四 per column; each row's 总计 = the sum of
its applicant columns (a 总计 left blank is reported, not assumed); （一）…（六）= （七）per column;
each 复议/诉讼 总计 = the sum of its results; the prose's figures against the tables. A pure module:
HTML text in, plain data out.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import html as lxml_html

OGI, RULE_OF_LAW = "ogi", "rule_of_law"
APPLICANTS = ["natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total"]
_APPLICANT_LABELS = {"自然人": "natural_person", "商业企业": "commercial", "科研机构": "research",
                     "社会公益组织": "public_interest", "法律服务机构": "legal_service", "其他": "other_org",
                     "总计": "total"}
# Table 三's rows, by what their label says (the most specific first).
_REQUEST_ROWS = [
    ("new", r"本年新收"), ("carried_over", r"上年结转"), ("carried_forward", r"结转下年"),
    ("partly_granted", r"部分公开"), ("granted", r"予以公开"),
    ("denied_state_secret", r"国家秘密"), ("denied_law_forbidden", r"法律行政法规禁止"),
    ("denied_three_safety", r"三安全一稳定"), ("denied_third_party", r"第三方合法权益"),
    ("denied_internal_affairs", r"内部事务"), ("denied_process_info", r"过程性信息"),
    ("denied_enforcement_files", r"行政执法案卷"), ("denied_query_matters", r"行政查询事项"),
    ("unable_not_held", r"不掌握"), ("unable_needs_creation", r"另行制作"), ("unable_unclear", r"仍不明确"),
    ("not_processed_petition", r"信访|举报|投诉"), ("not_processed_repeat", r"重复申请"),
    ("not_processed_publication", r"公开出版物"), ("not_processed_massive", r"大量反复"),
    ("not_processed_confirm", r"确认或重新出具|确认或重新出"),
    ("other_overdue_supplement", r"逾期不补正"), ("other_overdue_fee", r"缴纳费用|收费通知"),
    ("total", r"（七）|\(七\)|七[）)]\s*总计"), ("other_other", r"其他处理|^\s*3\.\s*其他|其他$"),
]
RESULT_ROWS = ["granted", "partly_granted", "denied_state_secret", "denied_law_forbidden", "denied_three_safety",
               "denied_third_party", "denied_internal_affairs", "denied_process_info", "denied_enforcement_files",
               "denied_query_matters", "unable_not_held", "unable_needs_creation", "unable_unclear",
               "not_processed_petition", "not_processed_repeat", "not_processed_publication", "not_processed_massive",
               "not_processed_confirm", "other_overdue_supplement", "other_overdue_fee", "other_other"]
# Table 二: rows and columns by label.
_ACTIVE_ROWS = [("normative_documents", r"规范性文件"), ("rules", r"规章"), ("licensing", r"行政许可"),
                ("other_management_services", r"其他对外管理服务"), ("punishment", r"行政处罚"),
                ("enforcement", r"行政强制"), ("fees", r"行政事业性收费"), ("procurement", r"集中采购|政府采购")]
_ACTIVE_COLUMNS = [("issued", r"本年制发|本年新制发"), ("repealed", r"本年废止"), ("in_force", r"现行有效"),
                   ("made", r"本年新制作"), ("published", r"本年新公开"), ("total_public", r"对外公开总数"),
                   ("previous", r"上一年项目数量"), ("change", r"本年增"), ("decisions", r"处理决定数量"),
                   ("amount", r"收费金额|采购总金额"), ("projects", r"采购项目数量")]
REVIEW_KEYS = ["upheld", "corrected", "other", "pending", "total"]
REVIEW_GROUPS = ["review", "litigation_direct", "litigation_after_review"]

_SPACE = re.compile(r"[\s\u3000\xa0]+")
_NUMBER = re.compile(r"^[+\-−]?\d[\d,，]*(?:\.\d+)?$")


def kind_of(title: str | None, text: str = "") -> str | None:
    """``ogi``, ``rule_of_law`` or None, from the title (else the text's first line)."""
    head = _SPACE.sub("", title or "") or _SPACE.sub("", text[:120])
    if re.search(r"政府信息公开(?:工作)?年度报告|政务公开工作年度报告", head):
        return OGI
    if re.search(r"法治政府建设.*(?:年度报告|情况的?报告)", head):
        return RULE_OF_LAW
    return None


def year_and_organ(title: str) -> tuple[int | None, str | None]:
    """The year a report covers and who reports, from its title."""
    t = _SPACE.sub("", title)
    m = re.search(r"((?:19|20)\d{2})年?(?:度)?", t)
    year = int(m.group(1)) if m else None
    rest = (t[:m.start()] + t[m.end():]) if m else t
    rest = re.sub(r"(?:关于)?(?:政府信息公开(?:工作)?|政务公开工作|法治政府建设(?:工作)?(?:情况)?)(?:的)?(?:年度)?(?:工作)?"
                  r"(?:报告|情况的?报告)$", "", rest)
    rest = re.sub(r"^关于|的$|本机关|^[《“]|[》”]$", "", rest).strip()
    if not rest:
        return year, None
    if re.search(r"(?:省|市|区|县|自治区|州|盟|旗)$", rest):  # "上海市政府信息公开…": the government of 上海市
        rest += "人民政府"
    return year, rest


def is_government(organ: str | None) -> bool:
    """A government (条例: by 3月31日) rather than one of its departments (by 1月31日): a 人民政府, or
    the 管委会 of a development zone acting as one."""
    if not organ:
        return False
    return bool(re.search(r"(?:人民政府|政府)(?:[（(].*[)）])?$|管委会$|管理委员会$", organ)) and \
        not re.search(r"办公厅|办公室|局|委员会办公", organ.split("（")[0][-6:])


def due_date(kind: str, year: int, organ: str | None) -> date:
    """When a report for ``year`` is due (条例 第四十九条; 法治政府建设与责任落实督察工作规定 第二十四条)."""
    if kind == RULE_OF_LAW:
        return date(year + 1, 4, 1)
    return date(year + 1, 3, 31) if is_government(organ) else date(year + 1, 1, 31)


# -- tables --------------------------------------------------------------------------------------------
def _text(el) -> str:  # noqa: ANN001 - an lxml element
    return _SPACE.sub("", el.text_content())


def grid(table) -> list[list[tuple[str, int]]]:  # noqa: ANN001 - an lxml <table>
    """The table as a grid: each cell ``(text, id)`` repeated over every row and column it spans."""
    out: list[list[tuple[str, int] | None]] = []
    cell_id = 0
    for r, tr in enumerate(table.xpath(".//tr")):
        while len(out) <= r:
            out.append([])
        row = out[r]
        c = 0
        for td in tr.xpath("./td|./th"):
            while c < len(row) and row[c] is not None:
                c += 1
            rs = max(1, int(re.sub(r"\D", "", td.get("rowspan") or "1") or 1))
            cs = max(1, int(re.sub(r"\D", "", td.get("colspan") or "1") or 1))
            text = _text(td)
            for dr in range(min(rs, 60)):
                while len(out) <= r + dr:
                    out.append([])
                target = out[r + dr]
                while len(target) < c + cs:
                    target.append(None)
                for dc in range(min(cs, 40)):
                    target[c + dc] = (text, cell_id)
            cell_id += 1
            c += cs
    return [[cell or ("", -1) for cell in row] for row in out]


def number(text: str) -> int | float | None:
    """A cell's number: blank, a dash or words are null (never 0)."""
    t = text.replace("，", ",").replace("−", "-").strip()
    if not t or not _NUMBER.match(t):
        return None
    value = float(t.replace(",", ""))
    return int(value) if value.is_integer() else value


def _requests(table) -> dict | None:  # noqa: ANN001
    g = grid(table)
    columns: dict[str, int] = {}
    header_end = 0
    for r, row in enumerate(g[:6]):
        for c, (text, _) in enumerate(row):
            key = _APPLICANT_LABELS.get(text)
            if key and (key != "other_org" or "commercial" in columns):
                columns.setdefault(key, c)
                header_end = r + 1
    if "natural_person" not in columns or "total" not in columns:
        return None
    first_data = min(columns.values())
    out: dict[str, dict] = {}
    for row in g[header_end:]:
        seen, labels = set(), []
        for text, cid in row[:first_data]:
            if cid not in seen and text:
                seen.add(cid)
                labels.append(text)
        if not labels:
            continue
        key = _row_key(labels)
        if key is None or key in out:
            continue
        out[key] = {name: number(row[c][0]) if c < len(row) else None for name, c in columns.items()}
        for name in APPLICANTS:
            out[key].setdefault(name, None)
    return out or None


def _row_key(labels: list[str]) -> str | None:
    specific = labels[-1]
    joined = "".join(labels)
    for key, pattern in _REQUEST_ROWS:
        if re.search(pattern, specific):
            if key == "granted" and "部分" in specific:
                continue
            return key
    for key, pattern in _REQUEST_ROWS:
        if key not in ("other_other", "total") and re.search(pattern, joined):
            return key
    return None


def _active(table) -> dict | None:  # noqa: ANN001
    out: dict[str, object] = {}
    header: list[str] = []
    for tr in table.xpath(".//tr"):
        cells = [_text(td) for td in tr.xpath("./td|./th")]
        if not cells or not any(cells):
            continue
        if re.search(r"信息内容", cells[0]):
            header = [_column_key(c) for c in cells[1:]]
            continue
        row_key = next((k for k, p in _ACTIVE_ROWS if re.search(p, cells[0])), None)
        if row_key is None or not header or row_key in out:
            continue
        values = cells[1:1 + len(header)]
        if row_key == "procurement":
            out[row_key] = {k: (number(v) if k != "amount" else (v or None)) for k, v in zip(header, values, strict=False)
                            if k}
        elif len([h for h in header if h]) == 1 and header[0] in ("decisions", "amount"):
            out[row_key] = number(values[0]) if values else None  # the 2021 format: one number
        else:
            out[row_key] = {k: number(v) for k, v in zip(header, values, strict=False) if k}
    return out or None


def _column_key(label: str) -> str | None:
    return next((k for k, p in _ACTIVE_COLUMNS if re.search(p, label)), None)


def _review(table) -> dict | None:  # noqa: ANN001
    for tr in table.xpath(".//tr"):
        cells = [_text(td) for td in tr.xpath("./td|./th")]
        if len(cells) == 15 and not any(re.search(r"[\u4e00-\u9fff]", c) for c in cells):
            values = [number(c) for c in cells]
            return {group: dict(zip(REVIEW_KEYS, values[i * 5:(i + 1) * 5], strict=True))
                    for i, group in enumerate(REVIEW_GROUPS)}
    return None


# -- checks --------------------------------------------------------------------------------------------
def _n(v: object) -> float:
    return v if isinstance(v, int | float) else 0


def checks(report: dict, text: str = "") -> list[dict]:
    """The template's identities, and the prose's figures against the tables."""
    out: list[dict] = []
    req = report.get("requests") or {}
    if req:
        for col in APPLICANTS:
            if not any(req.get(r, {}).get(col) is not None for r in ("new", "carried_over", "total", "carried_forward")):
                continue
            left = _n(req.get("new", {}).get(col)) + _n(req.get("carried_over", {}).get(col))
            right = _n(req.get("total", {}).get(col)) + _n(req.get("carried_forward", {}).get(col))
            out.append({"name": f"一+二=三（七）+四 [{col}]", "ok": left == right,
                        "detail": f"{left:g} = {right:g}" if left == right else f"{left:g} ≠ {right:g} ({left - right:+g})"})
        blank, wrong = [], []
        for key, row in req.items():
            parts = [row.get(c) for c in APPLICANTS[:-1]]
            if not any(p is not None for p in parts):
                continue
            if row.get("total") is None:
                blank.append(key)
            elif sum(_n(p) for p in parts) != row["total"]:
                wrong.append(f"{key}: {sum(_n(p) for p in parts):g} ≠ {row['total']:g}")
        out.append({"name": "每行总计 = 各申请人之和", "ok": not blank and not wrong,
                    "detail": "; ".join(wrong + ([f"总计 left blank in {', '.join(blank)}"] if blank else [])) or "holds"})
        rows = [r for r in RESULT_ROWS if r in req]
        if "total" in req and rows:
            bad = []
            for col in APPLICANTS:
                if all(req[r].get(col) is None for r in rows):
                    continue  # the column left blank in every result row: nothing to add up
                s = sum(_n(req[r].get(col)) for r in rows)
                if req["total"].get(col) is not None and s != req["total"][col]:
                    bad.append(f"{col}: {s:g} ≠ {req['total'][col]:g}")
            out.append({"name": "（一）…（六）=（七）", "ok": not bad, "detail": "; ".join(bad) or "holds"})
    rl = report.get("review_litigation") or {}
    for group in REVIEW_GROUPS:
        g = rl.get(group)
        if g and g.get("total") is not None:
            s = sum(_n(g.get(k)) for k in REVIEW_KEYS[:-1])
            out.append({"name": f"{group} 总计 = 各结果之和", "ok": s == g["total"],
                        "detail": f"{s:g} = {g['total']:g}" if s == g["total"] else f"{s:g} ≠ {g['total']:g}"})
    out += _prose_checks(report, text)
    return out


def _table_total(req: dict, rows: list[str]) -> float | None:
    present = [req[r] for r in rows if r in req]
    if not present:
        return None
    return sum(_n(r.get("total")) if r.get("total") is not None else sum(_n(r.get(c)) for c in APPLICANTS[:-1])
               for r in present)


_PROSE = [
    ("新收申请", r"(?:本年(?:度)?)?(?:共)?新收[^。；\d]{0,16}?(\d[\d,]*)件", ["new"]),
    ("上年结转", r"上年(?:度)?结转[^。；\d]{0,12}?(\d[\d,]*)件", ["carried_over"]),
    ("结转下年度", r"结转(?:至)?下(?:一)?年度?[^。；\d]{0,12}?(\d[\d,]*)件", ["carried_forward"]),
    ("予以公开及部分公开", r"予以公开(?:及|和|、)部分公开[^。；\d]{0,6}?(\d[\d,]*)件", ["granted", "partly_granted"]),
    ("不予公开", r"不予公开[^。；\d]{0,6}?(\d[\d,]*)件", [r for r in RESULT_ROWS if r.startswith("denied")]),
    ("无法提供", r"无法提供[^。；\d]{0,6}?(\d[\d,]*)件", [r for r in RESULT_ROWS if r.startswith("unable")]),
    ("不予处理", r"不予处理[^。；\d]{0,6}?(\d[\d,]*)件", [r for r in RESULT_ROWS if r.startswith("not_processed")]),
]


def _prose_checks(report: dict, text: str) -> list[dict]:
    out = []
    req = report.get("requests") or {}
    body = _SPACE.sub("", text)
    if req:
        for name, pattern, rows in _PROSE:
            m = re.search(pattern, body)
            table = _table_total(req, rows)
            if m and table is not None:
                said = int(m.group(1).replace(",", ""))
                out.append({"name": f"正文「{name}{said}件」与表三", "ok": said == table,
                            "detail": f"text {said}, table {table:g}"})
    rl = report.get("review_litigation") or {}
    for name, groups, pattern in (("行政复议", ["review"], r"行政复议[^。；\d]{0,10}?(\d[\d,]*)件"),
                                  ("行政诉讼", ["litigation_direct", "litigation_after_review"],
                                   r"行政诉讼[^。；\d]{0,10}?(\d[\d,]*)件")):
        m = re.search(pattern, body)
        present = [rl[g] for g in groups if rl.get(g)]
        if m and present:
            said = int(m.group(1).replace(",", ""))
            table = sum(_n(g.get("total")) for g in present)
            out.append({"name": f"正文「{name}{said}件」与表四", "ok": said == table, "detail": f"text {said}, table {table:g}"})
    if rl and re.search(r"均(?:获)?(?:予以)?维持|全部(?:获)?维持", body):
        pending = {g: v for g, v in rl.items() if v and (_n(v.get("pending")) or _n(v.get("corrected")) or _n(v.get("other")))}
        out.append({"name": "正文「均获维持」与表四", "ok": not pending,
                    "detail": "; ".join(f"{g}: {v.get('pending') or 0} pending, {v.get('corrected') or 0} corrected, "
                                        f"{v.get('other') or 0} other" for g, v in pending.items()) or "holds"})
    return out


# -- the whole report ------------------------------------------------------------------------------------
def read_report(page_html: str, title: str | None = None, published: str | None = None,
                body_text: str | None = None) -> dict | None:
    """A report read as data, or None when the page is not an annual report."""
    doc = lxml_html.fromstring(page_html) if page_html.strip() else None
    text = body_text if body_text is not None else (doc.text_content() if doc is not None else "")
    if not title and doc is not None:
        first = next((_text(p) for p in doc.xpath("//p|//h1|//h2|//title") if _text(p)), "")
        title = first
    kind = kind_of(title, text)
    if kind is None:
        return None
    year, organ = year_and_organ(title or "")
    if published is None:
        m = re.search(r"(?:发布日期|发布时间|成文日期)[:：]\s*(\d{4})[-年/.](\d{1,2})[-月/.](\d{1,2})", text)
        if m:
            published = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    report: dict = {"kind": kind, "organ": organ, "year": year, "format": None, "active": None, "requests": None,
                    "review_litigation": None, "tables": None, "reason": None, "checks": [], "deadline": None}
    if kind == OGI:
        tables = doc.xpath("//table") if doc is not None else []
        for t in tables:
            txt = _text(t)
            if report["requests"] is None and ("本年新收" in txt or "申请人情况" in txt):
                report["requests"] = _requests(t)
            elif report["active"] is None and re.search(r"第二十条第[（(]", txt):
                report["active"] = _active(t)
            elif report["review_litigation"] is None and "行政复议" in txt and "行政诉讼" in txt:
                report["review_litigation"] = _review(t)
        found = [k for k in ("active", "requests", "review_litigation") if report[k]]
        report["tables"] = len(found) or None
        if not found:
            report["reason"] = ("the report is an image or a document viewer: no table to read"
                                if doc is not None and (doc.xpath("//img|//embed|//iframe|//object"))
                                else "no table of the national format in the page")
        else:
            req = report["requests"] or {}
            report["format"] = "2021" if any(k in req for k in ("other_overdue_supplement", "other_overdue_fee")) \
                or isinstance((report["active"] or {}).get("licensing"), int | float) \
                or any("issued" in (v or {}) for v in (report["active"] or {}).values() if isinstance(v, dict)) \
                else "2019"
            report["checks"] = checks(report, text)
    if year is not None:
        due = due_date(kind, year, organ)
        late = None
        if published:
            try:
                late = max(0, (date.fromisoformat(published[:10]) - due).days)
            except ValueError:
                late = None
        report["deadline"] = {"due": due.isoformat(), "published": published, "late_days": late}
    return report


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """``{"requests.new.total": 81, …}``: a report's numbers under one key each."""
    out: dict[str, object] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif prefix:
        out[prefix[:-1]] = data
    return out


def cell_changes(old: dict | None, new: dict | None) -> dict[str, dict]:
    """The table cells that differ between two readings of a report: ``{"requests.new.total": {old, new}}``."""
    parts = ("active", "requests", "review_litigation")
    a = flatten({k: (old or {}).get(k) for k in parts if (old or {}).get(k)})
    b = flatten({k: (new or {}).get(k) for k in parts if (new or {}).get(k)})
    return {k: {"old": a.get(k), "new": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
