"""Passage → the document both engines index (the one place that decides the indexed fields)."""

from __future__ import annotations

from search.index import BRIDGE_MARK, NAME_MARK, IndexDoc
from search.normalise import Normaliser
from search.passages import HEAD_CHARS, Passage

# stored with every passage and given back in hits
STORED = ("id", "source_id", "title", "edition", "edition_label", "juan", "juan_label", "folio", "seq",
          "start", "end", "text", "next_head", "author", "dynasty", "category", "work", "item",
          "juan_iri", "iri", "graph", "notes", "next_notes", "material", "date")


def main_text(text: str, notes) -> str:
    """``text`` without its interlinear commentary (the main text's match stream)."""
    if not notes:
        return text
    out, pos = [], 0
    for a, b in sorted(notes):
        out.append(text[pos:a])
        pos = max(pos, b)
    out.append(text[pos:])
    return "".join(out)


def note_texts(text: str, notes) -> list[str]:
    return [text[a:b] for a, b in sorted(notes) if b > a]


def _names(names: list[str]) -> str:
    """Entity names, one token per character, a mark between two names (a phrase stays inside one)."""
    return f" {NAME_MARK} ".join(" ".join(n) for n in names if n)


def _bridge(own: str, following: str) -> str:
    """The end of this passage, the boundary mark, the start of the next, one token each."""
    return " ".join(own[-HEAD_CHARS:] + BRIDGE_MARK + following[:HEAD_CHARS])


def day_number(d) -> int:
    """A day as the integer YYYYMMDD (ordered like the days, the same in both engines)."""
    return d.year * 10000 + d.month * 100 + d.day


def day_range(value: str | None) -> tuple[int, int] | None:
    """The days a recorded date covers, as (first, last) YYYYMMDD integers: a day is itself, a
    month (YYYY-MM) or a year (YYYY) all its days. None when there is no date."""
    import calendar
    import re
    from datetime import date

    m = re.fullmatch(r"(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", (value or "").strip())
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            first = last = date(y, int(mo), int(d))
        elif mo:
            first, last = date(y, int(mo), 1), date(y, int(mo), calendar.monthrange(y, int(mo))[1])
        else:
            first, last = date(y, 1, 1), date(y, 12, 31)
    except ValueError:
        return None
    return day_number(first), day_number(last)


def to_index_doc(p: Passage, normaliser: Normaliser) -> IndexDoc:
    main = main_text(p.text, p.notes)
    norm, exact = normaliser.fold(main), normaliser.keep(main)
    if p.next_head:
        following = main_text(p.next_head, p.next_notes)
        bridge_norm = _bridge(norm, normaliser.fold(following))
        bridge_exact = _bridge(exact, normaliser.keep(following))
    else:  # the end of a juan: nothing runs on
        bridge_norm = bridge_exact = ""
    keywords = {
        "dynasty": [p.dynasty] if p.dynasty else [],
        "category": [p.category] if p.category else [],
        "edition": [p.edition] if p.edition else [],
        "holding": list(p.holdings),
        "copy": list(p.copies),
        "entity": [],
        "entity_category": [],
        "annotation": [],
        "material": [p.material] if p.material else [],
    }
    doc = {k: getattr(p, k) for k in STORED}
    doc["notes"], doc["next_notes"] = [list(n) for n in p.notes], [list(n) for n in p.next_notes]
    doc["order"] = p.order  # the tie-break of equal scores, on every engine
    notes = note_texts(p.text, p.notes)
    entity_norm = entity_exact = ""
    if p.entities:
        names = list(dict.fromkeys(n for x in p.entities for n, _ in x.names_at(p.start)))
        entity_norm = _names([normaliser.fold(n) for n in names])
        entity_exact = _names([normaliser.keep(n) for n in names])
        keywords["entity"] = sorted({x.label for x in p.entities})
        keywords["entity_category"] = sorted({x.category for x in p.entities if x.category})
        keywords["annotation"] = sorted({x.annotation for x in p.entities})
        doc["entities"] = [x.as_dict() for x in p.entities]
    return IndexDoc(
        id=p.id, graph=p.graph, source_id=p.source_id,
        norm=" ".join(norm), exact=" ".join(exact),
        bridge_norm=bridge_norm, bridge_exact=bridge_exact,
        order=p.order, keywords=keywords, doc=doc,
        entity_norm=entity_norm, entity_exact=entity_exact,
        days=day_range(p.date),
        note_norm=_names([normaliser.fold(n) for n in notes]), note_exact=_names([normaliser.keep(n) for n in notes]),
    )
