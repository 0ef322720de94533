"""Reading plans and catalogues as units send them: encodings, headers in either language, cells
reported by sheet, row and column letter."""

import io

import pytest

from acceptance.errors import ImportRejectedError
from acceptance.tables import Column, Problems, column_letter, parse_date, read_table

COLS = (Column("unit", "承建单位", "submitting unit", required=True), Column("n", "计划卷数", "planned juan", kind="count"),
        Column("when", "完成日期", "completion date", kind="date"))


def table(data: bytes, name="t.csv"):
    problems = Problems(name)
    t = read_table(name, data, COLS, problems)
    return t, problems


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_encodings_are_detected(encoding, expected):
    t, p = table("承建单位,计划卷数\n國家圖書館,3\n".encode(encoding))
    assert not p and t.encoding == expected and t.rows[0]["unit"].value == "國家圖書館"


def test_english_headers_and_blank_lines():
    t, p = table(b"submitting unit,planned juan,completion date\n\nA,1,2026-11-02\n,,\n")
    assert not p and [r["unit"].value for r in t.rows] == ["A"] and t.rows[0]["unit"].row == 3


def test_every_problem_with_its_place():
    t, p = table("承建单位,计划卷数,完成日期\n,x,2026-02-30\n".encode())
    with pytest.raises(ImportRejectedError) as e:
        p.raise_if_any("plan")
    got = [(x["row"], x["column_letter"], x["code"]) for x in e.value.details["problems"]]
    assert got == [(2, "A", "empty_cell"), (2, "B", "not_a_count"), (2, "C", "impossible_date")]
    assert "审定目录" in e.value.message and "nothing was stored" in e.value.message


def test_missing_columns_and_empty_files():
    _, p = table("计划卷数\n1\n".encode())
    assert [x.code for x in p.report.problems] == ["missing_column"]
    _, p = table(b"")
    assert [x.code for x in p.report.problems] == ["empty_file"]
    _, p = table("承建单位\n".encode())
    assert [x.code for x in p.report.problems] == ["no_rows"]


def test_xlsx_dates_and_numbers_are_read_as_text():
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["承建单位", "计划卷数", "完成日期"])
    wb.active.append(["A", 12, datetime.datetime(2026, 11, 3)])
    buf = io.BytesIO()
    wb.save(buf)
    t, p = table(buf.getvalue(), "t.xlsx")
    assert not p and (t.rows[0]["n"].value, t.rows[0]["when"].value) == ("12", "2026-11-03")


def test_column_letters_and_dates():
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    assert parse_date("2026/11/03").isoformat() == "2026-11-03" and parse_date("2026-13-01") is None and parse_date("11/03/2026") is None
