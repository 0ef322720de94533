"""The query syntax: AND (space), OR, NOT (-), phrases, grouping; errors with a column."""

from __future__ import annotations

import pytest

from search.errors import SearchQueryError
from search.index import And, Not, Or, Phrase
from search.query import Term, compile_tree, parse


def texts(tree):
    if isinstance(tree, Term):
        return tree.text
    if isinstance(tree, Not):
        return ("-", texts(tree.item))
    return (type(tree).__name__, *[texts(i) for i in tree.items])


@pytest.mark.parametrize("q, tree", [
    ("司馬遷", "司馬遷"),
    ("司馬遷 史記", ("And", "司馬遷", "史記")),
    ("司馬遷 AND 史記", ("And", "司馬遷", "史記")),
    ("史記 OR 漢書", ("Or", "史記", "漢書")),
    ("史記 | 漢書 ｜ 南史", ("Or", "史記", "漢書", "南史")),
    ("司馬遷 史記 OR 漢書", ("And", "司馬遷", ("Or", "史記", "漢書"))),
    ("司馬遷 -索隱", ("And", "司馬遷", ("-", "索隱"))),
    ("司馬遷 －索隱", ("And", "司馬遷", ("-", "索隱"))),
    ('"太史公 曰"', "太史公 曰"),
    ("「太史公曰」 “余讀”", ("And", "太史公曰", "余讀")),
    ("(史記 OR 漢書) -注", ("And", ("Or", "史記", "漢書"), ("-", "注"))),
    ("（史記 OR 漢書）", ("Or", "史記", "漢書")),
    ("--史記", "史記"),
    ("a-b", "a-b"),
])
def test_parse(q, tree):
    assert texts(parse(q)) == tree


@pytest.mark.parametrize("q, column", [
    ("", 0), ("   ", 0), ('史記 "太史', 3), ("OR 史記", 0), ("史記 OR", 3), ("(史記", 0), ("史記)", 2),
])
def test_errors_carry_the_column(q, column):
    with pytest.raises(SearchQueryError) as err:
        parse(q)
    assert err.value.details.get("column", 0) == column
    assert err.value.details["field"] == "q"


def test_not_cannot_be_an_alternative():
    with pytest.raises(SearchQueryError, match="OR"):
        parse("史記 OR -漢書")


def test_compile_folds_terms_and_collects_positive_phrases():
    fold = {"為": "为", "門": "门"}
    root, positives = compile_tree(parse("為門 -門 ，"), lambda s: "".join(fold.get(c, c) for c in s if c != "，"))
    assert root == And((Phrase("为门"), Not(Phrase("门"))))
    assert positives == [("為門", "为门")]


def test_compile_refuses_queries_with_nothing_to_find():
    keep = lambda s: "".join(c for c in s if c not in "，。")  # noqa: E731
    with pytest.raises(SearchQueryError, match="no characters"):
        compile_tree(parse("，。"), keep)
    with pytest.raises(SearchQueryError, match="only -terms"):
        compile_tree(parse("-史記"), keep)
    with pytest.raises(SearchQueryError, match="only -terms"):
        compile_tree(parse("-史記 ，"), keep)
    root, _ = compile_tree(parse("史記 OR ，"), keep)
    assert root == Phrase("史記")
    root, _ = compile_tree(parse("(史記 OR 漢書)"), keep)
    assert root == Or((Phrase("史記"), Phrase("漢書")))
