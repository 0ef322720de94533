"""Reading plans and monthly catalogues the way units send them: CSV in UTF-8 or GB18030/GBK
(detected), or XLSX (openpyxl). Every problem is reported with sheet, row and column, in Chinese
and English, in the validation report's shape (:class:`kg.package.report.Problem`); a file with
any problem is refused whole, so nothing of it is stored.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from acceptance.errors import ImportRejectedError
from kg.package.report import Report

MAX_ROWS = 50_000
MAX_UNPACKED_XLSX = 256 * 1024 * 1024  # checked on the zip directory before openpyxl unpacks anything
MAX_XLSX_RATIO = 200  # checked while reading: a plan of a whole country is a few thousand titles


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    kind: str = "text"  # text | count | date
    aliases: tuple[str, ...] = ()

    def names(self) -> set[str]:
        return {n.strip().lower() for n in (self.key, self.zh, self.en, *self.aliases)}


@dataclass
class Cell:
    value: str
    row: int  # 1-based, as the sheet shows it
    column: int  # 1-based


@dataclass
class Table:
    """The rows of one sheet, keyed by column key, each cell remembering where it was."""

    file: str
    sheet: str
    encoding: str | None
    rows: list[dict[str, Cell]] = field(default_factory=list)
    header_columns: dict[str, int] = field(default_factory=dict)


def column_letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


class Problems:
    """Collects problems in the validation report's shape, with the sheet and the column letter."""

    def __init__(self, file: str) -> None:
        self.report = Report(file)
        self.file = file

    def add(self, code: str, zh: str, en: str, *, sheet: str | None = None, row: int | None = None,
            column: int | None = None, field: str | None = None, value: str | None = None) -> None:
        where_file = f"{self.file}#{sheet}" if sheet else self.file
        self.report.violation(code, where_file, zh, en, row=row, column=column, field=field, value=value)

    def __bool__(self) -> bool:
        return bool(self.report.problems)

    def raise_if_any(self, what: str) -> None:
        if self.report.problems:
            problems = []
            for p in self.report.problems:
                d = p.to_json()
                file, _, sheet = p.file.partition("#")
                d["file"] = file
                if sheet:
                    d["sheet"] = sheet
                if p.column is not None:
                    d["column_letter"] = column_letter(p.column)
                problems.append(d)
            problems.sort(key=lambda d: (d.get("sheet", ""), d.get("row") or 0, d.get("column") or 0))
            n = len(problems)
            raise ImportRejectedError(
                f"the {what} has {n} problem(s); nothing was stored / {what_zh(what)}有 {n} 处问题，未保存任何内容",
                file=self.file, problems=problems)


def what_zh(what: str) -> str:
    return {"plan": "审定目录", "catalogue": "月度目录", "units": "承建单位表"}.get(what, what)


