"""Single sampling plans by attributes, normal inspection: GB/T 2828.1-2012 = ISO 2859-1:1999.

The standard's two tables are kept here as data, in the standard's own layout, so that a reader
can hold them against the printed pages:

- Table 1 (样本量字码): lot size × inspection level → sample size code letter;
- Table 2-A (正常检验一次抽样方案, master table): code letter × AQL → (Ac, Re), or an arrow:
  ``v`` "use the first sampling plan below the arrow", ``^`` "use the first sampling plan above
  the arrow". Following an arrow changes the sample size to that of the row the plan is found in
  (the standard: "use the sample size of that plan"); when that sample size equals or exceeds the
  lot size, every item is inspected (100% inspection) with the same Ac/Re.

:func:`plan` is the one entry point (``guji acceptance plan`` and the spot checks use it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from acceptance.errors import AcceptanceInputError

LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# Table 1 — sample size code letters: (lowest lot size, highest lot size or None, letters for LEVELS)
CODE_LETTERS: tuple[tuple[int, int | None, str], ...] = (
    #  lot size          S-1 S-2 S-3 S-4 I II III
    (2, 8,              "A A A A A A B"),
    (9, 15,             "A A A A A B C"),
    (16, 25,            "A A B B B C D"),
    (26, 50,            "A B B C C D E"),
    (51, 90,            "B B C C C E F"),
    (91, 150,           "B B C D D F G"),
    (151, 280,          "B C D E E G H"),
    (281, 500,          "B C D E F H J"),
    (501, 1200,         "C C E F G J K"),
    (1201, 3200,        "C D E G H K L"),
    (3201, 10000,       "C D F G J L M"),
    (10001, 35000,      "C D F H K M N"),
    (35001, 150000,     "D E G J L N P"),
    (150001, 500000,    "D E G J M P Q"),
    (500001, None,      "D E H K N Q R"),
)

SAMPLE_SIZES = {"A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50, "J": 80, "K": 125,
                "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250, "R": 2000}

# AQL in percent nonconforming (up to 10) or nonconformities per 100 items (all of them)
AQLS = ("0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65", "1.0", "1.5",
        "2.5", "4.0", "6.5", "10", "15", "25", "40", "65", "100", "150", "250", "400", "650", "1000")

# Table 2-A — single sampling plans for normal inspection (master table); one column per AQLS entry
MASTER_NORMAL: dict[str, str] = {
    #      0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
    "A": "    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    v|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|30 31",
    "B": "    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|30 31|44 45",
    "C": "    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|30 31|44 45|    ^",
    "D": "    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|30 31|44 45|    ^|    ^",
    "E": "    v|    v|    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|30 31|44 45|    ^|    ^|    ^",
    "F": "    v|    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^",
    "G": "    v|    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "H": "    v|    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "J": "    v|    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "K": "    v|    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "L": "    v|    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "M": "    v|    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "N": "    v|    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "P": "    v|  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "Q": "  0 1|    ^|    v|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
    "R": "    ^|  1 2|  1 2|  2 3|  3 4|  5 6|  7 8|10 11|14 15|21 22|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^|    ^",
}
# Two cells sit where an arrow would leave the table (row A, AQL 10: no row above; row R, AQL 0.015:
# no row below); they hold the plan the arrow's neighbours lead to. docs/acceptance.md says so.

LETTERS = tuple(SAMPLE_SIZES)


def _parse_master() -> dict[tuple[str, str], tuple[int, int] | str]:
    table: dict[tuple[str, str], tuple[int, int] | str] = {}
    for letter, row in MASTER_NORMAL.items():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) != len(AQLS):
            raise AssertionError(f"Table 2-A row {letter} has {len(cells)} cells, not {len(AQLS)}")
        for aql, cell in zip(AQLS, cells):
            if cell in ("v", "^"):
                table[letter, aql] = cell
            else:
                ac, re = (int(x) for x in cell.split())
                table[letter, aql] = (ac, re)
    return table


_MASTER = _parse_master()


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    lot_size: int
    aql: str
    level: str
    code_letter: str  # the letter of Table 1
    sample_size: int  # after following an arrow; the lot size under 100% inspection
    accept: int  # Ac
    reject: int  # Re
    plan_letter: str  # the row whose plan is used (differs from code_letter after an arrow)
    arrow: str | None  # "down" | "up" | None
    full_inspection: bool  # the plan's sample size reached the lot size: inspect every item
    table_sample_size: int  # the sample size of the plan in Table 2-A
    standard: str = "GB/T 2828.1-2012 (ISO 2859-1:1999), single sampling, normal inspection"

    def to_json(self) -> dict:
        return asdict(self)

    def decide(self, defects: int) -> str:
        """"accept" when the nonconforming items (or nonconformities) found are ≤ Ac, "reject" when ≥ Re."""
        if defects < 0:
            raise AcceptanceInputError("the number of defects cannot be negative", field="defects")
        return "accept" if defects <= self.accept else "reject"


def normalise_aql(aql: str | float | int) -> str:
    """The AQL as the table writes it ("1.0", "0.65", "10"); a value that is not a preferred AQL
    of the standard is refused with the list."""
    try:
        value = Decimal(str(aql).strip())
    except InvalidOperation:
        value = None
    for a in AQLS:
        if value is not None and Decimal(a) == value:
            return a
    raise AcceptanceInputError(
        f"AQL {aql!r} is not one of the standard's preferred AQLs ({', '.join(AQLS)}) / "
        f"接收质量限 {aql!r} 不在标准的优先值之列", field="aql")


def code_letter(lot_size: int, level: str = "II") -> str:
    level = str(level).strip().upper()
    if level not in LEVELS:
        raise AcceptanceInputError(f"inspection level must be one of {', '.join(LEVELS)}, got {level!r} / 检验水平无效", field="level")
    if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < 1:
        raise AcceptanceInputError(f"the lot size must be a whole number of at least 1, got {lot_size!r} / 批量须为正整数",
                                   field="lot_size")
    column = LEVELS.index(level)
    for low, high, letters in CODE_LETTERS:  # a lot of one item takes the first row (it is inspected whole)
        if max(lot_size, 2) >= low and (high is None or lot_size <= high):
            return letters.split()[column]
    raise AssertionError("Table 1 covers every lot size from 2")  # pragma: no cover


def plan(lot_size: int, aql: str | float, level: str = "II") -> SamplingPlan:
    """The single sampling plan for normal inspection."""
    letter = code_letter(lot_size, level)
    level = str(level).strip().upper()
    aql_s = normalise_aql(aql)
    row = LETTERS.index(letter)
    cell = _MASTER[letter, aql_s]
    arrow = {"v": "down", "^": "up"}.get(cell) if isinstance(cell, str) else None
    while isinstance(cell, str):
        row += 1 if cell == "v" else -1
        cell = _MASTER[LETTERS[row], aql_s]
    ac, re = cell
    plan_letter = LETTERS[row]
    n = SAMPLE_SIZES[plan_letter]
    full = n >= lot_size
    return SamplingPlan(lot_size=lot_size, aql=aql_s, level=level, code_letter=letter,
                        sample_size=lot_size if full else n, accept=ac, reject=re, plan_letter=plan_letter,
                        arrow=arrow, full_inspection=full, table_sample_size=n)
