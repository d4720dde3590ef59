"""Charset decisions: header, BOM, <meta>, trial, gb18030 fallback."""

from __future__ import annotations

from pipelines.decode import decode_html

TEXT = "<html><head>{meta}</head><body>佛山高新区法治政府建设年度报告</body></html>"


def test_meta_only_gbk():
    body = TEXT.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk")
    text, cs = decode_html(body, "text/html")
    assert cs == "gb18030" and "法治政府" in text


def test_wrong_utf8_declaration_is_overridden():
    body = TEXT.format(meta='<meta charset="utf-8">').encode("gbk")
    text, cs = decode_html(body, "text/html; charset=utf-8")
    assert cs == "gb18030" and "法治政府" in text


def test_charset_merged_into_viewport_meta():
    body = TEXT.format(meta='<meta charset="utf-8" name="viewport" content="width=device-width">').encode()
    assert decode_html(body, None) == (body.decode(), "utf-8")


def test_bom_wins_over_declaration():
    body = b"\xef\xbb\xbf" + TEXT.format(meta='<meta charset="gbk">').encode()
    text, cs = decode_html(body, None)
    assert cs == "utf-8" and "法治政府" in text


def test_header_wins_when_it_decodes():
    body = TEXT.format(meta='<meta charset="utf-8">').encode("gb18030")
    assert decode_html(body, "text/html; charset=GBK")[1] == "gb18030"
