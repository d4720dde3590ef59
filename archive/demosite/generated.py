"""A generated disclosure site of N articles in the demo site's style (benchmarks, scale tests)."""

from __future__ import annotations

import random
import re
from functools import lru_cache

from .content import Doc, _notice, _policy, _seed_paragraphs
from .pages import Resource, assemble

SUBJECTS = ["高新技术企业认定", "人才团队项目", "安全生产", "企业服务驿站", "宪法宣传", "新技术应用场景",
            "规范性文件清理", "政务公开", "普法学习", "知识产权质押融资", "值班值守", "研发费用补助",
            "创新积分制", "消防安全", "网络安全检查", "纪律教育", "森林防灭火", "营商环境", "行政复议",
            "行政诉讼", "财政预决算", "政府采购", "行政许可", "行政处罚", "统计调查", "生态环境保护",
            "城市更新", "招商引资", "科技金融", "乡村振兴", "就业创业", "医疗保障", "教育督导", "文物保护"]
VERBS = ["开展", "组织申报", "做好", "公布", "征集", "印发", "进一步加强", "组织参加", "部署", "推进"]
DEPTS = ["党政办公室", "科技创新局", "经济发展局", "人才工作局", "安全生产监督管理局", "企业服务中心"]


def _sentences() -> list[str]:
    paras, _ = _seed_paragraphs()
    return [s for p in paras for s in re.findall(r"[^。；]+[。；]", p) if len(s) > 10]


def generated_docs(n: int, seed: int = 0) -> list[Doc]:
    """Return ``n`` documents: notices (with some attachments) and policy documents."""
    rng = random.Random(seed)
    pool = _sentences()
    docs = []
    for i in range(n):
        subject = rng.choice(SUBJECTS)
        year = rng.randint(2016, 2025)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.7:
            title = f"关于{rng.choice(VERBS)}{year}年度{subject}工作的通知（{i}）"
            doc = _notice(i, title, date, subject, rng.choice(DEPTS))
            if i % 50 == 0:
                doc.attachments = [("申报指引.pdf", "gqrd_2024_zhiyin.pdf")]
        else:
            title = f"佛山高新区{subject}管理办法（{year}年第{i}号）"
            doc = _policy(i, title, date, subject, f"佛高新〔{year}〕{i}号")
        doc.paragraphs = doc.paragraphs[:2] + ["".join(rng.sample(pool, 3))] + doc.paragraphs[2:]
        doc.doc_id = 6_000_000 + i
        docs.append(doc)
    return docs


@lru_cache(maxsize=4)
def generated_site(n: int, seed: int = 0) -> dict[str, Resource]:
    """Return the routes of a generated site of ``n`` articles."""
    return assemble(generated_docs(n, seed))
