"""The Image API request grammar and the pixels it answers, on the validator's test pattern
(10 × 10 squares of known colours), from a real pyramid."""

from __future__ import annotations

import hashlib

import pytest

from images import iiif
from images.errors import ImageRequestError
from images.store import PyramidStore
from tests._images import validator_pattern


@pytest.fixture(scope="module")
def pattern(tmp_path_factory):
    import pyvips
    from iiif_validator.validator import ValidationInfo

    d = tmp_path_factory.mktemp("pattern")
    data = validator_pattern()
    (d / "p.png").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    path = PyramidStore(d / "pyr").add(d / "p.png", sha)

    def get(region="full", size="max", rotation="0", qf="default.png"):
        req = iiif.parse(region, size, rotation, qf, 1000, 1000)
        return pyvips.Image.new_from_buffer(iiif.render(str(path), req, 1000), "")

    return get, ValidationInfo().colorInfo


def colour_at(image, x, y):
    return [round(v) for v in image.getpoint(x, y)]


def near(a, b, tol=8):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def box(r: iiif.ImageRequest) -> tuple:
    return r.x, r.y, r.w, r.h, r.width, r.height


def test_parse_sizes_and_regions():
    r = iiif.parse("full", "max", "0", "default.jpg", 700, 1200)
    assert (r.x, r.y, r.w, r.h, r.width, r.height) == (0, 0, 700, 1200, 700, 1200)
    assert box(iiif.parse("square", "100,", "0", "default.jpg", 700, 1200)) == (0, 250, 700, 700, 100, 100)
    assert box(iiif.parse("pct:50,50,50,50", "pct:50", "90", "gray.png", 700, 1200)) == (350, 600, 350, 600, 175, 300)
    assert box(iiif.parse("600,1100,500,500", ",50", "!0", "default.webp", 700, 1200)) == (600, 1100, 100, 100, 50, 50)
    assert box(iiif.parse("full", "!100,100", "0", "default.jpg", 700, 1200))[4:] == (58, 100)
    huge = iiif.parse("full", "max", "0", "default.jpg", 10_000, 10_000)  # maxArea caps "max"
    assert huge.width * huge.height <= iiif.MAX_OUTPUT_PIXELS


@pytest.mark.parametrize("args", [
    ("0,0,0,10", "max", "0", "default.jpg"), ("800,0,10,10", "max", "0", "default.jpg"), ("a,b,c,d", "max", "0", "default.jpg"),
    ("full", "701,", "0", "default.jpg"), ("full", "^max", "0", "default.jpg"), ("full", ",", "0", "default.jpg"),
    ("full", "max", "45", "default.jpg"), ("full", "max", "x", "default.jpg"), ("full", "max", "0", "best.jpg"),
    ("full", "max", "0", "default.gif"), ("full", "max", "0", "default"), ("0.5,0,10,10", "max", "0", "default.jpg"),
])
def test_requests_this_service_does_not_answer_are_400s(args):
    with pytest.raises(ImageRequestError):
        iiif.parse(*args, 700, 1200)


def test_regions_sizes_and_tiles_show_the_right_squares(pattern):
    get, colours = pattern
    full = get(size="500,")
    assert (full.width, full.height) == (500, 500)
    for x, y in ((0, 0), (3, 7), (9, 9)):
        assert near(colour_at(full, x * 50 + 25, y * 50 + 25), colours[x][y])
    tile = get(region="512,256,256,256", size="256,")  # a full-resolution tile
    assert near(colour_at(tile, 10, 10), colours[5][2])
    scaled = get(region="0,0,1000,1000", size="125,")  # scale factor 8: read from a small pyramid level
    assert near(colour_at(scaled, 6, 6), colours[0][0])
    assert near(colour_at(get(region="pct:30,60,10,10"), 50, 50), colours[3][6])


def test_rotation_and_mirroring_turn_the_right_way(pattern):
    get, colours = pattern
    r90 = get(size="100,", rotation="90")  # clockwise: the bottom-left square comes to the top-left
    assert near(colour_at(r90, 5, 5), colours[0][9])
    r180 = get(size="100,", rotation="180")
    assert near(colour_at(r180, 5, 5), colours[9][9])
    r270 = get(size="100,", rotation="270")
    assert near(colour_at(r270, 5, 5), colours[9][0])
    mirrored = get(size="100,", rotation="!0")
    assert near(colour_at(mirrored, 5, 5), colours[9][0])


def test_qualities_and_formats(pattern):
    get, _ = pattern
    assert get(size="100,", qf="color.jpg").bands == 3
    assert get(size="100,", qf="gray.png").bands == 1
    bitonal = get(size="100,", qf="bitonal.png")
    assert bitonal.bands == 1
    values = {int(bitonal.getpoint(x, y)[0]) for x in range(0, 100, 7) for y in range(0, 100, 7)}
    assert values <= {0, 255} and len(values) == 2
    assert get(size="50,", qf="default.webp").get("vips-loader").startswith("webpload")


def test_info_json_describes_the_pyramid():
    body = iiif.info("http://x/iiif/image/a~b", 700, 1200, 4)
    assert body["profile"] == "level2" and body["type"] == "ImageService3"
    assert body["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8]}]
    assert body["sizes"][-1] == {"width": 700, "height": 1200} and body["sizes"][0] == {"width": 88, "height": 150}
