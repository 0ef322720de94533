"""Images for the image tests, made here (never downloaded): the IIIF validator's test pattern,
PNG bombs, broken files, and a copy of the sample package with extra image rows."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import struct
import zlib
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "package" / "guji-sample-2026-001"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A real greyscale PNG of ``width`` × ``height`` zero pixels: tiny on disk, huge decoded.
    ``rows`` < height truncates the pixel data (a PNG whose header promises more than it has)."""
    comp = zlib.compressobj(9)
    line = b"\x00" * (width + 1)
    out, left = [], height if rows is None else rows
    while left:
        n = min(left, 1024)
        out.append(comp.compress(line * n))
        left -= n
    out.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(out)) + _chunk(b"IEND", b"")


def validator_pattern() -> bytes:
    """The IIIF Image API validator's test image: 1000 × 1000 px, 10 × 10 squares of known colours
    (iiif_validator's colorInfo[x][y] is the square in column x, row y)."""
    import pyvips
    from iiif_validator.validator import ValidationInfo

    colours = ValidationInfo().colorInfo
    rows = []
    for y in range(10):
        row = [pyvips.Image.black(100, 100, bands=3).new_from_image(list(colours[x][y])).cast("uchar") for x in range(10)]
        rows.append(pyvips.Image.arrayjoin(row, across=10))
    image = pyvips.Image.arrayjoin(rows, across=1).copy(interpretation="srgb")
    return image.pngsave_buffer(compression=6)


def package_with(dst: Path, files: list[dict]) -> Path:
    """The sample package plus extra ``files`` rows: {file_id, book_id, path, data, format, folio};
    counts and the bag are made anew, so only what the extra files carry can be wrong."""
    import bagit

    out = dst / SAMPLE.name
    shutil.copytree(SAMPLE, out)
    data = out / "data"
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"):
        (out / name).unlink()
    for p in list(data.iterdir()):
        shutil.move(str(p), str(out / p.name))
    data.rmdir()
    with (out / "files.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    for f in files:
        (out / f["path"]).parent.mkdir(parents=True, exist_ok=True)
        (out / f["path"]).write_bytes(f["data"])
        rows.append({**dict.fromkeys(header, ""), "file_id": f["file_id"], "book_id": f.get("book_id", "B2"), "level": "服务级",
                     "path": f["path"], "format": f["format"], "resolution_dpi": "300",
                     "sha256": f.get("sha256", hashlib.sha256(f["data"]).hexdigest()), "size": str(f.get("size", len(f["data"]))),
                     "derived_from": f.get("derived_from", "book"), "juan": "1", "folio": f.get("folio", "")})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out / "files.csv").write_text(buf.getvalue(), encoding="utf-8")
    sub = json.loads((out / "submission.json").read_text(encoding="utf-8"))
    sub["counts"]["files"] = len(rows)
    (out / "submission.json").write_text(json.dumps(sub, ensure_ascii=False, indent=2), encoding="utf-8")
    bagit.make_bag(str(out), {"External-Identifier": sub["batch"]}, checksums=["sha256"])
    return out


def zipped(folder: Path) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, f"{folder.name}/{p.relative_to(folder)}")
    return buf.getvalue()
