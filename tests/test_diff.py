"""Chinese-aware diffs: sentence alignment, then words; numbers whole."""

from __future__ import annotations

from archive.diff import format_text, sentences, significance, text_ops, version_diff, words


def _edits(ops):
    return [(o["op"], o["old"], o["new"]) for o in ops if o["op"] != "equal"]


def test_number_change_is_one_replace():
    old = "累计受理申请13561件。全部予以公开。"
    new = "累计受理申请13651件。全部予以公开。"
    assert _edits(text_ops(old, new)) == [("replace", "13561", "13651")]


def test_added_sentence_is_one_insert():
    old = "第一句。第二句。"
    new = "第一句。新增加的一句话。第二句。"
    assert _edits(text_ops(old, new)) == [("insert", "", "新增加的一句话。")]


def test_words_keep_digit_and_latin_runs():
    toks = words("2023年ICP备05033683号")
    assert "2023" in toks and "ICP" in toks and "05033683" in toks


def test_sentences_split_on_chinese_stops():
    assert sentences("一。二！三？四；五\n六") == ["一。", "二！", "三？", "四；", "五\n", "六"]


def test_ops_reconstruct_both_texts():
    old = "本年新收申请45件，全部按期答复。行政复议0件。"
    new = "本年新收申请54件，按期答复52件。行政复议0件。新增说明。"
    ops = text_ops(old, new)
    assert "".join(o["old"] for o in ops) == old
    assert "".join(o["new"] for o in ops) == new
    assert ("replace", "45", "54") in _edits(ops)


def test_version_diff_fields_and_significance():
    a = {"title": "t", "published": "2024-03-04", "body": "惠及企业48家。"}
    b = {"title": "t", "published": "2024-03-05", "body": "惠及企业84家。"}
    d = version_diff("u", 1, a, 2, b)
    assert d["fields"] == {"published": {"old": "2024-03-04", "new": "2024-03-05"}}
    assert 0 < significance(a, b) <= 1
    assert "[-48-]" in format_text(d) and "{+84+}" in format_text(d)
    assert significance(a, a) == 0
