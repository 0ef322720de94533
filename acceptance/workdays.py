"""Working days in mainland China: statutory holidays and make-up working days (调休) come from
the maintained ``chinese-calendar`` package (it follows the State Council's yearly notice), never
from a table of our own. The monthly catalogue is due on the last working day of each month.
"""

from __future__ import annotations

import calendar as _calendar
import re
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar

from acceptance.errors import AcceptanceInputError, CalendarCoverageError

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def calendar_source() -> str:
    try:
        return f"chinese-calendar {version('chinese-calendar')}"
    except PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "chinese-calendar"


def parse_month(text: str, field: str = "month") -> tuple[int, int]:
    m = MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise AcceptanceInputError(f"a month is written YYYY-MM (e.g. 2025-01), got {text!r} / 月份格式应为 YYYY-MM", field=field)
    return int(m.group(1)), int(m.group(2))


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise CalendarCoverageError(
            f"{calendar_source()} has no holiday arrangement for {day.year} yet (update the package once the State "
            f"Council publishes it) / 节假日库尚无 {day.year} 年的安排", year=day.year) from None


def _day(day: date) -> dict:
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    reason = name if on_holiday and name else "weekend"
    return {"date": day.isoformat(), "weekday": day.isoweekday(), "reason": reason}


def due_date(month: str) -> dict:
    """When the catalogue of ``month`` (YYYY-MM) is due: the last working day of that month.

    Also says why the later days of the month do not count (weekend or a named holiday) and whether
    the due day is a make-up working day (a Saturday or Sunday worked because of 调休)."""
    year, mon = parse_month(month)
    last = date(year, mon, _calendar.monthrange(year, mon)[1])
    day = last
    skipped = []
    while not is_workday(day):
        skipped.append(_day(day))
        day -= timedelta(days=1)
    return {
        "month": f"{year:04d}-{mon:02d}",
        "due": day.isoformat(),
        "weekday": day.isoweekday(),
        "make_up_workday": day.isoweekday() >= 6,  # 调休: a weekend day that is worked
        "last_day_of_month": last.isoformat(),
        "non_working_days_skipped": list(reversed(skipped)),
        "calendar": calendar_source(),
    }
