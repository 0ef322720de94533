"""Reading a submission package (a BagIt bag) into checked rows, collecting every problem.

Nothing here writes anywhere. Each problem names the file, the row (the line where the record
starts; the header is line 1), the field, and says what is wrong in Chinese and English.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import bagit

from kg import kanripo
from kg.errors import ArchiveError, ArchiveTooLargeError, ValidationError
from kg.package import vocab
from kg.package.report import Report
from kg.package.schema import SUBMISSION_FIELDS, TABLES, Kind, Need, Table

logging.getLogger("bagit").setLevel(logging.CRITICAL)  # bagit logs every file; problems come back as exceptions

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LIST_SPLIT = re.compile(r"[；;]")


def is_private_use(ch: str) -> bool:
    return unicodedata.category(ch) == "Co"


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass
class Package:
    root: Path
    bag_info: dict[str, str]
    submission: dict
    tables: dict[str, list[Row]] = field(default_factory=dict)
    texts: dict[str, tuple[Row, kanripo.Juan]] = field(default_factory=dict)  # file_id -> (files row, parsed text)
    declared_pua: dict[str, Row] = field(default_factory=dict)  # PUA char -> gaiji row
    images: dict[str, tuple] = field(default_factory=dict)  # file_id -> (images.check.ImageInfo, sha256) of service images
    image_limits: dict[str, int] = field(default_factory=dict)  # images.check.inspect keyword limits
    digests: dict[str, str] = field(default_factory=dict)  # bag path -> sha256 the (verified) manifest gives

    def rows(self, table: str) -> list[Row]:
        return self.tables.get(table, [])

    def index(self, table: str, key: str) -> dict[str, Row]:
        return {r.get(key): r for r in self.rows(table) if r.get(key)}


@dataclass(frozen=True)
class ArchiveLimits:
    """What a package .zip may declare and expand to. Checked on the zip's directory before anything
    is unpacked, then again on the bytes actually written (a member can lie about its size)."""

    max_bytes: int = 8 * 1024**3  # expanded size of all members together
    max_members: int = 100_000
    max_ratio: float = 200.0  # expanded / compressed, per member and for the whole archive
    ratio_floor: int = 1024**2  # members (and archives) smaller than this expand however they like
    max_image_pixels: int = 150_000_000  # a service image's declared width × height (images.check)
    max_image_side: int = 20_000


TEMP_PREFIX = "guji-package-"
_CHUNK = 1024**2
# what zipfile raises for a truncated archive, a corrupt or encrypted member, an unknown method
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def _check_declared(zf: zipfile.ZipFile, name: str, limits: ArchiveLimits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveTooLargeError(f"the package has {len(infos)} files; the limit is {limits.max_members}",
                                   file=name, limit=limits.max_members)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limits.max_bytes:
        raise ArchiveTooLargeError(f"the package unpacks to {total} bytes; the limit is {limits.max_bytes} bytes",
                                   file=name, limit=limits.max_bytes)
    for i in infos:
        if i.file_size > limits.ratio_floor and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise ArchiveTooLargeError(
                f"zip member {i.filename} expands {i.file_size // max(i.compress_size, 1)} times "
                f"({i.compress_size} to {i.file_size} bytes); the limit is {limits.max_ratio:g}",
                file=name, member=i.filename, limit=limits.max_ratio)
    if total > limits.ratio_floor and total > limits.max_ratio * max(packed, 1):
        raise ArchiveTooLargeError(f"the package expands {total // max(packed, 1)} times ({packed} to {total} bytes); "
                                   f"the limit is {limits.max_ratio:g}", file=name, limit=limits.max_ratio)


def _extract(zf: zipfile.ZipFile, into: Path, name: str, limits: ArchiveLimits) -> None:
    """Unpack member by member, counting the bytes really written: a member that expands beyond
    its declared size, or an archive beyond the limit, stops the unpacking there."""
    root = into.resolve()
    total = 0
    for info in zf.infolist():
        target = (root / info.filename).resolve()
        if not target.is_relative_to(root):
            raise ArchiveError(f"zip entry escapes the package: {info.filename}", file=name, member=info.filename)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > info.file_size:
                        raise ArchiveTooLargeError(f"zip member {info.filename} expands beyond its declared {info.file_size} bytes",
                                                   file=name, member=info.filename, limit=info.file_size)
                    if total > limits.max_bytes:
                        raise ArchiveTooLargeError(f"the package unpacks to more than {limits.max_bytes} bytes",
                                                   file=name, member=info.filename, limit=limits.max_bytes)
                    out.write(chunk)
        except _ZIP_ERRORS as exc:
            raise ArchiveError(f"zip member {info.filename} can not be read: {exc}", file=name, member=info.filename) from None


class Unpacked:
    """A package path as a directory: a bag directory as it is, a .zip unpacked to a temp dir.

    The .zip is checked against ``limits`` before anything is unpacked; the temp dir is removed on
    leaving, and also when unpacking fails half-way."""

    def __init__(self, path: Path, limits: ArchiveLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or ArchiveLimits()
        self._tmp: str | None = None

    def __enter__(self) -> Path:
        if self.path.is_dir():
            return self.path
        if not self.path.exists():
            raise ValidationError(f"no such package: {self.path}", file=str(self.path))
        name = self.path.name
        if not zipfile.is_zipfile(self.path):
            raise ArchiveError(f"a package is a BagIt directory or a .zip of one: {name} is not a readable .zip "
                               "(not a zip, or truncated)", file=name)
        try:
            with zipfile.ZipFile(self.path) as zf:
                _check_declared(zf, name, self.limits)
                self._tmp = tempfile.mkdtemp(prefix=TEMP_PREFIX)
                _extract(zf, Path(self._tmp), name, self.limits)
        except _ZIP_ERRORS as exc:
            self._cleanup()
            raise ArchiveError(f"{name} is not a readable .zip: {exc}", file=name) from None
        except BaseException:
            self._cleanup()
            raise
        entries = [p for p in Path(self._tmp).iterdir()]
        # a zip of the bag folder holds one top-level folder
        if len(entries) == 1 and entries[0].is_dir() and not (Path(self._tmp) / "bagit.txt").exists():
            return entries[0]
        return Path(self._tmp)

    def _cleanup(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __exit__(self, *exc) -> None:
        self._cleanup()


def sweep_stale_temp(older_than: float = 3600.0, *, directory: str | None = None) -> int:
    """Remove ``guji-package-*`` and ``guji-stream-*`` dirs (the scratch rows and triples of a
    streaming validation, kg.package.stream) and ``guji-upload-*`` files left in the temp directory
    by a process that died while unpacking or validating; only ones untouched for ``older_than`` seconds, so a package
    another process is reading right now stays. Returns how many were removed."""
    import os
    import time

    base = Path(directory or tempfile.gettempdir())
    cutoff = time.time() - older_than
    removed = 0
    for p in [*base.glob(TEMP_PREFIX + "*"), *base.glob("guji-stream-*"), *base.glob("guji-upload-*")]:
        try:
            if p.lstat().st_mtime > cutoff:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
            removed += 1
        except OSError:
            continue
    return removed


def _decode(data: bytes, file: str, report: Report) -> str | None:
    try:
        return kanripo.decode(data, file=file)
    except ValidationError as exc:
        report.violation("invalid_utf8", file, f"文件不是有效的 UTF-8 编码：{exc.message}", f"{exc.message}; save the file as UTF-8",
                         row=exc.details.get("line"), column=exc.details.get("column"))
        return None


def report_bag_problem(d, report: Report) -> None:
    """One problem bagit found (a checksum mismatch, a missing or unexpected file) in the report."""
    path = getattr(d, "path", None) or "manifest-sha256.txt"
    if isinstance(d, bagit.ChecksumMismatch):
        report.violation("checksum_mismatch", path, f"校验值不符：清单记为 {d.expected}，实际为 {d.found}",
                         f"checksum mismatch: the manifest says {d.expected}, the file has {d.found}", field=d.algorithm)
    elif isinstance(d, bagit.FileMissing):
        report.violation("file_missing", path, "清单中列出的文件不存在", "a file listed in the manifest is missing")
    elif isinstance(d, bagit.UnexpectedFile):
        report.violation("file_not_in_manifest", path, "文件未列入清单", "a payload file is not listed in the manifest")
    else:
        report.violation("bag_invalid", path, f"BagIt 校验失败：{d}", f"BagIt validation failed: {d}")


def _is_pua_code(value: str) -> bool:
    code = int(value[2:], 16)
    return code <= 0x10FFFF and is_private_use(chr(code))


def _read_submission(path: Path, report: Report) -> dict | None:
    file = "data/submission.json"
    if not path.is_file():
        report.violation("table_missing", file, "缺少提交说明 submission.json（数据提交说明表）",
                         "the submission description data/submission.json is missing")
        return None
    text = _decode(path.read_bytes(), file, report)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        report.violation("invalid_json", file, f"JSON 语法错误：{exc.msg}", f"JSON syntax error: {exc.msg}", row=exc.lineno, column=exc.colno)
        return None
    if not isinstance(doc, dict):
        report.violation("invalid_json", file, "提交说明须为 JSON 对象", "the submission description must be a JSON object")
        return None
    for key, label in SUBMISSION_FIELDS.items():
        if doc.get(key) in (None, "", {}):
            report.violation("missing_value", file, f"缺少必填项 {key}（{label}）", f"missing mandatory field {key} ({label})", field=key)
    from kg.package.serials import SUPPORTED_VERSIONS  # v2 (ADR 0021)

    if doc.get("package_version") not in (None, *SUPPORTED_VERSIONS):
        report.violation("unsupported_version", file, f"不支持的格式版本 {doc.get('package_version')}，应为 {' 或 '.join(SUPPORTED_VERSIONS)}",
                         f"unsupported package_version {doc.get('package_version')!r}; this server reads versions {', '.join(SUPPORTED_VERSIONS)}",
                         field="package_version")
    if doc.get("date") and not (isinstance(doc["date"], str) and _valid_date(doc["date"])):
        report.violation("bad_date", file, "提交日期须为 YYYY-MM-DD", "date must be YYYY-MM-DD", field="date", value=str(doc["date"]))
    return doc


def _valid_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        return True
    except ValueError:
        return False


def check_row(row: Row, table: Table, file: str, report: Report) -> None:
    """One row on its own: mandatory and recommended values, types, vocabularies, patterns."""
    for col in table.columns:
        value = row.get(col.name)
        where = {"row": row.line, "field": col.name}
        if not value.strip():
            if col.need is Need.MANDATORY:
                report.violation("missing_value", file, f"必填项 {col.name}（{col.zh}）为空", f"mandatory field {col.name} ({col.zh}) is empty", **where)
            elif col.need is Need.RECOMMENDED:
                report.warning("recommended_value", file, f"建议填写 {col.name}（{col.zh}）", f"recommended field {col.name} ({col.zh}) is empty", **where)
            continue
        if value != value.strip():
            report.warning("surrounding_space", file, f"{col.name} 首尾有空白字符", f"{col.name} has leading or trailing white space", value=value, **where)
        v = value.strip()
        if col.kind is Kind.INT:
            if not re.fullmatch(r"-?\d+", v):
                report.violation("not_an_integer", file, f"{col.name}（{col.zh}）须为整数", f"{col.name} ({col.zh}) must be an integer", value=value, **where)
                continue
        elif col.kind is Kind.DECIMAL:
            try:
                Decimal(v)
            except InvalidOperation:
                report.violation("not_a_number", file, f"{col.name}（{col.zh}）须为数字", f"{col.name} ({col.zh}) must be a number", value=value, **where)
                continue
        elif col.kind is Kind.DATE and not _valid_date(v):
            report.violation("bad_date", file, f"{col.name}（{col.zh}）须为 YYYY、YYYY-MM 或 YYYY-MM-DD 的有效日期",
                             f"{col.name} ({col.zh}) must be a valid date YYYY, YYYY-MM or YYYY-MM-DD", value=value, **where)
            continue
        elif col.kind is Kind.SHA256 and not _SHA256.match(v):
            report.violation("bad_sha256", file, "SHA-256 须为 64 位小写十六进制", "sha256 must be 64 lower-case hex digits", value=value, **where)
            continue
        elif col.kind is Kind.CONCEPT and vocab.lookup(col.scheme, v) is None:
            report.violation("unknown_concept", file, f"{col.name}（{col.zh}）的值“{v}”不在词表 {col.scheme} 中",
                             f"{col.name} ({col.zh}): {v!r} is not in the {col.scheme} vocabulary (accepted: {vocab.choices(col.scheme)})",
                             value=value, **where)
            continue
        if col.pattern and not re.fullmatch(col.pattern, v):
            report.violation("bad_format", file, f"{col.name}（{col.zh}）格式不符：{col.en}", f"{col.name} ({col.zh}) has the wrong form: {col.en or col.pattern}",
                             value=value, **where)


def check_unique_value(row: Row, name: str, seen: dict[str, int], file: str, report: Report) -> None:
    """``row``'s value of the unique column ``name`` against the values ``seen`` so far (value → line)."""
    v = row.get(name).strip()
    if not v:
        return
    if v in seen:
        report.violation("duplicate", file, f"{name} 重复：与第 {seen[v]} 行相同", f"duplicate {name}: the same as row {seen[v]}",
                         row=row.line, field=name, value=v)
    else:
        seen[v] = row.line


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_references(pkg: Package, report: Report, *, counts: bool = True) -> None:
    """Cross-table checks: references resolve, derivations point somewhere, frames do not overlap,
    files are where they say with the checksum they say, private-use characters are declared."""
    books, reels, files = pkg.index("books", "book_id"), pkg.index("reels", "reel_id"), pkg.index("files", "file_id")
    targets = {"books": books, "reels": reels, "files": files}
    for name, table in ((t.file.removesuffix(".csv"), t) for t in TABLES):
        for row in pkg.rows(name):
            for col in table.columns:
                v = row.get(col.name).strip()
                if col.kind is Kind.REF and v and v not in targets[col.ref]:
                    report.violation("dangling_reference", f"data/{table.file}", f"{col.name}“{v}”在 {col.ref}.csv 中不存在",
                                     f"{col.name} {v!r} does not exist in {col.ref}.csv", row=row.line, field=col.name, value=v)
    for name, table in (("reels", "reels.csv"), ("files", "files.csv")):
        for row in pkg.rows(name):
            src = row.get("derived_from").strip()
            kind, _, ref = src.partition(":")
            if kind == "reel" and ref not in reels or kind == "file" and ref not in files:
                report.violation("derived_from_nowhere", f"data/{table}", f"来源“{src}”指向不存在的{'胶卷' if kind == 'reel' else '文件'}",
                                 f"derived_from {src!r} points to a {kind} that is not in this package", row=row.line, field="derived_from", value=src)
            own = row.get("reel_id" if name == "reels" else "file_id").strip()
            if src == f"{name[:-1]}:{own}":
                report.violation("derived_from_itself", f"data/{table}", "来源不能是其自身", "a copy cannot be derived from itself",
                                 row=row.line, field="derived_from", value=src)
    _check_derivation_cycles(pkg, report)
    _check_work_ids(pkg, report)
    _check_frames(pkg, report)
    _check_files(pkg, report)
    _check_gaiji(pkg, report)
    _check_private_use(pkg, report)
    if counts:  # the streaming reader checks the counts of the whole package itself
        _check_counts(pkg, report)
    from kg.package.serials import check_package  # v2: serials, issues, articles, issue frames (ADR 0021)

    check_package(pkg, report)


