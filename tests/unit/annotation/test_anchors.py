"""Anchors: selections resolved against the text in code points, and re-anchoring after text corrections."""

from __future__ import annotations

import random

import pytest

from annotation.anchors import equal_blocks, map_span, reanchor, resolve
from annotation.errors import TargetMismatchError
from annotation.model import TextSelection, TextTarget

J = "https://w3id.org/guji/id/text/T/master/001"
# 岳陽樓記, as in the sample text
TEXT = "岳陽樓記　　　　宋　范仲淹　撰慶曆四年春滕子京謫守巴陵郡滕宗諒字子京河南人越明年政通人和百廢具興乃重修岳陽樓增其舊制"


def sel(**kw) -> TextSelection:
    return TextSelection(source=J, **kw)


def target(text: str, exact: str, nth: int = 0) -> TextTarget:
    start = -1
    for _ in range(nth + 1):
        start = text.index(exact, start + 1)
    return resolve(text, sel(start=start, end=start + len(exact)))


# -- resolve -------------------------------------------------------------------------------------

def test_resolve_fills_quote_and_context():
    t = resolve(TEXT, sel(start=10, end=13))
    assert (t.exact, t.prefix, t.suffix) == ("范仲淹", "樓記　　　　宋　", "　撰慶曆四年春滕")


def test_resolve_by_quote_alone_when_unique():
    t = resolve(TEXT, sel(exact="巴陵郡"))
    assert (t.start, t.end) == (25, 28)


def test_resolve_context_at_text_edges():
    t = resolve(TEXT, sel(start=0, end=2))
    assert t.prefix == "" and t.suffix == "樓記　　　　宋　"
    t = resolve(TEXT, sel(start=len(TEXT) - 2, end=len(TEXT)))
    assert t.suffix == "" and t.exact == "舊制"


@pytest.mark.parametrize("kw, message", [
    ({"start": 10, "end": 12, "exact": "范仲淹"}, "does not match the text at TextPositionSelector [10, 12)"),
    ({"start": 3, "end": 3}, "empty or reversed"),
    ({"start": 60, "end": 70}, "lies outside the text"),
    ({"start": 10}, "needs both start and end"),
    ({"exact": "子京"}, "occurs 2 times"),
    ({"exact": "范文正"}, "does not occur"),
    ({"start": 10, "end": 13, "prefix": "宋　"}, None),  # a matching shorter prefix is fine
    ({"start": 10, "end": 13, "prefix": "元　"}, "prefix '元\\u3000' does not match"),
    ({"start": 10, "end": 13, "suffix": "撰"}, "suffix '撰' does not match"),
    ({}, "needs a TextPositionSelector"),
])
def test_resolve_refuses_what_does_not_agree(kw, message):
    if message is None:
        assert resolve(TEXT, sel(**kw)).prefix == "宋　"
        return
    with pytest.raises(TargetMismatchError) as e:
        resolve(TEXT, sel(**kw))
    assert message in e.value.message


def test_code_points_not_utf16():
    text = "王𫝊之子\U00100038甫字伯玉"
    t = resolve(text, sel(exact="\U00100038甫"))
    assert (t.start, t.end) == (4, 6)
    with pytest.raises(TargetMismatchError) as e:
        resolve(text, sel(start=5, end=8, exact="\U00100038甫"))  # UTF-16 offsets
    assert "UTF-16" in e.value.message and "[4, 6)" in e.value.message


# -- aligning old and new text -------------------------------------------------------------------

def _check_blocks(old: str, new: str) -> None:
    blocks = equal_blocks(old, new)
    a = b = 0
    for bl in blocks:
        assert old[bl.a:bl.a + bl.size] == new[bl.b:bl.b + bl.size]
        assert bl.a >= a and bl.b >= b
        a, b = bl.a + bl.size, bl.b + bl.size


@pytest.mark.parametrize("seed", range(20))
def test_equal_blocks_are_equal_and_ordered(seed):
    rnd = random.Random(seed)
    alphabet = "之而不也者其曰以於為人子王天下"  # repetitive, like classical text
    old = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 3000)))
    new = list(old)
    for _ in range(rnd.randrange(0, 6)):
        i = rnd.randrange(len(new) + 1)
        op = rnd.choice("ids")
        if op == "i":
            new[i:i] = rnd.choices(alphabet, k=rnd.randrange(1, 30))
        elif op == "d":
            del new[i:i + rnd.randrange(1, 30)]
        else:
            new[i:i + 1] = [rnd.choice(alphabet)]
    _check_blocks(old, "".join(new))


def test_equal_blocks_find_separate_edits_in_a_long_text():
    rnd = random.Random(7)
    old = "".join(chr(0x4E00 + rnd.randrange(2000)) for _ in range(50_000))
    new = old[:1000] + "補" + old[1000:30_000] + old[30_005:]  # an insertion and a deletion far apart
    blocks = equal_blocks(old, new)
    assert [(b.a, b.b, b.size) for b in blocks] == [(0, 0, 1000), (1000, 1001, 29_000), (30_005, 30_001, 19_995)]
    assert map_span(blocks, 20_000, 20_003) == (20_001, 20_004)
    assert map_span(blocks, 29_999, 30_001) is None  # touches the deleted stretch



