"""The suggestion service without ../shared and without a model: 《…》 and reign-era dates.

These run everywhere (no shared data): they pin the output contract of DESIGN.md §5.
"""

import json

import pytest

from annotation.suggest import SuggestionService
from annotation.suggest.pipeline import blank_pipeline


def _one(service: SuggestionService, text: str, label: str):
    spans = [s for s in service.suggest(text) if s.label == label]
    assert len(spans) == 1, spans
    return spans[0]


def test_tokenizer_is_one_token_per_character():
    nlp = blank_pipeline()
    text = "𫝊司馬遷作《史記》 abc"
    tokens = [t.text for t in nlp.make_doc(text)]
    assert tokens[:9] == list("𫝊司馬遷作《史記》")
    assert all(len(t) == 1 for t in tokens)


def test_offsets_are_code_points_with_supplementary_characters(patterns_service):
    text = "𫝊𫝊𠀀著《史記》"  # three characters outside the BMP before the title
    span = _one(patterns_service, text, "BOOK")
    assert (span.start, span.end, span.text) == (5, 7, "史記")
    assert text[span.start : span.end] == "史記"
    assert len(text.encode("utf-16-le")) // 2 != len(text)  # UTF-16 offsets would differ


def test_book_title(patterns_service):
    span = _one(patterns_service, "太史公作《史記》百三十篇", "BOOK")
    assert (span.start, span.end, span.text, span.source) == (5, 7, "史記", "pattern")


def test_kaiyuan_23_is_tang_735(patterns_service):
    span = _one(patterns_service, "開元二十三年，帝幸東都。", "DATE")
    assert (span.start, span.end, span.text) == (0, 6, "開元二十三年")
    assert len(span.dates) == 1
    d = span.dates[0]
    assert (d.era, d.regime, d.era_year, d.year, d.edtf) == ("開元", "唐", 23, 735, "0735")
    assert d.ganzhi_year == "乙亥"


def test_simplified_date_reads_the_same(patterns_service):
    span = _one(patterns_service, "开元二十三年", "DATE")
    assert [(d.regime, d.year) for d in span.dates] == [("唐", 735)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("太平二年", {("三國吳", 257), ("北燕", 410), ("南梁", 557), ("遼", 1022)}),
        ("建武三年", {("東漢", 27), ("後趙", 337), ("南齊", 496)}),
    ],
)
def test_ambiguous_era_gives_one_reading_per_regime(patterns_service, text, expected):
    span = _one(patterns_service, text, "DATE")
    got = {(d.regime, d.year) for d in span.dates}
    assert expected <= got
    assert len({d.regime for d in span.dates}) == len(span.dates)


def test_bce_years_are_astronomical(patterns_service):
    alone = _one(patterns_service, "建元元年", "DATE")
    assert ("西漢", -139, "-0139") in {(d.regime, d.year, d.edtf) for d in alone.dates}
    assert len(alone.dates) > 1  # 建元 was also used by 前秦, 南齊 ...
    # the emperor named just before the date narrows it to one reading
    narrowed = _one(patterns_service, "漢武帝建元元年，始以年紀事", "DATE")
    assert narrowed.text == "建元元年"
    assert [(d.regime, d.year, d.edtf) for d in narrowed.dates] == [("西漢", -139, "-0139")]


def test_ganzhi_year_selects_the_fitting_readings(patterns_service):
    span = _one(patterns_service, "建元元年歲在辛丑", "DATE")
    assert {(d.regime, d.year) for d in span.dates} == {("西漢", -139)}


def test_leap_month_with_ganzhi_day(patterns_service):
    span = _one(patterns_service, "貞觀十七年閏六月丁巳，詔曰", "DATE")
    assert span.text == "貞觀十七年閏六月丁巳"
    (d,) = span.dates
    assert (d.year, d.month, d.leap_month, d.day, d.ganzhi_day) == (643, 6, True, 10, "丁巳")
    assert d.edtf == "0643-08-02"  # proleptic Gregorian, as ISO 8601
    assert d.julian == "0643-07-30"
    assert d.jdn == 1956124


