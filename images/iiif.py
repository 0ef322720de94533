"""The IIIF Image API 3.0 at compliance level 2 (plus mirroring and webp): request parsing, info.json, rendering.

A request ``{region}/{size}/{rotation}/{quality}.{format}`` becomes an :class:`ImageRequest`
(or an :class:`ImageRequestError`, a 400); :func:`render` reads only the pyramid level and the
tiles it needs (libvips, random access on a tiled TIFF) and encodes the answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from images.errors import ImageRequestError

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROFILE = "level2"
FORMATS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
QUALITIES = ("default", "color", "gray", "bitonal")
EXTRA_FEATURES = ["mirroring", "regionByPct", "regionSquare", "rotationBy90s", "sizeByConfinedWh", "sizeByPct", "sizeByWh"]
MAX_OUTPUT_PIXELS = 40_000_000  # answers larger than this are refused (a full 600 dpi folio is ~60 MP, served tiled)

_NUM = r"\d+(?:\.\d+)?"


@dataclass(frozen=True)
class ImageRequest:
    x: int
    y: int
    w: int
    h: int
    width: int  # of the answer, before rotation
    height: int
    rotation: int
    mirror: bool
    quality: str
    format: str

    @property
    def key(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}/{self.width},{self.height}/{'!' if self.mirror else ''}{self.rotation}/{self.quality}.{self.format}"


def parse(region: str, size: str, rotation: str, quality_format: str, full_width: int, full_height: int) -> ImageRequest:
    x, y, w, h = _region(region, full_width, full_height)
    width, height = _size(size, w, h)
    if width * height > MAX_OUTPUT_PIXELS:
        raise ImageRequestError(f"the answer would be {width}×{height} px; at most {MAX_OUTPUT_PIXELS} px: ask for tiles",
                                parameter="size", value=size)
    mirror = rotation.startswith("!")
    try:
        angle = float(rotation[1:] if mirror else rotation)
    except ValueError:
        raise ImageRequestError(f"rotation {rotation!r} is not a number", parameter="rotation", value=rotation) from None
    if angle not in (0, 90, 180, 270):
        raise ImageRequestError(f"rotation {rotation!r}: only 0, 90, 180 and 270 (optionally with ! to mirror)",
                                parameter="rotation", value=rotation)
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot or quality not in QUALITIES:
        raise ImageRequestError(f"quality {quality or quality_format!r}: one of {', '.join(QUALITIES)}",
                                parameter="quality", value=quality_format)
    if fmt not in FORMATS:
        raise ImageRequestError(f"format {fmt!r}: one of {', '.join(FORMATS)}", parameter="format", value=fmt)
    return ImageRequest(x, y, w, h, width, height, int(angle), mirror, quality, fmt)


def _region(region: str, W: int, H: int) -> tuple[int, int, int, int]:
    if region == "full":
        return 0, 0, W, H
    if region == "square":
        side = min(W, H)
        return (W - side) // 2, (H - side) // 2, side, side
    m = re.fullmatch(rf"(pct:)?({_NUM}),({_NUM}),({_NUM}),({_NUM})", region)
    if not m:
        raise ImageRequestError(f"region {region!r}: full, square, x,y,w,h or pct:x,y,w,h", parameter="region", value=region)
    if m.group(1):
        px, py, pw, ph = (float(v) for v in m.groups()[1:])
        x, y = round(px * W / 100), round(py * H / 100)
        w, h = round(pw * W / 100), round(ph * H / 100)
    else:
        if any("." in v for v in m.groups()[1:]):
            raise ImageRequestError(f"region {region!r}: pixel regions are whole numbers", parameter="region", value=region)
        x, y, w, h = (int(v) for v in m.groups()[1:])
    if w <= 0 or h <= 0:
        raise ImageRequestError(f"region {region!r} has no width or height", parameter="region", value=region)
    if x >= W or y >= H:
        raise ImageRequestError(f"region {region!r} lies outside the image ({W}×{H})", parameter="region", value=region)
    return x, y, min(w, W - x), min(h, H - y)


def _size(size: str, w: int, h: int) -> tuple[int, int]:
    upscale = size.startswith("^")
    spec = size[1:] if upscale else size
    if spec == "max":  # the whole region, scaled down to maxArea when it is larger
        f = min(1.0, math.sqrt(MAX_OUTPUT_PIXELS / (w * h)))
        tw, th = math.floor(w * f), math.floor(h * f)
    elif m := re.fullmatch(rf"pct:({_NUM})", spec):
        f = float(m.group(1)) / 100
        tw, th = round(w * f), round(h * f)
    elif m := re.fullmatch(r"(!)?(\d+)?,(\d+)?", spec):
        confined, sw, sh = m.group(1), m.group(2), m.group(3)
        if confined:
            if not (sw and sh):
                raise ImageRequestError(f"size {size!r}: !w,h needs both", parameter="size", value=size)
            f = min(int(sw) / w, int(sh) / h)
            tw, th = round(w * f), round(h * f)
        elif sw and sh:
            tw, th = int(sw), int(sh)
        elif sw:
            tw = int(sw)
            th = round(h * tw / w)
        elif sh:
            th = int(sh)
            tw = round(w * th / h)
        else:
            raise ImageRequestError(f"size {size!r}: give a width, a height or both", parameter="size", value=size)
    else:
        raise ImageRequestError(f"size {size!r}: max, w,, ,h, w,h, !w,h or pct:n (^ to upscale)", parameter="size", value=size)
    tw, th = max(tw, 1), max(th, 1)
    if (tw > w or th > h) and not upscale:
        raise ImageRequestError(f"size {size!r} is larger than the region ({w}×{h}); upscaling needs ^",
                                parameter="size", value=size)
    if upscale:
        raise ImageRequestError("upscaling (^) is not supported by this service", parameter="size", value=size)
    return tw, th


def info(image_id: str, width: int, height: int, levels: int, *, tile: int = 256) -> dict:
    """The info.json of one image (Image API 3.0)."""
    factors = [2 ** n for n in range(levels)]
    sizes = [{"width": math.ceil(width / f), "height": math.ceil(height / f)} for f in reversed(factors)]
    return {
        "@context": CONTEXT,
        "id": image_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": PROFILE,
        "width": width,
        "height": height,
        "maxArea": MAX_OUTPUT_PIXELS,
        "sizes": sizes,
        "tiles": [{"width": tile, "height": tile, "scaleFactors": factors}],
        "extraFormats": ["webp"],
        "extraQualities": ["color", "gray", "bitonal"],
        "extraFeatures": EXTRA_FEATURES,
    }


def render(pyramid_path: str, req: ImageRequest, full_width: int) -> bytes:
    """Read the smallest pyramid level that still has enough pixels, crop, scale, turn, encode."""
    import pyvips

    base = pyvips.Image.new_from_file(pyramid_path, access="random")
    levels = int(base.get("n-pages")) if base.get_typeof("n-pages") else 1
    scale = min(req.width / req.w, req.height / req.h)
    level = 0
    while level + 1 < levels and 2 ** (level + 1) <= 1 / scale:
        level += 1
    image = base if level == 0 else pyvips.Image.new_from_file(pyramid_path, page=level, access="random")
    f = full_width / image.width  # the level's real factor (sizes are rounded up)
    left, top = int(req.x / f), int(req.y / f)
    cw = max(1, min(image.width - left, math.ceil(req.w / f)))
    ch = max(1, min(image.height - top, math.ceil(req.h / f)))
    image = image.crop(left, top, cw, ch)
    if (cw, ch) != (req.width, req.height):
        image = image.resize(req.width / cw, vscale=req.height / ch, kernel="lanczos3")
        if (image.width, image.height) != (req.width, req.height):  # rounding: pad or trim by one pixel
            image = image.gravity("centre", req.width, req.height, extend="copy")
    if req.mirror:
        image = image.fliphor()
    if req.rotation:
        image = image.rot(f"d{req.rotation}")
    if req.quality in ("gray", "bitonal") and image.bands >= 3:
        image = image.colourspace("b-w")
    if req.quality == "bitonal":
        image = (image > 127).ifthenelse(255, 0).cast("uchar")
    if req.format == "jpg":
        return image.jpegsave_buffer(Q=85, strip=True)
    if req.format == "png":
        return image.pngsave_buffer(compression=6, strip=True)
    return image.webpsave_buffer(Q=80, strip=True)
