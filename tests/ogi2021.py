"""A report in the national format of 国办公开办函〔2021〕30号, laid out as the template's 附件 lays it
out (three tables; table 三 a 3-row header with 法人或其他组织 spanning five columns, result rows under
rowspans; table 四 a 3-row header over one row of fifteen numbers), with the quirks real pages have:
labels split over <br> and <p>, padded with full-width spaces and &nbsp;, blank cells where a column
has nothing. Numbers come from a seed and add up, so every identity holds: the ground truth is the
dict the page was made from, not what the reader returns."""

from __future__ import annotations

import random

from pipelines.annual import APPLICANTS, RESULT_ROWS

LABELS = {
    "granted": "（一）予以公开",
    "partly_granted": "（二）部分公开<br>（区分处理的，只计这一情形，不计其他情形）",
    "denied_state_secret": "1．属于国家秘密", "denied_law_forbidden": "2．其他法律行政法规禁止公开",
    "denied_three_safety": "3．危及“三安全一稳定”", "denied_third_party": "4．保护第三方合法权益",
    "denied_internal_affairs": "5．属于三类内部事务信息", "denied_process_info": "6．属于四类过程性信息",
    "denied_enforcement_files": "7．属于行政执法案卷", "denied_query_matters": "8．属于行政查询事项",
    "unable_not_held": "1．本机关不掌握相关政府信息", "unable_needs_creation": "2．没有现成信息需要另行制作",
    "unable_unclear": "3．补正后申请内容仍不明确",
    "not_processed_petition": "1．信访举报投诉类申请", "not_processed_repeat": "2．重复申请",
    "not_processed_publication": "3．要求提供公开出版物", "not_processed_massive": "4．无正当理由大量反复申请",
    "not_processed_confirm": "5．要求行政机关确认或重新<br>出具已获取信息",
    "other_overdue_supplement": "1．申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_overdue_fee": "2．申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_other": "3．其他",
}
GROUPS = [("（三）不予公开", RESULT_ROWS[2:10]), ("（四）无法提供", RESULT_ROWS[10:13]),
          ("（五）不予处理", RESULT_ROWS[13:18]), ("（六）其他处理", RESULT_ROWS[18:21])]
COLUMNS = APPLICANTS[:-1]


def numbers(seed: int) -> dict:
    """A year's numbers that add up: the truth a page is made from."""
    rnd = random.Random(seed)
    blank = {"research", "public_interest"} if seed % 2 else {"research"}  # columns with nothing this year

    def row(scale: int) -> dict:
        r = {c: (None if c in blank else rnd.randint(0, scale)) for c in COLUMNS}
        r["total"] = sum(v or 0 for v in r.values())
        return r

    req = {key: row(40 if key in ("granted", "partly_granted", "unable_not_held") else 3) for key in RESULT_ROWS}
    total = {c: (None if c in blank else sum(req[k][c] for k in RESULT_ROWS)) for c in COLUMNS}
    total["total"] = sum(v or 0 for v in total.values())
    carried_over = row(5)
    carried_forward = {c: (None if c in blank else rnd.randint(0, 6)) for c in COLUMNS}
    carried_forward["total"] = sum(v or 0 for v in carried_forward.values())
    new = {c: (None if c in blank else total[c] + carried_forward[c] - carried_over[c]) for c in COLUMNS}
    for c in COLUMNS:  # new must not go negative: carry more forward instead
        if new[c] is not None and new[c] < 0:
            carried_forward[c] -= new[c]
            new[c] = 0
    carried_forward["total"] = sum(v or 0 for k, v in carried_forward.items() if k != "total")
    new["total"] = sum(v or 0 for k, v in new.items() if k != "total")
    requests = {"new": new, "carried_over": carried_over, **req, "total": total, "carried_forward": carried_forward}

    def review() -> dict:
        r = {k: rnd.randint(0, 4) for k in ("upheld", "corrected", "other", "pending")}
        r["total"] = sum(r.values())
        return r

    active = {"rules": {"issued": rnd.randint(0, 3), "repealed": rnd.randint(0, 2), "in_force": rnd.randint(5, 30)},
              "normative_documents": {"issued": rnd.randint(0, 20), "repealed": rnd.randint(0, 9),
                                      "in_force": rnd.randint(20, 200)},
              "licensing": rnd.randint(100, 9000), "punishment": rnd.randint(10, 900),
              "enforcement": rnd.randint(0, 90), "fees": round(rnd.uniform(0, 500), 2)}
    return {"active": active, "requests": requests,
            "review_litigation": {g: review() for g in ("review", "litigation_direct", "litigation_after_review")}}


def _cell(v: object) -> str:
    return "" if v is None else str(v)


def _values(row: dict) -> str:
    return "".join(f"<td><p align='center'>{_cell(row[c])}</p></td>" for c in APPLICANTS)


