"""Submission package format v2 (ADR 0021): serials, newspapers, 民国 books, reels per issue, colour film.

A v2 package declares ``"package_version": "2"`` in submission.json; without it a package is v1
and reads exactly as before. v2 keeps every v1 table and adds:

- ``serials.csv``: serial titles (periodicals, newspapers) with ISSN / CN number where known,
  frequency, publisher, place, start and end dates;
- ``issues.csv``: the issues of a serial (volume, number, whole number, date, pages); a
  newspaper's issues are daily: their date is a day;
- ``articles.csv``: articles of an issue (title, authors, page range);
- ``issue_frames.csv``: frame ranges per issue on a reel (a reel holds many issues);
- in ``books.csv``: ``material_type`` (a 民国 book has modern pagination: ``page_count`` instead of
  juan), ``publisher``, ``place``; in ``frames.csv``: ``page_start``/``page_end`` instead of juan
  and folio; in ``reels.csv``: ``serial_id`` (a serial's reel instead of a book's) and ``colour``
  (black-and-white or colour film); in ``files.csv``: ``issue_id`` and ``page``.

Everything here works row by row (a row in, problems or triples out); the cross-table checks keep
only id sets and small maps (id → serial, id → pages), so a streaming reader can call them as it
goes. The reader and the graph builder call this module through three small hooks:
:func:`tables_for`, :func:`check_package` and :func:`build`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

import pyoxigraph as ox

from kg.namespaces import DCTERMS, GUJIV, ID, PREMIS, PROV, XSD
from kg.package import vocab
from kg.package.rdf import INT, LABEL, VALUE, A, L, N, bf, g  # the v1 builder's terms
from kg.package.report import Report
from kg.package.schema import BOOKS, COLLATION, FILES, FRAMES, GAIJI, INSPECTIONS, REELS, Column, Kind, Need, Table

VERSION = "2"
SUPPORTED_VERSIONS = ("1", VERSION)
M, R, O = Need.MANDATORY, Need.RECOMMENDED, Need.OPTIONAL
_ID = r"^[A-Za-z0-9_.-]+$"


def _extend(table: Table, *columns: Column, relax: Iterable[str] = ()) -> Table:
    """A v1 table with columns added and some mandatory ones made optional (checked per row instead)."""
    relax = set(relax)
    cols = tuple(replace(c, need=O) if c.name in relax else c for c in table.columns)
    return replace(table, columns=cols + columns)


BOOKS_V2 = _extend(BOOKS,
    Column("material_type", "文献类型", Kind.CONCEPT, O, scheme="material-type",
           en="古籍 (default) or 民国图书 (a Republican-era book, with page_count instead of juan_count)"),
    Column("page_count", "页数", Kind.INT, O, en="number of pages (modern pagination); mandatory for a 民国 book"),
    Column("publisher", "出版者", need=O, en="publisher, e.g. 商務印書館"),
    Column("place", "出版地", need=O, en="place of publication"),
    relax=("juan_count", "responsibility_dynasty", "layout", "binding", "sibu"))
ANCIENT_ONLY = ("responsibility_dynasty", "layout", "binding", "sibu")  # recommended for a 古籍 only

REELS_V2 = _extend(REELS,
    Column("serial_id", "连续出版物", Kind.REF, O, ref="serials", en="a serials.csv id: the reel films issues of this serial (instead of book_id)"),
    Column("colour", "色彩", Kind.CONCEPT, O, scheme="film-colour", en="黑白 (black-and-white) / 彩色 (colour film)"),
    relax=("book_id",))

FRAMES_V2 = _extend(FRAMES,
    Column("page_start", "起页", Kind.INT, O, en="first page (modern pagination), instead of juan and folios"),
    Column("page_end", "止页", Kind.INT, O, en="last page"),
    relax=("juan", "folio_start", "folio_end"))

FILES_V2 = _extend(FILES,
    Column("issue_id", "期次", Kind.REF, O, ref="issues", en="an issues.csv id: a file of this issue (instead of book_id)"),
    Column("page", "页", Kind.INT, O, en="the page an image shows (modern pagination)"),
    relax=("book_id",))

SERIALS = Table("serials.csv", "连续出版物（期刊、报纸）", (
    Column("serial_id", "本包内编号", need=M, unique=True, pattern=_ID, en="id of the serial inside this package"),
    Column("title", "题名", need=M, en="title proper, e.g. 申報"),
    Column("material_type", "文献类型", Kind.CONCEPT, M, scheme="material-type", en="期刊 (periodical) or 报纸 (newspaper)"),
    Column("issn", "ISSN", need=O, pattern=r"^\d{4}-\d{3}[\dX]$", en="ISSN where known, e.g. 0254-4164 (check digit verified)"),
    Column("cn", "国内统一刊号", need=O, pattern=r"^CN ?\d{2}-\d{4}(/[A-Z0-9.]+)?$", en="CN number where known, e.g. CN 11-1234/G2"),
    Column("frequency", "刊期", Kind.CONCEPT, R, scheme="frequency", en="日刊 / 周刊 / 半月刊 / 月刊 / 季刊 / 不定期"),
    Column("publisher", "出版者", need=R, en="publisher"),
    Column("place", "出版地", need=R, en="place of publication"),
    Column("start_date", "创刊日期", Kind.DATE, R, en="first issue, YYYY, YYYY-MM or YYYY-MM-DD"),
    Column("end_date", "终刊日期", Kind.DATE, O, en="last issue (empty while it appears)"),
    Column("holding_library", "收藏单位", need=R, en="holding library"),
    Column("call_number", "索书号", need=O),
    Column("notes", "附注", need=O),
), required=False)

ISSUES = Table("issues.csv", "期次", (
    Column("issue_id", "期次编号", need=M, unique=True, pattern=_ID, en="id of the issue inside this package"),
    Column("serial_id", "连续出版物", Kind.REF, M, ref="serials", en="a serials.csv id"),
    Column("volume", "卷", Kind.INT, O, en="volume number (enumeration, first level)"),
    Column("number", "期/号", Kind.INT, R, en="issue number (enumeration, second level)"),
    Column("whole_number", "总号", Kind.INT, O, en="whole number since the first issue"),
    Column("date", "出版日期", Kind.DATE, M, en="chronology: YYYY-MM-DD (a newspaper's issue is a day), YYYY-MM or YYYY"),
    Column("date_as_written", "出版日期（原题）", need=O, en="date as printed, e.g. 中華民國二十四年三月一日"),
    Column("pages", "页数", Kind.INT, R, en="number of pages"),
    Column("title", "特刊题名", need=O, en="title of a special issue"),
), required=False)

ARTICLES = Table("articles.csv", "篇目", (
    Column("article_id", "篇目编号", need=M, unique=True, pattern=_ID),
    Column("issue_id", "期次", Kind.REF, M, ref="issues", en="an issues.csv id"),
    Column("title", "篇名", need=M),
    Column("authors", "著者", Kind.LIST, R, en="authors, separated by ；"),
    Column("section", "栏目", need=O, en="column or section, e.g. 社論"),
    Column("page_start", "起页", Kind.INT, M),
    Column("page_end", "止页", Kind.INT, M),
), required=False)

ISSUE_FRAMES = Table("issue_frames.csv", "期次画幅范围", (
    Column("reel_id", "卷片号", Kind.REF, M, ref="reels", en="a reels.csv id of a reel of the issue's serial"),
    Column("issue_id", "期次", Kind.REF, M, ref="issues"),
    Column("page_start", "起页", Kind.INT, R),
    Column("page_end", "止页", Kind.INT, R),
    Column("frame_start", "起始画幅", Kind.INT, M),
    Column("frame_end", "终止画幅", Kind.INT, M),
), required=False)

TABLES_V2 = (BOOKS_V2, COLLATION, GAIJI, REELS_V2, FRAMES_V2, INSPECTIONS, FILES_V2, SERIALS, ISSUES, ARTICLES, ISSUE_FRAMES)
NEW_TABLES = (SERIALS, ISSUES, ARTICLES, ISSUE_FRAMES)
SUBMISSION_COUNTS_V2 = ("serials", "issues", "articles")


def version_of(submission: dict | None) -> str:
    """The format version a submission declares ("1" when it says nothing)."""
    v = (submission or {}).get("package_version")
    return VERSION if str(v) == VERSION else "1"


def tables_for(version: str) -> tuple[Table, ...]:
    """The tables a package of this format version has (hook for the reader)."""
    from kg.package.schema import TABLES

    return TABLES_V2 if version == VERSION else TABLES


# -- row checks: a row in, problems out ------------------------------------------------------------

def _int(value: str) -> int | None:
    v = value.strip()
    return int(v) if re.fullmatch(r"-?\d+", v) else None


def issn_ok(issn: str) -> bool:
    """ISSN check digit (ISO 3297): weights 8..2, mod 11, 10 written X."""
    digits = issn.replace("-", "")
    if not re.fullmatch(r"\d{7}[\dX]", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1)))
    check = (11 - total % 11) % 11
    return digits[7] == ("X" if check == 10 else str(check))


def _range(report: Report, file: str, row, a_col: str, b_col: str, what_zh: str, what_en: str) -> tuple[int, int] | None:
    a, b = _int(row.get(a_col)), _int(row.get(b_col))
    if a is None or b is None:
        return None
    if a < 1 or b < a:
        report.violation("bad_range", file, f"{what_zh} {a}-{b} 无效（起始须≥1且不大于终止）",
                         f"{what_en} {a}-{b} is invalid (the start must be >= 1 and not after the end)", row=row.line, field=b_col)
        return None
    return a, b


def check_row(table: str, row, report: Report) -> None:
    """The v2 checks of one row that need no other row (after the column checks of the schema)."""
    file = f"data/{table}.csv"
    v = row.get
    if table == "books":
        material = vocab.lookup("material-type", v("material_type")) if v("material_type").strip() else None
        republican = material is not None and material.endswith("/republican-book")
        if not republican and not v("juan_count").strip():
            report.violation("missing_value", file, "必填项 juan_count（卷数）为空（古籍按卷著录；民国图书请填 material_type 与 page_count）",
                             "mandatory field juan_count (卷数) is empty (an ancient book is described in juan; for a 民国 book give material_type and page_count)",
                             row=row.line, field="juan_count")
        if not republican:
            for col in ANCIENT_ONLY:
                if not v(col).strip():
                    c = BOOKS.column(col)
                    report.warning("recommended_value", file, f"建议填写 {col}（{c.zh}）", f"recommended field {col} ({c.zh}) is empty",
                                   row=row.line, field=col)
        if republican and not v("page_count").strip():
            report.violation("missing_value", file, "民国图书须填写 page_count（页数）", "a 民国 book needs page_count (页数): it has pages, not juan",
                             row=row.line, field="page_count")
    elif table == "reels":
        if bool(v("book_id").strip()) == bool(v("serial_id").strip()):
            report.violation("reel_owner", file, "胶卷须且只须填写 book_id 或 serial_id 之一", "a reel films either a book (book_id) or a serial (serial_id): give exactly one",
                             row=row.line, field="serial_id" if v("serial_id").strip() else "book_id")
    elif table == "frames":
        has_juan, has_pages = bool(v("juan").strip()), bool(v("page_start").strip() or v("page_end").strip())
        if not has_juan and not has_pages:
            report.violation("missing_value", file, "须填写 juan（卷）或 page_start/page_end（页）", "give juan (古籍) or page_start/page_end (民国 book)",
                             row=row.line, field="juan")
        if has_juan:
            for col in ("folio_start", "folio_end"):
                if not v(col).strip():
                    c = FRAMES.column(col)
                    report.warning("recommended_value", file, f"建议填写 {col}（{c.zh}）", f"recommended field {col} ({c.zh}) is empty",
                                   row=row.line, field=col)
        if has_pages:
            _range(report, file, row, "page_start", "page_end", "页码范围", "page range")
    elif table == "files":
        if bool(v("book_id").strip()) == bool(v("issue_id").strip()):
            report.violation("file_owner", file, "文件须且只须填写 book_id 或 issue_id 之一", "a file belongs to a book (book_id) or an issue (issue_id): give exactly one",
                             row=row.line, field="issue_id" if v("issue_id").strip() else "book_id")
        if v("page").strip() and (_int(v("page")) or 0) < 1:
            report.violation("bad_range", file, "页码须≥1", "page must be >= 1", row=row.line, field="page", value=v("page"))
    elif table == "serials":
        issn = v("issn").strip()
        if re.fullmatch(r"\d{4}-\d{3}[\dX]", issn) and not issn_ok(issn):
            report.violation("bad_issn", file, f"ISSN {issn} 校验位不符", f"ISSN {issn} has a wrong check digit", row=row.line, field="issn", value=issn)
        start, end = v("start_date").strip(), v("end_date").strip()
        if start and end and _valid(start) and _valid(end) and _first_day(end) < _first_day(start):
            report.violation("bad_range", file, f"终刊日期 {end} 早于创刊日期 {start}", f"end_date {end} is before start_date {start}",
                             row=row.line, field="end_date", value=end)
    elif table == "issues":
        if v("pages").strip() and (_int(v("pages")) or 0) < 1:
            report.violation("bad_range", file, "页数须≥1", "pages must be >= 1", row=row.line, field="pages", value=v("pages"))
    elif table == "articles":
        _range(report, file, row, "page_start", "page_end", "页码范围", "page range")
    elif table == "issue_frames":
        _range(report, file, row, "frame_start", "frame_end", "画幅范围", "frame range")
        _range(report, file, row, "page_start", "page_end", "页码范围", "page range")


def _valid(value: str) -> bool:
    from kg.package.reader import _valid_date

    return _valid_date(value)


def _first_day(value: str) -> date:
    parts = [int(p) for p in value.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _last_day(value: str) -> date:
    import calendar

    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return date(*parts)
    month = parts[1] if len(parts) > 1 else 12
    return date(parts[0], month, calendar.monthrange(parts[0], month)[1])


# -- cross-table checks: id sets and small maps only -------------------------------------------------

def check_package(pkg, report: Report) -> None:
    """Every v2 check of a read package (hook for the reader, after the v1 cross-table checks)."""
    if version_of(pkg.submission) != VERSION:
        return
    for name in ("books", "reels", "frames", "files", *(t.file.removesuffix(".csv") for t in NEW_TABLES)):
        for row in pkg.rows(name):
            check_row(name, row, report)
    serials = {r.get("serial_id").strip(): r for r in pkg.rows("serials") if r.get("serial_id").strip()}
    material = {s: (vocab.lookup("material-type", r.get("material_type")) or "") for s, r in serials.items()}
    issues: dict[str, tuple[str, int | None, int]] = {}  # issue id -> (serial id, pages, line)
    reels = {r.get("reel_id").strip(): r.get("serial_id").strip() for r in pkg.rows("reels") if r.get("reel_id").strip()}

    def dangling(file: str, row, col: str, target: str, known) -> bool:
        value = row.get(col).strip()
        if value and value not in known:
            report.violation("dangling_reference", file, f"{col}“{value}”在 {target} 中不存在", f"{col} {value!r} does not exist in {target}",
                             row=row.line, field=col, value=value)
            return True
        return False

    for s, r in serials.items():
        if material[s] and not material[s].endswith(("/periodical", "/newspaper")):
            report.violation("not_a_serial", "data/serials.csv", "连续出版物的文献类型须为期刊或报纸",
                             "a serial's material_type is 期刊 (periodical) or 报纸 (newspaper)", row=r.line, field="material_type",
                             value=r.get("material_type").strip())
    for row in pkg.rows("reels"):
        dangling("data/reels.csv", row, "serial_id", "serials.csv", serials)
    for row in pkg.rows("issues"):
        s = row.get("serial_id").strip()
        dangling("data/issues.csv", row, "serial_id", "serials.csv", serials)
        pages = _int(row.get("pages"))
        issues[row.get("issue_id").strip()] = (s, pages if pages is not None and pages >= 1 else None, row.line)
        day = row.get("date").strip()
        if s in serials and day and _valid(day):
            if material[s].endswith("/newspaper") and len(day) != 10:
                report.violation("issue_not_daily", "data/issues.csv", f"报纸每期须注明出版日（YYYY-MM-DD），此为 {day}",
                                 f"a newspaper's issue is dated to the day (YYYY-MM-DD), not {day}", row=row.line, field="date", value=day)
            start, end = serials[s].get("start_date").strip(), serials[s].get("end_date").strip()
            if start and end and _valid(start) and _valid(end) and _first_day(end) < _first_day(start):
                continue  # the run itself is wrong (reported on serials.csv): no issue is measured by it
            if start and _valid(start) and _last_day(day) < _first_day(start) or end and _valid(end) and _first_day(day) > _last_day(end):
                report.violation("issue_out_of_run", "data/issues.csv", f"出版日期 {day} 不在该刊起讫日期（{start or '…'} 至 {end or '…'}）之内",
                                 f"date {day} lies outside the serial's run ({start or '…'} to {end or '…'})", row=row.line, field="date", value=day)
    for row in pkg.rows("articles"):
        if dangling("data/articles.csv", row, "issue_id", "issues.csv", issues):
            continue
        _within_issue(report, "data/articles.csv", row, issues)
    for row in pkg.rows("files"):
        dangling("data/files.csv", row, "issue_id", "issues.csv", issues)
    for row in pkg.rows("issue_frames"):
        bad = dangling("data/issue_frames.csv", row, "issue_id", "issues.csv", issues)
        bad = dangling("data/issue_frames.csv", row, "reel_id", "reels.csv", reels) or bad
        if bad:
            continue
        reel, issue = row.get("reel_id").strip(), row.get("issue_id").strip()
        if not reels.get(reel):
            report.violation("issue_frames_on_book_reel", "data/issue_frames.csv", f"胶卷 {reel} 是图书的胶卷（无 serial_id），不能著录期次画幅",
                             f"reel {reel} films a book (it has no serial_id): issue frame ranges belong on a serial's reel",
                             row=row.line, field="reel_id", value=reel)
        elif reels.get(reel) != issues[issue][0] and reels.get(reel) in serials and issues[issue][0] in serials:
            report.violation("reel_of_other_serial", "data/issue_frames.csv",
                             f"胶卷 {reel} 不是期次 {issue} 所属连续出版物（{issues[issue][0]}）的胶卷",
                             f"reel {reel} does not film the serial of issue {issue} ({issues[issue][0]}): its serial_id is {reels.get(reel) or 'empty'}",
                             row=row.line, field="reel_id", value=reel)
        _within_issue(report, "data/issue_frames.csv", row, issues)
    for row in pkg.rows("frames"):
        reel = row.get("reel_id").strip()
        if reels.get(reel):
            report.violation("frames_on_serial_reel", "data/frames.csv", f"胶卷 {reel} 是连续出版物的胶卷，其画幅范围请著录于 issue_frames.csv",
                             f"reel {reel} films a serial: its frame ranges go in issue_frames.csv (per issue), not frames.csv",
                             row=row.line, field="reel_id", value=reel)
    _check_overlaps(pkg, report)
    counts = pkg.submission.get("counts")
    if isinstance(counts, dict):
        for key in SUBMISSION_COUNTS_V2:
            if key in counts and counts[key] != len(pkg.rows(key)):
                report.violation("count_mismatch", "data/submission.json", f"提交说明中 {key} 数量为 {counts[key]}，实际为 {len(pkg.rows(key))}",
                                 f"counts.{key} says {counts[key]} but {key}.csv has {len(pkg.rows(key))} rows", field=f"counts.{key}")


def _within_issue(report: Report, file: str, row, issues: dict) -> None:
    pages = issues[row.get("issue_id").strip()][1]
    end = _int(row.get("page_end"))
    if pages is not None and end is not None and end > pages:
        report.violation("page_out_of_issue", file, f"止页 {end} 超出该期页数 {pages}", f"page_end {end} is beyond the issue's {pages} pages",
                         row=row.line, field="page_end", value=str(end))


def _check_overlaps(pkg, report: Report) -> None:
    """Issue frame ranges on one reel overlap neither each other nor a book's frame ranges there
    (frame ranges of frames.csv among themselves are checked by the v1 reader)."""
    by_reel: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
    for name in ("frames", "issue_frames"):
        for row in pkg.rows(name):
            a, b = _int(row.get("frame_start")), _int(row.get("frame_end"))
            if a is None or b is None or a < 1 or b < a:
                continue
            by_reel[row.get("reel_id").strip()].append((a, b, name, row.line))
    for reel, ranges in by_reel.items():
        ranges.sort()
        for (a1, b1, n1, l1), (a2, b2, n2, l2) in zip(ranges, ranges[1:]):
            if a2 <= b1 and "issue_frames" in (n1, n2):
                report.violation("overlapping_frames", f"data/{n2}.csv",
                                 f"胶卷 {reel} 上的画幅 {a2}-{b2} 与 {n1}.csv 第 {l1} 行的 {a1}-{b1} 重叠",
                                 f"frames {a2}-{b2} on reel {reel} overlap frames {a1}-{b1} of {n1}.csv row {l1}",
                                 row=l2, field="frame_start", value=reel)


# -- RDF -----------------------------------------------------------------------------------------

ISSUANCE_SERIAL = N("http://id.loc.gov/vocabulary/issuance/serl")


def _slug(value: str) -> str:
    from urllib.parse import quote

    return quote(value.strip(), safe="")


def serial_key(batch: str, serial_id: str) -> str:
    return f"{_slug(batch)}/{_slug(serial_id)}"


def serial_work(batch: str, s: str) -> str: return f"{ID}work/serial/{serial_key(batch, s)}"
def serial_instance(batch: str, s: str) -> str: return f"{ID}serial/{serial_key(batch, s)}"
def issue_iri(batch: str, i: str) -> str: return f"{ID}issue/{serial_key(batch, i)}"
def article_iri(batch: str, a: str) -> str: return f"{ID}article/{serial_key(batch, a)}"


def _date(value: str) -> ox.Literal:
    v = value.strip()
    return L(v, datatype=N(XSD + {4: "gYear", 7: "gYearMonth", 10: "date"}.get(len(v), "string")))


def enumeration(volume: str, number: str, whole: str = "") -> str:
    """The issue's enumeration as printed in a catalogue: 第3卷第5期 (總第25號)."""
    parts = (f"第{volume.strip()}卷" if volume.strip() else "") + (f"第{number.strip()}期" if number.strip() else "")
    if whole.strip():
        parts += f"（總第{whole.strip()}號）"
    return parts


