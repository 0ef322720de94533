import pytest

from api.http import attachment


@pytest.mark.parametrize("name, header", [
    ("annotations-GJ4a0002.csv", 'attachment; filename="annotations-GJ4a0002.csv"'),
    ("annotations-岳陽樓記.csv", "attachment; filename=\"annotations-____.csv\"; "
                                 "filename*=UTF-8''annotations-%E5%B2%B3%E9%99%BD%E6%A8%93%E8%A8%98.csv"),
    ('a"b;c.csv', "attachment; filename=\"a_b_c.csv\"; filename*=UTF-8''a%22b%3Bc.csv"),
])
def test_attachment_header_is_latin1_safe(name, header):
    """schemathesis: ``/api/annotations/export?format=csv&scope=%C4%80`` put the scope into a
    Latin-1 header as is and answered 500."""
    assert attachment(name) == header
    header.encode("latin-1")


# -- parse_form: the standard library's answer, faster ------------------------------------------

from urllib.parse import parse_qs, quote_plus, urlencode  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

from api.http import parse_form  # noqa: E402


def _stdlib(text: str):
    try:
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return UnicodeDecodeError


def _ours(text: str):
    try:
        return parse_form(text)
    except UnicodeDecodeError:
        return UnicodeDecodeError


@pytest.mark.parametrize("text", [
    "", "query=", "query", "=x", "&&a=1&&", "a=1&a=2&b=3", "a=%3D%3d=x", "q=a+b%2Bc", "q=%E7%BC%A4%E7%BA%B7",
    "q=%zz", "q=100%", "q=%4", "q=%E7%BC", "q=%FF", "q=line%0Aline%0D%0A", "q=a=\nb", "q=缤纷", "q=tab\there",
    "q=%3D%0A", "q=_under_", "q=%00", "x=1;y=2",
    urlencode({"query": "PREFIX dc: <http://purl.org/dc/terms/>\nSELECT * { ?s dc:title \"桃花源記 = 𠀀\" } # 100%"}),
])
def test_parse_form_equals_the_standard_library(text):
    assert _ours(text) == _stdlib(text)


_pieces = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["%", "%2", "%3D", "%3d", "%0A", "%0D%0A", "%E7%BC%A4", "%E7%BC", "%FF", "%zz", "+", "=", "&", "_", "=\n", "= "]),
    st.text(max_size=8).map(quote_plus),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, max_size=12).map("".join))
def test_parse_form_equals_the_standard_library_on_any_text(text):
    assert _ours(text) == _stdlib(text)
