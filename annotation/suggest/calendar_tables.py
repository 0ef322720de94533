"""Table-driven reading of reign-era dates: O(1) per date, no solver call.

``CalendarTables`` holds, as plain dicts, what reading a date needs from sanmiao's reign and lunar
tables: every era (by folded name) with its regime, ruler, calendar stream and first year, and
every lunar month by (calendar stream, year). It is built once from sanmiao's tables (≈ 1 s) and
cached on disk under ``$GUJI_HOME/cache`` (loaded in ≈ 0.1 s); ``TableDateResolver`` then reads
a date with a handful of dict look-ups (tens of microseconds) where a sanmiao solve takes 40–60 ms.

The readings are the ones sanmiao's solver gives for the same string (``tests/unit/annotation/
test_date_tables.py`` compares both on a test set), except for one class of error fixed here at
the source: the **first year of an era**. sanmiao dates an era from the day its emperor came to
the throne, and counts 元年 from that calendar year; when the new era was proclaimed only at the
next New Year (踰年改元: 建文 proclaimed for 1399 after 洪武 died in 1398; 永樂 for 1403, 洪武
being restored for the rest of 1402) that puts every year of the era one year early. The rule
applied (``first_year_corrections``): when CBDB's reign calendar (same era id and name) starts the
era one year after sanmiao does, sanmiao's start day falls after the first month of its year, and
the previous era of the same regime still counts that year, the era's 元年 is CBDB's year.
Eras proclaimed in the year of accession (至德元載 = 756, 太平興國元年 = 976) are not touched:
their CBDB year equals sanmiao's.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from .models import DateReading
from .normalize import fold

log = logging.getLogger(__name__)

TABLES_VERSION = 1  # bump when the layout or the build rule changes (old caches are ignored)
_CYCLE = [s + b for s, b in zip("甲乙丙丁戊己庚辛壬癸" * 6, "子丑寅卯辰巳午未申酉戌亥" * 5)]
GZ_NUMBER = {gz: i + 1 for i, gz in enumerate(_CYCLE)}  # 甲子 = 1 … 癸亥 = 60, as sanmiao counts


def ganzhi(n: int) -> str:
    return _CYCLE[(int(n) - 1) % 60]


def ganzhi_of_year(year: int) -> str:
    return ganzhi((year - 4) % 60 + 1)


@dataclass(frozen=True, slots=True)
class Era:
    era_id: int
    name: str  # as the tables write it (traditional)
    dyn_id: int
    ruler_id: int | None
    cal_stream: int
    first_year: int  # astronomical year of 元年
    start_year: int  # first year of the range sanmiao gives (開元中 → 713–741)
    end_year: int
    max_year: int  # how many years the era counted


@dataclass(frozen=True, slots=True)
class Month:
    month: int
    leap: bool
    nmd_jdn: float  # first day (new moon day), Julian Day at midnight (…​.5)
    max_day: int
    nmd_gz: int  # 干支 number of the first day


class CalendarTables:
    """Plain look-up tables derived from sanmiao (+ CBDB's reign calendar for first years)."""

    def __init__(self) -> None:
        self.eras_by_name: dict[str, list[Era]] = {}
        self.era_names_by_id: dict[int, list[str]] = {}
        self.era_by_id: dict[int, Era] = {}
        self.months: dict[tuple[int, int], list[Month]] = {}
        self.dyn_name: dict[int, str] = {}
        self.ruler_name: dict[int, str] = {}
        self.dyn_family: dict[int, frozenset[int]] = {}  # a dynasty, its parts and what it is part of
        self.dyn_ids_by_tag: dict[str, set[int]] = {}
        self.ruler_ids_by_tag: dict[str, set[int]] = {}
        self.corrections: dict[int, tuple[int, int]] = {}  # era_id → (sanmiao first year, corrected)

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def build(cls, tables, cbdb_starts: dict[int, tuple[str, int]] | None = None) -> "CalendarTables":
        era_df, dyn_df, _ruler_df, lunar, dyn_tag_df, ruler_tag_df, can_names = tables
        t = cls()
        for r in lunar.itertuples(index=False):
            t.months.setdefault((int(r.cal_stream), int(r.ind_year)), []).append(
                Month(int(r.month), bool(r.intercalary), float(r.nmd_jdn), int(r.max_day), int(r.nmd_gz))
            )
        t.dyn_name = {int(r.dyn_id): str(r.dyn_name) for r in dyn_df.itertuples()}
        part_of = {int(r.dyn_id): int(r.part_of) for r in dyn_df.itertuples() if r.part_of == r.part_of}
        for d in t.dyn_name:
            family = {d} | {c for c, p in part_of.items() if p == d}
            if d in part_of:
                family.add(part_of[d])
            t.dyn_family[d] = frozenset(family)
        t.ruler_name = {int(r.person_id): str(r.string) for r in can_names.itertuples()}
        for r in dyn_tag_df.itertuples():
            for s in (r.string, r.string_simp):
                if isinstance(s, str) and s:
                    t.dyn_ids_by_tag.setdefault(fold(s), set()).add(int(r.dyn_id))
        for r in ruler_tag_df.itertuples():
            for s in (r.string, r.string_simp):
                if isinstance(s, str) and len(s) >= 2:
                    t.ruler_ids_by_tag.setdefault(fold(s), set()).add(int(r.person_id))
        rows = list(era_df.itertuples())  # sanmiao's order: the first of equal readings is kept
        ends_by_dyn: dict[int, list[tuple[int, int]]] = {}
        for r in rows:
            if r.era_end_year == r.era_end_year:
                ends_by_dyn.setdefault(int(r.dyn_id), []).append((int(r.era_id), int(r.era_end_year)))
        for r in rows:
            era_id = int(r.era_id)
            t.era_names_by_id.setdefault(era_id, []).append(str(r.era_name))
            if era_id in t.era_by_id:
                era = t.era_by_id[era_id]
            else:
                start = int(r.era_start_year)
                end = int(r.era_end_year) if r.era_end_year == r.era_end_year else start
                max_year = int(r.max_year) if r.max_year == r.max_year else end - start + 1
                cal_stream = int(r.cal_stream) if r.cal_stream == r.cal_stream else 0
                first = start
                cb = (cbdb_starts or {}).get(era_id)
                if cb and cb[0] == fold(str(r.era_name)) and cb[1] == start + 1:
                    year_months = t.months.get((cal_stream, start), [])
                    mid_year = bool(year_months) and float(r.era_start_jdn) > min(m.nmd_jdn for m in year_months) + 31
                    predecessor = any(e != era_id and end_year >= start for e, end_year in ends_by_dyn.get(int(r.dyn_id), ()) if e < era_id or end_year == start)
                    if mid_year and predecessor:
                        first = start + 1
                        max_year -= 1
                        t.corrections[era_id] = (start, first)
                ruler = int(r.ruler_id) if r.ruler_id == r.ruler_id else None
                era = Era(era_id, str(r.era_name), int(r.dyn_id), ruler, cal_stream, first, first, end, max_year)
                t.era_by_id[era_id] = era
            for name in (r.era_name, r.era_name_simp):
                if isinstance(name, str) and name:
                    bucket = t.eras_by_name.setdefault(fold(name), [])
                    if era not in bucket:
                        bucket.append(era)
        return t

    # -- on-disk cache ---------------------------------------------------------------------------

    @classmethod
    def load_or_build(cls, calendar, cache_dir: Path | None) -> "CalendarTables":
        """From ``cache_dir`` when a cache for these inputs is there, else built (and cached)."""
        key = _cache_key(calendar)
        path = cache_dir / f"calendar-tables-{key}.pickle" if cache_dir else None
        if path is not None and path.is_file():
            try:
                with path.open("rb") as fh:
                    tables = pickle.load(fh)
                if isinstance(tables, cls):
                    return tables
            except Exception as exc:  # a damaged cache is rebuilt, never fatal
                log.warning("calendar table cache %s unreadable (%s): rebuilding", path, exc)
        tables = cls.build(calendar.tables, calendar.cbdb_starts)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                with tmp.open("wb") as fh:
                    pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except OSError as exc:  # a read-only home still reads dates
                log.warning("calendar table cache not written to %s: %s", path, exc)
        return tables


def _cache_key(calendar) -> str:
    import sanmiao

    h = hashlib.sha256()
    h.update(f"v{TABLES_VERSION}|sanmiao={getattr(sanmiao, '__version__', '?')}|civ={','.join(calendar.civ)}".encode())
    h.update(str(Path(sanmiao.__file__).parent.stat().st_mtime).encode())
    if calendar.dyna_cal is not None and calendar.dyna_cal.is_file():
        st = calendar.dyna_cal.stat()
        h.update(f"|{calendar.dyna_cal.resolve()}|{st.st_size}|{st.st_mtime}".encode())
    return h.hexdigest()[:16]


# -- reading -------------------------------------------------------------------------------------

from .dates import _DAYNUM, _GZ, _MONTH, _SEASON, _public_parts, cbdb_readings, edtf_year, parse_parts  # noqa: E402

_DAY_AT_END = re.compile(_GZ + "[朔晦]?$|" + _DAYNUM + "日$|[朔晦望]日?$")
_MONTH_AT = re.compile(f"{_SEASON}?{_MONTH}")
_GREGORIAN_REFORM_JDN = 2299161
_FIRST_YEARS = re.compile("之?初年?$")


def _jdn_to_iso(jdn: int, gregorian: bool) -> str:
    """Julian Day Number → YYYY-MM-DD (proleptic Gregorian or Julian), as sanmiao writes it."""
    if gregorian:
        a = jdn + 32044
        b = (4 * a + 3) // 146097
        c = a - (146097 * b) // 4
        d = (4 * c + 3) // 1461
        e = c - (1461 * d) // 4
        m = (5 * e + 2) // 153
        day = e - (153 * m + 2) // 5 + 1
        month = m + 3 - 12 * (m // 10)
        year = 100 * b + d - 4800 + m // 10
    else:
        a = jdn + 32082
        b = (4 * a + 3) // 1461
        c = a - (1461 * b) // 4
        m = (5 * c + 2) // 153
        day = c - (153 * m + 2) // 5 + 1
        month = m + 3 - 12 * (m // 10)
        year = b - 4800 + m // 10
    year_str = f"-{abs(year):04d}" if year <= 0 else f"{year:04d}"
    return f"{year_str}-{month:02d}-{day:02d}"


class TableDateResolver:
    """Readings of one date string from :class:`CalendarTables` (same interface as the sanmiao resolver)."""

    def __init__(self, calendar, tables: CalendarTables) -> None:
        self.calendar = calendar
        self.tables = tables
        self._names = calendar.era_names
        self._narrow_max = max((len(n) for n in (*tables.dyn_ids_by_tag, *tables.ruler_ids_by_tag)), default=0)
        self._cache: dict[str, list[DateReading]] = {}
        self._lock = threading.Lock()

    def readings(self, text: str, context: str = "") -> list[DateReading]:
        """All readings of ``text``; a dynasty or emperor named right before it (``context``
        ends with it: 漢武帝|建元元年, 將軍明帝|建武二年) narrows them."""
        base = self._cached(text)
        if len(base) > 1 and context:
            dyn_ids, ruler_ids = self._narrowers_before(fold(context))
            if dyn_ids or ruler_ids:
                kept = [r for r in base if self._fits(r, dyn_ids, ruler_ids)]
                if 0 < len(kept) < len(base):
                    return kept
        return base

    def _cached(self, text: str) -> list[DateReading]:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._resolve(text)
            with self._lock:
                if len(self._cache) > 65536:
                    self._cache.clear()
                self._cache[text] = hit
        return [r.model_copy() for r in hit]

    # narrowing by a dynasty or emperor named before the date ------------------------------------

    def _narrowers_before(self, folded: str) -> tuple[set[int], set[int]]:
        """Dynasty and emperor names that end ``folded``, read right to left, longest first."""
        t = self.tables
        dyn_ids: set[int] = set()
        ruler_ids: set[int] = set()
        end = len(folded)
        while end > 0:
            for start in range(max(0, end - self._narrow_max), end):
                s = folded[start:end]
                if s in t.ruler_ids_by_tag or s in t.dyn_ids_by_tag:
                    break
            else:
                break
            if s in t.ruler_ids_by_tag and not ruler_ids:
                ruler_ids = set(t.ruler_ids_by_tag[s])
            elif s in t.dyn_ids_by_tag and not dyn_ids:
                for d in t.dyn_ids_by_tag[s]:
                    dyn_ids |= t.dyn_family.get(d, {d})
            else:
                break
            end = start
        return dyn_ids, ruler_ids

    def _fits(self, r: DateReading, dyn_ids: set[int], ruler_ids: set[int]) -> bool:
        eras = self._era_of_reading.get((r.era, r.regime, r.ruler), ())
        return any((not dyn_ids or e.dyn_id in dyn_ids) and (not ruler_ids or e.ruler_id in ruler_ids) for e in eras)

    @property
    def _era_of_reading(self) -> dict[tuple, list[Era]]:
        idx = getattr(self, "_era_index", None)
        if idx is None:
            idx = {}
            for era in self.tables.era_by_id.values():
                for name in self.tables.era_names_by_id.get(era.era_id, [era.name]):
                    key = (name, self.tables.dyn_name.get(era.dyn_id), self.tables.ruler_name.get(era.ruler_id))
                    idx.setdefault(key, []).append(era)
            self._era_index = idx
        return idx

    # reading --------------------------------------------------------------------------------------

    def _resolve(self, text: str) -> list[DateReading]:
        folded = fold(text)
        parts = parse_parts(folded)
        era_name = self._era_in(folded)
        if era_name in GZ_NUMBER and not parts.get("era_year"):
            era_name = None  # 八月庚子: a 干支 day, not the era 庚子 (西涼)
        if era_name is None:
            return [DateReading(source="text", **_public_parts(parts))] if parts else []
        eras = self.tables.eras_by_name.get(era_name, [])
        if eras:
            prefix = folded[: folded.find(era_name)]
            if prefix:
                dyn_ids, ruler_ids = self._narrowers_before(prefix)
                if dyn_ids or ruler_ids:  # 唐開元: that regime's era (all of them when none fits, as sanmiao)
                    eras = [e for e in eras if (not dyn_ids or e.dyn_id in dyn_ids) and (not ruler_ids or e.ruler_id in ruler_ids)] or eras
            readings = self._from_tables(eras, folded, parts)
            if readings:
                return readings
        return self.calendar_cbdb(era_name, parts)

    def _era_in(self, folded: str) -> str | None:
        names = self._names
        for length in (6, 5, 4, 3, 2):
            for i in range(0, len(folded) - length + 1):
                if folded[i : i + length] in names:
                    return folded[i : i + length]
        return None

    def _from_tables(self, eras: list[Era], folded: str, parts: dict) -> list[DateReading]:
        attempts = [(folded, parts, None)]
        m = _DAY_AT_END.search(folded)
        if m:
            attempts.append((folded[: m.start()], parts, "the day given does not fall in that month"))
        m = _MONTH_AT.search(folded)
        if m:
            year_only = {k: v for k, v in parts.items() if k not in ("month", "leap_month")}
            attempts.append((folded[: m.start()], year_only, "the month given does not exist in that year"))
        for candidate, stated, note in attempts:
            out = self._once(eras, candidate, stated, note)
            if out:
                return out
        return []

    def _once(self, eras: list[Era], folded: str, parts: dict, note: str | None) -> list[DateReading]:
        said = parse_parts(folded)  # what this (possibly shortened) string states
        n = said.get("era_year")
        if n is None and _FIRST_YEARS.search(folded):
            n = 1  # 開元初, 天監之初 read as the era's first year, as sanmiao reads them
        out: list[DateReading] = []
        seen = set()
        if n is not None:
            fitting = [e for e in eras if e.max_year >= n]
            if not fitting:
                return []
        else:
            fitting = eras
        if n is not None and len(fitting) > 1:
            # one regime's era continued under a successor (建平: 石勒, then 石弘): the emperor
            # whose years of that era include this year reads first, so the reading names him
            year = {e.era_id: e.first_year + n - 1 for e in fitting}
            fitting = sorted(fitting, key=lambda e: not (e.start_year <= year[e.era_id] <= e.end_year))
        for era in fitting:
            for r in self._read(era, n, said, parts, folded):
                key = (r.era, r.regime, r.year, r.month, r.leap_month, r.day)
                if key in seen:
                    continue
                seen.add(key)
                if note:
                    r.note = note
                out.append(r)
        stated = parts.get("ganzhi_year")
        if stated and out:
            fitting_gz = [r for r in out if r.ganzhi_year == stated]
            if fitting_gz:
                return fitting_gz
            for r in out:
                r.note = f"the year is {r.ganzhi_year}, not {stated} as the text says"
        return out

    def _base(self, era: Era, n: int | None, folded: str) -> DateReading:
        t = self.tables
        names = t.era_names_by_id.get(era.era_id, [era.name])
        return DateReading(
            era=next((x for x in names if fold(x) in folded), names[0]),
            regime=t.dyn_name.get(era.dyn_id),
            ruler=t.ruler_name.get(era.ruler_id) if era.ruler_id is not None else None,
            era_year=n,
            source="sanmiao",
        )

    def _read(self, era: Era, n: int | None, said: dict, parts: dict, folded: str) -> list[DateReading]:
        if n is None:  # 開元中, 貞元末: the era's years
            r = self._base(era, None, folded)
            r.year, r.year_end = era.start_year, era.end_year
            r.edtf = f"{edtf_year(era.start_year)}/{edtf_year(era.end_year)}"
            return [r]
        ind_year = era.first_year + n - 1
        month, leap = said.get("month"), bool(said.get("leap_month"))
        has_day = any(k in said for k in ("day", "ganzhi_day", "phase"))
        if month is None and not leap:
            if has_day:
                return []
            r = self._base(era, n, folded)
            r.year, r.edtf, r.ganzhi_year = ind_year, edtf_year(ind_year), ganzhi_of_year(ind_year)
            return [r]
        rows = self.tables.months.get((era.cal_stream, ind_year), [])
        if leap:
            rows = [m for m in rows if m.leap and (month is None or m.month == month)]
        else:
            same = [m for m in rows if m.month == month]
            plain = [m for m in same if not m.leap]
            rows = plain or same
        out = []
        for m in sorted(rows, key=lambda m: m.nmd_jdn)[:1]:  # the year's first such month, as sanmiao
            r = self._base(era, n, folded)
            r.year, r.ganzhi_year = ind_year, ganzhi_of_year(ind_year)
            r.month = m.month
            if leap or parts.get("leap_month") or m.leap:
                r.leap_month = True if (leap or parts.get("leap_month") or m.leap) else None
            first = int(m.nmd_jdn + 0.5)
            if not has_day:
                start, end = _jdn_to_iso(first, True), _jdn_to_iso(first + m.max_day - 1, True)
                r.edtf = f"{start}/{end}"
                r.year = int(start[:-6])
                out.append(r)
                continue
            day = self._day(m, said)
            if day is None:
                continue
            jdn = first + day - 1
            iso = _jdn_to_iso(jdn, True)
            r.jdn, r.day, r.edtf, r.year = jdn, day, iso, int(iso[:-6])
            r.ganzhi_day = ganzhi((m.nmd_gz + day - 2) % 60 + 1)
            if jdn < _GREGORIAN_REFORM_JDN:
                r.julian = _jdn_to_iso(jdn, False)
            out.append(r)
        return out

    @staticmethod
    def _day(m: Month, said: dict) -> int | None:
        day = said.get("day")
        gz = said.get("ganzhi_day")
        phase = said.get("phase")
        if phase == "晦":
            last = m.max_day
            if gz is not None and (m.nmd_gz + last - 2) % 60 + 1 != GZ_NUMBER[gz]:
                return None
            return last
        if phase == "朔":
            if gz is not None and GZ_NUMBER[gz] != m.nmd_gz:
                return None
            return 1
        if gz is not None:
            from_gz = (GZ_NUMBER[gz] - m.nmd_gz) % 60 + 1
            if day is not None and day != from_gz:
                return None
            day = from_gz
        if day is None or day > m.max_day or day < 1:
            return None
        return day

    def calendar_cbdb(self, era: str, parts: dict) -> list[DateReading]:
        return cbdb_readings(self.calendar.cbdb, era, parts)
