"""Chinese-aware diffs: sentences aligned first, then words (jieba) with number runs kept whole."""

from __future__ import annotations

import difflib
import logging
import re
from functools import lru_cache

from pipelines.record import CONTENT_FIELDS, META_FIELDS

_SENTENCE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+|\n|$)")
_RUNS = re.compile(r"[0-9][0-9.,%]*|[A-Za-z][A-Za-z0-9.\-_]*|\s+|[^0-9A-Za-z\s]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def sentences(text: str) -> list[str]:
    """Split text into sentences on 。！？； and line breaks, delimiters kept."""
    return [s for s in _SENTENCE.findall(text) if s]


def words(sentence: str) -> list[str]:
    """Tokenise a sentence: jieba words for Chinese, digit and Latin runs kept whole."""
    out: list[str] = []
    for run in _RUNS.findall(sentence):
        if run[0].isdigit() or run[0].isascii() and run[0].isalpha() or run.isspace():
            out.append(run)
        else:
            out.extend(_jieba().lcut(run, HMM=False))
    return out


def _emit(ops: list[dict], op: str, old: str, new: str) -> None:
    if not old and not new:
        return
    if ops and ops[-1]["op"] == op and op in ("equal", "insert", "delete"):
        ops[-1]["old"] += old
        ops[-1]["new"] += new
        return
    ops.append({"op": op, "old": old, "new": new})


def _word_ops(ops: list[dict], a: str, b: str) -> None:
    wa, wb = words(a), words(b)
    sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        _emit(ops, tag, "".join(wa[i1:i2]), "".join(wb[j1:j2]))


def text_ops(old: str, new: str) -> list[dict]:
    """Return diff ops between two texts: equal/insert/delete/replace with old and new strings."""
    sa, sb = sentences(old), sentences(new)
    ops: list[dict] = []
    sm = difflib.SequenceMatcher(None, sa, sb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            _emit(ops, "equal", "".join(sa[i1:i2]), "".join(sa[i1:i2]))
        elif tag == "delete":
            _emit(ops, "delete", "".join(sa[i1:i2]), "")
        elif tag == "insert":
            _emit(ops, "insert", "", "".join(sb[j1:j2]))
        else:
            _pair_sentences(ops, sa[i1:i2], sb[j1:j2])
    return ops


def _pair_sentences(ops: list[dict], olds: list[str], news: list[str]) -> None:
    """Pair similar sentences in a replaced block; the rest are whole inserts or deletes."""
    j = 0
    for old in olds:
        best, best_k = 0.0, None
        for k in range(j, len(news)):
            r = difflib.SequenceMatcher(None, old, news[k], autojunk=False).ratio()
            if r > best:
                best, best_k = r, k
        if best_k is not None and best >= 0.5:
            for k in range(j, best_k):
                _emit(ops, "insert", "", news[k])
            _word_ops(ops, old, news[best_k])
            j = best_k + 1
        else:
            _emit(ops, "delete", old, "")
    for k in range(j, len(news)):
        _emit(ops, "insert", "", news[k])


def field_changes(old: dict, new: dict) -> dict[str, dict]:
    """Return {field: {old, new}} for the content fields that differ."""
    out = {}
    for name in CONTENT_FIELDS:
        a, b = old.get(name), new.get(name)
        if (a or None) != (b or None):
            out[name] = {"old": a, "new": b}
    return out


def significance(old: dict, new: dict, ops: list[dict] | None = None) -> float:
    """Score a change 0–1: share of text changed, numbers changed, metadata, silent revision."""
    changed = field_changes(old, new)
    if not changed:
        return 0.0
    ops = ops if ops is not None else text_ops(old.get("body") or "", new.get("body") or "")
    total = max(1, len(old.get("body") or ""))
    touched = sum(max(len(o["old"]), len(o["new"])) for o in ops if o["op"] != "equal")
    score = min(1.0, touched / total) * 0.4
    if any(_NUMBER.search(o["old"]) or _NUMBER.search(o["new"]) for o in ops if o["op"] != "equal"):
        score += 0.25
    if any(f in changed for f in META_FIELDS):
        score += 0.15
    if "body" in changed and (old.get("published") == new.get("published")):
        score += 0.2
    return round(min(1.0, score), 3)


def version_diff(url: str, a_num: int, a: dict, b_num: int, b: dict) -> dict:
    """Return the CLI contract diff: url, from, to, fields (metadata), ops (body)."""
    fields = {k: v for k, v in field_changes(a, b).items() if k != "body"}
    return {"url": url, "from": a_num, "to": b_num, "fields": fields,
            "ops": text_ops(a.get("body") or "", b.get("body") or "")}


def format_text(diff: dict, color: bool = False) -> str:
    """Render a diff for a terminal: [-deleted-]{+inserted+}, or colours when ``color``."""
    red, green, dim, reset = ("\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m") if color else ("", "", "", "")
    lines = [f"--- {diff.get('against') or diff['url']} version {diff['from']}",
             f"+++ {diff['url']} version {diff['to']}"]
    for name, ch in diff["fields"].items():
        lines.append(f"{name}: {red}[-{ch['old']}-]{reset} {green}{{+{ch['new']}+}}{reset}")
    out = []
    for op in diff["ops"]:
        if op["op"] == "equal":
            text = op["old"]
            out.append(dim + (text if len(text) < 80 else text[:30] + " … " + text[-30:]) + reset)
        else:
            if op["old"]:
                out.append(f"{red}[-{op['old']}-]{reset}")
            if op["new"]:
                out.append(f"{green}{{+{op['new']}+}}{reset}")
    lines.append("".join(out))
    return "\n".join(lines)