def build(pg, pkg, iris) -> None:
    """The v2 triples (hook for kg.package.rdf.build, after the v1 books, films and files)."""
    if version_of(pkg.submission) != VERSION:
        return
    batch = iris.batch
    _books_v2(pg, pkg, iris)
    serials = {r.get("serial_id").strip(): r for r in pkg.rows("serials")}
    issues = {r.get("issue_id").strip(): r for r in pkg.rows("issues")}
    submission = N(f"{ID}submission/{_slug(batch)}")
    for s, row in serials.items():
        _serial(pg, batch, s, row, submission)
    for i, row in issues.items():
        if row.get("serial_id").strip() in serials:
            _issue(pg, batch, i, row, serials[row.get("serial_id").strip()])
    for row in pkg.rows("articles"):
        if row.get("issue_id").strip() in issues:
            serial_row = serials.get(issues[row.get("issue_id").strip()].get("serial_id").strip())
            mt = vocab.lookup("material-type", serial_row.get("material_type")) if serial_row is not None else None
            _article(pg, pkg, batch, row, mt)
    _serial_film(pg, pkg, iris, serials, issues)
    _issue_files(pg, pkg, iris, serials, issues)


def _books_v2(pg, pkg, iris) -> None:
    F = "data/books.csv"
    for row in pkg.rows("books"):
        b = row.get("book_id").strip()
        if b not in iris.books:
            continue
        inst = N(iris.instance(b))
        mt = vocab.lookup("material-type", row.get("material_type")) if row.get("material_type").strip() else None
        if mt:
            pg.add(inst, pg.col(F, g("materialType"), "material_type"), N(mt))
            pg.add(N(iris.work(b)), g("materialType"), N(mt))
        if (n := _int(row.get("page_count"))) is not None:
            pg.add(inst, pg.col(F, g("pageCount"), "page_count"), L(str(n), datatype=INT))
        for col, pred in (("publisher", "publisherStatement"), ("place", "placeStatement")):
            if row.get(col).strip():
                pg.add(inst, pg.col(F, g(pred), col), L(row.get(col).strip(), language="zh"))
    Fr = "data/frames.csv"
    for row in pkg.rows("frames"):
        reel_id = row.get("reel_id").strip()
        a, b = row.get("frame_start").strip(), row.get("frame_end").strip()
        if reel_id not in iris.reels or not (a.isdigit() and b.isdigit()):
            continue
        fr = N(f"{iris.reel(reel_id)}/frames/{a}-{b}")
        for col, pred in (("page_start", "startPage"), ("page_end", "endPage")):
            if (n := _int(row.get(col))) is not None:
                pg.add(fr, pg.col(Fr, g(pred), col), L(str(n), datatype=INT))
    F = "data/reels.csv"
    for row in pkg.rows("reels"):
        reel_id = row.get("reel_id").strip()
        c = vocab.lookup("film-colour", row.get("colour")) if row.get("colour").strip() else None
        if c and reel_id:
            pg.add(N(iris.reel(reel_id)), pg.col(F, g("filmColour"), "colour"), N(c))


