import pytest

from kg import kanripo as fmt
from kg.errors import ValidationError

SOURCE = (
    "# -*- mode: mandoku-view; -*-\n"
    "#+TITLE: 測試\n"
    "#+PROPERTY: JUAN 卷上\n"
    "#+PROPERTY: BASEEDITION WYG\n"
    "<pb:KR9z0001_WYG_001-1a>¶\n"
    "** 篇名¶\n"
    "天地(注文甲/注文乙)玄黃&KR0056;宇宙¶\n"
    "# dating: 5000\n"
    "洪荒<md:KR9z0001_SBCK_001-3b>日月¶\n"
    "<pb:KR9z0001_WYG_001-1b>¶\n"
    "黄法[((木-(企-止)+皕)/大)*毛]盈(跨行/\n"
    "注)昃¶"
)


def test_plain_text_drops_markup_and_keeps_every_other_character():
    juan = fmt.parse_juan(SOURCE)
    gaiji = chr(fmt.GAIJI_BASE + 56)
    assert juan.text == f"篇名天地注文甲注文乙玄黃{gaiji}宇宙洪荒日月黄法[((木-(企-止)+皕)/大)*毛]盈跨行注昃"


def test_render_gives_the_source_back_byte_for_byte():
    juan = fmt.parse_juan(SOURCE)
    assert fmt.render_juan(juan.text, juan.layout) == SOURCE


def test_headers_are_data():
    juan = fmt.parse_juan(SOURCE)
    assert juan.title == "測試"
    assert juan.property("JUAN") == "卷上"
    assert juan.properties == [("JUAN", "卷上"), ("BASEEDITION", "WYG")]


def test_layout_offsets_are_code_points_into_the_plain_text():
    juan = fmt.parse_juan(SOURCE)
    pages = juan.items(fmt.PAGE)
    assert [o for o, _ in pages] == [0, juan.text.index("黄法")]
    (md_offset, md_src), = juan.items(fmt.MILESTONE)
    assert md_src == "<md:KR9z0001_SBCK_001-3b>"
    assert juan.text[md_offset:md_offset + 2] == "日月"
    (g_offset, g_src), = juan.items(fmt.GAIJI)
    assert g_src == "&KR0056;" and fmt.gaiji_id(juan.text[g_offset]) == "KR0056"


def test_commentary_is_structure_and_may_cross_lines():
    juan = fmt.parse_juan(SOURCE)
    notes = [(o, k) for o, k, _ in juan.layout if k in (fmt.NOTE_OPEN, fmt.NOTE_SPLIT, fmt.NOTE_CLOSE)]
    first_open = juan.text.index("注文甲")
    assert notes[:3] == [(first_open, "("), (first_open + 3, "/"), (first_open + 6, ")")]
    cross = juan.text.index("跨行")
    assert notes[3:] == [(cross, "("), (cross + 2, "/"), (cross + 3, ")")]


def test_parentheses_inside_a_composed_glyph_stay_text():
    juan = fmt.parse_juan("a[(木/大)]b(c)d")
    assert juan.text == "a[(木/大)]bcd"


def test_unmatched_or_nested_parentheses_stay_text():
    assert fmt.parse_juan("甲)乙(丙").text == "甲)乙(丙"
    assert fmt.parse_juan("甲(乙(丙)丁)戊").text == "甲(乙(丙)丁)戊"
    for src in ["甲)乙(丙", "甲(乙(丙)丁)戊", "(a/b)(c)"]:
        j = fmt.parse_juan(src)
        assert fmt.render_juan(j.text, j.layout) == src


def test_independent_oracle_agrees():
    juan = fmt.parse_juan(SOURCE)
    with_notes = []
    pos = 0
    for offset, kind, src in juan.layout:
        if kind in (fmt.NOTE_OPEN, fmt.NOTE_SPLIT, fmt.NOTE_CLOSE):
            with_notes.append(juan.text[pos:offset] + src)
            pos = offset
    with_notes.append(juan.text[pos:])
    assert "".join(with_notes) == fmt.strip_markup(SOURCE)


@pytest.mark.parametrize(
    "raw, editions, expected",
    [
        ("KR2a0031_WYG_001-1a", frozenset(), ("KR2a0031", "WYG", "001", 1, "a")),
        ("KR5a0001_CK-KZ_01p001a", frozenset({"CK-KZ", "CK-KZ-jye"}), ("KR5a0001", "CK-KZ", None, 1, "a")),
        ("KR5a0001_CK-KZ-jye_01p002b", frozenset({"CK-KZ", "CK-KZ-jye"}), ("KR5a0001", "CK-KZ-jye", None, 2, "b")),
        ("CK-KZ_JY001_01p001a", frozenset({"CK-KZ"}), (None, "CK-KZ", None, 1, "a")),
        ("KR5a0001_HFL_001-001a", frozenset(), ("KR5a0001", "HFL", "001", 1, "a")),
        ("KR5a0001_YP-C_", frozenset({"YP-C"}), ("KR5a0001", "YP-C", None, None, None)),
    ],
)
def test_page_references(raw, editions, expected):
    ref = fmt.parse_page_ref(raw, editions)
    assert (ref.text_id, ref.edition, ref.juan, ref.folio, ref.side) == expected


def test_invalid_utf8_names_line_and_column():
    data = "第一行¶\n第二行".encode() + b"\xff\xfe" + "¶\n".encode()
    with pytest.raises(ValidationError) as info:
        fmt.decode(data, file="KR9z0001_001.txt")
    assert info.value.details == {"file": "KR9z0001_001.txt", "line": 2, "column": 4}
    assert "0xff" in info.value.message


def test_private_use_characters_already_in_the_source_are_kept():
    src = "百二十五||（\U000f0078）¶"
    juan = fmt.parse_juan(src)
    assert "\U000f0078" in juan.text
    assert fmt.render_juan(juan.text, juan.layout) == src
