"""images.check and the package validator on bad images: every one refused with file, row and
field, before anything is stored; a bomb is refused on its header, in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from images.check import inspect
from images.errors import InvalidImageError
from kg.package import ingest_package, validate_package
from kg.store import OxigraphStore
from images.store import PyramidStore
from tests._images import SAMPLE, package_with, png_bomb

ROOT = Path(__file__).resolve().parents[3]
PAGE = SAMPLE / "data" / "images" / "B1" / "001-1a.png"


def reason(path: Path, fmt: str = "image/png") -> str:
    with pytest.raises(InvalidImageError) as exc:
        inspect(path, fmt)
    assert exc.value.message_zh and exc.value.message_en
    return exc.value.reason


def test_a_sample_page_is_read_to_the_end():
    info = inspect(PAGE, "image/png")
    assert (info.width, info.height, info.loader) == (700, 1200, "pngload")


def test_truncated_and_corrupt_images_are_refused(tmp_path):
    data = PAGE.read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    assert reason(tmp_path / "half.png") == "corrupt_image"
    flipped = bytearray(data)
    for i in range(len(data) // 3, len(data) // 3 + 64):
        flipped[i] ^= 0x5A
    (tmp_path / "flipped.png").write_bytes(bytes(flipped))
    assert reason(tmp_path / "flipped.png") == "corrupt_image"
    import pyvips

    jpeg = pyvips.Image.new_from_file(str(PAGE)).jpegsave_buffer()
    (tmp_path / "cut.jpg").write_bytes(jpeg[: len(jpeg) * 2 // 3])
    assert reason(tmp_path / "cut.jpg", "image/jpeg") == "corrupt_image"
    (tmp_path / "header-only.png").write_bytes(data[:40])
    assert reason(tmp_path / "header-only.png") in ("corrupt_image", "not_an_image")


def test_the_declared_format_must_be_the_real_one(tmp_path):
    assert reason(PAGE, "image/jpeg") == "format_mismatch"
    assert reason(PAGE, "image/x-unknown") == "unsupported_format"
    (tmp_path / "text.png").write_text("桃花源記", encoding="utf-8")
    assert reason(tmp_path / "text.png") == "not_an_image"
    (tmp_path / "empty.png").write_bytes(b"")
    assert reason(tmp_path / "empty.png") == "not_an_image"


def test_a_30000_px_square_is_refused_on_its_header(tmp_path):
    (tmp_path / "huge.png").write_bytes(png_bomb(30_000, 30_000, rows=8))  # header says 900 MP
    with pytest.raises(InvalidImageError) as exc:
        inspect(tmp_path / "huge.png", "image/png")
    assert exc.value.reason == "image_too_large" and exc.value.details["width"] == 30_000


CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from images.check import inspect
from images.errors import InvalidImageError
t = time.monotonic()
try:
    inspect(Path({path!r}), "image/png", max_pixels={limit})
    out = "accepted"
except InvalidImageError as exc:
    out = exc.reason
# VmHWM: this process's own peak. ru_maxrss would not do: Linux keeps it across exec, so a child of a
# big test process (1.5 GB after the model tests) reported its parent's peak
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(out, hwm // 1024, round(time.monotonic() - t, 3))
"""


@pytest.mark.parametrize("side, limit, expected", [
    (30_000, 150_000_000, "image_too_large"),  # a real PNG bomb: 900 MB of pixels in 1 MB of file
    (12_000, 150_000_000, "accepted"),  # within the limit: decoded to the end, streamed
])
def test_a_png_bomb_costs_bounded_memory(tmp_path, side, limit, expected):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(side, side))
    assert path.stat().st_size < 2 * 1024 * 1024
    r = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path), limit=limit)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out, rss_mb, _seconds = r.stdout.split()
    assert out == expected
    assert int(rss_mb) < 400, f"{rss_mb} MiB peak for a {side}×{side} px bomb ({side * side // 2**20} MiB decoded)"