def _serial(pg, batch: str, s: str, row, submission) -> None:
    F = "data/serials.csv"
    v = row.get
    work = pg.node(serial_work(batch, s), row, F)
    inst = pg.node(serial_instance(batch, s), row, F)
    title = v("title").strip()
    mt = vocab.lookup("material-type", v("material_type"))
    pg.add(work, A, bf("Work"))
    pg.add(work, LABEL, L(title, language="zh"))
    pg.add(work, DCT_IDENTIFIER, L(s))
    t = N(f"{work.value}/title")
    pg.add(work, bf("title"), t)
    pg.add(t, A, bf("Title"))
    pg.add(t, bf("mainTitle"), L(title, language="zh"))
    if mt:
        pg.add(work, pg.col(F, g("materialType"), "material_type"), N(mt))
        pg.add(inst, g("materialType"), N(mt))
    pg.add(inst, A, bf("Instance"))
    pg.add(inst, A, g("Serial"))
    pg.add(inst, bf("instanceOf"), work)
    pg.add(inst, bf("issuance"), ISSUANCE_SERIAL)
    pg.add(inst, LABEL, L(title, language="zh"))
    pg.add(inst, g("submittedIn"), submission)
    if (c := vocab.lookup("frequency", v("frequency")) if v("frequency").strip() else None):
        pg.add(inst, pg.col(F, bf("frequency"), "frequency"), N(c))
    for col, cls in (("issn", "Issn"), ("cn", "CnNumber")):
        if v(col).strip():
            ident = N(f"{inst.value}/{col}")
            pg.add(inst, pg.col(F, bf("identifiedBy"), col), ident)
            pg.add(ident, A, bf(cls) if cls == "Issn" else g(cls))
            pg.add(ident, VALUE, L(v(col).strip()))
    if v("publisher").strip() or v("place").strip() or v("start_date").strip():
        pub = N(f"{inst.value}/publication")
        pg.add(inst, bf("provisionActivity"), pub)
        pg.add(pub, A, bf("Publication"))
        if v("publisher").strip():
            pg.add(pub, pg.col(F, bf("agent"), "publisher"), _agent(pg, v("publisher")))
        if v("place").strip():
            place = N(f"{ID}agent/place/{_slug(v('place'))}")
            pg.add(pub, pg.col(F, bf("place"), "place"), place)
            pg.add(place, A, bf("Place"))
            pg.add(place, LABEL, L(v("place").strip(), language="zh"))
    for col, pred in (("start_date", "firstIssueDate"), ("end_date", "lastIssueDate")):
        if v(col).strip():
            pg.add(inst, pg.col(F, g(pred), col), _date(v(col)))
    if v("holding_library").strip():
        item = pg.node(f"{inst.value}/holding", row, F)
        pg.add(item, A, bf("Item"))
        pg.add(item, bf("itemOf"), inst)
        pg.add(item, pg.col(F, bf("heldBy"), "holding_library"), _agent(pg, v("holding_library")))
        pg.add(item, LABEL, L(f"{title} ({v('holding_library').strip()})", language="zh"))
        if v("call_number").strip():
            pg.add(item, pg.col(F, g("callNumber"), "call_number"), L(v("call_number").strip()))
    if v("notes").strip():
        pg.add(inst, pg.col(F, bf("note"), "notes"), L(v("notes").strip(), language="zh"))


