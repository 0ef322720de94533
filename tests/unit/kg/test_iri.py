"""kg.iri: which IRIs from outside are accepted, and what the refusal says."""

import pytest

from kg.errors import InvalidIriError
from kg.iri import check_iri, iri_problem


@pytest.mark.parametrize("iri", ["https://w3id.org/guji/id/text/GJ4a0002/master/001", "http://127.0.0.1:8000/a?b=c#d",
                                 "urn:uuid:0b5e3d0c-8d3e-4b7e-9d6c-0a1b2c3d4e5f", "https://例子.中国/書/卷一", "HTTPS://W3ID.ORG/x"])
def test_good(iri):
    assert iri_problem(iri) is None and check_iri(iri) == iri


@pytest.mark.parametrize(("iri", "says"), [
    ("", "empty"), ("http://x y", "' '"), ("http://a/<b>", "'<'"), ('http://a/"', "'\"'"), ("http://a/{", "'{'"),
    ("http://a/|", "'|'"), ("http://a/^", "'^'"), ("http://a/`", "'`'"), ("http://a/\\", "'\\\\'"), ("http://a/\x00", "\\x00"),
    ("relative/x", "not absolute"), ("javascript:alert(1)", "javascript:"), ("data:text/html,x", "data:"),
    ("file:///etc/passwd", "file:"), ("http://", "host"), ("https:///x", "host"), ("urn:", "urn:NAMESPACE"),
    ("https://a/" + "x" * 5000, "longer than"),
])
def test_bad(iri, says):
    with pytest.raises(InvalidIriError) as e:
        check_iri(iri, field="target")
    assert says in e.value.message and e.value.details == {"field": "target"} and e.value.code == "invalid_iri"


def test_what_the_store_refuses_is_refused_here_too():
    """Found by the fuzzer: U+FFF0 passed the character checks and reached ox.NamedNode (500)."""
    import pytest

    from kg.errors import InvalidIriError
    from kg.iri import check_iri

    with pytest.raises(InvalidIriError, match="Invalid IRI code point"):
        check_iri("https://w3id.org/guji/id/item/\ufff0")