def _check_work_ids(pkg: Package, report: Report) -> None:
    """``work_id`` naming the work of another book of this package must not lead back to itself."""
    from kg.works import work_iri_for

    own = {f"https://w3id.org/guji/id/work/census/{r.get('census_no').strip()}": r for r in pkg.rows("books")}
    named = {}
    for iri, row in own.items():
        target = work_iri_for(row.get("work_id")) if row.get("work_id").strip() else None
        if target and target != iri:
            named[iri] = target
    for start, row in own.items():
        seen, cur = {start}, named.get(start)
        while cur in named and cur not in seen:
            seen.add(cur)
            cur = named[cur]
        if cur in seen and start in named:
            report.violation("work_id_cycle", "data/books.csv", f"作品标识“{row.get('work_id').strip()}”绕回本书自身",
                             f"work_id {row.get('work_id').strip()!r} leads back to this book's own work",
                             row=row.line, field="work_id", value=row.get("work_id").strip())


def _check_derivation_cycles(pkg: Package, report: Report) -> None:
    edges = {}
    for name in ("reels", "files"):
        key = "reel_id" if name == "reels" else "file_id"
        for row in pkg.rows(name):
            edges[f"{name[:-1]}:{row.get(key).strip()}"] = (row.get("derived_from").strip(), name, row)
    for start, (_, name, row) in edges.items():
        seen, node = {start}, edges[start][0]
        while node in edges:
            if node in seen:
                report.violation("derivation_cycle", f"data/{name}.csv", f"来源关系成环：{start} 经由 {node} 回到自身",
                                 f"derived_from forms a cycle through {node}", row=row.line, field="derived_from", value=start)
                break
            seen.add(node)
            node = edges[node][0]


