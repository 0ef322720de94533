"""Reign-era dates: find them in a line, read them with sanmiao, normalise to Gregorian.

Finding is ours (regular expressions over the folded line, so offsets stay exact and it is
fast); reading is sanmiao's (its reign tables and lunar tables; ``sanmiao.propose_dates``).

What is found:

- era-anchored dates: ``[dynasty]? era (year [歲次干支]? [season]? [month [day]]? | 初/中/末 ...)``
  — 開元二十三年, 唐開元二十三年冬十月, 元和十五年春正月庚子, 貞觀十七年閏六月丁巳, 貞元末
- dates without an era: ``N年 [season] month [day]``, ``[season] month day``, ``season month``,
  a 干支 day standing alone at the head of a clause (annals: 乙酉，立典藏庫), ``歲在干支`` / ``干支歲``.

What a DATE span carries (``dates``): every reading that fits. An era name used by several
regimes (太平, 建武, 永興 ...) gives one reading per regime whose era lasted long enough for the
year given and whose calendar has the month/day given; a dynasty or emperor named just before the
date in the same clause (漢武帝建元元年) narrows the readings. ``year`` is astronomical (1 BCE = 0)
and proleptic Gregorian like ISO 8601/EDTF; ``edtf`` is the year, the day, or the month's first and
last day as an EDTF interval. When the text's day does not exist in that month (a copying error,
common in the histories), the reading falls back to the month (or year) and says so in ``note``.

Era names sanmiao does not know but CBDB's reign calendar (``dyna_cal.xml``) does (紹武, 阜昌 ...)
give a year-level reading from CBDB (``source: "cbdb"``).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .models import DateReading
from .normalize import fold

log = logging.getLogger(__name__)

STEMS = "甲乙丙丁戊己庚辛壬癸"
BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_GZ = f"[{STEMS}景][{BRANCHES}]"  # 景 for 丙 under the Tang taboo
_NUM = "[〇零一二三四五六七八九十百廿卅卌]"
_YEARNUM = f"(?:元|十有[一二三四五六七八九]|{_NUM}{{1,4}})"
_YEAR = f"{_YEARNUM}[年载]"
_SEXYEAR = f"(?:岁[次在]{_GZ}|{_GZ}岁)"
_SEASON = "[春夏秋冬]"
_MONTHNUM = "(?:正|腊|十有[一二]|十[一二]|[一二三四五六七八九十])"
_MONTH = f"(?:闰?{_MONTHNUM}月|闰月)"
_DAYNUM = "(?:初[一二三四五六七八九十]|[一二]?十[一二三四五六七八九]|二十|廿[一二三四五六七八九]?|三十|卅|[一二三四五六七八九十])"
_DAY = f"(?:{_DAYNUM}日|{_GZ}(?:朔|晦|日)?|[朔晦望]日?)"
_ERA_TAIL = "(?:之?初年?|中|之?末年?|之?季|年间|间)"
_CLAUSE_HEAD = r"(?:(?<=^)|(?<=[，。；：！？、,.;:!?「」『』（）()\s]))"

CLAUSE_BREAK = re.compile(r"[，。；：！？、,.;:!?「」『』（）()\s]")

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_number(s: str) -> int | None:
    """Chinese numeral as written in dates: 元→1, 正→1, 腊→12, 十有二→12, 廿一→21, 二十三→23."""
    s = s.replace("有", "").replace("初", "")
    if s in ("元", "正"):
        return 1
    if s == "腊":
        return 12
    if not s:
        return None
    s = s.replace("廿", "二十").replace("卅", "三十").replace("卌", "四十")
    if "百" in s:
        head, _, rest = s.partition("百")
        hundreds = _CN_DIGITS.get(head, 1) if head else 1
        tail = cn_number(rest.lstrip("〇零")) if rest else 0
        return None if tail is None else hundreds * 100 + tail
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = _CN_DIGITS.get(head) if head else 1
        ones = _CN_DIGITS.get(tail) if tail else 0
        return None if tens is None or ones is None else tens * 10 + ones
    if all(ch in _CN_DIGITS for ch in s):  # 二三 (rare positional form)
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    return None


def edtf_year(year: int) -> str:
    return f"-{abs(year):04d}" if year < 0 else f"{year:04d}"


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    anchored: bool  # an era name is part of the span


@dataclass(frozen=True)
class CbdbEra:
    era: str
    regime: str
    first: int
    last: int


class ReignCalendar:
    """Era names known to sanmiao (always) and to CBDB's ``dyna_cal.xml`` (when given)."""

    def __init__(self, dyna_cal: Path | None = None, civ: tuple[str, ...] = ("c",)) -> None:
        from sanmiao.loaders import prepare_tables

        self.civ = list(civ)
        self.dyna_cal = dyna_cal
        tables = prepare_tables(civ=self.civ)
        self.tables = tables
        era_df, dyn_df, _ruler_df, lunar, dyn_tag_df, _ruler_tag_df, can_names = tables
        self.era_names_by_id: dict[int, list[str]] = {}  # one era can have several names (建武 = 延熙)
        for r in era_df.itertuples():
            self.era_names_by_id.setdefault(int(r.era_id), []).append(str(r.era_name))
        self.dyn_name = {int(r.dyn_id): str(r.dyn_name) for r in dyn_df.itertuples()}
        self.ruler_name = {int(r.person_id): str(r.string) for r in can_names.itertuples()}
        self.lunar = lunar
        names = {fold(n) for n in era_df["era_name"].dropna()} | {fold(n) for n in era_df["era_name_simp"].dropna()}
        self.sanmiao_eras = {n for n in names if len(n) >= 2}
        self.dynasties = {fold(s) for s in dyn_tag_df["string"].dropna() if 1 <= len(s) <= 3}
        # dynasty and emperor names that can narrow an era shared by several regimes
        self.narrowers = {fold(s) for s in dyn_tag_df["string"].dropna()} | {
            fold(s) for s in _ruler_tag_df["string"].dropna() if len(s) >= 2
        }
        self._narrower_max = max((len(n) for n in self.narrowers), default=0)
        self.cbdb: dict[str, list[CbdbEra]] = {}
        self.cbdb_starts: dict[int, tuple[str, int]] = {}  # CBDB era id (= sanmiao's) → (folded name, first year)
        if dyna_cal is not None and dyna_cal.is_file():
            self.cbdb = _read_dyna_cal(dyna_cal, self.cbdb_starts)
        self.source = "sanmiao+cbdb" if self.cbdb else "sanmiao"

    def era_name(self, era_id: int, folded_text: str = "") -> str | None:
        """The era's name as the text writes it (when it has several), else its first name."""
        names = self.era_names_by_id.get(era_id)
        if not names:
            return None
        return next((n for n in names if fold(n) in folded_text), names[0])

    def era_name_in(self, era_id: int, folded_text: str) -> bool:
        return any(fold(n) in folded_text for n in self.era_names_by_id.get(era_id, ()))

    def names_a_regime(self, text: str) -> bool:
        """Whether ``text`` contains a dynasty or emperor name (漢, 武帝, 太宗 ...)."""
        folded = fold(text)
        n = len(folded)
        return any(
            folded[i:j] in self.narrowers for i in range(n) for j in range(i + 1, min(n, i + self._narrower_max) + 1)
        )

    @property
    def era_names(self) -> set[str]:
        return self.sanmiao_eras | set(self.cbdb)


