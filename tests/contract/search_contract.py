"""The search contract: what every backend must do, run through ``SearchService``.

A backend's test module subclasses :class:`SearchContract` and overrides one fixture,
``index_factory``: a callable that returns a new, empty index of that backend.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from search.errors import SearchQueryError
from search.passages import ANNOTATION_IRIS, passages_from_store
from search.service import SearchService
from tests.contract import search_data as data


def ids(result) -> set[str]:
    return {h.id for h in result.hits}


def facet(result, name: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[name]}


def move_graph(store: ox.Store, old: str, new: str) -> None:
    """What an approval (private → public) or a retraction (public → private) does to the store."""
    quads = list(store.quads_for_pattern(None, None, None, ox.NamedNode(old)))
    store.remove_graph(ox.NamedNode(old))
    for q in quads:
        store.add(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(new)))


def rewrite_status(store: ox.Store, graph: str, status: str) -> None:
    g = ox.NamedNode(graph)
    pred = ox.NamedNode(data.GUJI + "reviewStatus")
    for q in list(store.quads_for_pattern(None, pred, None, g)):
        store.remove(q)
        store.add(ox.Quad(q.subject, pred, ox.Literal(status), g))


SBCK = f"{data.GG}kanripo/KR2b0003"
KR2A = f"{data.GG}kanripo/KR2a0031"
LIU_BANG, LIU_JI, HECONG, OFFICE, ZHENMING, YANG, ZHU_WEN, ORPHAN = (a[0] for a in data.ANNOTATIONS)


class SearchContract:
    @pytest.fixture(scope="class")
    @classmethod
    def index_factory(cls):  # pragma: no cover - every backend overrides it
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls):
        return data.build_store()

    @pytest.fixture(scope="class")
    @classmethod
    def service(cls, index_factory, store):
        svc = SearchService(index_factory(), store=store)
        n = svc.build_index(store)
        assert n > 0
        yield svc
        svc.index.drop()

    def search(self, service, q, **kw):
        kw.setdefault("size", 50)
        return service.search(q, **kw)

    # -- interlinear commentary ------------------------------------------------------------------
    def test_a_phrase_of_the_main_text_matches_across_a_note(self, service):
        r = self.search(service, "缤纷渔人")  # 繽紛(繽紛亂貌/一作繽翻)漁人
        assert ids(r) == {"GJ4a0001/MING/001/1a"}
        (hit,) = r.hits
        assert [h.text for h in hit.highlights] == ["繽紛", "漁人"]  # the note between them is not the match
        assert '<small class="note">繽紛亂貌一作繽翻</small>' in hit.snippet
        assert "<mark>繽紛</mark><small" in hit.snippet and "</small><mark>漁人</mark>" in hit.snippet
        assert [n.text for n in hit.notes] == ["繽紛亂貌一作繽翻", "一作使"]

    def test_a_phrase_over_a_note_and_a_folio_boundary_matches_once(self, service):
        assert ids(self.search(service, "水源便得一山")) == {"GJ4a0001/MING/001/1a"}

    def test_commentary_is_searched_only_when_asked(self, service):
        assert ids(self.search(service, "乱貌")) == set()
        r = self.search(service, "乱貌", commentary=True)
        assert ids(r) == {"GJ4a0001/MING/001/1a"} and r.hits[0].in_commentary
        assert [h.text for h in r.hits[0].highlights] == ["亂貌"]
        assert "<mark>亂貌</mark>" in r.hits[0].snippet
        # the main text is still searched, and a phrase never runs from the main text into a note
        assert ids(self.search(service, "缤纷渔人", commentary=True)) == {"GJ4a0001/MING/001/1a"}
        assert ids(self.search(service, "英缤纷缤纷乱", commentary=True)) == set()

    def test_relevance_ties_are_broken_by_work_order(self, service):
        # 之 is on many passages; page by page the scores descend, equal scores in work order
        r = self.search(service, "之", size=100)
        keys = [(-h.score, h.source_id, h.edition, h.juan, h.id) for h in r.hits]
        assert len(keys) > 5
        for a, b in zip(r.hits, r.hits[1:]):
            assert a.score >= b.score
        pages = [h.id for p in (1, 2, 3) for h in self.search(service, "之", size=2, page=p).hits]
        assert pages == [h.id for h in r.hits[:6]]

    # -- folding -------------------------------------------------------------------------------
    @pytest.mark.parametrize("forms", [
        ("为之不流", "為之不流", "爲之不流"),  # simplified, traditional, variant (SBCK 爲, WYG 為)
        ("兵卫", "兵衛", "兵衞"),
        ("会盟", "會盟", "㑹盟"),
        ("有德者昌", "有徳者昌"),
        ("列传", "列傳", "列𫝊"),
    ])
    def test_simplified_traditional_and_variant_forms_find_the_same_passages(self, service, forms):
        found = [ids(self.search(service, f)) for f in forms]
        assert found[0], f"{forms[0]} found nothing"
        assert all(f == found[0] for f in found), dict(zip(forms, found))

    def test_both_editions_are_found_whatever_form_each_prints(self, service):
        r = self.search(service, "为之不流")
        assert {(h.source_id, h.edition) for h in r.hits} == {("KR2b0003", "SBCK"), ("KR2b0003", "WYG")}
        texts = {h.edition: h.highlights[0].text for h in r.hits}
        assert texts == {"SBCK": "爲之不流", "WYG": "為之不流"}  # the original characters, not the folded ones

    def test_exact_mode_does_not_fold(self, service):
        assert {h.edition for h in self.search(service, "爲之不流", exact=True).hits} == {"SBCK"}
        assert {h.edition for h in self.search(service, "為之不流", exact=True).hits} == {"WYG"}
        assert self.search(service, "为之不流", exact=True).total == 0
        hit = self.search(service, "爲之不流", exact=True).hits[0]
        assert hit.matched_by == []

    def test_private_use_character_matches_its_declared_equivalent(self, service):
        r = self.search(service, "骑将灌婴")
        assert [h.id for h in r.hits] == ["KR2b0003/SBCK/002/8a"]
        why = {(m.query, m.text): m.how for m in r.hits[0].matched_by}
        assert why[("骑", data.KIHAN)] == "private-use"
        assert self.search(service, data.KIHAN + "將灌嬰", exact=True).total == 1

    def test_matched_by_says_which_characters_were_folded_and_how(self, service):
        hit = next(h for h in self.search(service, "为之不流").hits if h.edition == "SBCK")
        why = {(m.query, m.text): m for m in hit.matched_by}
        assert why[("为", "爲")].how == "variant"
        assert [s.target for s in why[("为", "爲")].steps] == ["為", "为"]
        hit = self.search(service, "皇帝纪").hits[0]
        assert {(m.query, m.text, m.how) for m in hit.matched_by} == {("纪", "紀", "simplified")}
        hit = self.search(service, "列傳").hits[0]
        assert {(m.query, m.text, m.how) for m in hit.matched_by} == {("傳", "𫝊", "variant")}

    def test_identical_characters_are_not_reported(self, service):
        hit = self.search(service, "列𫝊").hits[0]
        assert hit.matched_by == []

    # -- phrases -------------------------------------------------------------------------------
    def test_phrase_across_a_printed_line_end_matches(self, service):
        # 頗為¶　重複: a line end and the next line's indentation lie between 為 and 重
        r = self.search(service, "颇为重复")
        assert [h.id for h in r.hits] == ["KR2a0031/WYG/001/1b"]
        assert "<mark>頗為\u3000重複</mark>" in r.hits[0].snippet
        # 東井秦之¶分野 crosses a line end in both editions (WYG also a source newline)
        assert {h.edition for h in self.search(service, "秦之分野").hits} == {"SBCK", "WYG"}

    def test_phrase_across_a_folio_boundary_matches_once_where_it_starts(self, service):
        # SBCK 1a ends …謀弱秦合從, 1b begins 締交相與爲一…
        r = self.search(service, "合从缔交")
        assert sorted(h.id for h in r.hits) == ["KR2b0003/SBCK/002/1a", "KR2b0003/WYG/002/1b"]
        hit = next(h for h in r.hits if h.edition == "SBCK")
        assert hit.folio == "1a"
        assert hit.highlights[0].text == "合從締交"
        assert "<mark>合從締交</mark>" in hit.snippet

    def test_highlights_point_into_the_original_juan_text(self, service):
        for q in ("为之不流", "合从缔交", "颇为重复", "骑将灌婴"):
            for h in self.search(service, q).hits:
                text = data.juan_text(data.JUANS[h.juan_iri])
                for hl in h.highlights:
                    assert text[hl.start:hl.end] == hl.text

    def test_single_character_and_supplementary_plane(self, service):
        assert self.search(service, "𫝊", exact=True).total >= 2
        assert ids(self.search(service, "传")) >= ids(self.search(service, "𫝊", exact=True))

    def test_a_string_absent_from_the_corpus_finds_nothing(self, service):
        r = self.search(service, "電腦網絡")
        assert r.total == 0 and r.hits == []
        assert self.search(service, "不流之爲").total == 0  # the characters exist, the sequence does not

    def test_characters_are_never_matched_as_words(self, service):
        # a \w+ tokenizer would make 水濉水爲之不流漢軍大敗圍王三匝 one token and miss this
        assert self.search(service, "大敗").total >= 2

    # -- boolean -------------------------------------------------------------------------------
    def test_and_or_not(self, service):
        both = ids(self.search(service, "楊涉 門下侍郎"))
        assert both == {"KR2a0031/WYG/001/2a"}
        either = ids(self.search(service, "灌婴 OR 颇为重复"))
        assert either == {"KR2b0003/SBCK/002/8a", "KR2a0031/WYG/001/1b"}
        without = ids(self.search(service, "杨涉 -门下侍郎"))
        assert "KR2a0031/WYG/001/2a" not in without and "KR2a0031/WYG/001/1b" in without
        grouped = ids(self.search(service, "漢軍 (大敗 OR 合從) -灌嬰"))
        assert grouped == {"KR2b0003/WYG/002/9a"}

    def test_query_errors_are_typed(self, service):
        for bad in ("", "   ", "-只有否定", "「未閉", "，。"):
            with pytest.raises(SearchQueryError):
                service.search(bad)
        with pytest.raises(SearchQueryError):
            service.search("史", filters={"colour": "red"})
        with pytest.raises(SearchQueryError):
            service.search("史", size=0)

    # -- filters, facets, paging, sort -----------------------------------------------------------
    def test_facets_count_the_matching_passages(self, service):
        r = self.search(service, "贞明二年")
        assert r.total == 2
        facets = {f: {v.value: v.count for v in values} for f, values in r.facets.items()}
        assert facets["dynasty"] == {"宋": 2}
        assert facets["category"] == {"史部": 2}
        r = self.search(service, "漢")
        facets = {f: {v.value: v.count for v in values} for f, values in r.facets.items()}
        assert facets["edition"]["SBCK"] >= 1 and facets["edition"]["WYG"] >= 1
        assert set(facets["copy"]) == {"digital", "physical", "microfilm"}
        assert "國家圖書館" in facets["holding"]

    def test_filters_narrow_and_combine(self, service):
        all_ = self.search(service, "之")
        han = self.search(service, "之", filters={"dynasty": "漢"})
        assert 0 < han.total < all_.total
        assert {h.source_id for h in han.hits} == {"KR2b0003"}
        sbck = self.search(service, "之", filters={"dynasty": ["漢"], "edition": "SBCK"})
        assert {h.edition for h in sbck.hits} == {"SBCK"}
        held = self.search(service, "之", filters={"holding": "國家圖書館"})
        assert held.total == han.total
        assert self.search(service, "之", filters={"copy": "microfilm", "dynasty": "宋"}).total == 0
        either = self.search(service, "之", filters={"dynasty": ["漢", "宋", "jin"]})  # 晉 (桃花源記) by its notation
        assert either.total == all_.total

    def test_paging_is_stable_and_disjoint(self, service):
        whole = service.search("之", size=100, sort="work")
        pages = [service.search("之", size=2, page=p, sort="work") for p in range(1, 4)]
        assert all(p.total == whole.total for p in pages)
        seen = [h.id for p in pages for h in p.hits]
        assert seen == [h.id for h in whole.hits][:6]
        assert len(set(seen)) == len(seen)

    def test_sort_by_work_order(self, service):
        r = service.search("之", size=100, sort="work")
        keys = [(h.source_id, h.edition, int(h.juan), h.id) for h in r.hits]
        assert [k[:3] for k in keys] == sorted(k[:3] for k in keys)
        sbck = [h.folio for h in r.hits if h.edition == "SBCK"]
        assert sbck == ["1a", "1b", "8a"]  # 8b has no 之

    def test_relevance_scores_descend(self, service):
        r = service.search("楊涉", size=10)
        scores = [h.score for h in r.hits]
        assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)

    def test_hits_carry_where_they_are(self, service):
        hit = self.search(service, "骑将灌婴").hits[0]
        d = hit.model_dump()
        assert d["source_id"] == "KR2b0003" and d["title"] == "前漢紀"
        assert (d["edition"], d["juan"], d["folio"]) == ("SBCK", "002", "8a")
        assert d["edition_label"] == "四部叢刊" and d["dynasty"] == "漢" and d["category"] == "史部"
        assert d["iri"].endswith("/002-8a") and d["juan_iri"].endswith("KR2b0003/SBCK/002")
        assert set(d) >= {"snippet", "matched_by", "highlights"}

    # -- entities of approved annotations --------------------------------------------------------
    def test_an_entity_name_finds_the_passage_that_writes_it_otherwise(self, service):
        # SBCK 1a writes 沛公; the approved annotation names him 劉邦 (typed here in simplified)
        r = self.search(service, "刘邦")
        assert ids(r) == {"KR2b0003/SBCK/002/1a"}
        hit = r.hits[0]
        (m,) = hit.matched_entities
        assert (m.query, m.name, m.via, m.label, m.category) == ("刘邦", "劉邦", "label", "劉邦", "person")
        assert m.annotation == ANNOTATION_IRIS + LIU_BANG and m.entity.endswith("/person/liu-bang")
        assert {(x.query, x.text, x.how) for x in m.matched_by} == {("刘", "劉", "simplified")}
        assert hit.matched_by == []  # no character of the text matched
        # the annotated span is what the hit marks
        text = data.juan_text(data.JUANS[hit.juan_iri])
        assert [(h.text, text[h.start:h.end]) for h in hit.highlights] == [("沛公", "沛公")]
        assert "<mark>沛公</mark>" in hit.snippet
        assert [(e.label, e.quote, e.category, e.rank) for e in hit.entities] == [
            ("劉邦", "沛公", "person", 1), ("六國合從", "合從締交", "event", 1)]
        assert ids(self.search(service, "劉邦", exact=True)) == {"KR2b0003/SBCK/002/1a"}
        assert self.search(service, "刘邦", exact=True).total == 0

    def test_names_combine_with_the_text_and_boolean_operators(self, service):
        assert ids(self.search(service, "沛公")) == {"KR2b0003/SBCK/002/1a", "KR2b0003/WYG/002/1a"}
        assert ids(self.search(service, "沛公 -刘邦")) == {"KR2b0003/WYG/002/1a"}
        assert ids(self.search(service, "刘邦 五星聚")) == {"KR2b0003/SBCK/002/1a"}
        assert ids(self.search(service, "刘邦 OR 杨文孙")) == {"KR2b0003/SBCK/002/1a", "KR2a0031/WYG/001/2a"}
        # a phrase never runs from one name into the next (劉邦|六國合從)
        assert self.search(service, "邦六").total == 0

    def test_only_approved_annotations_with_a_reliable_anchor_are_indexed(self, service):
        for name in ("劉季", "朱溫", "袁大將軍"):  # draft, rejected, approved but orphaned
            assert self.search(service, name).total == 0, name
        r = self.search(service, "之 OR 杨涉", size=100)
        shown = {e.annotation for h in r.hits for e in h.entities}
        assert shown == {ANNOTATION_IRIS + a for a in (LIU_BANG, HECONG, OFFICE, ZHENMING, YANG)}
        assert not {"劉季", "朱溫", "袁大將軍"} & set(facet(r, "entity"))
        wyg = self.search(service, "沛公", filters={"edition": "WYG"}).hits[0]
        assert wyg.entities == [] and wyg.matched_entities == []

    def test_an_entity_over_a_folio_boundary_is_on_both_sides(self, service):
        r = self.search(service, "六国合从")
        assert ids(r) == {"KR2b0003/SBCK/002/1a", "KR2b0003/SBCK/002/1b"}
        by_id = {h.id: h for h in r.hits}
        text = data.juan_text(data.JUANS[f"{data.ID}text/KR2b0003/SBCK/002"])
        # each side marks its own part of the span 合從|締交
        assert [h.text for h in by_id["KR2b0003/SBCK/002/1a"].highlights] == ["合從"]
        assert [h.text for h in by_id["KR2b0003/SBCK/002/1b"].highlights] == ["締交"]
        assert all(text[h.start:h.end] == h.text for hit in r.hits for h in hit.highlights)
        # the quote is text: it finds the passage where it starts, once, as the text does
        assert ids(self.search(service, "合从缔交")) == {"KR2b0003/SBCK/002/1a", "KR2b0003/WYG/002/1b"}
        assert ids(self.search(service, "合从缔交", filters={"entity": "六國合從"})) == {"KR2b0003/SBCK/002/1a"}

    def test_an_annotation_that_only_classifies_is_found_by_its_quote(self, service):
        hit = self.search(service, "门下侍郎").hits[0]
        assert hit.id == "KR2a0031/WYG/001/2a"
        names = {(m.name, m.category, m.entity) for m in hit.matched_entities}
        assert names == {("門下侍郎", "office", None)}
        assert [h.text for h in hit.highlights] == ["門下侍郎"]  # the text match, not twice

    def test_competing_readings_are_all_searchable(self, service):
        hit = self.search(service, "杨文孙").hits[0]
        assert hit.id == "KR2a0031/WYG/001/2a"
        assert [(m.label, m.via) for m in hit.matched_entities] == [("楊文孫", "label")]
        assert sorted((e.label, e.rank) for e in hit.entities if e.annotation.endswith(YANG)) == [("楊文孫", 2), ("楊涉", 1)]

    def test_entity_facets_count_passages_and_filter(self, service):
        r = self.search(service, "贞明二年")
        assert r.total == 2
        # the first 貞明二年 (1b) is annotated as an era; 2a, the second, holds 楊涉 and 門下侍郎
        assert facet(r, "entity") == {"貞明": 1, "楊涉": 1, "楊文孫": 1, "門下侍郎": 1}
        assert facet(r, "entity_category") == {"era": 1, "person": 1, "office": 1}
        era = self.search(service, "贞明二年", filters={"entity_category": "era"})
        assert ids(era) == {"KR2a0031/WYG/001/1b"}
        r = self.search(service, "杨涉")
        assert facet(r, "entity") == {"楊涉": 1, "楊文孫": 1, "門下侍郎": 1, "貞明": 1}
        assert facet(r, "entity_category") == {"person": 1, "office": 1, "era": 1}
        people = self.search(service, "之", filters={"entity_category": "person"})
        assert ids(people) == {"KR2b0003/SBCK/002/1a"}  # 2a (楊涉) has no 之
        assert ids(self.search(service, "沛公", filters={"entity": "劉邦"})) == {"KR2b0003/SBCK/002/1a"}
        either = self.search(service, "之 OR 杨涉", filters={"entity_category": ["person", "event"]})
        assert ids(either) == {"KR2b0003/SBCK/002/1a", "KR2b0003/SBCK/002/1b", "KR2a0031/WYG/001/2a"}  # not 1b: an era

    def test_the_index_knows_where_each_annotation_is(self, service):
        found = service.index.annotated_graphs([ANNOTATION_IRIS + LIU_BANG, ANNOTATION_IRIS + OFFICE])
        assert found == {SBCK, KR2A}
        assert service.index.annotated_graphs([ANNOTATION_IRIS + LIU_JI, ANNOTATION_IRIS + "nothing"]) == set()
        assert service.index.annotated_graphs([]) == set()

    def test_approval_and_retraction_reindex_the_annotated_source(self, index_factory):
        store = data.build_store()
        svc = SearchService(index_factory(), store=store)
        try:
            svc.build_index(store)
            total = svc.index.count()
            private, public = data.annotation_graph(LIU_JI, "draft"), data.annotation_graph(LIU_JI, "approved")
            assert svc.search("刘季").total == 0
            # approval: the draft's private graph empties, its public graph fills (two changes)
            move_graph(store, private, public)
            rewrite_status(store, public, "approved")
            assert svc.apply_changes(store, [private, public]) > 0
            assert ids(svc.search("刘季")) == {"KR2b0003/WYG/002/1a"}
            assert facet(svc.search("沛公"), "entity") == {"劉邦": 1, "六國合從": 1, "劉季": 1}
            assert svc.index.count() == total
            # retraction: back to the private graph (rejected); only the private graph names the juan now
            move_graph(store, public, private)
            rewrite_status(store, private, "rejected")
            svc.apply_changes(store, [public, private])
            assert svc.search("刘季").total == 0 and svc.search("刘邦").total == 1
            assert svc.search("为之不流").total == 2 and svc.index.count() == total
            # an annotation gone from both graphs is found through the index (here: an approved one purged)
            store.remove_graph(ox.NamedNode(data.annotation_graph(LIU_BANG, "approved")))
            svc.apply_changes(store, [data.annotation_graph(LIU_BANG, "approved")])
            assert svc.search("刘邦").total == 0 and svc.index.count() == total
        finally:
            svc.index.drop()

    # -- index life cycle ----------------------------------------------------------------------
    def test_rebuild_swaps_in_a_new_version(self, index_factory, store):
        svc = SearchService(index_factory(), store=store)
        try:
            svc.build_index(store)
            first = svc.index.version()
            before = svc.search("為之不流").total
            svc.build_index(store)
            assert svc.index.version() != first
            assert svc.search("為之不流").total == before
            assert svc.index.count() == sum(1 for _ in passages_from_store(store, svc.normaliser))
        finally:
            svc.index.drop()

    def test_apply_changes_reindexes_one_source(self, index_factory):
        store = data.build_store()
        svc = SearchService(index_factory(), store=store)
        try:
            svc.build_index(store)
            total = svc.index.count()
            assert svc.search("楊涉").total > 0
            graph = f"{data.GG}kanripo/KR2a0031"
            store.remove_graph(data._n(graph))
            assert svc.apply_changes(store, [graph]) == 0
            assert svc.search("楊涉").total == 0
            assert svc.search("為之不流").total == 2  # other sources untouched
            data.add_work(store, "KR2a0031", "五代史纂誤", "shi", "song", {
                "WYG": ("四庫全書・文淵閣", "001", {"001": data.WYG_KR2a0031_001}),
            })
            n = svc.apply_changes(store, [graph, graph])
            assert n == 3 and svc.index.count() == total
            assert svc.search("楊涉").total > 0
        finally:
            svc.index.drop()


class SerialSearchContract:
    """Serial issues (package v2, ADR 0021): the material-type facet and the date filter by day,
    on the v2 sample package's periodical and newspaper. Mixed into each backend's test class."""

    @pytest.fixture(scope="class")
    @classmethod
    def serial_service(cls, index_factory):
        from pathlib import Path

        from kg.package import validate_package

        sample = Path(__file__).resolve().parents[2] / "samples" / "package" / "guji-sample-2026-v2"
        result = validate_package(sample)
        assert result.report.valid, result.report.to_text()
        store = data.build_store()  # the 古籍 of the contract corpus beside the serials
        for graph, triples in result.graphs.graphs.items():
            if "/preservation/" not in graph:
                for t in triples:
                    store.add(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)))
        svc = SearchService(index_factory(), store=store)
        assert svc.build_index(store) > 0
        yield svc
        svc.index.drop()

    def test_a_date_filter_finds_the_newspaper_issue_of_that_day(self, serial_service):
        every_day = serial_service.search("天津", size=50)
        newspaper = {h.date for h in every_day.hits if h.material == "報紙"}
        assert newspaper == {"1935-03-01", "1935-03-02", "1935-03-03"}  # the word is in every issue
        one_day = serial_service.search("天津", date_from="1935-03-02", date_to="1935-03-02", size=50)
        assert {(h.title, h.date) for h in one_day.hits} == {("津門晨報", "1935-03-02")}
        assert "春耕" in one_day.hits[0].snippet.replace("<mark>", "").replace("</mark>", "")

    def test_a_month_or_an_open_range_covers_its_days(self, serial_service):
        march = serial_service.search("天津", date_from="1935-03", date_to="1935-03", size=50)
        # the three newspaper days and the periodical's 15 March issue
        assert sorted(h.date for h in march.hits) == ["1935-03-01", "1935-03-02", "1935-03-03", "1935-03-15"]
        since = serial_service.search("天津", date_from="1935-03-03", size=50)
        assert sorted(h.date for h in since.hits) == ["1935-03-03", "1935-03-15"]
        until = serial_service.search("天津", date_to="1935-01-31", size=50)
        assert [h.date for h in until.hits] == ["1935-01-15"]

    def test_undated_passages_never_match_a_date_filter(self, serial_service):
        everything = serial_service.search("之", size=100)  # the 古籍 of the corpus and some articles
        dated = serial_service.search("之", date_from="1900", date_to="2100", size=100)
        assert 0 < dated.total < everything.total
        assert all(h.date for h in dated.hits) and {h.material for h in dated.hits} <= {"期刊", "報紙"}
        assert dated.total == len([h for h in everything.hits if h.date])

    def test_material_facet_counts_and_filters(self, serial_service):
        r = serial_service.search("天津", size=50)
        counts = facet(r, "material")
        assert counts == {"報紙": 3, "期刊": len([h for h in r.hits if h.material == "期刊"])} and counts["期刊"] >= 2
        for asked in ("报纸", "報紙", "newspaper"):  # any label or the notation
            only = serial_service.search("天津", filters={"material": asked}, size=50)
            assert {h.material for h in only.hits} == {"報紙"} and only.total == 3
        ancient = serial_service.search("之", filters={"material": "古籍"}, size=5)
        assert ancient.total == serial_service.search("之", size=5).total - serial_service.search(
            "之", filters={"material": ["期刊", "報紙"]}, size=5).total

    def test_bad_dates_are_query_errors(self, serial_service):
        for kw in ({"date_from": "1935-13-01"}, {"date_to": "yesterday"}, {"date_from": "1935-03-02", "date_to": "1935-03-01"}):
            with pytest.raises(SearchQueryError) as e:
                serial_service.search("天津", **kw)
            assert e.value.details.get("field") in ("date_from", "date_to")
