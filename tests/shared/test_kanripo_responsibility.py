"""Responsibility from the bylines of the real Kanripo corpus (issue 12): every work whose byline
names a person gets a bf:Contribution with the person, the mode and the dynasty; the works without
a byline are listed, so that a change in the parser shows up here."""

import pyoxigraph as ox
import pytest

from kg.ingest_kanripo import find_works, read_work
from kg.namespaces import BF, GUJI, RDFS

# what the bylines say (person as the most frequent byline writes it, dynasty concept, mode)
EXPECTED = {
    "KR2a0002": ("裴駰", "song", "撰"),       # 宋　裴駰　撰 (the byline's 宋 is 劉宋; the scheme's 宋 is 趙宋: as written)
    "KR2a0024": ("李延夀", "tang", "撰"),     # 唐　李　延　夀　撰 (夀 is the WYG form of 壽)
    "KR2a0031": ("吳縝", "song", "撰"),
    "KR2b0001": ("沈約", "nanliang", "注"),   # 竹書紀年卷上　梁　沈約　注
    "KR2b0003": ("荀恱", "han", "撰"),
    "KR3a0001": ("王肅", "caowei", "注"),     # 魏　王肅　注
}
# no byline in any edition: the TLS transcriptions (周易, 論語, 史記, 楚辭) and the Daoist canon text
WITHOUT_BYLINE = {"KR1a0001", "KR1h0004", "KR2a0001", "KR4a0001", "KR5a0001"}


@pytest.fixture(scope="module")
def works(kanripo_dir):
    return {w.name: read_work(w) for w in find_works([kanripo_dir])}


def responsibility(wg):
    t = {(x.subject.value, x.predicate.value): x.object.value for x in wg.triples}
    work = f"https://w3id.org/guji/id/work/{wg.text_id}"
    contribution = t.get((work, BF + "contribution"))
    if contribution is None:
        return None
    agent = t[(contribution, BF + "agent")]
    dynasty = t.get((contribution, GUJI + "dynasty"))
    return t[(agent, RDFS + "label")], dynasty and dynasty.rsplit("/", 1)[1], t[(contribution, BF + "role")]


def test_every_work_with_a_byline_has_person_dynasty_and_mode(works):
    found = {name: responsibility(wg) for name, wg in works.items()}
    with_person = {n for n, r in found.items() if r}
    print(f"\n{len(with_person)}/{len(found)} Kanripo works have a responsibility with person and dynasty; "
          f"without a byline: {sorted(set(found) - with_person)}")
    assert {n: r for n, r in found.items() if r} == EXPECTED
    assert set(found) - with_person == WITHOUT_BYLINE


def test_work_dynasty_comes_from_the_byline(works):
    wg = works["KR2b0001"]
    assert ox.Triple(ox.NamedNode("https://w3id.org/guji/id/work/KR2b0001"), ox.NamedNode(GUJI + "dynasty"),
                     ox.NamedNode("https://w3id.org/guji/vocab/dynasty/nanliang")) in wg.triples
