"""Passage → the document both engines index (the one place that decides the indexed fields)."""

from __future__ import annotations

from search.index import IndexDoc
from search.normalise import Normaliser
from search.passages import HEAD_CHARS, Passage

# stored with every passage and given back in hits
STORED = ("id", "source_id", "title", "edition", "edition_label", "juan", "juan_label", "folio", "seq",
          "start", "end", "text", "next_head", "author", "dynasty", "category", "work", "item",
          "juan_iri", "iri", "graph")


def _suffixes(s: str, limit: int) -> list[str]:
    return [s[-i:] for i in range(1, min(limit, len(s)) + 1)]


def _prefixes(s: str, limit: int) -> list[str]:
    return [s[:i] for i in range(1, min(limit, len(s)) + 1)]


def to_index_doc(p: Passage, normaliser: Normaliser) -> IndexDoc:
    norm, exact = normaliser.fold(p.text), normaliser.keep(p.text)
    if p.next_head:
        head_norm = _prefixes(normaliser.fold(p.next_head), HEAD_CHARS)
        head_exact = _prefixes(normaliser.keep(p.next_head), HEAD_CHARS)
        tail_norm, tail_exact = _suffixes(norm, HEAD_CHARS), _suffixes(exact, HEAD_CHARS)
    else:  # the end of a juan: nothing runs on
        head_norm = head_exact = tail_norm = tail_exact = []
    keywords = {
        "dynasty": [p.dynasty] if p.dynasty else [],
        "category": [p.category] if p.category else [],
        "edition": [p.edition] if p.edition else [],
        "holding": list(p.holdings),
        "copy": list(p.copies),
    }
    return IndexDoc(
        id=p.id, graph=p.graph, source_id=p.source_id,
        norm=" ".join(norm), exact=" ".join(exact),
        tail_norm=tail_norm, head_norm=head_norm, tail_exact=tail_exact, head_exact=head_exact,
        order=p.order, keywords=keywords,
        doc={k: getattr(p, k) for k in STORED},
    )
