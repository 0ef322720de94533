"""The normaliser: folding real variant forms, alignment with the original, exact mode."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from search.normalise import Normaliser, get_normaliser, is_private_use


@pytest.fixture(scope="module")
def norm() -> Normaliser:
    return get_normaliser()


@pytest.mark.parametrize("printed, typed", [
    ("爲", "为"), ("為", "为"), ("衞", "卫"), ("衛", "卫"), ("㑹", "会"), ("會", "会"), ("徳", "德"),
    ("後", "后"), ("髮", "发"), ("發", "发"), ("𫝊", "传"), ("傳", "传"), ("嵗", "岁"), ("説", "说"),
    ("䇿", "策"), ("攷", "考"), ("刋", "刊"),
])
def test_printed_forms_fold_to_what_the_public_types(norm, printed, typed):
    assert norm.fold_char(printed) == norm.fold_char(typed) == typed


def test_real_sentences_from_two_editions_fold_alike(norm):
    # 前漢紀 juan 2: SBCK prints 爲/德, WYG prints 為/徳 in the same sentences
    assert norm.fold("水濉水爲之不流") == norm.fold("水濉水為之不流") == norm.fold("水濉水为之不流")
    assert norm.fold("有德者昌無德者殃") == norm.fold("有徳者昌無徳者殃")
    assert norm.fold("諸侯恐懼㑹盟") == norm.fold("诸侯恐惧会盟")


def test_punctuation_spaces_and_marks_are_not_matched(norm):
    n = norm.normalise("秦川雄帝宅，函谷壯皇居。\u3000頗為¶\n重複")
    assert n.chars == norm.fold("秦川雄帝宅函谷壯皇居頗為重複")
    assert len(n.offsets) == len(n.chars)
    assert not norm.is_matched("，") and not norm.is_matched("\u3000") and not norm.is_matched("\ufe00")
    assert norm.is_matched("〇") and norm.is_matched("々") and norm.is_matched("\U00100010")


def test_every_matched_character_knows_its_original_offset(norm):
    text = "梁本紀(案章如愚山堂攷索云)歐陽史前後舛誤如梁太祖紀作朱友謙而列𫝊作友諒"
    n = norm.normalise(text)
    for i, ch in enumerate(n.chars):
        assert norm.fold_char(text[n.offsets[i]]) == ch
    start = n.chars.index(norm.fold("列傳"))
    assert n.original_span(start, start + 2) == (text.index("列𫝊"), text.index("列𫝊") + 2)


def test_exact_stream_keeps_the_characters_as_written_at_the_same_positions(norm):
    text = "頗為　重複，爲之"
    assert norm.keep(text) == "頗為重複爲之"
    assert len(norm.keep(text)) == len(norm.fold(text))
    assert norm.normalise(text, exact=True).offsets == norm.normalise(text).offsets


def test_folding_is_idempotent_and_one_to_one(norm):
    for ch in list(norm._paths)[:20000]:
        once = norm.fold_char(ch)
        assert len(once) == 1
        assert norm.fold_char(once) == once, (ch, once)


def test_private_use_characters_fold_to_the_declared_equivalent(norm):
    kihan = "\U00100010"  # &KR0016; in Kanripo, 騎
    assert is_private_use(kihan)
    assert norm.fold(kihan) == kihan  # nothing declared: the character stands for itself
    with_table = norm.with_private_use({kihan: "騎", "\U00100011": "not one char", "a": "b"})
    assert with_table.private_use == {kihan: "騎"}
    assert with_table.fold("大敗之" + kihan + "將") == norm.fold("大败之骑将")
    assert with_table.explain("骑", kihan).how == "private-use"
    assert norm.with_private_use({}) is norm


@pytest.mark.parametrize("typed, printed, how", [
    ("为", "爲", "variant"), ("后", "後", "simplified"), ("發", "髮", "simplified"),
    ("後", "后", "traditional"), ("传", "𫝊", "variant"), ("会", "㑹", "variant"), ("a", "A", "case"),
])
def test_explain_says_how_a_character_was_folded(norm, typed, printed, how):
    why = norm.explain(typed, printed)
    assert why is not None and why.how == how
    assert why.folded_to == norm.fold_char(typed)
    assert why.steps and why.steps[0].source in (printed, typed)


def test_explain_steps_show_the_path(norm):
    why = norm.explain("为", "爲")
    assert [(s.source, s.target, s.kind) for s in why.steps] == [("爲", "為", "variant"), ("為", "为", "simplified")]
    assert norm.explain("爲", "爲") is None


def test_compatibility_forms(norm):
    assert norm.fold("\uf900") == norm.fold("豈")  # CJK compatibility ideograph
    assert norm.fold("⼈") == "人"  # Kangxi radical
    assert norm.fold("ＡＢ１") == "ab1"


def test_substrings_fold_to_substrings_on_a_real_juan(norm, kanripo_dir: Path):
    """The property search needs: a query cut from the text folds to a substring of the folded text."""
    from kg.kanripo import read_juan

    juan = read_juan(kanripo_dir / "KR2b0003" / "SBCK" / "KR2b0003_002.txt")
    n = norm.normalise(juan.text)
    assert len(n.chars) == len(n.offsets) > 5000
    rng = random.Random(3)
    for _ in range(300):
        a = rng.randrange(0, len(juan.text) - 10)
        piece = juan.text[a:a + rng.randint(2, 10)]
        folded = norm.fold(piece)
        if folded:
            assert folded in n.chars
    for i in rng.sample(range(len(n.chars)), 300):
        assert norm.fold_char(juan.text[n.offsets[i]]) == n.chars[i]
    # variant forms that this juan really prints, folded as the public would type them
    for printed, typed in (("爲", "为"), ("㑹", "会"), ("𫉬", "获")):
        assert printed in juan.text
        assert norm.fold_char(printed) == typed


def test_every_opencc_simplification_folds_with_its_traditional(norm):
    """Whatever OpenCC turns a character into, a query in that form finds the character."""
    import opencc

    chars = [chr(c) for c in range(0x3400, 0xA000)] + [chr(c) for c in range(0x20000, 0x2FA20)]
    simplified = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    bad = [(a, b) for a, b in zip(chars, simplified) if a != b and len(b) == 1 and norm.fold_char(a) != norm.fold_char(b)]
    assert bad == []


@pytest.mark.parametrize("text, query", [("藉口", "借口"), ("狼藉", "狼藉"), ("乾坤", "干坤"), ("乾燥", "干燥"),
                                         ("有餘", "有余"), ("飢饉", "饥馑"), ("衆人", "众人"), ("眾人", "众人")])
def test_characters_with_several_simplified_readings_match_every_one(norm, text, query):
    # OpenCC's phrase rules pick one reading by context (藉口 → 借口 but 狼藉 stays): the fold
    # joins them, so the query matches whichever the user typed
    assert norm.fold(text) == norm.fold(query)


def test_text_simplified_by_opencc_phrases_folds_like_the_original(norm, kanripo_dir: Path):
    import opencc

    from kg.kanripo import read_juan

    cc = opencc.OpenCC("t2s")  # with its phrase dictionary, as a user's input method would convert
    for path in sorted((kanripo_dir / "KR2a0024" / "WYG").glob("*.txt"))[:10]:
        text = read_juan(path).text
        assert norm.fold(cc.convert(text)) == norm.fold(text), path.name
