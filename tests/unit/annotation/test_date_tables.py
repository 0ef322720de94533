"""Table-driven date reading: same readings as sanmiao's solver, first years fixed, cached on disk."""

from __future__ import annotations

import pickle
import random
import time
from pathlib import Path

import pytest

from annotation.suggest.calendar_tables import CalendarTables, TableDateResolver, ganzhi
from annotation.suggest.date_compare import compare, date_samples
from annotation.suggest.dates import DateFinder, DateResolver, ReignCalendar

from ...conftest import require


@pytest.fixture(scope="module")
def cbdb_calendar(shared_dir: Path) -> ReignCalendar:
    path = shared_dir / "authority" / "cbdb" / "dyna_cal.xml"
    require(path.is_file(), f"CBDB reign calendar not found at {path}")
    return ReignCalendar(path)


@pytest.fixture(scope="module")
def cbdb_tables(cbdb_calendar) -> TableDateResolver:
    return TableDateResolver(cbdb_calendar, CalendarTables.build(cbdb_calendar.tables, cbdb_calendar.cbdb_starts))


@pytest.fixture(scope="module")
def sanmiao_tables(sanmiao_calendar) -> TableDateResolver:
    return TableDateResolver(sanmiao_calendar, CalendarTables.build(sanmiao_calendar.tables))


def _assert_same(pairs, reference, tables, allowed_rulers: int):
    diffs, corrected, untagged, past, rulers, narrowed = compare(pairs, reference, tables)
    detail = "\n".join(
        f"{d!r} (context {c!r})\n  sanmiao: {[r.model_dump(exclude_none=True) for r in o]}\n"
        f"  tables:  {[r.model_dump(exclude_none=True) for r in n]}"
        for d, c, o, n in diffs[:5]
    )
    assert not diffs, f"{len(diffs)} of {len(pairs)} dates read differently:\n{detail}"
    assert len(rulers) <= allowed_rulers
    # every documented difference is rare: most dates read exactly as before
    assert len(corrected) + len(untagged) + len(past) + len(rulers) + len(narrowed) <= len(pairs) // 10
    return corrected


def _synthetic(calendar: ReignCalendar, n: int, seed: int) -> list[tuple[str, str]]:
    """Era + year [+ month [+ day]] strings over sanmiao's own eras (no shared data needed)."""
    rng = random.Random(seed)
    era_df = calendar.tables[0]
    rows = [r for r in era_df.itertuples() if isinstance(r.era_name, str) and len(r.era_name) >= 2]
    numerals = "元二三四五六七八九十"
    months = ["正月", "二月", "三月", "五月", "七月", "九月", "冬十月", "十一月", "十二月", "閏月", "閏三月"]
    out = set()
    while len(out) < n:
        r = rng.choice(rows)
        max_year = max(1, int(r.max_year)) if r.max_year == r.max_year else 3
        year = numerals[rng.randrange(min(max_year, 10))] + "年"
        form = rng.randrange(5)
        text = r.era_name + year
        if form >= 1:
            text += rng.choice(months)
        if form == 2:
            text += ganzhi(rng.randrange(1, 61))
        if form == 3:
            text += rng.choice(["朔", "晦", "三日", "十五日", "三十日"])
        if form == 4:
            text = r.era_name + rng.choice(["初", "中", "末"])
        out.add((text, ""))
    return sorted(out)


def test_tables_read_synthetic_dates_as_sanmiao_does(sanmiao_calendar, sanmiao_tables):
    pairs = _synthetic(sanmiao_calendar, 120, seed=14)
    corrected = _assert_same(pairs, DateResolver(sanmiao_calendar), sanmiao_tables, allowed_rulers=6)
    assert not corrected  # without CBDB's reign calendar nothing is corrected


def test_tables_read_corpus_dates_as_sanmiao_does(cbdb_calendar, cbdb_tables, kanripo_dir):
    """Date expressions (with the clause before them) found in the Kanripo texts."""

    def lines():
        for path in sorted(kanripo_dir.rglob("*.txt"))[::7]:
            yield from path.read_text(encoding="utf-8").splitlines()

    pairs = date_samples(lines(), DateFinder(cbdb_calendar), limit=150, seed=14)
    assert len(pairs) == 150
    _assert_same(pairs, DateResolver(cbdb_calendar), cbdb_tables, allowed_rulers=6)


# -- first years, one rule per dynasty -----------------------------------------------------------