def page(organ: str, year: int, published: str, truth: dict) -> str:
    a, q, rl = truth["active"], truth["requests"], truth["review_litigation"]
    active = (
        "<table border='1'><tr><td colspan='4'>第二十条第（一）项</td></tr>"
        "<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>"
        + "".join(f"<tr><td>{label}</td><td>{a[k]['issued']}</td><td>{a[k]['repealed']}</td><td>{a[k]['in_force']}</td></tr>"
                  for k, label in (("rules", "规　章"), ("normative_documents", "行政规范性文件")))
        + "<tr><td colspan='4'>第二十条第（五）项</td></tr>"
        "<tr><td>信息内容</td><td colspan='3'>本年处理决定数量</td></tr>"
        f"<tr><td>行政许可</td><td colspan='3'>{a['licensing']}</td></tr>"
        "<tr><td colspan='4'>第二十条第（六）项</td></tr>"
        "<tr><td>信息内容</td><td colspan='3'>本年处理决定数量</td></tr>"
        f"<tr><td>行政处罚</td><td colspan='3'>{a['punishment']}</td></tr>"
        f"<tr><td>行政强制</td><td colspan='3'>{a['enforcement']}</td></tr>"
        "<tr><td colspan='4'>第二十条第（八）项</td></tr>"
        "<tr><td>信息内容</td><td colspan='3'>本年收费金额（单位：万元）</td></tr>"
        f"<tr><td>行政事业性收费</td><td colspan='3'>{a['fees']}</td></tr></table>")
    rows = [f"<tr><td colspan='3'>一、本年新收<br>政府信息公开申请数量</td>{_values(q['new'])}</tr>",
            f"<tr><td colspan='3'>二、上年结转政府信息公开申请数量</td>{_values(q['carried_over'])}</tr>",
            f"<tr><td rowspan='22'>三、本年度办理结果</td><td colspan='2'>{LABELS['granted']}</td>{_values(q['granted'])}</tr>",
            f"<tr><td colspan='2'>{LABELS['partly_granted']}</td>{_values(q['partly_granted'])}</tr>"]
    for group, keys in GROUPS:
        for i, key in enumerate(keys):
            head = f"<td rowspan='{len(keys)}'><p>{group[:3]}</p><p>{group[3:]}</p></td>" if i == 0 else ""
            rows.append(f"<tr>{head}<td>{LABELS[key]}</td>{_values(q[key])}</tr>")
    rows.append(f"<tr><td colspan='2'>（七）总计</td>{_values(q['total'])}</tr>")
    rows.append(f"<tr><td colspan='3'>四、结转下年度继续办理</td>{_values(q['carried_forward'])}</tr>")
    requests = (
        "<table border='1'><tr><td colspan='3' rowspan='3'>（本列数据的勾稽关系为：第一项加第二项之和，"
        "等于第三项加第四项之和）</td><td colspan='7'>申请人情况</td></tr>"
        "<tr><td rowspan='2'>自然人</td><td colspan='5'>法人或其他组织</td><td rowspan='2'>总　计</td></tr>"
        "<tr><td>商业<br>企业</td><td>科研<br>机构</td><td>社会公益<br>组织</td><td>法律服务<br>机构</td>"
        "<td>其\u00a0他</td></tr>" + "".join(rows) + "</table>")
    flat = [rl[g][k] for g in ("review", "litigation_direct", "litigation_after_review")
            for k in ("upheld", "corrected", "other", "pending", "total")]
    review = (
        "<table border='1'><tr><td colspan='5'>行政复议</td><td colspan='10'>行政诉讼</td></tr>"
        "<tr>" + "".join(f"<td rowspan='2'>{h}</td>" for h in ("结果<br>维持", "结果<br>纠正", "其他<br>结果",
                                                                 "尚未<br>审结", "总计"))
        + "<td colspan='5'>未经复议直接起诉</td><td colspan='5'>复议后起诉</td></tr><tr>"
        + "".join(f"<td>{h}</td>" for h in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计") * 2)
        + "</tr><tr>" + "".join(f"<td>{v}</td>" for v in flat) + "</tr></table>")
    new, done = q["new"]["total"], q["total"]["total"]
    title = f"{organ}{year}年政府信息公开工作年度报告"
    return (f"<p style='text-align:center'>{title}</p><p>发布日期：{published}</p>"
            f"<p>一、总体情况</p><p>{year}年，本机关共新收政府信息公开申请{new}件，办结{done}件，"
            f"结转下年度继续办理{q['carried_forward']['total']}件。</p>"
            f"<p>二、主动公开政府信息情况</p>{active}"
            f"<p>三、收到和处理政府信息公开申请情况</p>{requests}"
            f"<p>四、政府信息公开行政复议、行政诉讼情况</p>{review}"
            "<p>五、存在的主要问题及改进情况</p><p>……</p>")