def _read_dyna_cal(path: Path, starts: dict[int, tuple[str, int]] | None = None) -> dict[str, list[CbdbEra]]:
    tei = "{http://www.tei-c.org/ns/1.0}"
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    xml_id = "{http://www.w3.org/XML/1998/namespace}id"
    out: dict[str, list[CbdbEra]] = {}

    def name_of(cat: ET.Element) -> str | None:
        for desc in cat.findall(f"{tei}catDesc"):
            if desc.get(xml_lang) == "zh-Hant" and desc.text and desc.text.strip():
                return desc.text.strip()
        return None

    def years_of(cat: ET.Element) -> tuple[int, int] | None:
        for desc in cat.findall(f"{tei}catDesc"):
            date = desc.find(f"{tei}date")
            if date is not None and date.get("from") and date.get("to"):
                try:
                    return int(date.get("from")), int(date.get("to"))
                except ValueError:
                    return None
        return None

    def walk(cat: ET.Element, regime: str | None) -> None:
        cid = cat.get(xml_id, "")
        name = name_of(cat)
        if cid.startswith("R") and name and regime:
            span = years_of(cat)
            if span and starts is not None and cid[1:].isdigit():
                starts[int(cid[1:])] = (fold(name), span[0])
            if span:
                # "保貞(寶正)": a name with its variant in brackets gives both
                for variant in re.split(r"[()（）]", name):
                    if len(variant) >= 2:
                        out.setdefault(fold(variant), []).append(CbdbEra(variant, regime, *span))
        for sub in cat.findall(f"{tei}category"):
            walk(sub, name if cid.startswith("D") else regime)

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        log.warning("CBDB reign calendar %s not readable: %s", path, exc)
        return {}
    for taxonomy in root.iter(f"{tei}taxonomy"):
        for cat in taxonomy.findall(f"{tei}category"):
            walk(cat, None)
    return out


