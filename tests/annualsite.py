"""A 年度报告 column served on loopback: real report bodies (tests/data/annual, Shanghai's 2019 and 2020
reports as published) under other organs and years, one report late, one missing, one silently
edited after publication in edition 2."""

from __future__ import annotations

import re
from pathlib import Path

from archive.demosite import Resource, SiteServer

DATA = Path(__file__).parent / "data" / "annual"
R1 = (DATA / "R1_shanghai_2019_ogi_annual_report_2019format.html").read_text("utf-8")
R2 = (DATA / "R2_shanghai_2020_ogi_annual_report_2019format.html").read_text("utf-8")
GOV, DEPT = "佛山市南海区人民政府", "佛山市南海区发展和改革局"


def _body(source: str, organ: str, year: int, published: str) -> str:
    """A real report body re-titled: its organ, its year, its 发布日期."""
    title = f"{year}年{organ}政府信息公开工作年度报告"
    body = re.sub(r"^<p[^>]*>[^<]*年度报告</p>", f"<p style='text-align:center'>{title}</p>", source.strip())
    body = re.sub(r"发布日期：\d{4}-\d{2}-\d{2}", f"发布日期：{published}", body, count=1)
    return body


def page(title: str, published: str, body: str) -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}_南海区人民政府</title>"
            f"<meta name='ArticleTitle' content='{title}'><meta name='PubDate' content='{published} 09:00'></head>"
            f"<body><div class='header'>南海区人民政府门户网站 首页 政务公开</div>"
            f"<div class='article'><h1>{title}</h1><div class='info'>发布时间：{published} 来源：南海区人民政府</div>"
            f"<div class='TRS_Editor'>{body}</div></div><div class='footer'>主办单位：南海区人民政府办公室</div>"
            f"</body></html>").encode()


def reports(edition: int) -> dict[str, tuple[str, str, str]]:
    """path -> (title, published, body)."""
    out = {}
    gov21 = _body(R1, GOV, 2021, "2022-03-20")
    gov22 = _body(R1, GOV, 2022, "2023-04-15")  # late: due 2023-03-31; its text reused from 2021
    if edition >= 2:  # a number edited after publication, the displayed date left alone
        gov22 = gov22.replace("<p align=\"center\">821</p>", "<p align=\"center\">823</p>", 1)
    dept22 = _body(R2, DEPT, 2022, "2023-01-20")  # a department: due 2023-01-31, on time
    out["/zwgk/ndbg/content/post_2021.html"] = (f"2021年{GOV}政府信息公开工作年度报告", "2022-03-20", gov21)
    out["/zwgk/ndbg/content/post_2022.html"] = (f"2022年{GOV}政府信息公开工作年度报告", "2023-04-15", gov22)
    out["/zwgk/ndbg/content/post_dept2022.html"] = (f"2022年{DEPT}政府信息公开工作年度报告", "2023-01-20", dept22)
    rol = f"<p>2022年，{GOV}深入学习贯彻习近平法治思想，全面推进法治政府建设。</p><p>一、主要举措和成效</p>" \
          "<p>健全依法行政制度体系，严格规范公正文明执法。</p>"
    out["/zwgk/ndbg/content/post_fz2022.html"] = (f"{GOV}关于2022年法治政府建设年度报告", "2023-03-28", rol)
    return out


def build(edition: int = 1) -> dict[str, Resource]:
    routes = {}
    items = []
    for path, (title, published, body) in reports(edition).items():
        routes[path] = Resource(page(title, published, body))
        items.append(f"<li><a href='{path}'>{title}</a><span>{published}</span></li>")
    listing = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>年度报告_南海区人民政府</title></head><body>"
               "<div class='header'>南海区人民政府门户网站</div><h2>政府信息公开年度报告</h2><ul class='list'>"
               + "".join(items) + "</ul></body></html>")
    routes["/zwgk/ndbg/"] = Resource(listing.encode())
    routes["/zwgk/ndbg/index.html"] = routes["/zwgk/ndbg/"]
    return routes


class AnnualSite(SiteServer):
    def __init__(self, edition: int = 1) -> None:
        super().__init__(build(edition))

    def set_edition(self, edition: int) -> None:
        self.routes = build(edition)

    def profile(self, tmp: Path) -> Path:
        path = tmp / "nanhai-test.toml"
        path.write_text(f'name = "nanhai-test"\nstart_urls = ["{self.url}zwgk/ndbg/"]\nallow_private = true\n'
                        f'[reports]\nogi = ["{GOV}", "{DEPT}"]\nrule_of_law = ["{GOV}"]\n', "utf-8")
        return path
