"""A small canonical graph for the search tests, shaped as docs/data-model.md says Kanripo ingest
writes it, with real (abridged) text from ``../shared/corpus/kanripo``:

- 前漢紀 (KR2b0003) juan 002 in two editions whose variant forms differ: SBCK writes 爲, 㑹, 德,
  WYG writes 為, 㑹, 徳 in the same sentences (水濉水爲之不流 / 水濉水為之不流);
  ``&KR0016;`` (騎, a character outside Unicode) declared with its guji:normalizedForm;
  a physical book held by a library and a microfilm copy of the SBCK edition;
- 五代史纂誤 (KR2a0031) juan 001, WYG: 列𫝊 (a supplementary-plane variant of 傳), and
  頗為¶　重複, a phrase over a printed line end and an indented line.

Approved annotations (public graphs ``gg:annotation/<id>``, written by ``annotation.rdf``) name
entities the text writes otherwise; a draft, a rejected one and one whose anchor a text correction
orphaned (which the index must never show) are there too, see :data:`ANNOTATIONS`.

Texts are given in Kanripo format (``¶``, newlines, ``<pb:…>``, ``&KR….;``) and reduced to the
plain ``guji:text`` plus ``guji:FolioSide`` offsets the way the ingest does.
"""

from __future__ import annotations

import json
import re

import pyoxigraph as ox

from kg.kanripo import GAIJI_BASE as PUA_BASE  # &KR0016; is stored as U+100010
from kg.namespaces import BF, DCTERMS, GG, GUJI, GUJIV, ID, RDF, RDFS, SKOS, XSD

KIHAN = chr(PUA_BASE + 16)  # &KR0016; = 騎 (…大敗之&KR0016;將灌嬰… is 騎將灌嬰 in 漢書)

SBCK_002 = """<pb:KR2b0003_SBCK_002-1a>¶
前漢髙祖皇帝紀卷第二　荀悅¶
漢元年冬十月五星聚于東井從歳星也東井秦之¶
分野五星所聚是謂易行有德者昌無德者殃沛公¶
至覇上秦王子嬰素車白馬係頸以組奉皇帝璽降¶
&KR0254;之地收要害之郡諸侯恐懼㑹盟而謀弱秦合從¶
<pb:KR2b0003_SBCK_002-1b>¶
締交相與爲一常以十倍之地百萬之軍仰關而攻¶
秦秦人開關延敵九國之師逡廵而不敢進秦無亡¶
<pb:KR2b0003_SBCK_002-8a>¶
於濉水上從旦至日中殺漢士卒十餘萬人皆入濉¶
水濉水爲之不流漢軍大敗圍王三匝㑹天大風揚¶
砂晝晦楚軍大亂而王得與數十&KR0016;遁去道逢孝惠¶
王㑹擊楚于京索間大敗之&KR0016;將灌嬰又敗楚&KR0016;于¶
滎陽東故楚師不能復進陳平爲亞將屬韓信或曰¶
<pb:KR2b0003_SBCK_002-8b>¶
樂宮陳車騎旌旗兵衞羣臣列位百官執職成禮而¶
"""

WYG_002 = """<pb:KR2b0003_WYG_002-1a>
欽定四庫全書
　前漢紀卷二
　　　　　　　　　　　　　漢　荀恱　撰
　　髙祖二¶
漢元年冬十月五星聚于東井從嵗星也東井秦之¶分
野五星所聚是謂易行有徳者昌無徳者殃沛公¶至霸
<pb:KR2b0003_WYG_002-1b>
侯恐懼㑹盟而謀弱秦合從¶締交相與為一
<pb:KR2b0003_WYG_002-9a>
餘萬人皆入濉¶水濉水為之不流漢軍大敗圍王三帀
樂宮陳車騎旌旗兵衛羣臣列位百官執職成禮而¶
"""

WYG_KR2a0031_001 = """<pb:KR2a0031_WYG_001-1a>¶
欽定四庫全書¶
　五代史纂誤巻上¶
　　　　　　　　　　　　　宋　吳縝　撰¶
梁本紀歐陽史前後舛誤如梁太祖紀作朱友謙而列𫝊作友諒¶
<pb:KR2a0031_WYG_001-1b>¶
　今按此事既見于此紀而袁象先楊師厚趙巖𫝊又¶
　三見之象先𫝊亦二百餘字大㫖皆與此紀同頗為¶
　重複師厚巖傳比象先𫝊稍減然亦有繁詞此宜刋¶
貞明二年春二月丙申楊涉罷¶
<pb:KR2a0031_WYG_001-2a>¶
　唐相楊涉為門下侍郎同中書門下平章事¶
　末帝紀貞明二年嵗次丙子二月丙申楊涉罷¶
"""

