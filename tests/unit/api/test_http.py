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
