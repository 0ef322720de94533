"""Compare the table-driven date reader with sanmiao's solver on date strings (tests and bench).

``date_samples`` collects date expressions (with the clause before each, which may narrow it)
from text lines; ``compare`` reads each with both resolvers and returns the ones that differ.
Eras whose first year the tables correct (建文, 永樂 …) are expected to differ by exactly
that correction and are reported separately.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from .dates import CLAUSE_BREAK, DateFinder
from .normalize import fold


def date_samples(lines: Iterable[str], finder: DateFinder, limit: int, seed: int = 14) -> list[tuple[str, str]]:
    """Distinct (date, context) pairs, era-anchored ones and others, sampled reproducibly."""
    seen: dict[tuple[str, str], None] = {}
    for text in lines:
        for found in finder.find(fold(text)):
            date = text[found.start : found.end]
            context = CLAUSE_BREAK.split(text[: found.start])[-1][-12:] if found.anchored else ""
            seen.setdefault((date, context), None)
    pairs = sorted(seen)
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def reading_key(r) -> tuple:
    return tuple(sorted(r.model_dump(exclude_none=True).items()))


def compare(pairs, reference, tables_resolver) -> tuple[list, list, list, list, list, list]:
    """(differences, corrected, untagged, past, rulers, narrowed): each ``(date, context, reference readings, table readings)``.

    ``untagged``: sanmiao's tagger did not see the era name (大象 …), so the reference fell back
    to CBDB's year-level reading; the tables read it (same years, with ruler and 干支); or
    found nothing at all (八月庚子: it took 庚子 for an era of that name; 宣光九年七月朔), where the
    tables give what the text says or the table reading.
    ``rulers``: the same readings naming another emperor of the same era and regime (an era
    continued under a successor: the tables name the one whose years include the date; for an
    era without a year, 乾祐末, that emperor's years of it).
    ``past``: the reference also gave readings past the era's last year (長安八年), the tables do not.
    ``narrowed``: the reference also narrowed by a name further back in the clause (明帝 … 永泰元年);
    the tables narrow only by names right before the date (漢武帝建元元年)."""
    corrected_ids = tables_resolver.tables.corrections
    corrected_names = {tables_resolver.tables.era_by_id[i].name for i in corrected_ids}
    diffs, corrected, untagged, past, rulers, narrowed = [], [], [], [], [], []
    for date, context in pairs:
        old = reference.readings(date, context)
        new = tables_resolver.readings(date, context)
        if sorted(map(reading_key, old)) == sorted(map(reading_key, new)):
            continue
        if sorted(map(_without_ruler, old)) == sorted(map(_without_ruler, new)):
            rulers.append((date, context, old, new))
            continue
        row = (date, context, old, new)
        if {r.era for r in old} & corrected_names or {r.era for r in new} & corrected_names:
            corrected.append(row)
        elif old and all(r.source == "cbdb" for r in old) and all(r.source == "sanmiao" for r in new) and {r.era for r in old} == {r.era for r in new}:
            untagged.append(row)
        elif not old and new:
            untagged.append(row)  # 八月庚子: the reference took 庚子 for an era (西涼) and read nothing
        elif _past_the_era(old, new, tables_resolver.tables):
            past.append(row)
        elif context and set(map(reading_key, old)) < set(map(reading_key, new)):
            narrowed.append(row)
        else:
            diffs.append(row)
    return diffs, corrected, untagged, past, rulers, narrowed


def _without_ruler(r) -> tuple:
    """A reading without its emperor (and, for an era without a year, without that emperor's last year)."""
    drop = {"ruler"} if r.era_year is not None else {"ruler", "year_end", "edtf"}
    return tuple(sorted((k, v) for k, v in r.model_dump(exclude_none=True).items() if k not in drop))


def _past_the_era(old, new, tables) -> bool:
    """The reference's extra readings all count a year the era never reached (長安八年: 長安 had 4)."""
    new_keys = set(map(reading_key, new))
    old_keys = set(map(reading_key, old))
    extra = [r for r in old if reading_key(r) not in new_keys]
    if not extra or not all(r.source == "cbdb" for r in new if reading_key(r) not in old_keys):
        return False
    longest = {}
    for era in tables.era_by_id.values():
        for name in tables.era_names_by_id.get(era.era_id, [era.name]):
            key = (name, tables.dyn_name.get(era.dyn_id))
            longest[key] = max(longest.get(key, 0), era.max_year)
    return all(r.era_year is not None and r.era_year > longest.get((r.era, r.regime), 10**6) for r in extra)