def test_only_a_changed_middle_longer_than_the_anchor_is_anchored():
    """A unique 16-character stretch is an anchor only where the changed middle is longer than 16 on
    both sides: one exactly as long as the anchor is one changed stretch (the shared aligner keeps
    this rule for re-anchoring; editions' alignment tries an anchor as long as the gap)."""
    same = "天地玄黃宇宙洪荒日月盈昃辰宿列張"  # 16 characters, once in each text
    old, new = "序" * 20 + same + "跋" * 20, "序" * 20 + "增補" + same + "刪" + "跋" * 20
    assert [(b.a, b.b, b.size) for b in equal_blocks(old, new)] == [(0, 0, 20), (36, 39, 20)]
    old = "序" * 20 + same + "又" + "跋" * 20
    assert [(b.a, b.b, b.size) for b in equal_blocks(old, new)] == [(0, 0, 20), (20, 22, 16), (37, 39, 20)]

# -- re-anchoring with realistic corrections ----------------------------------------------------

def test_unchanged_span_stays():
    new = TEXT.replace("舊制", "舊製")  # a correction far away
    t = target(TEXT, "范仲淹")
    assert reanchor(t, TEXT, new, equal_blocks(TEXT, new)).kind == "unchanged"


def test_insertion_before_shifts_offsets_exactly():
    new = TEXT.replace("宋　范仲淹", "宋　參知政事范仲淹")  # an omitted title restored before the name
    t = target(TEXT, "巴陵郡")
    o = reanchor(t, TEXT, new, equal_blocks(TEXT, new))
    assert o.kind == "carried" and (o.target.start, o.target.end) == (t.start + 4, t.end + 4)
    assert new[o.target.start:o.target.end] == "巴陵郡" and "offsets [25, 28) → [29, 32)" in o.reason


def test_correction_next_to_span_refreshes_context_only():
    new = TEXT.replace("　撰", "　譔")
    t = target(TEXT, "范仲淹")
    o = reanchor(t, TEXT, new, equal_blocks(TEXT, new))
    assert o.kind == "carried" and (o.target.start, o.target.end) == (10, 13) and o.target.suffix.startswith("　譔")


def test_correction_inside_the_span_orphans_it():
    old = TEXT.replace("范仲淹", "范仲奄")  # the typo that was annotated
    t = target(old, "范仲奄")
    o = reanchor(t, old, TEXT, equal_blocks(old, TEXT))
    assert o.kind == "orphaned" and o.target == t  # selectors kept for a person to fix
    assert "no longer occurs" in o.reason


def test_dittography_removed_never_moves_to_the_look_alike():
    """A copyist wrote a phrase twice; the annotation was on the second copy, which the correction removes.
    The first copy is a perfect look-alike: the annotation must be flagged, not moved there."""
    dup = "滕子京謫守巴陵郡"
    old = TEXT.replace(dup, dup + dup, 1)
    t = target(old, "滕子京", nth=1)
    o = reanchor(t, old, TEXT, equal_blocks(old, TEXT))
    assert o.kind == "needs_review" and o.target == t
    assert "never with its old prefix and suffix" in o.reason and o.candidates == [TEXT.index("滕子京")]


def test_two_nearby_corrections_reanchor_by_quote_and_context():
    """Two corrections closer together than the alignment anchors make one changed stretch around the
    span; the quote with its (client-given, short) prefix and suffix is untouched and occurs once:
    the annotation moves there and the reason says why."""
    old = "天地玄黃宇宙洪荒" * 3 + "甲其人范仲淹乃賢乙" + "日月盈昃辰宿列張" * 3
    new = old.replace("甲", "丙").replace("乙", "丁")
    t = resolve(old, sel(exact="范仲淹", prefix="其人", suffix="乃賢"))
    assert (t.prefix, t.suffix) == ("其人", "乃賢")
    blocks = equal_blocks(old, new)
    assert map_span(blocks, t.start, t.end) is None  # the alignment alone can not vouch for the span
    o = reanchor(t, old, new, blocks)
    assert o.kind == "reanchored" and (o.target.start, o.target.end) == (27, 30) and o.candidates == [27]
    assert (o.target.prefix, o.target.suffix) == ("黃宇宙洪荒丙其人", "乃賢丁日月盈昃辰")  # context refreshed, 8 each
    assert "occurs once in the corrected text, at [27, 30)" in o.reason


def test_ambiguous_context_is_flagged_with_every_candidate():
    """The copy holding the annotated span is deleted; two identical copies remain, context and all."""
    x = "九章算術" + "子曰學而時習之不亦說乎" + "周髀算經"
    old = x + "甲" + x + "乙" + x
    new = x + "甲" + x
    third = old.rindex("時習")
    t = resolve(old, sel(start=third, end=third + 2))
    assert (t.prefix, t.suffix) == ("九章算術子曰學而", "之不亦說乎周髀算")
    o = reanchor(t, old, new, equal_blocks(old, new))
    assert o.kind == "needs_review" and o.target == t
    assert o.candidates == [new.index("時習"), new.rindex("時習")] and "occurs 2 times" in o.reason
    # the annotation on the surviving second copy is carried over untouched
    second = target(old, "時習", nth=1)
    assert reanchor(second, old, new, equal_blocks(old, new)).kind == "unchanged"


def test_big_juan_aligns_quickly():
    import time

    rnd = random.Random(3)
    old = "".join(rnd.choice("之而不也者其曰以於為人子王天下國家") for _ in range(300_000))
    new = old[:100_000] + "增" + old[100_000:200_000] + old[200_010:]
    started = time.perf_counter()
    blocks = equal_blocks(old, new)
    assert time.perf_counter() - started < 5
    assert map_span(blocks, 150_000, 150_004) == (150_001, 150_005)
    assert map_span(blocks, 250_000, 250_004) == (249_991, 249_995)
