"""Submission package format v1: the tables, their columns and what each column must hold.

One declaration drives the reader (types, mandatory/recommended), the validation messages (in
Chinese and English) and the documentation test that keeps docs/submission-package.md honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PACKAGE_VERSION = "1"


class Kind(str, Enum):
    TEXT = "text"
    INT = "integer"
    DECIMAL = "decimal"
    DATE = "date"  # YYYY, YYYY-MM or YYYY-MM-DD
    CONCEPT = "concept"  # a value of a SKOS scheme (notation, or a label in any script)
    REF = "reference"  # the id of a row in another table
    SHA256 = "sha256"
    LIST = "list"  # several values separated by ；or ;


class Need(str, Enum):
    MANDATORY = "mandatory"  # missing → SHACL/validation Violation, package refused
    RECOMMENDED = "recommended"  # missing → Warning, package accepted
    OPTIONAL = "optional"


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    kind: Kind = Kind.TEXT
    need: Need = Need.OPTIONAL
    scheme: str | None = None  # CONCEPT: the gujiv scheme, e.g. "edition-type"
    ref: str | None = None  # REF: "books", "reels", "files"
    unique: bool = False
    pattern: str | None = None
    en: str = ""


@dataclass(frozen=True)
class Table:
    file: str
    zh: str
    columns: tuple[Column, ...]
    required: bool = True

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


M, R, O = Need.MANDATORY, Need.RECOMMENDED, Need.OPTIONAL

BOOKS = Table("books.csv", "古籍著录（一书一行）", (
    Column("book_id", "本包内编号", need=M, unique=True, pattern=r"^[A-Za-z0-9_.-]+$", en="id of the book inside this package"),
    Column("census_no", "普查登记编号", need=M, unique=True, pattern=r"^\d{6}-\d{4}-\d{7}$", en="national census number, 6-4-7 digits"),
    Column("holding_library", "收藏单位", need=M, en="holding library"),
    Column("call_number", "索书号", need=M, en="call number"),
    Column("title", "题名", need=M, en="title as catalogued"),
    Column("juan_count", "卷数", Kind.INT, M, en="number of juan of the work"),
    Column("responsibility", "著者", need=R, en="person(s) responsible"),
    Column("responsibility_dynasty", "著者时代", Kind.CONCEPT, R, scheme="dynasty", en="dynasty of the person responsible"),
    Column("responsibility_mode", "著作方式", need=R, pattern=r"^(撰|著|注|疏|輯|辑|編|编|纂|校|譯|译|評|评|選|选|述|集)+$", en="撰/注/辑/编 ..."),
    Column("edition_statement", "版本", need=R, en="edition statement, e.g. 明萬曆二十四年南京國子監刻本"),
    Column("edition_type", "版本类型", Kind.CONCEPT, M, scheme="edition-type", en="edition type (刻本, 抄本, 稿本 ...)"),
    Column("date_as_written", "出版时间（原题）", need=R, en="date as written, e.g. 明萬曆二十四年"),
    Column("year", "出版年（公元）", Kind.INT, R, en="normalised year, astronomical (1 BCE = 0)"),
    Column("layout", "行款", need=R, en="lines and characters, e.g. 半葉十行行二十字"),
    Column("frame_size", "版框", need=O, en="block frame size, e.g. 20.5×14.2cm"),
    Column("banxin", "版心", need=O, en="centre column"),
    Column("yuwei", "鱼尾", need=O, en="fish tails"),
    Column("bianlan", "边栏", need=O, en="borders, e.g. 左右雙邊"),
    Column("binding", "装帧", Kind.CONCEPT, R, scheme="binding", en="binding (线装 ...)"),
    Column("volumes", "册数", Kind.INT, R, en="number of volumes (册)"),
    Column("juan_extant", "存卷", need=O, en="extant juan, e.g. 1-30"),
    Column("juan_missing", "缺卷", need=O, en="missing juan"),
    Column("seals", "钤印", Kind.LIST, O, en="seals, separated by ；"),
    Column("notes", "附注（批校题跋）", need=O, en="marginalia and other notes"),
    Column("sibu", "四部分类", Kind.CONCEPT, R, scheme="sibu", en="四部 classification"),
    Column("grade", "定级", Kind.CONCEPT, O, scheme="grade", en="grade"),
    Column("work_id", "作品标识", need=O, pattern=r"^([A-Z]{2}\d[a-z]\d{4}|https://w3id\.org/guji/id/work/[A-Za-z0-9_.%-]+(/[A-Za-z0-9_.%-]+)*)$",
           en="the work this book is a copy of: a Kanripo id (KR2a0001) or a guji work IRI; "
              "the book, its copies and that work's editions become one bf:Work"),
))

COLLATION = Table("collation.csv", "文献整理登记表", (
    Column("book_id", "书", Kind.REF, M, ref="books"),
    Column("kind", "整理方式", need=M, pattern=r"^(标点|標點|校勘|注释|注釋)$", en="标点 / 校勘 / 注释"),
    Column("base_text", "底本", need=M, en="base text"),
    Column("witnesses", "校本", Kind.LIST, R, en="witnesses, separated by ；"),
    Column("people", "整理者", Kind.LIST, M, en="people, separated by ；"),
    Column("start_date", "开始日期", Kind.DATE, R),
    Column("end_date", "完成日期", Kind.DATE, R),
), required=False)

GAIJI = Table("gaiji.csv", "字符集外字表", (
    Column("local_id", "字号", need=M, unique=True, pattern=r"^[A-Za-z0-9_.-]+$"),
    Column("pua", "私用区码位", need=M, unique=True, pattern=r"^U\+[0-9A-Fa-f]{4,6}$", en="private-use code point, U+E000 form"),
    Column("ids", "表意文字描述序列", need=M, en="Ideographic Description Sequence, e.g. ⿰木合"),
    Column("glyph_image", "字形图", need=R, en="glyph image, a path inside data/"),
    Column("nearest", "对应规范字", need=R, en="nearest Unicode character"),
    Column("occurrences", "出现次数", Kind.INT, O),
), required=False)

REELS = Table("reels.csv", "缩微胶卷", (
    Column("reel_id", "卷片号", need=M, unique=True, pattern=r"^[A-Za-z0-9_.-]+$"),
    Column("book_id", "书", Kind.REF, M, ref="books"),
    Column("generation", "代次", Kind.CONCEPT, M, scheme="film-generation", en="母片 / 拷贝母片 / 服务片"),
    Column("base", "片基", Kind.CONCEPT, M, scheme="film-base", en="醋酸 / 涤纶 / 硝酸"),
    Column("width_mm", "片宽（毫米）", Kind.INT, R),
    Column("reduction_ratio", "缩率", need=R, pattern=r"^1:\d+(\.\d+)?$", en="e.g. 1:12"),
    Column("polarity", "极性", Kind.CONCEPT, R, scheme="polarity", en="正片 / 负片"),
    Column("shooting_unit", "拍摄单位", need=R),
    Column("shooting_date", "拍摄日期", Kind.DATE, R),
    Column("storage_location", "存放位置", need=R),
    Column("derived_from", "来源", need=M, pattern=r"^(book|reel:[A-Za-z0-9_.-]+|file:[A-Za-z0-9_.-]+)$",
           en="book, reel:<reel_id> (copied from that reel) or file:<file_id> (数转模)"),
))

FRAMES = Table("frames.csv", "画幅范围", (
    Column("reel_id", "卷片号", Kind.REF, M, ref="reels"),
    Column("juan", "卷", Kind.INT, M),
    Column("folio_start", "起叶", need=R, pattern=r"^\d+[ab]?$", en="e.g. 1a"),
    Column("folio_end", "止叶", need=R, pattern=r"^\d+[ab]?$"),
    Column("frame_start", "起始画幅", Kind.INT, M),
    Column("frame_end", "终止画幅", Kind.INT, M),
))

INSPECTIONS = Table("inspections.csv", "胶片检测记录", (
    Column("reel_id", "卷片号", Kind.REF, M, ref="reels"),
    Column("date", "检测日期", Kind.DATE, M),
    Column("inspector", "检测人", need=M),
    Column("density", "密度", Kind.DECIMAL, R),
    Column("resolution", "解像力（线对/毫米）", Kind.DECIMAL, R),
    Column("residual_thiosulfate", "硫代硫酸盐残留（微克/平方厘米）", Kind.DECIMAL, O),
    Column("vinegar_level", "醋酸综合征等级", Kind.CONCEPT, O, scheme="vinegar-syndrome", en="A-D strip level"),
    Column("defects", "缺陷", need=O),
), required=False)

FILES = Table("files.csv", "数字资源", (
    Column("file_id", "文件号", need=M, unique=True, pattern=r"^[A-Za-z0-9_.-]+$"),
    Column("book_id", "书", Kind.REF, M, ref="books"),
    Column("level", "级别", Kind.CONCEPT, M, scheme="access-level", en="服务级 (service) / 保存级 (preservation)"),
    Column("path", "路径", need=M, en="service level: a path inside data/; preservation level: the storage location"),
    Column("format", "格式", need=M, pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$", en="media type, e.g. image/tiff, text/plain"),
    Column("resolution_dpi", "分辨率（dpi）", Kind.INT, O, en="recommended for images"),
    Column("sha256", "SHA-256", Kind.SHA256, M),
    Column("size", "字节数", Kind.INT, M),
    Column("derived_from", "来源", need=M, pattern=r"^(book|reel:[A-Za-z0-9_.-]+|file:[A-Za-z0-9_.-]+)$",
           en="book (scanned from the book), reel:<reel_id> (scanned from film) or file:<file_id>"),
    Column("juan", "卷", Kind.INT, O),
    Column("folio", "叶", need=O, pattern=r"^\d+[ab]$",
           en="the folio side a page image shows, e.g. 1a; makes it a IIIF canvas in reading order"),
))

TABLES = (BOOKS, COLLATION, GAIJI, REELS, FRAMES, INSPECTIONS, FILES)
TABLE_BY_NAME = {t.file.removesuffix(".csv"): t for t in TABLES}

SUBMISSION_FIELDS = {
    "package_version": "格式版本 / package format version (\"1\")",
    "batch": "批次号 / batch id",
    "submitting_unit": "承建单位 / submitting unit",
    "contact": "联系人 / contact {name, email, phone}",
    "date": "提交日期 / date (YYYY-MM-DD)",
    "counts": "数量 / counts {books, reels, files, gaiji}",
}