def _check_frames(pkg: Package, report: Report) -> None:
    by_reel: dict[str, list[Row]] = defaultdict(list)
    for row in pkg.rows("frames"):
        try:
            a, b = int(row.get("frame_start")), int(row.get("frame_end"))
        except ValueError:
            continue  # already reported as not an integer
        if a < 1 or b < a:
            report.violation("bad_frame_range", "data/frames.csv", f"画幅范围 {a}-{b} 无效（起始须≥1且不大于终止）",
                             f"frame range {a}-{b} is invalid (start must be >= 1 and not after the end)", row=row.line, field="frame_end")
            continue
        by_reel[row.get("reel_id").strip()].append(row)
    for reel, rows in by_reel.items():
        rows.sort(key=lambda r: int(r.get("frame_start")))
        for prev, row in zip(rows, rows[1:]):
            if int(row.get("frame_start")) <= int(prev.get("frame_end")):
                report.violation("overlapping_frames", "data/frames.csv",
                                 f"胶卷 {reel} 上的画幅 {row.get('frame_start')}-{row.get('frame_end')} 与第 {prev.line} 行的 {prev.get('frame_start')}-{prev.get('frame_end')} 重叠",
                                 f"frames {row.get('frame_start')}-{row.get('frame_end')} on reel {reel} overlap frames {prev.get('frame_start')}-{prev.get('frame_end')} of row {prev.line}",
                                 row=row.line, field="frame_start", value=reel)