DCT_IDENTIFIER = N(DCTERMS + "identifier")


def _agent(pg, name: str) -> ox.NamedNode:
    node = N(f"{ID}agent/org/{_slug(name)}")
    pg.add(node, A, bf("Organization"))
    pg.add(node, A, N(PROV + "Organization"))
    pg.add(node, LABEL, L(name.strip(), language="zh"))
    return node


def _person(pg, name: str) -> ox.NamedNode:
    node = N(f"{ID}agent/person/{_slug(name)}")
    pg.add(node, A, bf("Person"))
    pg.add(node, A, N(PROV + "Person"))
    pg.add(node, LABEL, L(name.strip(), language="zh"))
    return node


def _issue(pg, batch: str, i: str, row, serial_row) -> None:
    F = "data/issues.csv"
    v = row.get
    s = serial_row.get("serial_id").strip()
    issue = pg.node(issue_iri(batch, i), row, F)
    inst = N(serial_instance(batch, s))
    mt = vocab.lookup("material-type", serial_row.get("material_type"))
    pg.add(issue, A, bf("Instance"))
    pg.add(issue, A, g("Issue"))
    pg.add(issue, bf("instanceOf"), N(serial_work(batch, s)))
    pg.add(issue, bf("partOf"), inst)
    pg.add(inst, bf("hasPart"), issue)
    pg.add(issue, DCT_IDENTIFIER, L(i))
    if mt:
        pg.add(issue, g("materialType"), N(mt))
    enum = enumeration(v("volume"), v("number"), v("whole_number"))
    day = v("date").strip()
    pg.add(issue, LABEL, L(" ".join(x for x in (serial_row.get("title").strip(), day, enum) if x), language="zh"))
    if enum:
        e = N(f"{issue.value}/enumeration")
        pg.add(issue, bf("enumerationAndChronology"), e)
        pg.add(e, A, bf("Enumeration"))
        pg.add(e, LABEL, L(enum, language="zh"))
    if day:
        c = N(f"{issue.value}/chronology")
        pg.add(issue, bf("enumerationAndChronology"), c)
        pg.add(c, A, bf("Chronology"))
        pg.add(c, LABEL, L(v("date_as_written").strip() or day, language="zh"))
        pg.add(issue, pg.col(F, g("issueDate"), "date"), _date(day))
    for col, pred in (("volume", "volumeNumber"), ("number", "issueNumber"), ("whole_number", "wholeNumber"), ("pages", "pageCount")):
        if (n := _int(v(col))) is not None:
            pg.add(issue, pg.col(F, g(pred), col), L(str(n), datatype=INT))
    if v("date_as_written").strip():
        pg.add(issue, pg.col(F, bf("provisionActivityStatement"), "date_as_written"), L(v("date_as_written").strip(), language="zh"))
    if v("title").strip():
        pg.add(issue, pg.col(F, g("issueTitle"), "title"), L(v("title").strip(), language="zh"))