def _decode(data: bytes, problems: Problems) -> tuple[str | None, str | None]:
    """UTF-8 (a BOM is dropped) or GB18030 (which covers GBK and GB2312); anything else is refused
    naming the byte where both failed."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb:
            problems.add("encoding",
                         f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（UTF-8 在第 {utf8.start + 1} 字节出错，GB18030 在第 {gb.start + 1} 字节出错）；请另存为 UTF-8 CSV 或 XLSX",
                         f"the file is neither UTF-8 nor GB18030/GBK (UTF-8 fails at byte {utf8.start + 1}, GB18030 at byte {gb.start + 1}); save it as UTF-8 CSV or XLSX",
                         field="encoding")
            return None, None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_grid(filename: str, data: bytes, problems: Problems) -> tuple[str, str | None, list[list[str]]]:
    """(sheet name, encoding, rows of cell texts). XLSX: the first sheet; merged cells are problems."""
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    if is_xlsx:
        return _read_xlsx(filename, data, problems)
    text, encoding = _decode(data, problems)
    if text is None:
        return "", None, []
    grid = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            if i > MAX_ROWS:
                problems.add("too_many_rows", f"超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows", row=i + 1)
                break
            grid.append(row)
    except csv.Error as exc:
        problems.add("csv_syntax", f"CSV 格式错误：{exc}", f"CSV syntax error: {exc}", row=len(grid) + 1)
    return "", encoding, grid


def _read_xlsx(filename: str, data: bytes, problems: Problems) -> tuple[str, str | None, list[list[str]]]:
    import openpyxl

    try:  # an XLSX is a zip: its unpacked size is checked before openpyxl unpacks it
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        problems.add("invalid_xlsx", f"不是可读的 XLSX 文件：{exc}", f"not a readable XLSX file: {exc}")
        return "", None, []
    if unpacked > MAX_UNPACKED_XLSX or unpacked > MAX_XLSX_RATIO * max(len(data), 1):
        problems.add("xlsx_too_large", f"XLSX 解压后 {unpacked} 字节，超过上限", f"the XLSX unpacks to {unpacked} bytes, over the limit "
                     f"({MAX_UNPACKED_XLSX} bytes, ratio {MAX_XLSX_RATIO})")
        return "", None, []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        problems.add("invalid_xlsx", f"不是可读的 XLSX 文件：{exc}", f"not a readable XLSX file: {exc}")
        return "", None, []
    ws = wb.worksheets[0]
    if ws.max_row > MAX_ROWS + 1:
        problems.add("too_many_rows", f"超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows", sheet=ws.title)
        return ws.title, None, []
    for rng in ws.merged_cells.ranges:
        problems.add("merged_cells",
                     f"合并单元格 {rng.coord}：请取消合并，每行每列各填一个值",
                     f"merged cells {rng.coord}: unmerge them, one value per row and column",
                     sheet=ws.title, row=rng.min_row, column=rng.min_col, value=rng.coord)
    grid = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    return ws.title, None, grid


def read_table(filename: str, data: bytes, columns: tuple[Column, ...], problems: Problems) -> Table:
    """The rows with their cells mapped to ``columns`` by the header row (Chinese or English names)."""
    sheet, encoding, grid = read_grid(filename, data, problems)
    table = Table(filename, sheet, encoding)
    if not grid and not problems:
        problems.add("empty_file", "文件为空", "the file is empty", sheet=sheet or None)
    if not grid:
        return table
    header = [h.strip().lower() for h in grid[0]]
    for col in columns:
        for i, h in enumerate(header):
            if h in col.names():
                table.header_columns[col.key] = i + 1
                break
        else:
            if col.required:
                problems.add("missing_column", f"缺少必填列“{col.zh}”（{col.key}）", f"the mandatory column '{col.en}' ({col.key}) is missing",
                             sheet=sheet or None, row=1, field=col.key)
    for r, raw in enumerate(grid[1:], start=2):
        if not any(c.strip() for c in raw):
            continue  # a blank line between rows, or Excel's trailing empty rows
        row = {}
        for col in columns:
            i = table.header_columns.get(col.key)
            if i is None:
                continue
            text = raw[i - 1].strip() if i - 1 < len(raw) else ""
            row[col.key] = Cell(text, r, i)
            if col.required and not text:
                problems.add("empty_cell", f"“{col.zh}”为空", f"'{col.en}' is empty", sheet=sheet or None, row=r, column=i,
                             field=col.key)
            elif text and col.kind == "count" and not (text.isdigit() and int(text) < 10**9):
                problems.add("not_a_count", f"“{col.zh}”应为非负整数：{text}", f"'{col.en}' must be a whole number ≥ 0: {text}",
                             sheet=sheet or None, row=r, column=i, field=col.key, value=text)
            elif text and col.kind == "date" and parse_date(text) is None:
                problems.add("impossible_date", f"“{col.zh}”不是有效日期（YYYY-MM-DD）：{text}",
                             f"'{col.en}' is not a real date (YYYY-MM-DD): {text}", sheet=sheet or None, row=r, column=i,
                             field=col.key, value=text)
        table.rows.append(row)
    if len(grid) == 1 and not problems:
        problems.add("no_rows", "只有表头，没有数据行", "only a header row, no data", sheet=sheet or None, row=1)
    return table


def parse_date(text: str) -> date | None:
    t = text.strip().replace("/", "-").replace(".", "-")
    parts = t.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