def test_leap_month_without_number_keeps_only_years_that_had_one(patterns_service):
    span = _one(patterns_service, "永興元年閏月", "DATE")
    assert span.dates, "永興元年 of some regime had a leap month"
    for d in span.dates:
        assert d.leap_month is True and d.month is not None
        assert "/" in d.edtf  # the leap month's first and last day
    assert 350 in {d.year for d in span.dates}  # 冉魏 永興元年 had a leap second month
    assert 153 not in {d.year for d in span.dates}  # 東漢 永興元年 (153) had none


def test_day_from_ganzhi_and_from_number_agree(patterns_service):
    by_gz = _one(patterns_service, "開元二十三年正月甲子", "DATE").dates[0]
    by_day = _one(patterns_service, "開元二十三年正月七日", "DATE").dates[0]
    assert (by_gz.day, by_gz.ganzhi_day, by_gz.edtf) == (7, "甲子", "0735-02-08")
    assert (by_day.day, by_day.ganzhi_day, by_day.jdn) == (7, "甲子", by_gz.jdn)


def test_day_that_does_not_exist_falls_back_to_the_month(patterns_service):
    span = _one(patterns_service, "唐開元二十三年冬十月甲子", "DATE")
    (d,) = span.dates
    assert (d.year, d.month, d.day) == (735, 10, None)
    assert d.edtf == "0735-10-25/0735-11-22"
    assert "day" in d.note


def test_era_without_year_gives_the_era_range(patterns_service):
    (d,) = _one(patterns_service, "開元中，天下無事", "DATE").dates
    assert (d.year, d.year_end, d.edtf) == (713, 741, "0713/0741")


def test_dates_without_era_keep_what_the_text_says(patterns_service):
    spans = [s for s in patterns_service.suggest("九月乙丑朔，日有食之。乙亥，以怯薛官") if s.label == "DATE"]
    assert [s.text for s in spans] == ["九月乙丑朔", "乙亥"]
    assert spans[0].dates[0].model_dump(exclude_none=True) == {"month": 9, "day": 1, "ganzhi_day": "乙丑", "source": "text"}


def test_json_contract(patterns_service):
    (line,) = patterns_service.suggest_lines(["𫝊作《史記》，開元二十三年成"])
    data = json.loads(line.to_json())
    assert list(data) == ["spans"]
    book, date = data["spans"]
    assert {k: book[k] for k in ("start", "end", "label", "text")} == {"start": 3, "end": 5, "label": "BOOK", "text": "史記"}
    assert "dates" not in book
    assert {k: date[k] for k in ("start", "end", "label", "text")} == {"start": 7, "end": 13, "label": "DATE", "text": "開元二十三年"}
    reading = date["dates"][0]
    assert {k: reading[k] for k in ("era", "regime", "year", "edtf")} == {"era": "開元", "regime": "唐", "year": 735, "edtf": "0735"}
    assert None not in reading.values()


def test_lines_are_independent_and_empty_lines_give_empty_spans(patterns_service):
    results = list(patterns_service.suggest_lines(["", "《論語》", "   ", "無"]))
    assert [len(r.spans) for r in results] == [0, 1, 0, 0]


def test_mode_is_reported(patterns_service):
    info = patterns_service.info()
    assert info.mode == "patterns"
    assert any("shared data not found" in n for n in info.notes)


def test_leap_month_the_year_did_not_have_falls_back_to_the_year(patterns_service):
    (d,) = _one(patterns_service, "開元二十三年閏正月", "DATE").dates
    assert (d.year, d.edtf, d.month, d.leap_month) == (735, "0735", None, None)
    assert "month" in d.note
    (leap,) = _one(patterns_service, "開元二十三年閏十一月", "DATE").dates
    assert (leap.month, leap.leap_month, leap.edtf) == (11, True, "0735-12-23/0736-01-21")
