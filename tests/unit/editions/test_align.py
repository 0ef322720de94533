"""Aligning two editions' texts: insertions, deletions, variant forms, code-point offsets."""

import random

from editions.align import EditionAlignment, align

BASE = ("荀悅昔在上聖唯建皇極經緯天地觀象立法乃作書契以通宇宙揚于王庭厥用大焉先王以光演大業"
        "肆於時夏亦惟翼翼以監厥後永世作典夫立典有五志焉一曰達道義二曰彰法式三曰通古今四曰著功勲"
        "五曰表賢能於是天人之際事物之宜粲然顯著罔不能備矣其後張蒼謂漢爲水德而賈誼公孫弘以爲土德")


def where(text: str, quote: str, nth: int = 0) -> tuple[int, int]:
    i = -1
    for _ in range(nth + 1):
        i = text.index(quote, i + 1)
    return i, i + len(quote)


def test_identical_texts_align_everywhere():
    al = align(BASE, BASE)
    assert al.coverage.identical == len(BASE) and al.coverage.substituted == 0
    s, e = where(BASE, "張蒼")
    m = al.map_span(s, e)
    assert (m.start, m.end, m.kind) == (s, e, "identical")


def test_an_inserted_note_shifts_what_follows_and_is_itself_unaligned():
    note = "(注文甲乙丙丁/戊己庚辛)"
    cut = BASE.index("其後")
    b = BASE[:cut] + note + BASE[cut:]
    al = align(BASE, b)
    s, e = where(BASE, "賈誼")
    m = al.map_span(s, e)
    assert b[m.start:m.end] == "賈誼" and m.start == s + len(note)
    # a span of the other edition's note has no place in the first
    back = al.inverse()
    ns, ne = where(b, "甲乙")
    assert back.map_span(ns, ne) is None
    # before the note nothing moved
    s, e = where(BASE, "荀悅")
    assert al.map_span(s, e).start == s


def test_a_deleted_passage_leaves_its_spans_unmapped_and_the_rest_aligned():
    gone = "夫立典有五志焉"
    b = BASE.replace(gone, "")
    al = align(BASE, b)
    s, e = where(BASE, "五志")
    assert al.map_span(s, e) is None
    s, e = where(BASE, "功勲")
    m = al.map_span(s, e)
    assert b[m.start:m.end] == "功勲" and m.start == s - len(gone)
    assert al.coverage.identical == len(b)


def test_variant_forms_fold_and_the_other_edition_keeps_its_own_characters():
    b = BASE.replace("爲", "為").replace("悅", "恱").replace("德", "徳")
    al = align(BASE, b)
    assert al.coverage.identical == len(BASE)
    s, e = where(BASE, "漢爲水德")
    m = al.map_span(s, e)
    assert (b[m.start:m.end], m.kind) == ("漢為水徳", "variant")


def test_a_different_character_is_a_substitution_at_the_same_place():
    b = BASE.replace("賈誼", "賈生")  # a real variant reading, not a variant form
    al = align(BASE, b)
    assert al.coverage.substituted == 1
    s, e = where(BASE, "賈誼公孫弘")
    m = al.map_span(s, e)
    assert (b[m.start:m.end], m.kind, m.differing) == ("賈生公孫弘", "substituted", 1)


def test_offsets_are_code_points_with_characters_outside_the_bmp_and_private_use():
    # 𫝊 (U+2B74A) is one code point (two UTF-16 units); U+100064 is a Kanripo 外字 in the private-use plane
    a = "𫝊𫝊𫝊，" + BASE
    b = "\U00100064" + "𫝊𫝊𫝊。" + BASE
    al = align(a, b)
    s, e = where(a, "張蒼")
    m = al.map_span(s, e)
    assert (m.start, m.end) == (s + 1, e + 1) and b[m.start:m.end] == "張蒼"
    m = al.map_span(0, 2)
    assert (m.start, m.end) == (1, 3) and b[m.start:m.end] == "𫝊𫝊"


def test_punctuation_inside_a_span_is_carried_and_a_punctuation_only_span_is_not():
    a = "先王以光演大業肆於時夏"
    b = "先王以光，演大業。肆於時夏"
    al = align(a, b)
    s, e = where(a, "光演大")
    m = al.map_span(s, e)
    assert b[m.start:m.end] == "光，演大"
    al2 = align(b, a)
    s, e = where(b, "，")
    assert al2.map_span(s, e) is None


def test_a_span_split_by_an_insertion_is_not_mapped():
    a = BASE
    b = BASE.replace("張蒼", "張（侯）蒼")
    assert align(a, b).map_span(*where(a, "張蒼")) is None


def test_many_scattered_edits_still_align_the_untouched_stretches():
    rng = random.Random(7)
    a = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(5000))  # a long text that does not repeat itself
    chars = list(a)
    for _ in range(60):  # deletions and insertions all over
        i = rng.randrange(len(chars))
        if rng.random() < 0.5:
            del chars[i]
        else:
            chars.insert(i, "〇")
    b = "".join(chars)
    al = align(a, b)
    assert al.coverage.share_a() > 0.95
    for blk in al.blocks:  # every identical stretch really is identical
        assert a[al.offsets_a[blk.a]:al.offsets_a[blk.a + blk.size - 1] + 1] == b[al.offsets_b[blk.b]:al.offsets_b[blk.b + blk.size - 1] + 1]


def test_editions_pair_juans_by_position_and_find_a_juan_filed_elsewhere():
    j1, j2, j3 = BASE[:60], BASE[60:120], BASE[120:]
    a = [("a/1", j1), ("a/2", j2), ("a/3", j3)]
    b = [("b/1", j1), ("b/2", ""), ("b/3", j2 + j3)]  # juan 2 filed at the head of juan 3
    ea = EditionAlignment(a, b)
    got = ea.map_span("a/2", 5, 9)
    assert got is not None and got[0] == "b/3" and got[1].start == 5
    got = ea.map_span("a/3", 0, 4)
    assert got[0] == "b/3" and (got[1].start, got[1].end) == (len(j2), len(j2) + 4)
    assert ea.map_span("a/1", 0, 4)[0] == "b/1"
    assert ea.map_span("a/9", 0, 4) is None and ea.map_span("a/1", 0, 999) is None
    lazy = EditionAlignment(a, b, lazy=True)
    assert lazy.map_span("a/2", 5, 9) == ea.map_span("a/2", 5, 9)


def test_different_texts_are_not_paired():
    ea = EditionAlignment([("a/0", "甲乙丙丁戊己庚辛壬癸" * 3)], [("b/0", "子丑寅卯辰巳午未申酉戌亥" * 3)])
    assert ea.pairs["a/0"] is None and ea.coverage.aligned == 0