def _article(pg, pkg, batch: str, row, material: str | None) -> None:
    F = "data/articles.csv"
    v = row.get
    art = pg.node(article_iri(batch, v("article_id")), row, F)
    issue = N(issue_iri(batch, v("issue_id")))
    pg.add(art, A, bf("Work"))
    pg.add(art, A, g("Article"))
    pg.add(art, pg.col(F, LABEL, "title"), L(v("title").strip(), language="zh"))
    pg.add(art, DCT_IDENTIFIER, L(v("article_id").strip()))
    t = N(f"{art.value}/title")
    pg.add(art, pg.col(F, bf("title"), "title"), t)
    pg.add(t, A, bf("Title"))
    pg.add(t, bf("mainTitle"), L(v("title").strip(), language="zh"))
    pg.add(art, bf("partOf"), issue)
    if material:
        pg.add(art, g("materialType"), N(material))
    pg.add(issue, bf("hasPart"), art)
    for n, name in enumerate((x for x in re.split(r"[；;]", v("authors")) if x.strip()), start=1):
        contribution = N(f"{art.value}/contribution/{n}")
        pg.add(art, pg.col(F, bf("contribution"), "authors"), contribution)
        pg.add(contribution, A, bf("Contribution"))
        pg.add(contribution, bf("agent"), _person(pg, name))
    if v("section").strip():
        pg.add(art, pg.col(F, g("section"), "section"), L(v("section").strip(), language="zh"))
    for col, pred in (("page_start", "startPage"), ("page_end", "endPage")):
        if (n := _int(v(col))) is not None:
            pg.add(art, pg.col(F, g(pred), col), L(str(n), datatype=INT))


