"""Inspect an image file within limits, before anything is stored.

Order matters for a hostile file: the header is read first (libvips reads no pixels to open a
file), so a decompression bomb or a 30,000 × 30,000 px scan is refused on its declared
dimensions before a single row is decoded; only then is the whole image decoded, streamed
(``access="sequential"``, bounded memory), with libvips told to fail on any decoder error, so a
corrupt or truncated file is refused too.
"""

from __future__ import annotations

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
            max_side: int = DEFAULT_MAX_SIDE, decode: bool = True) -> ImageInfo:
    """Header, format, size limits, then a full streamed decode; raises :class:`InvalidImageError`."""
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
    if decode:
        try:
            image.avg()  # decodes every pixel, streamed
        except pyvips.Error as exc:
            raise InvalidImageError("corrupt_image", f"图像数据损坏或不完整：{_first_line(exc)}",
                                    f"the image data is corrupt or truncated: {_first_line(exc)}") from None
    return ImageInfo(path, w, h, image.bands, loader)


def _first_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = next((ln for ln in lines[1:] if ln), lines[0] if lines else "")
    return detail[:200]