def trie_pattern(words) -> str:
    """One regular expression for a set of words, factored by common prefixes (開(?:元|皇|寶)…).

    Python's ``re`` tries the branches of a flat alternation one by one at every position; with
    ~800 era names that made finding dates the slowest part of a line. Longer words win over
    their prefixes (a word's continuation is tried before the word ends), as in the flat,
    longest-first alternation this replaces."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def walk(node: dict) -> str:
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return walk(trie)


class DateFinder:
    """Regular expressions over the folded line; returns non-overlapping spans, longest first."""

    def __init__(self, calendar: ReignCalendar) -> None:
        eras = trie_pattern(calendar.era_names)
        dyns = trie_pattern(calendar.dynasties)
        month_day = f"(?:{_SEASON}?{_MONTH}{_DAY}?)"
        anchored = (
            f"(?:(?:{dyns})(?=(?:{eras})))?(?:{eras})"
            f"(?:{_YEAR}(?:[，,]?{_SEXYEAR})?{month_day}?|{_ERA_TAIL})"
        )
        unanchored = "|".join(
            [
                f"{_YEAR}(?:{_SEASON}?{_MONTH}{_DAY}?)",  # 二年春正月丙寅
                f"{_SEASON}?{_MONTH}{_DAY}",  # 九月乙丑朔, 秋八月乙酉
                f"{_SEASON}{_MONTH}",  # 冬十一月
                _SEXYEAR,  # 歲在甲子, 甲子歲
                f"{_CLAUSE_HEAD}{_GZ}[朔晦]?(?=[，。；,;])",  # 乙酉，立典藏庫
            ]
        )
        self._anchored = re.compile(anchored)
        self._unanchored = re.compile(unanchored)

    def find(self, folded: str) -> list[FoundDate]:
        found: list[FoundDate] = []
        taken = bytearray(len(folded))
        for rx, anchored in ((self._anchored, True), (self._unanchored, False)):
            for m in rx.finditer(folded):
                s, e = m.span()
                if e > s and 1 not in taken[s:e]:
                    found.append(FoundDate(s, e, anchored))
                    taken[s:e] = b"\x01" * (e - s)
        return sorted(found, key=lambda d: d.start)


# -- reading a date ------------------------------------------------------------------------------

_PARTS = re.compile(
    rf"(?P<year>{_YEARNUM})[年载]|(?P<sexyear>{_SEXYEAR})|(?P<leap>闰)?(?P<month>{_MONTHNUM})?月"
    rf"|(?P<day>{_DAYNUM})日|(?P<gz>{_GZ})(?P<phase>[朔晦])?|(?P<lone_phase>[朔晦望])"
)


def parse_parts(folded: str) -> dict:
    """The parts a date string states (what the text says, before any calendar lookup)."""
    parts: dict = {}
    for m in _PARTS.finditer(folded):
        if m.group("year"):
            parts["era_year"] = cn_number(m.group("year"))
        elif m.group("sexyear"):
            gz = re.search(_GZ, m.group("sexyear")).group(0)
            parts["ganzhi_year"] = gz.replace("景", "丙")
        elif m.group(0).endswith("月"):
            if m.group("leap"):
                parts["leap_month"] = True
            if m.group("month"):
                parts["month"] = cn_number(m.group("month"))
        elif m.group("day"):
            parts["day"] = cn_number(m.group("day"))
        elif m.group("gz"):
            parts["ganzhi_day"] = m.group("gz").replace("景", "丙")
            if m.group("phase"):
                parts["phase"] = m.group("phase")
        elif m.group("lone_phase"):
            parts["phase"] = m.group("lone_phase")
    if parts.get("phase") == "朔" and "day" not in parts:
        parts["day"] = 1
    return parts


class DateResolver:
    """Readings of one date string via sanmiao's solver, cached (sanmiao takes ~40 ms a call).

    Not on the suggestion path any more (``calendar_tables.TableDateResolver`` reads dates from
    tables in microseconds): kept as the reference the tables are checked against
    (``date_compare``, ``tests/unit/annotation/test_date_tables.py``, ``bench.suggest``)."""

    def __init__(self, calendar: ReignCalendar, cache_size: int = 4096) -> None:
        self.calendar = calendar
        self._cache: OrderedDict[str, list[DateReading]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def readings(self, text: str, context: str = "") -> list[DateReading]:
        """All readings of ``text``; ``context`` (same clause, just before it) may narrow them."""
        base = self._cached(text)
        if len(base) > 1 and context and self.calendar.names_a_regime(context):
            narrowed = self._narrow(text, context, base)
            if narrowed:
                return narrowed
        return base

    def _cached(self, text: str) -> list[DateReading]:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return [r.model_copy() for r in hit]
        result = self._resolve(text)
        with self._lock:
            self._cache[text] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return [r.model_copy() for r in result]

    def _narrow(self, text: str, context: str, base: list[DateReading]) -> list[DateReading]:
        """Keep the readings that sanmiao also finds when the dynasty/emperor before the date is given."""
        with_context = self._cached(context + text)
        keys = {(r.era, r.regime, r.year) for r in with_context}
        kept = [r for r in base if (r.era, r.regime, r.year) in keys]
        return kept if 0 < len(kept) < len(base) else []

    # sanmiao ------------------------------------------------------------------------------------

    def _resolve(self, text: str) -> list[DateReading]:
        folded = fold(text)
        parts = parse_parts(folded)
        era = self._era_in(folded)
        if era is None:
            return [DateReading(source="text", **_public_parts(parts))] if parts else []
        if era in self.calendar.sanmiao_eras:
            readings = self._sanmiao(text, parts)
            if readings:
                return readings
        return self._cbdb(era, folded, parts)

    def _era_in(self, folded: str) -> str | None:
        names = self.calendar.era_names
        for length in (6, 5, 4, 3, 2):
            for i in range(0, len(folded) - length + 1):
                if folded[i : i + length] in names:
                    return folded[i : i + length]
        return None

    def _sanmiao(self, text: str, parts: dict) -> list[DateReading]:
        attempts = [(text, parts, None)]
        # if the stated day (or month) does not exist, fall back to the month (or year)
        m = re.search(_GZ + "[朔晦]?$|" + _DAYNUM + "日$|[朔晦望]日?$", fold(text))
        if m:
            attempts.append((text[: m.start()], parts, "the day given does not fall in that month"))
        m = re.search(f"{_SEASON}?{_MONTH}", fold(text))
        if m:
            year_only = {k: v for k, v in parts.items() if k not in ("month", "leap_month")}
            attempts.append((text[: m.start()], year_only, "the month given does not exist in that year"))
        for candidate, stated, note in attempts:
            readings = self._sanmiao_once(candidate, stated, note)
            if readings:
                return readings
        return []

    def _sanmiao_once(self, text: str, parts: dict, note: str | None) -> list[DateReading]:
        try:
            rows = self._sanmiao_rows(text)
        except Exception as exc:  # sanmiao is a research tool: never let it break a suggestion run
            log.warning("sanmiao could not read %r: %s", text, exc)
            return []
        return self._readings_from_rows(rows, fold(text), parts, note)

    def _readings_from_rows(
        self, rows: list[tuple[dict, str]], folded: str, parts: dict, note: str | None
    ) -> list[DateReading]:
        from sanmiao.converters import jdn_to_iso

        out: list[DateReading] = []
        seen = set()
        for attrs, error in rows:
            if error and not _soft(error):
                continue
            if "era_id" not in attrs:
                continue
            if not self.calendar.era_name_in(int(attrs["era_id"]), folded):
                continue  # sanmiao filled the era in from elsewhere: not what this text says
            reading = self._reading_from(attrs, parts, jdn_to_iso, folded)
            if reading is None:
                continue
            key = (reading.era, reading.regime, reading.year, reading.month, reading.leap_month, reading.day)
            if key in seen:
                continue
            seen.add(key)
            if note:
                reading.note = note
            out.append(reading)
        stated = parts.get("ganzhi_year")
        if stated and out:  # 歲在辛丑: only the readings whose year is that 干支 fit
            fitting = [r for r in out if r.ganzhi_year == stated]
            if fitting:
                return fitting
            for r in out:
                r.note = f"the year is {r.ganzhi_year}, not {stated} as the text says"
        return out

    def _tag(self, folded: str):
        from sanmiao.tagging import consolidate_date, tag_date_elements
        from sanmiao.xml_utils import remove_lone_tags, strip_text

        xml = consolidate_date(tag_date_elements(folded.replace(" ", ""), civ=self.calendar.civ, fuzzy=True))
        return strip_text(remove_lone_tags(xml))

    def _solve(self, root) -> list[tuple[int, dict, str]]:
        from sanmiao.bulk_processing import extract_date_table_bulk
        from sanmiao.tagging import index_date_nodes
        from sanmiao.tei_bridge import row_to_tei_attrs

        root = index_date_nodes(root)
        _xml, df, _implied, _ = extract_date_table_bulk(
            root, implied=None, pg=True, gs=None, lang="en", civ=self.calendar.civ, tables=self.calendar.tables,
            sequential=False, proliferate=False, fuzzy=True, attributes=True,
        )
        if df is None or df.empty:
            return []
        out = []
        for row in df.to_dict("records"):
            error = row.get("error_str")
            error = "" if error is None or (isinstance(error, float) and math.isnan(error)) else str(error)
            index = row.get("date_index")
            index = -1 if index is None or (isinstance(index, float) and math.isnan(index)) else int(index)
            out.append((index, row_to_tei_attrs(row, pg=True), error))
        return out

    def _sanmiao_rows(self, text: str) -> list[tuple[dict, str]]:
        """sanmiao's own tag → solve steps (as ``propose_dates`` runs them), tables loaded once.

        sanmiao is given the folded text: it matches simplified era names anyway, and our fold
        also resolves variants its own map lacks (大眀 → 大明)."""
        return [(attrs, error) for _i, attrs, error in self._solve(self._tag(fold(text)))]

    def _reading_from(self, attrs: dict, parts: dict, jdn_to_iso, folded: str = "") -> DateReading | None:
        from sanmiao.converters import ganshu, gz_year

        cal = self.calendar
        era_id = int(attrs["era_id"])
        dyn_id = int(attrs["dyn_id"]) if "dyn_id" in attrs else None
        ruler_id = int(float(attrs["ruler_id"])) if "ruler_id" in attrs else None
        r = DateReading(
            era=cal.era_name(era_id, folded),
            regime=cal.dyn_name.get(dyn_id) if dyn_id is not None else None,
            ruler=cal.ruler_name.get(ruler_id) if ruler_id is not None else None,
            era_year=_int(attrs.get("year")),
            source="sanmiao",
        )
        ind_year = _int(attrs.get("ind_year"))
        if ind_year is None:  # era given without a year (開元中, 貞元末): the era's years
            return self._era_range(r, era_id)
        r.year = ind_year
        r.edtf = edtf_year(ind_year)
        # the 干支 of the year itself (sanmiao's sex_year echoes what the text states)
        r.ganzhi_year = ganshu(gz_year(ind_year))
        if attrs.get("month"):
            r.month = int(attrs["month"])
        if attrs.get("intercalary") == "1" or parts.get("leap_month"):
            r.leap_month = True
        if attrs.get("jdn"):
            jd = float(attrs["jdn"])
            r.jdn = math.floor(jd + 0.5)
            r.day = _int(attrs.get("day"))
            iso = jdn_to_iso(jd, True)
            r.edtf = iso
            r.year = int(iso[:-6])
            if attrs.get("gz"):
                r.ganzhi_day = ganshu(int(attrs["gz"]))
            if r.jdn < 2299161:  # before the Gregorian reform: the Julian date historians cite
                r.julian = jdn_to_iso(jd, False)
        elif attrs.get("notBefore") and attrs.get("notAfter"):
            r.edtf = f"{attrs['notBefore']}/{attrs['notAfter']}"
            r.year = int(attrs["notBefore"][:-6])
        elif r.leap_month and r.month is None:
            return self._leap_month_of_year(r, int(attrs.get("cal_stream", 0) or 0), ind_year, jdn_to_iso)
        return r

    def _leap_month_of_year(self, r: DateReading, cal_stream: int, ind_year: int, jdn_to_iso) -> DateReading | None:
        """閏月 without a number: the year's intercalary month; a year without one does not fit."""
        lunar = self.calendar.lunar
        rows = lunar[(lunar["cal_stream"] == cal_stream) & (lunar["ind_year"] == ind_year)]
        leap = rows[rows["intercalary"] == 1]
        if leap.empty:
            return None
        row = leap.iloc[0]
        r.month = int(row["month"])
        start = float(row["nmd_jdn"])
        end = start + float(row["max_day"]) - 1
        first, last = jdn_to_iso(start, True), jdn_to_iso(end, True)
        r.edtf = f"{first}/{last}"
        r.year = int(first[:-6])
        return r

    def _era_range(self, r: DateReading, era_id: int) -> DateReading:
        era_df = self.calendar.tables[0]
        row = era_df[era_df["era_id"] == era_id]
        if not row.empty:
            first, last = int(row.iloc[0]["era_start_year"]), int(row.iloc[0]["era_end_year"])
            r.year, r.year_end = first, last
            r.edtf = f"{edtf_year(first)}/{edtf_year(last)}"
        return r

    def _cbdb(self, era: str, folded: str, parts: dict) -> list[DateReading]:
        return cbdb_readings(self.calendar.cbdb, era, parts)


def cbdb_readings(cbdb: dict, era: str, parts: dict) -> list[DateReading]:
    """Readings of ``era`` from CBDB's reign calendar (one per reign that used the name): the
    year when the text gives one within the era, else the era's span. Shared by the solver path
    and the date tables."""
    out = []
    for entry in cbdb.get(era, []):
        r = DateReading(era=entry.era, regime=entry.regime, source="cbdb", **_public_parts(parts))
        n = parts.get("era_year")
        if n is None:
            r.year, r.year_end = entry.first, entry.last
            r.edtf = f"{edtf_year(entry.first)}/{edtf_year(entry.last)}"
        else:
            year = entry.first + n - 1
            if year > entry.last:
                continue
            r.year, r.edtf = year, edtf_year(year)
        out.append(r)
    return out


def _soft(error: str) -> bool:
    return all("relative date" in p for p in error.replace("；", ";").split(";") if p.strip())


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _public_parts(parts: dict) -> dict:
    keep = ("era_year", "month", "leap_month", "day", "ganzhi_day", "ganzhi_year")
    return {k: v for k, v in parts.items() if k in keep and v is not None}