def _serial_film(pg, pkg, iris, serials: dict, issues: dict) -> None:
    """A serial's reels: per film generation a bf:Microform Instance of the serial with a
    guji:MicrofilmCopy item on its reels; per issue a guji:FrameRange (guji:showsIssue)."""
    from kg.package.rdf import _datetime_literal

    F = "data/reels.csv"
    batch = iris.batch
    declared: set[tuple[str, str]] = set()
    for row in pkg.rows("reels"):
        s, reel_id = row.get("serial_id").strip(), row.get("reel_id").strip()
        gen_iri = vocab.lookup("film-generation", row.get("generation")) if row.get("generation").strip() else None
        if s not in serials or gen_iri is None:
            continue
        gen = gen_iri.rsplit("/", 1)[1]
        inst = pg.node(f"{serial_instance(batch, s)}/microform/{gen}", row, F)
        copy = pg.node(f"{serial_instance(batch, s)}/film/{gen}", row, F)
        reel = pg.node(iris.reel(reel_id), row, F)
        if (s, gen) not in declared:
            declared.add((s, gen))
            pg.add(inst, A, bf("Instance"))
            pg.add(inst, A, bf("Microform"))
            pg.add(inst, bf("instanceOf"), N(serial_work(batch, s)))
            pg.add(inst, bf("reproductionOf"), N(serial_instance(batch, s)))
            pg.add(N(serial_instance(batch, s)), bf("hasReproduction"), inst)
            pg.add(inst, pg.col(F, bf("generation"), "generation"), N(gen_iri))
            pg.add(copy, A, bf("Item"))
            pg.add(copy, A, g("MicrofilmCopy"))
            pg.add(copy, bf("itemOf"), inst)
            pg.add(copy, LABEL, L(f"{serials[s].get('title').strip()} 缩微品（{row.get('generation').strip()}）", language="zh"))
        if (c := vocab.lookup("polarity", row.get("polarity")) if row.get("polarity").strip() else None):
            pg.add(inst, pg.col(F, bf("polarity"), "polarity"), N(c))
        if row.get("reduction_ratio").strip():
            ratio = N(f"{inst.value}/reduction-ratio")
            pg.add(inst, pg.col(F, bf("reductionRatio"), "reduction_ratio"), ratio)
            pg.add(ratio, A, bf("ReductionRatio"))
            pg.add(ratio, LABEL, L(row.get("reduction_ratio").strip()))
        pg.add(copy, g("onReel"), reel)
        ref = row.get("derived_from").strip()
        if ref == "book":
            src = serial_instance(batch, s) + "/holding"
        elif ref.startswith("reel:") and ref[5:] in iris.reels and iris.reels[ref[5:]].get("serial_id").strip():
            src_reel = iris.reels[ref[5:]]
            src_gen = vocab.lookup("film-generation", src_reel.get("generation"))
            src = f"{serial_instance(batch, src_reel.get('serial_id').strip())}/film/{src_gen.rsplit('/', 1)[1]}" if src_gen else None
        elif ref.startswith("file:") and ref[5:] in iris.files and iris.files[ref[5:]].get("issue_id").strip():
            src_file = iris.files[ref[5:]]
            src_level = vocab.lookup("access-level", src_file.get("level"))
            src = issue_copy(batch, src_file.get("issue_id").strip(), src_level.rsplit("/", 1)[1]) if src_level else None
        else:
            src = iris.source(ref)
        if src:
            pg.add(copy, pg.col(F, N(PROV + "wasDerivedFrom"), "derived_from"), N(src))
            method = {"book": "filming", "reel": "film-duplication", "file": "digital-to-film"}[ref.split(":")[0]]
            pg.add(copy, g("derivationMethod"), N(f"{GUJIV}derivation-method/{method}"))
        if row.get("shooting_date").strip():
            pg.add(copy, pg.col(F, N(DCTERMS + "created"), "shooting_date"), _date(row.get("shooting_date")))
        unit = _agent(pg, row.get("shooting_unit")) if row.get("shooting_unit").strip() else None
        if unit is not None:
            pg.add(copy, pg.col(F, N(PROV + "wasAttributedTo"), "shooting_unit"), unit)
        pg.add(reel, A, g("MicrofilmReel"))
        pg.add(reel, pg.col(F, DCT_IDENTIFIER, "reel_id"), L(reel_id))
        if (c := vocab.lookup("film-base", row.get("base")) if row.get("base").strip() else None):
            pg.add(reel, pg.col(F, bf("baseMaterial"), "base"), N(c))
        if row.get("storage_location").strip():
            pg.add(reel, pg.col(F, bf("physicalLocation"), "storage_location"), L(row.get("storage_location").strip(), language="zh"))
        if row.get("width_mm").strip().isdigit():
            pg.add(reel, pg.col(F, g("filmWidthMm"), "width_mm"), L(row.get("width_mm").strip(), datatype=INT))
        ev = pg.node(f"{reel.value}/event/creation", row, F)
        pg.add(ev, A, N(PREMIS + "Event"))
        pg.add(ev, A, N(PROV + "Activity"))
        pg.add(ev, A, N("http://id.loc.gov/vocabulary/preservation/eventType/cre"))
        pg.add(ev, N(PROV + "generated"), reel)
        if src:
            pg.add(ev, N(PROV + "used"), N(src))
        if row.get("shooting_date").strip():
            pg.add(ev, N(PROV + "endedAtTime"), _datetime_literal(row.get("shooting_date")))
        if unit is not None:
            pg.add(ev, N(PROV + "wasAssociatedWith"), unit)

    Fr = "data/issue_frames.csv"
    for row in pkg.rows("issue_frames"):
        reel_id, i = row.get("reel_id").strip(), row.get("issue_id").strip()
        a, b = _int(row.get("frame_start")), _int(row.get("frame_end"))
        if reel_id not in iris.reels or i not in issues or a is None or b is None:
            continue
        reel_row = iris.reels[reel_id]
        s = reel_row.get("serial_id").strip()
        gen_iri = vocab.lookup("film-generation", reel_row.get("generation"))
        if s not in serials or gen_iri is None:
            continue
        fr = pg.node(f"{iris.reel(reel_id)}/frames/{a}-{b}", row, Fr)
        pg.add(N(f"{serial_instance(batch, s)}/film/{gen_iri.rsplit('/', 1)[1]}"), g("frameRange"), fr)
        pg.add(fr, A, g("FrameRange"))
        pg.add(fr, pg.col(Fr, g("onReel"), "reel_id"), N(iris.reel(reel_id)))
        pg.add(fr, pg.col(Fr, g("startFrame"), "frame_start"), L(str(a), datatype=INT))
        pg.add(fr, pg.col(Fr, g("endFrame"), "frame_end"), L(str(b), datatype=INT))
        pg.add(fr, pg.col(Fr, g("showsIssue"), "issue_id"), N(issue_iri(batch, i)))
        for col, pred in (("page_start", "startPage"), ("page_end", "endPage")):
            if (n := _int(row.get(col))) is not None:
                pg.add(fr, pg.col(Fr, g(pred), col), L(str(n), datatype=INT))