def _check_files(pkg: Package, report: Report) -> None:
    data = pkg.root / "data"
    for row in pkg.rows("files"):
        if row.get("format").strip().startswith("image/") and not row.get("resolution_dpi").strip():
            report.warning("recommended_value", "data/files.csv", "图像文件建议填写 resolution_dpi（分辨率）",
                           "recommended for an image: resolution_dpi", row=row.line, field="resolution_dpi")
        level = vocab.lookup("access-level", row.get("level").strip() or "-")
        if level is None or not level.endswith("/service"):
            continue  # preservation masters are not in the package: only their location and checksum
        rel = row.get("path").strip()
        path = (data / rel).resolve()
        if not str(path).startswith(str(data.resolve())) or not path.is_file():
            report.violation("file_not_in_package", "data/files.csv", f"服务级文件 {rel} 不在包内 data/ 目录中",
                             f"service-level file {rel} is not in the package under data/", row=row.line, field="path", value=rel)
            continue
        size = path.stat().st_size
        if row.get("size").strip().isdigit() and int(row.get("size")) != size:
            report.violation("size_mismatch", "data/files.csv", f"字节数不符：表中为 {row.get('size')}，文件为 {size}",
                             f"size mismatch: the table says {row.get('size')}, the file has {size} bytes", row=row.line, field="size")
        digest = pkg.digests.get(f"data/{rel}") or sha256_of(path)  # the bag check already verified the manifest's
        if _SHA256.match(row.get("sha256").strip()) and row.get("sha256").strip() != digest:
            report.violation("checksum_mismatch", "data/files.csv", f"SHA-256 不符：表中为 {row.get('sha256')}，文件为 {digest}",
                             f"sha256 mismatch: the table says {row.get('sha256')}, the file has {digest}", row=row.line, field="sha256")
        elif row.get("format").strip().startswith("image/") and size > 0:
            _check_image(pkg, row, path, digest, report)
        if row.get("format").strip() == "text/plain" and rel.endswith(".txt"):
            text = _decode(path.read_bytes(), f"data/{rel}", report)
            if text is not None:
                pkg.texts[row.get("file_id").strip()] = (row, kanripo.parse_juan(text, file=f"data/{rel}"))


