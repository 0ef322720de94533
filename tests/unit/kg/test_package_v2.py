"""Package format v2 (ADR 0021): the v2 sample validates and ingests with BIBFRAME serial triples;
every kind of bad row is reported with its file, row and field in Chinese and English, and an
invalid v2 package writes nothing."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import bagit
import pyoxigraph as ox
import pytest

from kg.package import ingest_package, validate_package
from kg.package.serials import enumeration, issn_ok
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[3]
V2 = ROOT / "samples" / "package" / "guji-sample-2026-v2"
V1 = ROOT / "samples" / "package" / "guji-sample-2026-001"
BF = "http://id.loc.gov/ontologies/bibframe/"
GUJI = "https://w3id.org/guji/ontology#"
ID = "https://w3id.org/guji/id/"


@pytest.fixture(scope="module")
def sample():
    result = validate_package(V2)
    assert result.report.valid, result.report.to_text()
    return result


def test_the_v2_sample_validates_with_only_the_expected_warnings(sample):
    assert [(p.code, p.file, p.row, p.field) for p in sample.report.warnings] == [
        ("recommended_value", "data/articles.csv", 7, "authors"), ("recommended_value", "data/articles.csv", 9, "authors")]
    counts = sample.report.counts
    assert (counts["serials"], counts["issues"], counts["articles"], counts["issue_frames"], counts["texts"]) == (2, 6, 9, 6, 6)


def _triples(result):
    return {(t.subject.value, t.predicate.value, t.object.value) for t in result.graphs.public}


def test_bibframe_serial_modelling(sample):
    t = _triples(sample)
    serial, issue = f"{ID}serial/guji-sample-2026-v2/S2", f"{ID}issue/guji-sample-2026-v2/S2-1935-03-02"
    assert (serial, BF + "issuance", "http://id.loc.gov/vocabulary/issuance/serl") in t
    assert (serial, BF + "frequency", "https://w3id.org/guji/vocab/frequency/daily") in t
    assert (serial, BF + "hasPart", issue) in t and (issue, BF + "partOf", serial) in t
    assert (issue, GUJI + "issueDate", "1935-03-02") in t
    chronology = {o for s, p, o in t if s == issue and p == BF + "enumerationAndChronology"}
    assert {(c, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", BF + "Chronology") in t for c in chronology} == {True, False}
    assert (issue, GUJI + "issueNumber", "142") in t
    article = f"{ID}article/guji-sample-2026-v2/A8"
    assert (issue, BF + "hasPart", article) in t and (article, GUJI + "startPage", "1") in t
    # a reel holds many issues: one frame range per issue, each saying which issue
    shows = {(s, o) for s, p, o in t if p == GUJI + "showsIssue" and "/reel/guji-sample-2026-v2/R3/" in s}
    assert len(shows) == 3
    assert (f"{ID}reel/guji-sample-2026-v2/R2", GUJI + "filmColour", "https://w3id.org/guji/vocab/film-colour/colour") in t
    # the 民国 book: pages, not juan
    inst = f"{ID}instance/census/110000-0002-0000001"
    assert (inst, GUJI + "pageCount", "4") in t and not any(s == inst and p == GUJI + "juanCount" for s, p, _ in t)
    assert (inst, GUJI + "materialType", "https://w3id.org/guji/vocab/material-type/republican-book") in t
    # the preservation TIFF of an issue stays out of the public graph
    assert not any("S2-TIF-1" in s for s, _, _ in t)
    assert any("S2-TIF-1" in x.subject.value for x in sample.graphs.preservation)


def test_the_v2_sample_ingests_and_the_v1_sample_still_validates(tmp_path):
    store = OxigraphStore(tmp_path / "s")
    result = ingest_package(store, V2, agent="t")
    assert result.report.valid and result.changes
    assert store.query("ASK { GRAPH ?g { ?s a <https://w3id.org/guji/ontology#Issue> } }")
    v1 = validate_package(V1)
    assert v1.report.valid and [p.code for p in v1.report.violations] == []


def test_enumeration_and_issn():
    assert enumeration("3", "5", "25") == "第3卷第5期（總第25號）" and enumeration("", "142") == "第142期"
    assert issn_ok("0317-8471") and issn_ok("2434-561X") and not issn_ok("0317-8472")


def _copy(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    shutil.copytree(V2, pkg)
    return pkg


def _edit(pkg: Path, table: str, change) -> None:
    path = pkg / "data" / table
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = list(rows[0].keys()) if rows else []
    rows = change(rows) or rows
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _set(table: str, index: int, **values):
    def change(rows):
        rows[index].update(values)
    return table, change


def _append(table: str, index: int, **values):
    def change(rows):
        rows.append({**rows[index], **values})
    return table, change


def _submission(**values):
    def change(pkg: Path):
        path = pkg / "data" / "submission.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        for k, v in values.items():
            if k.startswith("counts."):
                doc["counts"][k[7:]] = v
            else:
                doc[k] = v
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return change


# (case, edits, the violations it must give: (code, file, row, field))
BAD_ROWS = [
    ("serial_without_title", [_set("serials.csv", 0, title="")], {("missing_value", "data/serials.csv", 2, "title")}),
    ("serial_unknown_material", [_set("serials.csv", 0, material_type="画报x")], {("unknown_concept", "data/serials.csv", 2, "material_type")}),
    ("serial_that_is_a_book", [_set("serials.csv", 1, material_type="古籍")], {("not_a_serial", "data/serials.csv", 3, "material_type")}),
    ("issn_check_digit", [_set("serials.csv", 0, issn="0317-8472")], {("bad_issn", "data/serials.csv", 2, "issn")}),
    ("issn_form", [_set("serials.csv", 0, issn="03178471")], {("bad_format", "data/serials.csv", 2, "issn")}),
    ("cn_form", [_set("serials.csv", 0, cn="11-1234")], {("bad_format", "data/serials.csv", 2, "cn")}),
    ("unknown_frequency", [_set("serials.csv", 0, frequency="每旬")], {("unknown_concept", "data/serials.csv", 2, "frequency")}),
    ("serial_ends_before_it_starts", [_set("serials.csv", 0, end_date="1934-12")], {("bad_range", "data/serials.csv", 2, "end_date")}),
    ("issue_of_no_serial", [_set("issues.csv", 0, serial_id="S9")], {("dangling_reference", "data/issues.csv", 2, "serial_id")}),
    ("newspaper_issue_not_a_day", [_set("issues.csv", 4, date="1935-03")], {("issue_not_daily", "data/issues.csv", 6, "date")}),
    ("issue_before_the_run", [_set("issues.csv", 3, date="1934-10-09")], {("issue_out_of_run", "data/issues.csv", 5, "date")}),
    ("issue_bad_date", [_set("issues.csv", 3, date="1935-02-30")], {("bad_date", "data/issues.csv", 5, "date")}),
    ("issue_without_date", [_set("issues.csv", 3, date="")], {("missing_value", "data/issues.csv", 5, "date")}),
    ("issue_id_twice", [_set("issues.csv", 1, issue_id="S1-1935-01")],  # and S1-1935-02 is gone: what named it dangles
     {("duplicate", "data/issues.csv", 3, "issue_id"), ("dangling_reference", "data/articles.csv", 4, "issue_id"),
      ("dangling_reference", "data/articles.csv", 5, "issue_id"), ("dangling_reference", "data/files.csv", 3, "issue_id"),
      ("dangling_reference", "data/issue_frames.csv", 3, "issue_id")}),
    ("issue_zero_pages", [_set("issues.csv", 0, pages="0")], {("bad_range", "data/issues.csv", 2, "pages")}),
    ("article_of_no_issue", [_set("articles.csv", 0, issue_id="S1-1999-01")], {("dangling_reference", "data/articles.csv", 2, "issue_id")}),
    ("article_beyond_the_issue", [_set("articles.csv", 1, page_end="9")], {("page_out_of_issue", "data/articles.csv", 3, "page_end")}),
    ("article_pages_reversed", [_set("articles.csv", 1, page_start="8", page_end="3")], {("bad_range", "data/articles.csv", 3, "page_end")}),
    ("article_page_not_a_number", [_set("articles.csv", 1, page_start="三")], {("not_an_integer", "data/articles.csv", 3, "page_start")}),
    ("issue_frames_on_another_serials_reel", [_set("issue_frames.csv", 3, reel_id="R2", frame_start="101", frame_end="104")],
     {("reel_of_other_serial", "data/issue_frames.csv", 5, "reel_id")}),
    ("issue_frames_overlap", [_set("issue_frames.csv", 1, frame_start="8", frame_end="16")],
     {("overlapping_frames", "data/issue_frames.csv", 3, "frame_start")}),
    ("issue_frames_reversed", [_set("issue_frames.csv", 1, frame_start="16", frame_end="9")], {("bad_range", "data/issue_frames.csv", 3, "frame_end")}),
    ("issue_frames_of_no_reel", [_set("issue_frames.csv", 0, reel_id="R9")], {("dangling_reference", "data/issue_frames.csv", 2, "reel_id")}),
    ("issue_frames_beyond_the_issue", [_set("issue_frames.csv", 0, page_end="9", frame_end="9"),
                                       _set("issue_frames.csv", 1, frame_start="10", frame_end="17"),
                                       _set("issue_frames.csv", 2, frame_start="18", frame_end="25")],
     {("page_out_of_issue", "data/issue_frames.csv", 2, "page_end")}),
    ("issue_frames_on_a_books_reel", [_set("issue_frames.csv", 0, reel_id="R1", frame_start="101", frame_end="108")],
     {("issue_frames_on_book_reel", "data/issue_frames.csv", 2, "reel_id")}),
    ("book_frames_on_a_serials_reel", [_set("frames.csv", 0, reel_id="R3", frame_start="101", frame_end="104")],
     {("frames_on_serial_reel", "data/frames.csv", 2, "reel_id")}),
    ("reel_of_a_book_and_a_serial", [_set("reels.csv", 1, book_id="B1")], {("reel_owner", "data/reels.csv", 3, "serial_id")}),
    ("reel_of_nothing", [_set("reels.csv", 0, book_id="")], {("reel_owner", "data/reels.csv", 2, "book_id")}),
    ("reel_of_no_serial", [_set("reels.csv", 1, serial_id="S9")], {("dangling_reference", "data/reels.csv", 3, "serial_id")}),
    ("reel_unknown_colour", [_set("reels.csv", 1, colour="紫色")], {("unknown_concept", "data/reels.csv", 3, "colour")}),
    ("ancient_book_without_juan", [_set("books.csv", 0, material_type="古籍")], {("missing_value", "data/books.csv", 2, "juan_count")}),
    ("republican_book_without_pages", [_set("books.csv", 0, page_count="")], {("missing_value", "data/books.csv", 2, "page_count")}),
    ("frames_without_juan_or_pages", [_set("frames.csv", 0, page_start="", page_end="")], {("missing_value", "data/frames.csv", 2, "juan")}),
    ("file_of_nothing", [_set("files.csv", 0, issue_id="")], {("file_owner", "data/files.csv", 2, "book_id")}),
    ("file_of_no_issue", [_set("files.csv", 6, issue_id="S2-1999-01-01")], {("dangling_reference", "data/files.csv", 8, "issue_id")}),
]


@pytest.mark.parametrize("case,edits,expected", BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_each_kind_of_bad_row_is_reported_where_it_is(tmp_path, case, edits, expected):
    pkg = _copy(tmp_path)
    for table, change in edits:
        _edit(pkg, table, change)
    bagit.Bag(str(pkg)).save(manifests=True)
    report = validate_package(pkg).report
    got = {(p.code, p.file, p.row, p.field) for p in report.violations}
    assert got == expected, report.to_text()
    for p in report.violations:
        assert p.message_zh and p.message_en and p.message_zh != p.message_en


@pytest.mark.parametrize("change,expected", [
    (_submission(package_version="3"), ("unsupported_version", "data/submission.json", None, "package_version")),
    (_submission(**{"counts.issues": 5}), ("count_mismatch", "data/submission.json", None, "counts.issues")),
], ids=["version_3", "issue_count"])
def test_submission_level_problems(tmp_path, change, expected):
    pkg = _copy(tmp_path)
    change(pkg)
    bagit.Bag(str(pkg)).save(manifests=True)
    report = validate_package(pkg).report
    assert expected in {(p.code, p.file, p.row, p.field) for p in report.violations}, report.to_text()


def test_v2_tables_in_a_v1_package_are_refused_columns_not_read(tmp_path):
    """A package that does not declare version 2 is read as v1: its v2 columns are unknown (a
    warning) and a reel without book_id is the v1 violation it always was."""
    pkg = _copy(tmp_path)
    _submission(package_version="1")(pkg)
    bagit.Bag(str(pkg)).save(manifests=True)
    report = validate_package(pkg).report
    assert ("missing_value", "data/reels.csv", 3, "book_id") in {(p.code, p.file, p.row, p.field) for p in report.violations}
    assert ("unknown_column", "data/reels.csv", 1, "serial_id") in {(p.code, p.file, p.row, p.field) for p in report.warnings}
    assert "serials" not in report.counts


def test_an_invalid_v2_package_writes_nothing(tmp_path):
    pkg = _copy(tmp_path)
    _edit(pkg, "issues.csv", lambda rows: rows[4].update(date="1935-03"))
    bagit.Bag(str(pkg)).save(manifests=True)
    store = OxigraphStore(tmp_path / "s")
    before = len(store.oxigraph)
    result = ingest_package(store, pkg, agent="t")
    assert not result.report.valid and not result.changes
    assert len(store.oxigraph) == before


def test_the_format_document_lists_every_v2_table_and_column():
    from kg.package.serials import TABLES_V2

    doc = (ROOT / "docs" / "submission-package.md").read_text(encoding="utf-8")
    for table in TABLES_V2:
        assert f"### {table.file}" in doc
        for column in table.columns:
            assert f"| `{column.name}` | {column.zh} |" in doc, (table.file, column.name)


def test_a_filming_unit_shared_by_two_packages_does_not_double_a_books_rows(tmp_path):
    """The v2 sample is filmed by the same unit (guji 示例缩微中心) as the v1 sample: the union of the
    two package graphs states the unit's label twice, which doubled book 1's microfilm rows, frame
    links and lineage edges until catalogue reads dropped repeated rows."""
    from kg.catalog import Catalog

    store = OxigraphStore(tmp_path / "s")
    assert ingest_package(store, V1, agent="t").report.valid
    alone = Catalog(store).book("110000-0001-0000001")
    assert ingest_package(store, V2, agent="t").report.valid
    both = Catalog(store).book("110000-0001-0000001")
    assert both["microfilm"] == alone["microfilm"] and both["derivations"] == alone["derivations"]
    frames = [(r["reel_id"], f["start"], f["end"]) for c in both["microfilm"] for r in c["reels"] for f in r["frames"]]
    assert len(frames) == len(set(frames)) == 6  # book 1: two ranges on each of its three reels
