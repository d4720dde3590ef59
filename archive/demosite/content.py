"""The documents of the demo site: a replica of the Foshan High-tech Zone disclosure section.

The 2023 法治政府建设年度报告 is the real seed page; the other documents follow its tone and
the national templates (国办公开办函〔2021〕30号 for the 信息公开 annual reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

ORGAN = "佛山高新技术产业开发区管理委员会"
ORGAN_CODE = "11440600MB2C93421X"
SITE_NAME = "佛山高新区"


@dataclass
class Doc:
    """One article of the demo site."""

    doc_id: int
    column: str
    title: str
    published: str  # YYYY-MM-DD HH:MM
    written: str  # YYYY-MM-DD
    paragraphs: list[str]
    doc_no: str = ""
    category: str = "综合政务\\通知公告"
    source: str = "本网"
    contact: str | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, filename)
    extra_columns: tuple[str, ...] = ()
    legacy_gbk: bool = False

    @property
    def index_no(self) -> str:
        return f"{ORGAN_CODE}/{self.published[:4]}-{self.doc_id % 100000:05d}"


def _seed_paragraphs() -> tuple[list[str], str]:
    text = resources.files(__package__).joinpath("seed_report_2023.txt").read_text("utf-8")
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("2023年,佛山高新区"))
    end = next(i for i, line in enumerate(lines) if line == ORGAN and i > start)
    paras = [line for line in lines[start:end] if line]
    contact = next(line for line in lines if line.startswith("(联系人"))
    return paras, contact


def _cn_date(iso: str) -> str:
    y, m, d = iso[:10].split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


NOTICE_TOPICS = [
    ("关于开展2024年度高新技术企业认定申报工作的通知", "2024-04-08", "高新技术企业认定", "科技创新局"),
    ("关于组织申报2024年佛山高新区人才团队项目的通知", "2024-03-28", "人才团队项目申报", "人才工作局"),
    ("关于做好2024年清明节期间安全生产工作的通知", "2024-03-29", "清明节期间安全生产", "安全生产监督管理局"),
    ("关于公布2023年度佛山高新区企业服务驿站名单的通知", "2024-03-20", "企业服务驿站认定", "企业服务中心"),
    ("关于开展2024年“宪法宣传周”系列活动的通知", "2024-03-15", "宪法宣传周活动", "党政办公室"),
    ("关于征集2024年度新技术应用场景示范项目的通知", "2024-03-12", "新技术应用场景示范项目征集", "科技创新局"),
    ("关于开展规范性文件清理工作的通知", "2024-03-06", "规范性文件清理", "党政办公室"),
    ("关于印发《佛山高新区2024年政务公开工作要点》的通知", "2024-02-29", "政务公开工作", "党政办公室"),
    ("关于组织参加2024年普法学习考试的通知", "2024-02-26", "普法学习考试", "党政办公室"),
    ("关于开展2024年度知识产权质押融资贴息申报的通知", "2024-02-20", "知识产权质押融资贴息", "科技创新局"),
    ("关于做好2024年春节期间值班值守工作的通知", "2024-02-02", "春节期间值班值守", "党政办公室"),
    ("关于开展2023年度企业研发费用补助核查工作的通知", "2024-01-25", "企业研发费用补助核查", "经济发展局"),
    ("关于公布佛山高新区2023年度“口碑单位”评选结果的通知", "2024-01-18", "口碑单位评选", "企业服务中心"),
    ("关于开展2024年度企业创新积分制试点申报的通知", "2024-01-10", "企业创新积分制试点", "科技创新局"),
    ("关于进一步加强园区消防安全管理的通知", "2023-12-28", "园区消防安全管理", "安全生产监督管理局"),
    ("关于开展2023年度网络安全检查工作的通知", "2023-12-20", "网络安全检查", "党政办公室"),
    ("关于做好2023年度政府信息公开工作年度报告编制工作的通知", "2023-12-12", "政府信息公开年度报告编制", "党政办公室"),
    ("关于组织开展纪律教育学习月活动的通知", "2023-12-05", "纪律教育学习月活动", "纪检监察室"),
    ("关于做好2023年冬季森林防灭火工作的通知", "2023-11-27", "冬季森林防灭火", "安全生产监督管理局"),
    ("关于开展2023年“12·4”国家宪法日宣传活动的通知", "2023-11-22", "国家宪法日宣传", "党政办公室"),
]
# Published in edition 2 only (the new 通知公告).
NEW_NOTICE = ("关于开展2024年度佛山高新区“一区五园”法治建设督导工作的通知", "2024-04-15",
              "“一区五园”法治建设督导", "党政办公室")

POLICY_TOPICS = [
    ("佛山高新区促进佛山云东海生物医药产业园高质量发展扶持办法", "2023-06-30", "生物医药产业", "佛高新〔2023〕12号"),
    ("佛山高新区促进佛山人才创新灯塔产业园高质量发展扶持办法", "2023-07-14", "人才创新灯塔产业园", "佛高新〔2023〕15号"),
    ("佛山人才创新灯塔产业园创智湾公寓租赁管理办法", "2023-08-02", "人才公寓租赁管理", "佛高新〔2023〕18号"),
    ("佛山高新区企业服务专员工作制度", "2023-05-18", "企业服务专员", "佛高新〔2023〕9号"),
    ("佛山高新区“清单制+告知承诺制”审批改革实施方案", "2023-04-21", "告知承诺制审批", "佛高新〔2023〕7号"),
    ("佛山高新区科技金融“积分贷”风险补偿资金管理办法", "2023-09-08", "积分贷风险补偿", "佛高新〔2023〕21号"),
    ("佛山高新区知识产权协同运营中心管理办法", "2023-10-12", "知识产权协同运营", "佛高新〔2023〕24号"),
    ("佛山高新区重大行政决策程序规定", "2023-03-10", "重大行政决策程序", "佛高新〔2023〕4号"),
    ("佛山高新区行政规范性文件管理办法", "2023-02-16", "行政规范性文件管理", "佛高新〔2023〕2号"),
    ("佛山高新区法律顾问和公职律师工作规则", "2022-11-25", "法律顾问和公职律师", "佛高新〔2022〕31号"),
    ("佛山高新区政务公开工作制度", "2022-09-30", "政务公开", "佛高新〔2022〕26号"),
    ("佛山高新区网络安全事件应急预案", "2022-08-19", "网络安全应急", "佛高新〔2022〕22号"),
    ("佛山高新区财政扶持资金监督管理办法", "2022-06-24", "财政扶持资金监督", "佛高新〔2022〕17号"),
    ("佛山高新区12345热线工单办理工作规范", "2022-05-13", "12345热线工单办理", "佛高新〔2022〕12号"),
]

_ITEMS = [
    "各单位要高度重视，明确分管领导和具体联系人，认真组织实施，确保各项工作按时保质完成。",
    "申报单位应当如实填写申报材料，对材料的真实性、合法性负责，不得弄虚作假、重复申报。",
    "请各单位于规定时间内通过佛山高新区一站式企业服务平台提交材料，逾期不予受理。",
    "管委会将会同有关部门对申报材料进行审核，必要时组织专家评审和实地核查，结果在高新区官网公示。",
    "各园区管理局要加强统筹协调，做好政策宣传解读和企业服务，帮助企业“吃透”“吃准”政策。",
    "工作中遇到的问题，请及时向管委会反映，重大情况按程序报告，不得迟报、漏报、瞒报。",
    "各单位要严格落实廉洁自律各项规定，自觉接受纪检监察机构和社会各界的监督。",
    "本通知执行过程中如遇上级政策调整，按上级最新规定执行。",
]


def _notice(i: int, title: str, date: str, topic: str, dept: str) -> Doc:
    year = date[:4]
    paras = [
        "各园区管理局，管委会各部门，各有关单位：",
        f"为深入贯彻落实习近平法治思想和党的二十大精神，按照佛山市{year}年全面依法治市工作要点和"
        f"高新区党工委工作部署，现就做好{topic}工作有关事项通知如下。",
        f"一、工作目标。坚持问题导向和目标导向相结合，以{topic}为抓手，进一步提升依法行政水平，"
        "营造公平透明、可预期的法治化营商环境。",
        "二、工作安排。" + _ITEMS[i % len(_ITEMS)] + _ITEMS[(i + 3) % len(_ITEMS)],
        "三、工作要求。" + _ITEMS[(i + 5) % len(_ITEMS)],
        "特此通知。",
    ]
    written = date[:8] + f"{max(1, int(date[8:10]) - 2):02d}"
    contact = f"（联系人：{dept}，联系电话：0757-866838{30 + i % 60:02d}）" if i % 3 == 0 else None
    attachments = []
    if i == 0:
        attachments = [("2024年度高新技术企业认定申报指引.pdf", "gqrd_2024_zhiyin.pdf"),
                       ("高新技术企业认定申报材料清单.docx", "gqrd_2024_qingdan.docx")]
    if i == 5:
        attachments = [("新技术应用场景示范项目申报汇总表.xlsx", "cjsf_2024_huizong.xlsx")]
    return Doc(doc_id=5916600 + i * 7, column="tzgg", title=title, published=f"{date} 0{8 + i % 2}:{10 + i:02d}",
               written=written, paragraphs=paras, doc_no="" if i % 2 else f"佛高新办〔{year}〕{3 + i}号",
               category="综合政务\\通知公告", source=dept if i % 4 else "本网", contact=contact,
               attachments=attachments)


def _policy(i: int, title: str, date: str, topic: str, doc_no: str) -> Doc:
    paras = [
        "第一章 总则",
        f"第一条 为规范{topic}工作，推动高新区高质量发展，根据国家、省、市有关法律法规和政策规定，"
        "结合高新区实际，制定本办法。",
        f"第二条 本办法适用于佛山高新区管委会及各园区管理局开展的{topic}相关工作。",
        "第三条 坚持依法依规、公开公正、注重实效的原则，实行统一管理、分级负责。",
        "第二章 职责分工",
        "第四条 管委会党政办公室负责统筹协调、监督检查；各园区管理局负责具体组织实施。",
        "第五条 " + _ITEMS[i % len(_ITEMS)],
        "第三章 附则",
        f"第六条 本办法由佛山高新区管委会负责解释，自印发之日起施行，有效期{3 + i % 3}年。",
    ]
    return Doc(doc_id=5800100 + i * 13, column="zcwj", title=title, published=f"{date} 10:00",
               written=date[:8] + "01", paragraphs=paras, doc_no=doc_no,
               category="综合政务\\政策文件", source="本网")


_FZ_2021 = [
    "2021年，佛山高新区坚持以习近平法治思想为指导，认真贯彻落实中央、省、市关于法治政府建设的决策部署，"
    "扎实推进依法行政，法治政府建设取得新成效。现将有关情况报告如下。",
    "一、2021年工作情况",
    "（一）加强党对法治政府建设的领导。党工委会议专题研究法治建设工作4次，将法治政府建设纳入年度工作要点，"
    "层层压实法治建设第一责任人职责。",
    "（二）深化“放管服”改革。全年办理各类审批事项1862件，按时办结率100%，企业开办时间压缩至0.5个工作日。",
    "（三）规范行政决策。严格落实重大行政决策程序，法律顾问审查合同和文件共计146份，未发生因决策违法被纠错的情况。",
    "二、存在问题和不足",
    "法治宣传教育的针对性有待增强，基层法治工作力量仍然薄弱。",
    "三、2022年主要工作安排",
    "一是持续深化法治理论学习；二是健全依法决策机制；三是加强行政执法监督。",
]
_FZ_2022 = [
    "2022年，佛山高新区深入学习贯彻习近平法治思想，围绕建设一流科技园区目标，持续推进法治政府建设。现将本年度工作情况报告如下。",
    "一、2022年工作情况",
    "（一）深入学习宣传习近平法治思想。理论学习中心组开展法治专题学习6次，组织领导干部旁听庭审1次。",
    "（二）持续优化法治化营商环境。出台企业服务专员工作制度，组建企业服务专员队伍，全年走访服务企业6800家次。",
    "（三）强化规范性文件管理。完成规范性文件合法性审核9件，备案审查率100%。",
    "（四）推进政务公开。通过高新区官网主动公开政府信息1235条，办理依申请公开8件。",
    "二、存在问题和不足",
    "对五园推进法治政府建设的督促指导还不够，法治人才队伍建设有待加强。",
    "三、2023年主要工作安排",
    "一是强化法治建设组织领导；二是完善法治教育培训；三是推进法治政府建设示范创建。",
]


def _gk_report(year: int, new: int, carried: int, opened: int, numbers: tuple[int, int, int]) -> list[str]:
    made, abolished, valid = numbers
    total = new + carried
    return [
        f"本报告根据《中华人民共和国政府信息公开条例》和国务院办公厅政府信息与政务公开办公室有关要求编制。"
        f"报告中所列数据统计期限自{year}年1月1日起至{year}年12月31日止。",
        "一、总体情况",
        f"{year}年，佛山高新区管委会坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开，"
        "政府信息公开工作质量持续提升。",
        "二、主动公开政府信息情况",
        f"TABLE|信息内容|本年制发件数|本年废止件数|现行有效件数\n规章|0|0|0\n行政规范性文件|{made}|{abolished}|{valid}",
        "三、收到和处理政府信息公开申请情况",
        f"TABLE|本年度办理结果|自然人|法人或其他组织|总计\n一、本年新收政府信息公开申请数量|{new}|0|{new}\n"
        f"二、上年结转政府信息公开申请数量|{carried}|0|{carried}\n（一）予以公开|{opened}|0|{opened}\n"
        f"（七）总计|{total}|0|{total}\n四、结转下年度继续办理|0|0|0",
        "四、政府信息公开行政复议、行政诉讼情况",
        f"{year}年，本机关未发生因政府信息公开引起的行政复议、行政诉讼。",
        "五、存在的主要问题及改进情况",
        "政策解读形式还不够丰富，下一步将加强图解、视频等多种形式解读，提升公开实效。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]


def all_docs() -> list[Doc]:
    """Return every document of edition 1 (editions change them in ``editions.py``)."""
    seed_paras, seed_contact = _seed_paragraphs()
    docs = [
        Doc(5916497, "tzgg", f"{ORGAN}2023年法治政府建设年度报告", "2024-03-04 09:30", "2023-12-27",
            seed_paras, category="综合政务\\法治政府建设", contact=seed_contact,
            extra_columns=("fzzfjsndbg",)),
        Doc(5212380, "fzzfjsndbg", f"{ORGAN}2022年法治政府建设年度报告", "2023-03-17 16:05", "2023-03-10",
            _FZ_2022, category="综合政务\\法治政府建设"),
        Doc(4731126, "fzzfjsndbg", f"{ORGAN}2021年法治政府建设年度报告", "2022-03-25 11:20", "2022-03-21",
            _FZ_2021, category="综合政务\\法治政府建设", legacy_gbk=True),
    ]
    for k, (year, nums) in enumerate([(2023, (35, 28, (3, 13, 7))), (2022, (21, 17, (5, 2, 20))),
                                      (2021, (18, 15, (4, 1, 17)))]):
        new, opened, numbers = nums
        docs.append(Doc(5850803 - k * 377, "zfxxgkndbg", f"{ORGAN}{year}年政府信息公开工作年度报告",
                        f"{year + 1}-01-2{6 - k} 15:00", f"{year + 1}-01-2{5 - k}",
                        _gk_report(year, new, 1, opened, numbers), category="综合政务\\政务公开"))
    docs += [_notice(i, *t) for i, t in enumerate(NOTICE_TOPICS)]
    docs += [_policy(i, *t) for i, t in enumerate(POLICY_TOPICS)]
    return docs


def new_notice() -> Doc:
    """Return the 通知公告 that edition 2 adds."""
    return _notice(len(NOTICE_TOPICS), *NEW_NOTICE)


def cn_date(iso: str) -> str:
    """Return '2023年12月27日' for '2023-12-27'."""
    return _cn_date(iso)


def plain(text: str) -> str:
    """Collapse whitespace (used by tests to compare with extracted text)."""
    return re.sub(r"\s+", "", text)