# a glyph image is embedded in the graph (a data: URI) so that every page can draw the character
GLYPH_TYPES = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
MAX_GLYPH_BYTES = 64 * 1024


def glyph_path(root: Path, rel: str) -> Path | None:
    """The glyph image file ``rel`` names inside ``data/``, or None (missing, or outside the package)."""
    data = (root / "data").resolve()
    try:
        path = (data / rel).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(data) or not path.is_file():
        return None
    return path


def glyph_data_uri(root: Path, rel: str) -> str | None:
    """The glyph image as a ``data:`` URI, when it is a small raster image inside the package."""
    import base64

    path = glyph_path(root, rel)
    kind = GLYPH_TYPES.get(Path(rel).suffix.lower())
    if path is None or kind is None or path.stat().st_size > MAX_GLYPH_BYTES:
        return None
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _check_image(pkg: Package, row: Row, path: Path, digest: str, report: Report) -> None:
    """A service-level image must be the image it says it is, within the size limits, and decode
    to the end (images.check: header first, so a bomb is refused before any pixel is decoded)."""
    from images.check import inspect
    from images.errors import InvalidImageError

    rel = row.get("path").strip()
    try:
        info = inspect(path, row.get("format").strip(), **pkg.image_limits)
    except InvalidImageError as exc:
        field = "format" if exc.reason in ("format_mismatch", "unsupported_format", "not_an_image") else "path"
        report.violation(exc.reason, "data/files.csv", f"图像 {rel}：{exc.message_zh}", f"image {rel}: {exc.message_en}",
                         row=row.line, field=field, value=rel)
        return
    pkg.images[row.get("file_id").strip()] = (info, digest)


