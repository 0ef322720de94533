from annotation.suggest.corpus import GoldSentence, bioes_to_spans, spans_to_bioes
from annotation.suggest.gazetteer import Gazetteer
from annotation.suggest.normalize import fold, to_traditional


def test_bioes_round_trip():
    tags = ["O", "B-PER", "I-PER", "E-PER", "S-LOC", "O", "B-OFI", "E-OFI"]
    spans = list(bioes_to_spans(tags))
    assert spans == [(1, 4, "PER"), (4, 5, "LOC"), (6, 8, "OFI")]
    assert spans_to_bioes(len(tags), spans) == tags


def test_bioes_lenient_on_broken_sequences():
    assert list(bioes_to_spans(["B-PER", "O", "I-LOC", "E-LOC", "B-OFI"])) == [(0, 1, "PER"), (2, 4, "LOC"), (4, 5, "OFI")]


def test_fold_is_aligned_and_folds_script_and_variants():
    text = "𫝊司馬遷爲㑹稽太守，"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded[1:4] == "司马迁"
    assert folded[4] == "为"
    assert folded[-1] == "，"  # punctuation is kept in place


def test_to_traditional_is_aligned():
    text = "后汉书记载于是太后发兵"
    assert len(to_traditional(text)) == len(text)
    assert to_traditional("司马迁") == "司馬遷"


def test_gazetteer_leftmost_longest_on_either_script():
    gaz = Gazetteer()
    gaz.add(["荊州", "荊州刺史府"], "LOC", "test")
    gaz.add(["刺史"], "OFI", "test")
    gaz.add(["史"], "BOOK", "test")  # single characters are never gazetteer terms
    assert "史" not in gaz.terms
    assert gaz.match(fold("以荆州刺史")) == [(1, 3, "LOC"), (3, 5, "OFI")]
    assert gaz.match(fold("以荊州刺史府")) == [(1, 6, "LOC")]


def test_gazetteer_prune_drops_terms_that_are_mostly_not_names():
    gaz = Gazetteer()
    gaz.add(["大中", "刺史"], "OFI", "test")
    sents = [
        GoldSentence("大中之道", ()),
        GoldSentence("守大中", ()),
        GoldSentence("为刺史", ((1, 3, "OFI"),)),
        GoldSentence("刺史至", ((0, 2, "OFI"),)),
    ]
    assert gaz.prune(sents) == 1
    assert set(gaz.terms) == {"刺史"}


def test_gazetteer_json_round_trip(tmp_path):
    gaz = Gazetteer()
    gaz.add(["長安"], "LOC", "test")
    gaz.to_json(tmp_path / "g.json")
    again = Gazetteer.from_json(tmp_path / "g.json")
    assert again.terms == {"长安": "LOC"}


def test_gazetteer_folded_with_other_tables_is_refused(tmp_path):
    import json

    import pytest

    from annotation.errors import SuggestModelError

    gaz = Gazetteer()
    gaz.add(["長安"], "LOC", "test")
    gaz.to_json(tmp_path / "g.json")
    data = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    data["fold"] = "0000000000000000"
    (tmp_path / "g.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SuggestModelError, match="rebuild"):
        Gazetteer.from_json(tmp_path / "g.json")