def _years(resolver, text, regime):
    return [r.year for r in resolver.readings(text) if r.regime == regime]


def test_only_eras_proclaimed_the_year_after_accession_are_corrected(cbdb_tables):
    tables = cbdb_tables.tables
    assert {tables.era_by_id[i].name for i in tables.corrections} == {"建文", "永樂"}


@pytest.mark.parametrize(
    "text,regime,year",
    [
        # 明: 踰年改元 — the new era starts at the New Year after the accession
        ("建文元年", "明", 1399), ("建文四年", "明", 1402), ("永樂元年", "明", 1403),
        ("永樂二十二年", "明", 1424), ("洪熙元年", "明", 1425), ("洪武三十五年", "明", 1402),  # 洪武 restored for 1402
        ("洪武元年", "明", 1368), ("崇禎十七年", "明", 1644),
        # 清: 踰年改元 in sanmiao's own table already
        ("順治元年", "清", 1644), ("雍正元年", "清", 1723), ("嘉慶元年", "清", 1796),
        # 唐: 至德 proclaimed in the year of accession (天寶十五載 = 至德元載 = 756)
        ("至德元載", "唐", 756), ("貞觀元年", "唐", 627),
        # 宋: 太平興國 proclaimed in the year of accession (976)
        ("建隆元年", "宋", 960), ("太平興國元年", "宋", 976),
        # 西漢: 建元 the first era name; 太初 the calendar reform (year begins in 冬十月 before it)
        ("建元元年", "西漢", -139), ("太初元年", "西漢", -103),
    ],
)
def test_first_year_rule(cbdb_tables, text, regime, year):
    assert _years(cbdb_tables, text, regime) == [year]


def test_corrected_era_reads_its_months_from_the_right_year(cbdb_tables):
    (r,) = cbdb_tables.readings("建文元年正月")
    assert (r.year, r.month, r.edtf) == (1399, 1, "1399-02-14/1399-03-15")
    (r,) = cbdb_tables.readings("永樂元年")
    assert (r.era_year, r.year, r.ganzhi_year) == (1, 1403, "癸未")


def test_pre_taichu_year_opens_in_the_tenth_month(cbdb_tables):
    (r,) = [r for r in cbdb_tables.readings("元光元年冬十月") if r.regime == "西漢"]
    assert r.edtf == "-0134-10-26/-0134-11-24"  # 元光元年 (134 BCE = −133) opened in late 135 BCE


# -- the table cache -------------------------------------------------------------------------------


def test_tables_are_built_once_and_cached_on_disk(tmp_path, sanmiao_calendar):
    started = time.perf_counter()
    built = CalendarTables.load_or_build(sanmiao_calendar, tmp_path)
    (cache,) = list(tmp_path.glob("calendar-tables-*.pickle"))
    stamp = cache.stat().st_mtime_ns
    loaded = CalendarTables.load_or_build(sanmiao_calendar, tmp_path)
    assert cache.stat().st_mtime_ns == stamp  # read, not rewritten
    assert loaded is not built and loaded.months == built.months and loaded.era_by_id == built.era_by_id
    a = TableDateResolver(sanmiao_calendar, built).readings("貞觀十七年閏六月丁巳")
    b = TableDateResolver(sanmiao_calendar, loaded).readings("貞觀十七年閏六月丁巳")
    assert a == b and a[0].jdn == 1956124
    assert time.perf_counter() - started < 30


def test_a_damaged_cache_is_rebuilt(tmp_path, sanmiao_calendar):
    CalendarTables.load_or_build(sanmiao_calendar, tmp_path)
    (cache,) = list(tmp_path.glob("calendar-tables-*.pickle"))
    cache.write_bytes(b"not a pickle")
    tables = CalendarTables.load_or_build(sanmiao_calendar, tmp_path)
    assert tables.months
    assert isinstance(pickle.loads(cache.read_bytes()), CalendarTables)


def test_reading_a_fresh_date_takes_microseconds(sanmiao_calendar, sanmiao_tables):
    """No solver call per date: 2,000 distinct fresh dates in well under a second."""
    pairs = _synthetic(sanmiao_calendar, 2000, seed=3)
    resolver = TableDateResolver(sanmiao_calendar, sanmiao_tables.tables)  # empty memo
    started = time.perf_counter()
    for text, _ in pairs:
        resolver.readings(text)
    assert time.perf_counter() - started < 2.0

