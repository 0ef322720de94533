"""Inspect an image file within limits, before anything is stored.

Order matters for a hostile file: the header is read first (libvips reads no pixels to open a
file), so a decompression bomb or a 30,000 × 30,000 px scan is refused on its declared
dimensions before a single row is decoded; only then is the whole image decoded, streamed
(``access="sequential"``, bounded memory), with libvips told to fail on any decoder error, so a
corrupt or truncated file is refused too.

A PNG's pixel data is checked without decoding it first (:func:`png_intact`: every chunk whole
with its CRC, the zlib stream whole with its Adler-32, exactly the bytes the header's size needs,
every row's filter type known: what libpng refuses a file for). Only a PNG that check has any doubt
about is decoded by libvips, so a broken file gets the same error as before, and a whole one costs
no decode (ADR 0024: 0.4 ms of libvips per call, most of a small image's check).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from images.errors import InvalidImageError

# media type → the libvips loader that must read it
LOADERS = {
    "image/jpeg": ("jpegload",),
    "image/png": ("pngload",),
    "image/tiff": ("tiffload",),
    "image/webp": ("webpload",),
    "image/jp2": ("jp2kload",),
}
DEFAULT_MAX_PIXELS = 150_000_000  # a 600 dpi scan of a large folio is ~60 MP
DEFAULT_MAX_SIDE = 20_000


@dataclass(frozen=True)
class ImageInfo:
    path: Path
    width: int
    height: int
    bands: int
    loader: str


def inspect(path: Path, declared_format: str, *, max_pixels: int = DEFAULT_MAX_PIXELS,
            max_side: int = DEFAULT_MAX_SIDE, decode: bool = True, fast_png: bool = True) -> ImageInfo:
    """Header, format, size limits, then a full streamed decode; raises :class:`InvalidImageError`.
    A PNG that :func:`png_intact` finds whole is not decoded (``fast_png=False``: always decoded)."""
    import pyvips

    expected = LOADERS.get(declared_format)
    if expected is None:
        raise InvalidImageError("unsupported_format", f"不支持的图像格式 {declared_format}（可用：{', '.join(LOADERS)}）",
                                f"unsupported image format {declared_format} (supported: {', '.join(LOADERS)})")
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")
    except pyvips.Error as exc:
        if "not a known" in str(exc) or path.stat().st_size == 0:
            raise InvalidImageError("not_an_image", "文件不是可识别的图像", "the file is not an image in any known format") from None
        raise InvalidImageError("corrupt_image", f"图像文件头损坏：{_first_line(exc)}",
                                f"the image header is corrupt: {_first_line(exc)}") from None
    loader = image.get("vips-loader").removesuffix("_source").removesuffix("_buffer")
    if loader not in expected:
        actual = next((t for t, ls in LOADERS.items() if loader in ls), loader)
        raise InvalidImageError("format_mismatch", f"格式不符：表中为 {declared_format}，文件实为 {actual}",
                                f"format mismatch: the table says {declared_format}, the file is {actual}")
    w, h = image.width, image.height
    if w > max_side or h > max_side or w * h > max_pixels:
        raise InvalidImageError("image_too_large",
                                f"图像过大：{w}×{h} 像素（上限每边 {max_side} 像素、共 {max_pixels} 像素）",
                                f"the image is too large: {w}×{h} px (limit {max_side} px a side, {max_pixels} px in all)",
                                width=w, height=h)
    if decode and not (fast_png and loader == "pngload" and png_intact(path)):
        try:
            image.avg()  # decodes every pixel, streamed
        except pyvips.Error as exc:
            raise InvalidImageError("corrupt_image", f"图像数据损坏或不完整：{_first_line(exc)}",
                                    f"the image data is corrupt or truncated: {_first_line(exc)}") from None
    return ImageInfo(path, w, h, image.bands, loader)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))  # x0, y0, dx, dy


def png_intact(path: Path, *, read_size: int = 1 << 20) -> bool:
    """Is this PNG whole, as far as decoding it could tell? True only when: the signature and a
    valid IHDR come first; every chunk is complete and the CRC of every chunk matches; the critical
    chunks are known and in order (PLTE before the IDATs, which are consecutive; a palette image has
    a PLTE); the IDAT data is one complete zlib stream (its Adler-32 checked by zlib) that inflates
    to exactly the bytes the width, height, depth, colour type and interlacing need, each row's
    filter type 0–4; IEND ends the file. Anything else is False: a doubt, not a verdict — the caller
    then decodes the file with libvips, which gives the error. Streamed: memory stays bounded
    whatever the image's size (the inflated rows are only counted)."""
    try:
        with open(path, "rb") as f:
            return _png_intact(f, read_size)
    except (OSError, zlib.error, struct.error, ValueError):
        return False


def _png_intact(f, read_size: int) -> bool:
    if f.read(8) != _PNG_SIGNATURE:
        return False
    header = f.read(8 + 13 + 4)
    if len(header) != 25 or header[:8] != b"\x00\x00\x00\x0dIHDR" or zlib.crc32(header[4:21]) != struct.unpack(">I", header[21:])[0]:
        return False
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", header[8:21])
    if (not width or not height or depth not in _PNG_DEPTHS.get(colour, ()) or compression or filtering
            or interlace not in (0, 1)):
        return False
    bits = depth * _PNG_CHANNELS[colour]
    passes = [(width, height)] if not interlace else [
        ((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for x0, y0, dx, dy in _ADAM7]
    rows = [(w * bits + 7) // 8 + 1 for w, h in passes if w and h for _ in range(h)]  # each row: filter byte + pixels
    inflate = zlib.decompressobj()
    row, at = 0, 0  # the row being inflated, and how many of its bytes are already out
    seen_plte = seen_idat = idat_done = False
    while True:
        head = f.read(8)
        if len(head) != 8:
            return False  # no IEND: truncated
        length, kind = struct.unpack(">I4s", head)
        if length > 0x7FFFFFFF:
            return False
        crc = zlib.crc32(kind)
        if kind == b"IDAT":
            if idat_done or (colour == 3 and not seen_plte):
                return False
            seen_idat = True
        elif seen_idat:
            idat_done = True
        left = length
        while left:
            data = f.read(min(left, read_size))
            if not data:
                return False  # truncated inside a chunk
            left -= len(data)
            crc = zlib.crc32(data, crc)
            if kind != b"IDAT":
                continue
            if inflate.eof:
                return False  # data after the end of the zlib stream
            while data:
                out = inflate.decompress(data, read_size)
                data = inflate.unconsumed_tail
                pos = 0
                while pos < len(out):  # walk the rows: each starts with its filter type
                    if row >= len(rows):
                        return False  # more image data than the header's size needs
                    if at == 0 and out[pos] > 4:
                        return False
                    step = min(rows[row] - at, len(out) - pos)
                    pos, at = pos + step, at + step
                    if at == rows[row]:
                        row, at = row + 1, 0
        tail = f.read(4)
        if len(tail) != 4 or struct.unpack(">I", tail)[0] != crc:
            return False
        if kind == b"IEND":
            return length == 0 and seen_idat and inflate.eof and not inflate.unused_data and row == len(rows) and not f.read(1)
        if kind == b"PLTE":
            if seen_plte or seen_idat or colour in (0, 4):
                return False
            seen_plte = True
        elif kind == b"IHDR" or (kind[0] & 0x20 == 0 and kind not in (b"IDAT", b"PLTE")):
            return False  # a second header, or a critical chunk this check does not know


def _first_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = next((ln for ln in lines[1:] if ln), lines[0] if lines else "")
    return detail[:200]