def _check_gaiji(pkg: Package, report: Report) -> None:
    for row in pkg.rows("gaiji"):
        pua = row.get("pua").strip()
        if re.fullmatch(r"U\+[0-9A-Fa-f]{4,6}", pua) and not _is_pua_code(pua):
            report.violation("not_private_use", "data/gaiji.csv", f"{pua} 不是私用区码位", f"{pua} is not a private-use code point",
                             row=row.line, field="pua", value=pua)
        img = row.get("glyph_image").strip()
        if img and glyph_path(pkg.root, img) is None:
            report.violation("file_not_in_package", "data/gaiji.csv", f"字形图 {img} 不在包内", f"glyph image {img} is not in the package",
                             row=row.line, field="glyph_image", value=img)
        elif img and GLYPH_TYPES.get(Path(img).suffix.lower()) is None:
            report.warning("glyph_image_type", "data/gaiji.csv", f"字形图 {img} 不是 PNG/GIF/JPEG/WebP 图像，页面将显示对应规范字",
                           f"glyph image {img} is not a PNG, GIF, JPEG or WebP image; pages show the nearest character instead",
                           row=row.line, field="glyph_image", value=img)
        elif img and glyph_path(pkg.root, img).stat().st_size > MAX_GLYPH_BYTES:
            report.warning("glyph_image_too_large", "data/gaiji.csv", f"字形图 {img} 超过 {MAX_GLYPH_BYTES // 1024} KiB，页面将显示对应规范字",
                           f"glyph image {img} is larger than {MAX_GLYPH_BYTES // 1024} KiB; pages show the nearest character instead",
                           row=row.line, field="glyph_image", value=img)


def _check_private_use(pkg: Package, report: Report) -> None:
    """Every private-use character in a table or a text must be declared in gaiji.csv."""
    declared = pkg.declared_pua
    for name, rows in pkg.tables.items():
        if name == "gaiji":
            continue
        for row in rows:
            for col, value in row.values.items():
                for i, ch in enumerate(value):
                    if is_private_use(ch) and ch not in declared:
                        report.violation("undeclared_private_use", f"data/{name}.csv",
                                         f"私用区字符 U+{ord(ch):04X}（第 {i + 1} 个字符）未在 gaiji.csv 中登记",
                                         f"private-use character U+{ord(ch):04X} (character {i + 1}) is not declared in gaiji.csv",
                                         row=row.line, field=col, value=f"U+{ord(ch):04X}")
    for file_id, (row, juan) in pkg.texts.items():
        for i, ch in enumerate(juan.text):
            if is_private_use(ch) and ch not in declared and kanripo.gaiji_id(ch) is None:
                report.violation("undeclared_private_use", f"data/{row.get('path').strip()}",
                                 f"私用区字符 U+{ord(ch):04X} 未在 gaiji.csv 中登记",
                                 f"private-use character U+{ord(ch):04X} at text offset {i} is not declared in gaiji.csv",
                                 value=f"U+{ord(ch):04X}")


def _check_counts(pkg: Package, report: Report) -> None:
    counts = pkg.submission.get("counts")
    if not isinstance(counts, dict):
        return
    for key in ("books", "reels", "files", "gaiji"):
        if key in counts and counts[key] != len(pkg.rows(key)):
            report.violation("count_mismatch", "data/submission.json", f"提交说明中 {key} 数量为 {counts[key]}，实际为 {len(pkg.rows(key))}",
                             f"counts.{key} says {counts[key]} but {key}.csv has {len(pkg.rows(key))} rows", field=f"counts.{key}")