# our own sample text (samples/kanripo/GJ4a0001): double-column commentary (繽紛亂貌/一作繽翻) stands
# between 繽紛 and 漁人, and another note (一作使/) right before a folio boundary
TAOHUA_001 = """<pb:GJ4a0001_MING_001-1a>¶
桃花源記¶
晉太元中武陵人捕魚爲業緣溪行忘路之遠近忽¶
逢桃花林夾岸數百步中無雜樹芳草鮮美落英繽¶
紛(繽紛亂貌/一作繽翻)漁人甚異之復前行欲窮其林林盡水源便(一作使/)¶
<pb:GJ4a0001_MING_001-1b>¶
得一山山有小口髣髴若有光便捨舩從口入初極¶
"""

_MARK = re.compile(r"<pb:[^_>]+_([^_>]+)_(\d+)-(\d+)([ab])>|&KR(\d+);|¶|\n|[(/)]")


def parse(source: str) -> tuple[str, list[tuple[str, int, str, int]]]:
    """Kanripo excerpt → (plain text, [(folio label, folio, side, start offset)])."""
    text, folios, _ = parse_with_notes(source)
    return text, folios


def parse_with_notes(source: str) -> tuple[str, list[tuple[str, int, str, int]], list[list]]:
    """… and the layout items of the commentary: ``[offset, "("]``, ``[offset, "/"]``, ``[offset, ")"]``."""
    text: list[str] = []
    pos = 0
    folios: list[tuple[str, int, str, int]] = []
    layout: list[list] = []
    last = 0
    for m in _MARK.finditer(source):
        chunk = source[last:m.start()]
        text.append(chunk)
        pos += len(chunk)
        last = m.end()
        if m.group(2):
            folios.append((f"{int(m.group(3))}{m.group(4)}", int(m.group(3)), m.group(4), pos))
        elif m.group(5):
            text.append(chr(PUA_BASE + int(m.group(5))))
            pos += 1
        elif m.group() in "(/)":
            layout.append([pos, m.group()])
    text.append(source[last:])
    return "".join(text), folios, layout


def juan_text(source: str) -> str:
    return parse(source)[0]


JUANS = {  # juan IRI -> Kanripo source
    f"{ID}text/KR2b0003/SBCK/002": SBCK_002,
    f"{ID}text/KR2b0003/WYG/002": WYG_002,
    f"{ID}text/KR2a0031/WYG/001": WYG_KR2a0031_001,
}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value: object, dt: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    if dt:
        return ox.Literal(str(value), datatype=_n(dt))
    return ox.Literal(str(value))


class _Graph:
    def __init__(self, store: ox.Store, graph: str) -> None:
        self.store, self.graph = store, _n(graph)

    def add(self, s: str, p: str, o: ox.NamedNode | ox.Literal | str) -> None:
        obj = _n(o) if isinstance(o, str) else o
        self.store.add(ox.Quad(_n(s), _n(p), obj, self.graph))


