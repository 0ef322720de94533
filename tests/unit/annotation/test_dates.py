"""Reign-era dates: finding them, reading them with sanmiao, astronomical years."""

import pytest

from annotation.suggest.dates import DateFinder, cn_number, edtf_year, parse_parts
from annotation.suggest.normalize import fold


@pytest.mark.parametrize(
    "text,value",
    [("元", 1), ("正", 1), ("腊", 12), ("三", 3), ("十", 10), ("十二", 12), ("十有二", 12), ("二十三", 23),
     ("廿一", 21), ("卅", 30), ("初五", 5), ("一百二", 102)],
)
def test_chinese_numerals(text, value):
    assert cn_number(text) == value


def test_edtf_years_are_astronomical():
    assert edtf_year(735) == "0735"
    assert edtf_year(0) == "0000"
    assert edtf_year(-139) == "-0139"


def test_parse_parts():
    assert parse_parts(fold("貞觀十七年閏六月丁巳")) == {"era_year": 17, "leap_month": True, "month": 6, "ganzhi_day": "丁巳"}
    assert parse_parts(fold("九月乙丑朔")) == {"month": 9, "ganzhi_day": "乙丑", "phase": "朔", "day": 1}
    assert parse_parts(fold("歲在甲子")) == {"ganzhi_year": "甲子"}


def _found(finder, text):
    return [text[d.start : d.end] for d in finder.find(fold(text))]


def test_finder_spans(sanmiao_calendar):
    finder = DateFinder(sanmiao_calendar)
    assert _found(finder, "開元二十三年，帝幸東都。") == ["開元二十三年"]
    assert _found(finder, "唐開元二十三年冬十月甲子，詔") == ["唐開元二十三年冬十月甲子"]
    assert _found(finder, "贞元末，登进士第。宝历初，检校") == ["贞元末", "宝历初"]
    assert _found(finder, "九月乙丑朔，日有食之。乙亥，以怯薛官") == ["九月乙丑朔", "乙亥"]
    assert _found(finder, "二年春正月丙寅，司徒") == ["二年春正月丙寅"]
    assert _found(finder, "歲在甲子") == ["歲在甲子"]
    # a bare year without an era, or a 干支 inside a clause, is not proposed
    assert _found(finder, "二年，坐籴米不实") == []
    assert _found(finder, "年十八，甲子日出") == []
