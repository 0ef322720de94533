"""Full-text fidelity over all of ../shared/corpus/kanripo: what the store gives back is the source."""

import re
from collections import Counter

import pytest

from kg import kanripo as fmt
from kg.ingest_kanripo import decode_layout, find_works, ingest_work
from kg.namespaces import sparql_prefixes

pytestmark = [pytest.mark.shared, pytest.mark.slow]

EXPECTED_WORKS = {"KR1a0001", "KR1h0004", "KR2a0001", "KR2a0002", "KR2a0024", "KR2a0031",
                  "KR2b0001", "KR2b0003", "KR3a0001", "KR4a0001", "KR5a0001"}
NOTES = (fmt.NOTE_OPEN, fmt.NOTE_SPLIT, fmt.NOTE_CLOSE)


def stored_juans(store):
    rows = store.query(sparql_prefixes() + """
        SELECT ?id ?code ?file ?text ?layout (COUNT(DISTINCT ?f) AS ?folios) (COUNT(DISTINCT ?m) AS ?mds) WHERE {
          ?item a guji:DigitalCopy ; guji:editionCode ?code ; bf:itemOf/bf:instanceOf/dcterms:identifier ?id .
          ?j dcterms:isPartOf ?item ; a guji:Juan ; guji:sourceFile ?file ; guji:text ?text ; guji:layout ?layout .
          OPTIONAL { ?f a guji:FolioSide ; dcterms:isPartOf ?j }
          OPTIONAL { ?m a guji:ParallelFolioBoundary ; dcterms:isPartOf ?j }
        } GROUP BY ?id ?code ?file ?text ?layout""", use_default_graph_as_union=True)
    return {(r["id"].value, r["code"].value, r["file"].value): (r["text"].value, r["layout"].value, int(r["folios"].value), int(r["mds"].value)) for r in rows}


def markers(source, kind):
    """<pb:>/<md:> markers in text lines (a '#+PROPERTY: LASTPB <pb:...>' header is data, not a break)."""
    body = "\n".join(line for line in source.split("\n") if not line.startswith("#"))
    return len(re.findall(rf"<{kind}:[^>]*>", body))


def source_files(kanripo_dir):
    for work in sorted(kanripo_dir.iterdir()):
        for branch in sorted(work.iterdir()):
            if branch.is_dir() and not branch.name.startswith("_"):
                for f in sorted(branch.glob(f"{work.name}_*.txt")):
                    yield work.name, branch.name, f


def test_every_juan_of_every_edition_reads_back_character_for_character(kanripo_store, kanripo_dir):
    stored = stored_juans(kanripo_store)
    checked = 0
    for work, branch, path in source_files(kanripo_dir):
        source = path.read_bytes().decode("utf-8")
        key = (work, branch, path.name)
        assert key in stored, f"{key} missing from the store"
        text, layout_json, folios, mds = stored[key]
        layout = decode_layout(layout_json)
        # 1. the layout puts the source back together, byte for byte
        assert fmt.render_juan(text, layout) == source, f"{path}: render differs from the source"
        # 2. the plain text is the source with markup removed (independent regex oracle); only the
        #    ( / ) of double-column commentary were lifted into structure
        out, pos = [], 0
        for offset, kind, src in layout:
            if kind in NOTES:
                out.append(text[pos:offset] + src)
                pos = offset
        out.append(text[pos:])
        assert "".join(out) == fmt.strip_markup(source), f"{path}: text differs from the source minus markup"
        # 3. folio structure: one FolioSide per <pb:>, one boundary per <md:>
        assert folios == markers(source, "pb"), path
        assert mds == markers(source, "md"), path
        checked += 1
    assert checked == len(stored) and checked > 1000


def test_sparql_lists_the_eleven_works_with_editions_and_folio_counts(kanripo_store, kanripo_dir):
    rows = kanripo_store.query(sparql_prefixes() + """
        SELECT ?id ?title ?code (COUNT(?f) AS ?folios) WHERE {
          ?w a bf:Work ; dcterms:identifier ?id ; rdfs:label ?title .
          ?item a guji:DigitalCopy ; guji:editionCode ?code ; bf:itemOf/bf:instanceOf ?w .
          ?j dcterms:isPartOf ?item . ?f a guji:FolioSide ; dcterms:isPartOf ?j .
        } GROUP BY ?id ?title ?code""", use_default_graph_as_union=True)
    got = {(r["id"].value, r["code"].value): int(r["folios"].value) for r in rows}
    expected = Counter()
    for work, branch, path in source_files(kanripo_dir):
        expected[(work, branch)] += markers(path.read_text(encoding="utf-8"), "pb")
    assert {w for w, _ in got} == EXPECTED_WORKS
    assert got == {k: v for k, v in expected.items() if v}
    assert {c for (w, c) in got if w == "KR5a0001"} >= {"master", "CK-KZ", "CK-KZ-jye", "HFL", "YP-C", "ZTDZ"}


def test_reingest_is_idempotent(kanripo_store, kanripo_dir):
    before = kanripo_store.count()
    last = kanripo_store.last_sequence()
    results = [ingest_work(kanripo_store, w) for w in find_works([kanripo_dir])]
    assert all(r.change is None for r in results)
    assert kanripo_store.count() == before and kanripo_store.last_sequence() == last


def test_non_unicode_characters_are_described(kanripo_store):
    rows = list(kanripo_store.query(sparql_prefixes() + """
        SELECT ?id ?pua WHERE { ?c a guji:NonUnicodeCharacter ; guji:localId ?id ; guji:puaCodePoint ?pua }""",
        use_default_graph_as_union=True))
    assert len(rows) > 100
    for r in rows:
        assert int(r["pua"].value[2:], 16) == ord(fmt.gaiji_char(r["id"].value))


def test_table_of_contents_points_into_the_text(kanripo_store):
    rows = list(kanripo_store.query(sparql_prefixes() + """
        SELECT ?label ?target WHERE { ?e a guji:TocEntry ; rdfs:label ?label ; guji:pointsTo ?target ;
          dcterms:isPartOf <https://w3id.org/guji/id/item/KR2a0031/WYG> } """, use_default_graph_as_union=True))
    assert {r["label"].value for r in rows} >= {"五代史纂誤 卷上", "五代史纂誤 卷下"}
    assert all(r["target"].value.startswith("https://w3id.org/guji/id/text/KR2a0031/WYG/") for r in rows)


def test_page_images_are_attached(kanripo_store):
    rows = list(kanripo_store.query(sparql_prefixes() + """
        SELECT ?img WHERE { <https://w3id.org/guji/id/text/KR2a0031/WYG/001/001-1a> guji:pageImage ?img }""",
        use_default_graph_as_union=True))
    assert [r["img"].value for r in rows] == ["WYG0279/WYG0279-0541c.png"]
