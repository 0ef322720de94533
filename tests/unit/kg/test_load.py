import pytest

from kg.errors import ValidationError
from kg.load import default_graph_for, load_files
from kg.store import OxigraphStore


@pytest.fixture
def store(tmp_path):
    return OxigraphStore(tmp_path / "store")


def test_turtle_file_goes_to_its_own_graph(tmp_path, store):
    f = tmp_path / "persons.ttl"
    f.write_text('@prefix ex: <http://example.org/> .\nex:sima ex:name "司馬遷"@zh-Hant .\n', encoding="utf-8")
    (result,) = list(load_files(store, [f], agent="t"))
    assert result.graph == default_graph_for(f) and result.triples == 1
    assert store.count(result.graph) == 1
    (again,) = list(load_files(store, [f], agent="t"))
    assert again.change is None


def test_trig_keeps_its_graphs(tmp_path, store):
    f = tmp_path / "d.trig"
    f.write_text("<http://example.org/g1> { <http://e/a> <http://e/b> <http://e/c> }\n"
                 "<http://example.org/g2> { <http://e/a> <http://e/b> <http://e/d> }\n")
    results = list(load_files(store, [f], agent="t"))
    assert sorted(r.graph for r in results) == ["http://example.org/g1", "http://example.org/g2"]


def test_syntax_error_names_file_line_and_column_and_writes_nothing(tmp_path, store):
    good = tmp_path / "good.ttl"
    good.write_text("<http://e/a> <http://e/b> <http://e/c> .\n")
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e "unterminated .\n')
    with pytest.raises(ValidationError) as info:
        list(load_files(store, [good, bad], agent="t"))
    assert info.value.details["file"] == str(bad)
    assert info.value.details["line"] == 3 and info.value.details["column"] == 11
    assert store.count() == 0  # the good file before it was not written either


def test_unknown_extension_is_refused(tmp_path, store):
    f = tmp_path / "data.csv"
    f.write_text("a,b\n")
    with pytest.raises(ValidationError, match="unknown RDF format"):
        list(load_files(store, [f], agent="t"))