def add_work(store: ox.Store, text_id: str, title: str, cls: str, dynasty: str | None,
             editions: dict[str, tuple[str, str, dict[str, str]]]) -> str:
    """One Kanripo-shaped work graph; ``editions``: code -> (label, juan number, {juan: source})."""
    graph = f"{GG}kanripo/{text_id}"
    g = _Graph(store, graph)
    work = f"{ID}work/{text_id}"
    g.add(work, RDF + "type", BF + "Work")
    g.add(work, RDFS + "label", _lit(title, lang="zh-Hant"))
    g.add(work, DCTERMS + "identifier", _lit(text_id))
    g.add(work, BF + "title", f"{work}/title")
    g.add(f"{work}/title", BF + "mainTitle", _lit(title, lang="zh-Hant"))
    g.add(work, GUJI + "classification", f"{GUJIV}sibu/{cls}")
    if dynasty:
        g.add(work, GUJI + "dynasty", f"{GUJIV}dynasty/{dynasty}")
    for code, (label, _, juans) in editions.items():
        inst = f"{ID}instance/{text_id}/{code}"
        g.add(inst, RDF + "type", BF + "Instance")
        g.add(inst, BF + "instanceOf", work)
        g.add(inst, GUJI + "editionCode", _lit(code))
        g.add(inst, RDFS + "label", _lit(label, lang="zh-Hant"))
        elec = f"{inst}/electronic"
        g.add(inst, BF + "hasReproduction", elec)
        g.add(elec, RDF + "type", BF + "Instance")
        g.add(elec, RDF + "type", BF + "Electronic")
        g.add(elec, BF + "instanceOf", work)
        g.add(elec, BF + "reproductionOf", inst)
        item = f"{ID}item/{text_id}/{code}"
        g.add(item, RDF + "type", BF + "Item")
        g.add(item, RDF + "type", GUJI + "DigitalCopy")
        g.add(item, BF + "itemOf", elec)
        for seq, (num, source) in enumerate(sorted(juans.items()), start=1):
            text, folios, layout = parse_with_notes(source)
            juan = f"{ID}text/{text_id}/{code}/{num}"
            g.add(item, GUJI + "hasJuan", juan)
            g.add(juan, RDF + "type", GUJI + "Juan")
            g.add(juan, DCTERMS + "isPartOf", item)
            g.add(juan, GUJI + "sequence", _lit(seq, XSD + "integer"))
            g.add(juan, GUJI + "juanNumber", _lit(num))
            g.add(juan, GUJI + "juanLabel", _lit(f"卷{int(num)}", lang="zh-Hant"))
            g.add(juan, GUJI + "text", _lit(text))
            if layout:
                g.add(juan, GUJI + "layout", _lit(json.dumps(layout), RDF + "JSON"))
            for i, (flabel, folio, side, start) in enumerate(folios):
                end = folios[i + 1][3] if i + 1 < len(folios) else len(text)
                fs = f"{juan}/{num}-{flabel}"
                g.add(fs, RDF + "type", GUJI + "FolioSide")
                g.add(fs, DCTERMS + "isPartOf", juan)
                g.add(fs, GUJI + "folio", _lit(folio, XSD + "integer"))
                g.add(fs, GUJI + "side", _lit(side))
                g.add(fs, GUJI + "startOffset", _lit(start, XSD + "integer"))
                g.add(fs, GUJI + "endOffset", _lit(end, XSD + "integer"))
    return graph


# (id, juan, quote, occurrence, status, anchor, readings: [(category, authority, label, provisional)])
AUTH = f"{ID}authority/"
ANNOTATIONS = [
    # 沛公 is 劉邦: the SBCK copy's 沛公 is annotated and approved (an authority record made on the spot);
    # the same words in WYG only have a draft naming him 劉季
    ("01KSEARCH00000000000000001", f"{ID}text/KR2b0003/SBCK/002", "沛公", 0, "approved", "ok",
     [("person", f"{AUTH}person/liu-bang", "劉邦", True)]),
    ("01KSEARCH00000000000000002", f"{ID}text/KR2b0003/WYG/002", "沛公", 0, "draft", "ok",
     [("person", f"{AUTH}person/liu-ji", "劉季", True)]),
    # over the folio boundary 1a|1b: an event known from outside (no record in the store: the reading's label)
    ("01KSEARCH00000000000000003", f"{ID}text/KR2b0003/SBCK/002", "合從締交", 0, "approved", "ok",
     [("event", "https://example.org/event/hecong", "六國合從", False)]),
    # an office that is only classified: its name is the quote
    ("01KSEARCH00000000000000004", f"{ID}text/KR2a0031/WYG/001", "門下侍郎", 0, "approved", "ok",
     [("office", None, None, False)]),
    # an era on the first of the two 貞明二年; competing readings of 楊涉 (an oa:Choice)
    ("01KSEARCH00000000000000005", f"{ID}text/KR2a0031/WYG/001", "貞明", 0, "approved", "ok",
     [("era", f"{AUTH}era/zhenming", "貞明", True)]),
    ("01KSEARCH00000000000000006", f"{ID}text/KR2a0031/WYG/001", "楊涉", 1, "approved", "ok",
     [("person", f"{AUTH}person/yang-she", "楊涉", True), ("person", f"{AUTH}person/yang-she-2", "楊文孫", True)]),
    # rejected, and approved but orphaned by a text correction: neither is indexed
    ("01KSEARCH00000000000000007", f"{ID}text/KR2a0031/WYG/001", "朱友謙", 0, "rejected", "ok",
     [("person", f"{AUTH}person/zhu-wen", "朱溫", True)]),
    ("01KSEARCH00000000000000008", f"{ID}text/KR2a0031/WYG/001", "袁象先", 0, "approved", "orphaned",
     [("person", f"{AUTH}person/yuan", "袁大將軍", True)]),
]


def annotation_graph(annotation_id: str, status: str) -> str:
    return f"{GG}{'' if status == 'approved' else 'private/'}annotation/{annotation_id}"


