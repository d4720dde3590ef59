"""Normalisation: full-width to ASCII, odd spaces, Chinese punctuation kept."""

from __future__ import annotations

from pipelines.normalize import label_key, normalize_block, normalize_inline, normalize_text


def test_fullwidth_digits_and_letters():
    assert normalize_text("２０２３年ＩＣＰ备　第１号") == "2023年ICP备 第1号"


def test_chinese_punctuation_kept():
    assert normalize_text("一、总体情况（略）：“好”。") == "一、总体情况（略）：“好”。"


def test_nbsp_and_ideographic_space():
    assert normalize_text("a\u00a0\u00a0b\u3000c") == "a b c"


def test_inline_drops_layout_spaces_beside_chinese():
    assert normalize_inline("调整2007　年末 国债") == "调整2007年末国债"


def test_block_drops_blank_lines():
    assert normalize_block("一\n\n  \n二 ") == "一\n二"


def test_label_key():
    assert label_key("索 引 号：") == "索引号"
    assert label_key("标　　题") == "标题"
