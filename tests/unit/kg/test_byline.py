"""Reading statements of responsibility from bylines (kg.byline)."""

import pytest

from kg.byline import bylines, parse_line


@pytest.mark.parametrize("line, person, dynasty, concept, mode", [
    ("　　　　　晉　陶潛　撰¶", "陶潛", "晉", "jin", "撰"),
    ("　　唐　　　李　　　延　　　壽　　　撰¶", "李延壽", "唐", "tang", "撰"),
    ("　竹書紀年卷上　　　　　　梁　沈約　注¶", "沈約", "梁", "nanliang", "注"),
    ("　　　梁　周興嗣　次韻¶", "周興嗣", "梁", "nanliang", "次韻"),
    ("　　　　　　　　　　　　　宋　裴駰　撰", "裴駰", "宋", "song", "撰"),
    ("　　　　　　　　　　王　肅　注¶", "王肅", None, None, "注"),
])
def test_bylines(line, person, dynasty, concept, mode):
    b = parse_line(line)
    assert b is not None and (b.person, b.dynasty, b.mode) == (person, dynasty, mode)
    assert (b.dynasty_iri.rsplit("/", 1)[1] if b.dynasty_iri else None) == concept


@pytest.mark.parametrize("line", [
    "周以來乃頗可著。¶",                          # prose that contains a mode character
    "　　　　(臣/)等謹案史記集解一百三十卷宋裴駰撰",  # a 提要 sentence, not a byline
    "桃花源記¶",                                  # a title
    "欽定四庫全書　　　　　史部一¶",              # a header
    "　史記集解卷一¶",
    "#+TITLE: 史記",
])
def test_not_bylines(line):
    assert parse_line(line) is None


def test_most_frequent_first():
    texts = ["x\n　宋　吳縝　撰\n", "y\n　宋　吳縝　撰\n", "z\n　唐　李白　注\n"]
    assert [b.person for b in bylines(texts)] == ["吳縝", "李白"]