def annotation_triples(annotation_id: str, juan: str, quote: str, occurrence: int = 0, *, status: str = "approved",
                       anchor: str = "ok", readings=(("person", None, None, False),)) -> list[ox.Triple]:
    """One annotation as ``annotation.rdf`` writes it (``occurrence``: which time ``quote`` occurs in the juan)."""
    from annotation.model import Anchor, Annotation, Reading, TextTarget, annotation_iri
    from annotation.rdf import to_triples

    text = juan_text(JUANS[juan])
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(quote, start + 1)
    end = start + len(quote)
    agent = f"{ID}agent/alice"
    return to_triples(Annotation(
        id=annotation_id, canonical=annotation_iri(annotation_id), creator=agent, created="2026-11-22T00:00:00Z",
        modified="2026-11-22T00:00:00Z", status=status, anchor=Anchor(state=anchor),
        target=TextTarget(source=juan, start=start, end=end, exact=quote, prefix=text[max(0, start - 8):start],
                          suffix=text[end:end + 8]),
        readings=[Reading(category=c, authority=a, label=label, provisional=prov) for c, a, label, prov in readings]))


def add_annotation(store: ox.Store, annotation_id: str, juan: str, quote: str, occurrence: int = 0, status: str = "approved",
                   anchor: str = "ok", readings=(("person", None, None, False),)) -> str:
    graph = _n(annotation_graph(annotation_id, status))
    for t in annotation_triples(annotation_id, juan, quote, occurrence, status=status, anchor=anchor, readings=readings):
        store.add(ox.Quad(t.subject, t.predicate, t.object, graph))
    return graph.value


def build_store() -> ox.Store:
    store = ox.Store()
    g1 = add_work(store, "KR2b0003", "前漢紀", "shi", "han", {
        "SBCK": ("四部叢刊", "002", {"002": SBCK_002}),
        "WYG": ("四庫全書・文淵閣", "002", {"002": WYG_002}),
    })
    add_work(store, "KR2a0031", "五代史纂誤", "shi", "song", {
        "WYG": ("四庫全書・文淵閣", "001", {"001": WYG_KR2a0031_001}),
    })
    add_work(store, "GJ4a0001", "桃花源記", "ji", "jin", {
        "MING": ("guji 樣例明刻本", "001", {"001": TAOHUA_001}),
    })
    # a physical book of the SBCK edition held by a library, and its microfilm (another graph:
    # holdings are submitted by libraries, not by Kanripo)
    lib = _Graph(store, f"{GG}submission/nlc-1")
    book = f"{ID}item/nlc/KR2b0003-SBCK"
    lib.add(book, RDF + "type", BF + "Item")
    lib.add(book, RDF + "type", GUJI + "PhysicalBook")
    lib.add(book, BF + "itemOf", f"{ID}instance/KR2b0003/SBCK")
    lib.add(book, BF + "heldBy", f"{ID}agent/nlc")
    lib.add(f"{ID}agent/nlc", RDFS + "label", _lit("國家圖書館", lang="zh-Hant"))
    film_inst = f"{ID}instance/KR2b0003/SBCK/microform"
    lib.add(film_inst, RDF + "type", BF + "Instance")
    lib.add(film_inst, RDF + "type", BF + "Microform")
    lib.add(film_inst, BF + "instanceOf", f"{ID}work/KR2b0003")
    film = f"{ID}item/nlc/KR2b0003-SBCK-film"
    lib.add(film, RDF + "type", GUJI + "MicrofilmCopy")
    lib.add(film, BF + "itemOf", film_inst)
    lib.add(film, BF + "heldBy", f"{ID}agent/nlc")
    # the 字符集外字 table and the vocabulary labels
    chars = _Graph(store, g1)
    ch = f"{ID}char/KR0016"
    chars.add(ch, RDF + "type", GUJI + "NonUnicodeCharacter")
    chars.add(ch, GUJI + "localId", _lit("KR0016"))
    chars.add(ch, GUJI + "puaCodePoint", _lit(f"U+{ord(KIHAN):04X}"))
    chars.add(ch, GUJI + "normalizedForm", _lit("騎"))
    vocab = _Graph(store, f"{GG}vocab")
    for local, label in (("han", "漢"), ("song", "宋")):
        vocab.add(f"{GUJIV}dynasty/{local}", SKOS + "prefLabel", _lit(label, lang="zh-Hant"))
        vocab.add(f"{GUJIV}dynasty/{local}", SKOS + "prefLabel", _lit(label, lang="zh-Hans"))
    vocab.add(f"{GUJIV}sibu/shi", SKOS + "prefLabel", _lit("史部", lang="zh-Hant"))
    for annotation_id, juan, quote, occurrence, status, anchor, readings in ANNOTATIONS:
        add_annotation(store, annotation_id, juan, quote, occurrence, status, anchor, readings)
    return store
