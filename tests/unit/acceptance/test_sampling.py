"""Single sampling plans, normal inspection (GB/T 2828.1-2012 = ISO 2859-1:1999), checked against
values read off the standard's Table 1 and Table 2-A — not computed by the code under test."""

import pytest

from acceptance.errors import AcceptanceInputError
from acceptance.sampling import AQLS, CODE_LETTERS, LETTERS, MASTER_NORMAL, SAMPLE_SIZES, code_letter, plan


# (lot size, level, code letter) from Table 1
@pytest.mark.parametrize("lot, level, letter", [
    (2, "II", "A"), (8, "II", "A"), (9, "II", "B"), (15, "II", "B"), (16, "II", "C"), (50, "II", "D"),
    (51, "II", "E"), (90, "II", "E"), (150, "II", "F"), (280, "II", "G"), (281, "II", "H"), (500, "II", "H"),
    (501, "II", "J"), (1200, "II", "J"), (1201, "II", "K"), (3200, "II", "K"), (3201, "II", "L"), (10000, "II", "L"),
    (10001, "II", "M"), (35001, "II", "N"), (150001, "II", "P"), (500001, "II", "Q"), (10**7, "II", "Q"),
    (1000, "I", "G"), (1000, "III", "K"), (1000, "S-1", "C"), (1000, "S-4", "F"), (10**6, "III", "R"), (10**6, "S-3", "H"),
])
def test_code_letters_of_table_1(lot, level, letter):
    assert code_letter(lot, level) == letter


# (lot size, AQL, level) -> (code letter, sample size, Ac, Re) — published single normal plans
@pytest.mark.parametrize("lot, aql, level, expected", [
    (5000, "1.0", "II", ("L", 200, 5, 6)),    # the example
    (1000, "1.0", "II", ("J", 80, 2, 3)),
    (1000, "2.5", "II", ("J", 80, 5, 6)),
    (1000, "4.0", "II", ("J", 80, 7, 8)),
    (1000, "6.5", "II", ("J", 80, 10, 11)),
    (1000, "0.65", "II", ("J", 80, 1, 2)),
    (1000, "0.15", "II", ("J", 80, 0, 1)),
    (2000, "0.65", "II", ("K", 125, 2, 3)),
    (2000, "1.5", "II", ("K", 125, 5, 6)),
    (2000, "2.5", "II", ("K", 125, 7, 8)),
    (300, "2.5", "II", ("H", 50, 3, 4)),
    (200, "2.5", "II", ("G", 32, 2, 3)),
    (120, "2.5", "II", ("F", 20, 1, 2)),
    (20000, "0.40", "II", ("M", 315, 3, 4)),
    (100000, "0.25", "II", ("N", 500, 3, 4)),
    (100000, "1.0", "II", ("N", 500, 10, 11)),
    (100000, "2.5", "II", ("N", 500, 21, 22)),
    (60, "10", "II", ("E", 13, 3, 4)),
    (10, "25", "II", ("B", 3, 2, 3)),
    (5, "1000", "II", ("A", 2, 30, 31)),
])
def test_plans_without_arrows(lot, aql, level, expected):
    p = plan(lot, aql, level)
    assert (p.code_letter, p.sample_size, p.accept, p.reject) == expected
    assert p.arrow is None and p.plan_letter == p.code_letter and not p.full_inspection


# arrow cases: the plan (and so the sample size) comes from another row
@pytest.mark.parametrize("lot, aql, letter, arrow, plan_letter, n, ac, re", [
    (1000, "0.40", "J", "down", "K", 125, 1, 2),   # J/0.40 ↓ → K 1 2
    (1000, "0.25", "J", "up", "H", 50, 0, 1),      # J/0.25 ↑ → H 0 1
    (50, "1.0", "D", "down", "E", 13, 0, 1),       # D/1.0 ↓ → E 0 1
    (80, "1.5", "E", "up", "D", 8, 0, 1),          # E/1.5 ↑ → D 0 1
    (80, "2.5", "E", "down", "F", 20, 1, 2),       # E/2.5 ↓ → F 1 2
    (5000, "0.10", "L", "up", "K", 125, 0, 1),     # L/0.10 ↑ → K 0 1
    (5000, "0.15", "L", "down", "M", 315, 1, 2),   # L/0.15 ↓ → M 1 2
    (200000, "2.5", "P", "up", "N", 500, 21, 22),  # P/2.5 ↑ → N 21 22 (percent nonconforming stops at 21 22)
    (2000, "0.010", "K", "down", "Q", 1250, 0, 1), # a long way down the 0.010 column
])
def test_arrow_cases_use_the_plan_and_sample_size_of_the_row_they_lead_to(lot, aql, letter, arrow, plan_letter, n, ac, re):
    p = plan(lot, aql)
    assert (p.code_letter, p.arrow, p.plan_letter, p.sample_size, p.accept, p.reject) == (letter, arrow, plan_letter, n, ac, re)
    assert p.table_sample_size == SAMPLE_SIZES[plan_letter]


