"""The monthly catalogue is due on the last working day of the month in mainland China: statutory
holidays and make-up working days (调休) from chinese-calendar. Expected dates read off the State
Council's notices for 2024, 2025 and 2026, not computed by the code under test."""

import pytest

from acceptance.errors import AcceptanceInputError, CalendarCoverageError
from acceptance.workdays import due_date


@pytest.mark.parametrize("month, due, make_up, skipped", [
    # Spring Festival
    ("2024-02", "2024-02-29", False, []),                            # 2024: holiday 10–17 Feb, month ends on a Thursday
    ("2025-01", "2025-01-27", False, ["Spring Festival"] * 4),       # 2025: holiday from 28 Jan: the Monday before
    ("2026-02", "2026-02-28", True, []),                             # 2026: Saturday 28 Feb is a make-up working day
    # Labour Day
    ("2024-04", "2024-04-30", False, []),
    ("2025-04", "2025-04-30", False, []),
    ("2026-04", "2026-04-30", False, []),
    ("2026-05", "2026-05-29", False, ["weekend", "weekend"]),
    # Dragon Boat Festival
    ("2025-05", "2025-05-30", False, ["Dragon Boat Festival"]),     # 2025: 31 May – 2 Jun
    ("2024-06", "2024-06-28", False, ["weekend", "weekend"]),
    # National Day
    ("2024-09", "2024-09-30", False, []),
    ("2024-10", "2024-10-31", False, []),
    ("2025-09", "2025-09-30", False, []),
    ("2025-10", "2025-10-31", False, []),
    ("2026-09", "2026-09-30", False, []),
    ("2026-10", "2026-10-30", False, ["weekend"]),
    # New Year
    ("2024-12", "2024-12-31", False, []),
    ("2025-12", "2025-12-31", False, []),
])
def test_due_dates(month, due, make_up, skipped):
    d = due_date(month)
    assert (d["month"], d["due"], d["make_up_workday"]) == (month, due, make_up)
    assert [s["reason"] for s in d["non_working_days_skipped"]] == skipped
    assert d["calendar"].startswith("chinese-calendar ")


def test_make_up_working_days_are_working_days():
    from datetime import date

    from acceptance.workdays import is_workday

    # 调休: weekend days worked around the holidays
    for day in (date(2024, 2, 4), date(2024, 2, 18), date(2024, 4, 28), date(2024, 5, 11), date(2024, 9, 29),
                date(2024, 10, 12), date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
                date(2025, 10, 11), date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                date(2026, 9, 20), date(2026, 10, 10)):
        assert is_workday(day), day
    # statutory holidays on weekdays
    for day in (date(2024, 2, 12), date(2024, 5, 2), date(2024, 6, 10), date(2024, 10, 4), date(2025, 1, 31),
                date(2025, 5, 5), date(2025, 6, 2), date(2025, 10, 8), date(2026, 2, 20), date(2026, 5, 5),
                date(2026, 6, 19), date(2026, 10, 7)):
        assert not is_workday(day), day


def test_a_year_the_calendar_does_not_cover_is_a_clear_error():
    with pytest.raises(CalendarCoverageError) as e:
        due_date("2099-01")
    assert "2099" in e.value.message and e.value.details["year"] == 2099


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "25-01", "2025/01", "", "2025-00"])
def test_bad_months(month):
    with pytest.raises(AcceptanceInputError):
        due_date(month)


def test_the_running_month_of_a_year_the_calendar_does_not_have_yet_is_not_due():
    """In January of a year before the holiday package knows it, acceptance still answers: the
    running month is not counted as due; a past month the calendar lacks stays a clear error."""
    from datetime import date

    from acceptance.service import _months_between
    from acceptance.workdays import is_workday

    future = date(2100, 1, 15)
    with pytest.raises(CalendarCoverageError):
        is_workday(future)
    assert _months_between("2100-01", date(2100, 1, 2)) == []
    with pytest.raises(CalendarCoverageError):
        _months_between("2099-12", date(2100, 1, 2))