def issue_copy(batch: str, i: str, level: str) -> str:
    return f"{issue_iri(batch, i)}/digital/{level}"


def _issue_files(pg, pkg, iris, serials: dict, issues: dict) -> None:
    """An issue's files: a bf:Electronic Instance reproducing the issue, a guji:DigitalCopy per
    access level with its premis:Files; a service-level text becomes the issue's searchable text
    (a guji:Juan of the copy: the passages of the search index carry the issue's date)."""
    from kg import kanripo
    from kg.ingest_kanripo import WorkGraph, add_juan

    F = "data/files.csv"
    batch = iris.batch
    declared: set[tuple[str, str]] = set()
    texts: dict[str, list] = defaultdict(list)
    for row in pkg.rows("files"):
        i, file_id = row.get("issue_id").strip(), row.get("file_id").strip()
        level_iri = vocab.lookup("access-level", row.get("level")) if row.get("level").strip() else None
        if i not in issues or level_iri is None:
            continue
        level = level_iri.rsplit("/", 1)[1]
        private = level == "preservation"
        issue = N(issue_iri(batch, i))
        electronic = pg.node(f"{issue.value}/electronic", row, F)
        copy = pg.node(issue_copy(batch, i, level), row, F, private=private)
        f = pg.node(iris.file(file_id), row, F, private=private)
        if (i, "") not in declared:
            declared.add((i, ""))
            s = issues[i].get("serial_id").strip()
            pg.add(electronic, A, bf("Instance"))
            pg.add(electronic, A, bf("Electronic"))
            pg.add(electronic, bf("instanceOf"), N(serial_work(batch, s)))
            pg.add(electronic, bf("reproductionOf"), issue)
            pg.add(issue, bf("hasReproduction"), electronic)
        if (i, level) not in declared:
            declared.add((i, level))
            pg.add(copy, A, bf("Item"))
            pg.add(copy, A, g("DigitalCopy"))
            pg.add(copy, bf("itemOf"), electronic)
            pg.add(copy, g("accessLevel"), N(level_iri))
            pg.add(copy, LABEL, L(f"{issues[i].get('date').strip()} 数字化（{row.get('level').strip()}）", language="zh"))
        pg.add(f, A, N(PREMIS + "File"))
        pg.add(f, N(DCTERMS + "isPartOf"), copy)
        pg.add(f, pg.col(F, DCT_IDENTIFIER, "file_id"), L(file_id))
        pg.add(f, pg.col(F, g("accessLevel"), "level"), N(level_iri))
        pg.add(f, pg.col(F, N(PREMIS + "originalName"), "path"), L(row.get("path").strip()))
        pg.add(f, pg.col(F, N(DCTERMS + "format"), "format"), L(row.get("format").strip()))
        if row.get("size").strip().isdigit():
            pg.add(f, pg.col(F, N(PREMIS + "size"), "size"), L(row.get("size").strip(), datatype=INT))
        if row.get("sha256").strip():
            fx = N(f"{f.value}/fixity/sha256")
            if private:
                pg.private_nodes.add(fx.value)
            pg.add(f, pg.col(F, N(PREMIS + "fixity"), "sha256"), fx)
            pg.add(fx, A, N(PREMIS + "Fixity"))
            pg.add(fx, A, N("http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/sha256"))
            pg.add(fx, VALUE, L(row.get("sha256").strip()))
        if (n := _int(row.get("page"))) is not None:
            pg.add(f, pg.col(F, g("pageNumber"), "page"), L(str(n), datatype=INT))
        ref = row.get("derived_from").strip()
        if ref.startswith("file:"):
            pg.add(f, pg.col(F, N(PROV + "wasDerivedFrom"), "derived_from"), N(iris.file(ref[5:])))
        elif ref.startswith("reel:"):
            pg.add(f, pg.col(F, N(PROV + "wasDerivedFrom"), "derived_from"), N(iris.reel(ref[5:])))
            pg.add(copy, g("derivationMethod"), N(f"{GUJIV}derivation-method/scanning-film"))
        if file_id in pkg.texts and level == "service":
            texts[i].append((file_id, *pkg.texts[file_id]))
    for i, items in texts.items():
        copy = N(issue_copy(batch, i, "service"))
        wg = WorkGraph(f"issue-{i}")
        for seq, (file_id, row, juan) in enumerate(sorted(items, key=lambda x: x[0]), start=1):
            jn = N(f"{copy.value}/text/{seq:03d}")
            add_juan(wg, copy, jn, seq, f"{seq:03d}", juan, source_file=row.get("path").strip())
            wg.add(jn, N(PROV + "wasDerivedFrom"), N(iris.file(file_id)))
            pg.origin.setdefault(jn.value, (F, row.line))
        pg.public.extend(wg.triples)