def test_the_bottom_row_goes_up_to_the_last_percent_plan():
    p = plan(10**6, "1.0", "III")  # R/1.0 ↑ → Q 21 22
    assert (p.code_letter, p.arrow, p.plan_letter, p.sample_size, p.accept, p.reject) == ("R", "up", "Q", 1250, 21, 22)


def test_full_inspection_when_the_plan_sample_reaches_the_lot():
    p = plan(3, "2.5")  # A/2.5 ↓ ↓ → C: n=5 ≥ 3
    assert (p.code_letter, p.plan_letter, p.table_sample_size, p.sample_size, p.accept, p.reject, p.full_inspection) == \
        ("A", "C", 5, 3, 0, 1, True)
    p = plan(10, "0.65")  # B/0.65 ↓ … → F: n=20 ≥ 10
    assert p.full_inspection and p.sample_size == 10 and (p.accept, p.reject) == (0, 1)
    p = plan(1, "1.0")  # a lot of one book: inspect it
    assert p.full_inspection and p.sample_size == 1


def test_decision_by_ac_and_re():
    p = plan(5000, "1.0")
    assert [p.decide(d) for d in (0, 5, 6, 40)] == ["accept", "accept", "reject", "reject"]
    with pytest.raises(AcceptanceInputError):
        p.decide(-1)


def test_the_master_table_is_whole_and_consistent():
    """Every row has a cell for every AQL; Re = Ac + 1 (single sampling); every arrow leads to a plan;
    along a diagonal (one row down, one AQL column left) the plan is the same where both are plans —
    the property the standard's table is built on (sample sizes and AQLs both step by ≈1.6)."""
    assert list(MASTER_NORMAL) == list(LETTERS)
    for letter, row in MASTER_NORMAL.items():
        cells = [c.strip() for c in row.split("|")]
        assert len(cells) == len(AQLS), letter
        for c in cells:
            if c not in ("v", "^"):
                ac, re = map(int, c.split())
                assert re == ac + 1
    for i in range(1, len(LETTERS)):
        for j in range(len(AQLS) - 1):
            below = MASTER_NORMAL[LETTERS[i]].split("|")[j].strip()
            here = MASTER_NORMAL[LETTERS[i - 1]].split("|")[j + 1].strip()
            if below not in ("v", "^") and here not in ("v", "^") and (LETTERS[i], AQLS[j]) != ("R", "0.015"):
                assert below == here, (LETTERS[i], AQLS[j])
    for lot in (2, 9, 16, 26, 51, 91, 151, 281, 501, 1201, 3201, 10001, 35001, 150001, 500001):
        for aql in AQLS:
            for level in ("I", "II", "III", "S-1", "S-4"):
                p = plan(lot, aql, level)
                assert p.reject == p.accept + 1 and 1 <= p.sample_size <= lot


def test_table_1_ranges_are_contiguous():
    for (lo1, hi1, _), (lo2, _, _) in zip(CODE_LETTERS, CODE_LETTERS[1:]):
        assert lo2 == hi1 + 1


@pytest.mark.parametrize("lot, aql, level, field", [
    (0, "1.0", "II", "lot_size"), (-5, "1.0", "II", "lot_size"), (100, "1.1", "II", "aql"), (100, "abc", "II", "aql"),
    (100, "1.0", "IV", "level"),
])
def test_bad_input_names_the_field(lot, aql, level, field):
    with pytest.raises(AcceptanceInputError) as e:
        plan(lot, aql, level)
    assert e.value.details["field"] == field


def test_aql_spellings():
    assert plan(1000, 1).aql == "1.0" and plan(1000, "1.00").aql == "1.0" and plan(1000, 0.4).aql == "0.40"


def test_level_spellings():
    assert plan(1000, "1.0", "ii").level == "II" and plan(1000, "1.0", "s-2").code_letter == "C"
