"""Derivatives of service-level images: one tiled pyramidal TIFF per image, named by its SHA-256.

Made at ingest, before the package's graphs are written (kg.package.ingest_package): by the time
the change log shows the new files, their pyramids are on disk. Content addressing makes the step
idempotent (a re-ingest of the same bytes costs nothing) and leaves nothing to undo when the graph
write fails (an unreferenced pyramid is never served: the image service resolves ids through the
store's public graphs). Writes go to a temporary file first and are renamed into place.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from images.errors import ImageNotFoundError

TILE = 256
_SHA = re.compile(r"^[0-9a-f]{64}$")


class PyramidStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise ImageNotFoundError(f"no image with checksum {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.tif"

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def add(self, source: Path, sha256: str, *, quality: int = 90) -> Path:
        """Build the pyramid of ``source`` (already checked by images.check) unless it exists."""
        import pyvips

        target = self.path(sha256)
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        image = pyvips.Image.new_from_file(str(source), access="sequential", fail_on="error")
        image = normalise(image)
        fd, tmp = tempfile.mkstemp(prefix=".pyramid-", suffix=".tif", dir=target.parent)
        os.close(fd)
        try:
            image.tiffsave(tmp, tile=True, tile_width=TILE, tile_height=TILE, pyramid=True,
                           compression="jpeg", Q=quality, strip=True)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target

    def levels(self, sha256: str) -> int:
        import pyvips

        return int(pyvips.Image.new_from_file(str(self.path(sha256))).get("n-pages"))

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*.tif"))


def normalise(image):
    """8-bit grey or sRGB without alpha (what JPEG-in-TIFF, and every browser, can take)."""
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.bands in (1, 2) or image.interpretation in ("b-w", "grey16"):
        image = image.colourspace("b-w")
    else:
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image