def test_bad_images_in_a_package_are_violations_with_file_row_and_field_and_nothing_is_stored(tmp_path):
    page = PAGE.read_bytes()
    pkg = package_with(tmp_path, [
        dict(file_id="X-CUT", path="images/B2/cut.png", data=page[: len(page) // 2], format="image/png"),
        dict(file_id="X-FMT", path="images/B2/fmt.png", data=page, format="image/jpeg"),
        dict(file_id="X-BIG", path="images/B2/big.png", data=png_bomb(30_000, 30_000, rows=4), format="image/png"),
        dict(file_id="X-TXT", path="images/B2/txt.png", data="not an image".encode(), format="image/png"),
    ])
    result = validate_package(pkg)
    got = {(p.code, p.file, p.row, p.field) for p in result.report.violations}
    assert got == {("corrupt_image", "data/files.csv", 11, "path"), ("format_mismatch", "data/files.csv", 12, "format"),
                   ("image_too_large", "data/files.csv", 13, "path"), ("not_an_image", "data/files.csv", 14, "format")}
    text = json.dumps(result.report.to_json(), ensure_ascii=False)
    assert "图像过大" in text and "the image is too large: 30000×30000 px" in text
    store, pyramids = OxigraphStore(tmp_path / "store"), PyramidStore(tmp_path / "pyramids")
    ingested = ingest_package(store, pkg, agent="test", pyramids=pyramids)
    assert not ingested.report.valid and ingested.changes == []
    assert store.count() == 0 and not (tmp_path / "pyramids").exists()


def test_a_valid_package_gets_one_pyramid_per_service_image(tmp_path):
    store, pyramids = OxigraphStore(tmp_path / "store"), PyramidStore(tmp_path / "pyramids")
    assert ingest_package(store, SAMPLE, agent="test", pyramids=pyramids).report.valid
    tifs = sorted((tmp_path / "pyramids").rglob("*.tif"))
    assert len(tifs) == 5  # B1 1a 1b 2a 2b, B2 1a; the preservation TIFFs are not in the package
    import pyvips

    levels = pyvips.Image.new_from_file(str(tifs[0])).get("n-pages")
    assert levels >= 3


def _outcome(path: Path, fast: bool):
    try:
        info = inspect(path, "image/png", fast_png=fast)
    except InvalidImageError as exc:  # libvips's own detail after the colon varies from run to run
        # for one file ("unable to call avg" / "pngload: load error"): the message up to it is compared
        return ("refused", exc.reason, exc.message_zh.split("：")[0], exc.message_en.split(": ")[0])
    return ("accepted", info.width, info.height, info.bands, info.loader)


def _pngs() -> dict[str, bytes]:
    import pyvips

    page = pyvips.Image.new_from_file(str(PAGE)).crop(0, 0, 97, 61)
    grey = page.colourspace("b-w")
    return {
        "rgb": page.pngsave_buffer(),
        "interlaced": page.pngsave_buffer(interlace=True),
        "palette": page.pngsave_buffer(palette=True),
        "grey16": grey.cast("ushort").pngsave_buffer(bitdepth=16),
        "grey1": (grey > 128).pngsave_buffer(bitdepth=1),
        "rgba": page.bandjoin(255).pngsave_buffer(),
        "sample": PAGE.read_bytes(),
    }


def test_a_png_is_not_decoded_when_whole_and_every_broken_one_gets_the_decoders_own_error(tmp_path):
    """The PNG check (images.check.png_intact) decides exactly as the full libvips decode: seeded
    random truncations, flipped bytes, cut and appended bytes of PNGs of every colour type, depth
    and interlacing give the same outcome (accepted with the same info, or refused with the same
    reason and message) with and without it; and the whole ones pass it, so they are not decoded."""
    import random

    from images.check import png_intact

    rng = random.Random(20261205)
    cases = 0
    for name, data in _pngs().items():
        whole = tmp_path / f"{name}.png"
        whole.write_bytes(data)
        assert png_intact(whole), name
        assert _outcome(whole, True) == _outcome(whole, False)
        for i in range(40 if name != "sample" else 12):
            b = bytearray(data)
            kind = i % 5
            if kind == 0:
                b = b[: rng.randrange(8, len(b))]
            elif kind == 1:
                for _ in range(rng.randrange(1, 4)):
                    b[rng.randrange(8, len(b))] ^= 1 << rng.randrange(8)
            elif kind == 2:
                at = rng.randrange(8, len(b))
                del b[at: at + rng.randrange(1, 50)]
            elif kind == 3:
                b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
            else:  # inside the pixel data, where a decoder finds it only by decoding
                idat = data.index(b"IDAT")
                b[idat + 4 + rng.randrange(int.from_bytes(data[idat - 4: idat], "big"))] ^= 0xFF
            path = tmp_path / f"{name}-{i}.png"
            path.write_bytes(bytes(b))
            assert _outcome(path, True) == _outcome(path, False), (name, i, kind)
            cases += 1
    assert cases > 200


def test_a_png_doubt_falls_back_to_the_decoder(tmp_path):
    """What png_intact does not vouch for is decoded: a truncated PNG, one with a flipped pixel-data
    byte whose CRC was made to match (only the zlib stream shows it), one with data after IEND."""
    import struct
    import zlib

    from images.check import png_intact

    data = PAGE.read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    assert not png_intact(tmp_path / "half.png")
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4: at])[0]
    body = bytearray(data[at + 4: at + 4 + length])
    body[len(body) // 2] ^= 0x55
    forged = data[:at + 4] + bytes(body) + struct.pack(">I", zlib.crc32(b"IDAT" + bytes(body))) + data[at + 8 + length:]
    (tmp_path / "forged.png").write_bytes(forged)
    assert not png_intact(tmp_path / "forged.png")
    assert reason(tmp_path / "forged.png") == "corrupt_image"
    (tmp_path / "trailing.png").write_bytes(data + b"junk")
    assert not png_intact(tmp_path / "trailing.png")
    assert inspect(tmp_path / "trailing.png", "image/png").width == 700  # libvips, as before, reads what it needs


def _rebuilt_png(width: int, rows: list[bytes]) -> bytes:
    """An 8-bit greyscale PNG whose IDAT is exactly ``rows`` (filter byte + pixels), with valid
    CRCs and a valid zlib stream: only the rows themselves can be wrong."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, 4, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("rows, intact", [
    ([b"\x00" + bytes(6)] * 4, True),
    ([b"\x00" + bytes(6)] * 3 + [b"\x07" + bytes(6)], False),  # a filter type that does not exist
    ([b"\x00" + bytes(6)] * 3, False),  # a row short: a well-formed stream with too little data
    ([b"\x00" + bytes(6)] * 5, False),  # a row too many
])
def test_the_png_check_reads_the_rows_not_only_the_checksums(tmp_path, rows, intact):
    from images.check import png_intact

    path = tmp_path / "rows.png"
    path.write_bytes(_rebuilt_png(6, rows))
    assert png_intact(path) is intact
    assert _outcome(path, True) == _outcome(path, False)
    if intact:
        assert _outcome(path, True)[0] == "accepted"
