"""Evaluating trees against answers as Python hands them over (the shared vectors cover JSON).

The semantics both interpreters share live in ``vectors.json``; these tests cover what only the
Python side sees: ``int``/``Decimal``/``date`` answers, tuples, mappings, trees built by hand, and
the public conversion helpers.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

import pytest

from surveys.questionnaires.expressions import (
    Call,
    Literal,
    as_number,
    as_string,
    evaluate,
    format_number,
    normalize,
    parse,
    truthy,
)


def run(text: str, /, *, current: object = None, **answers: object) -> object:
    return evaluate(parse(text), answers, current=current, today=datetime.date(2024, 5, 17))


# -- evaluate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (7, 7.0),
        (Decimal("2.50"), 2.5),
        (Fraction(1, 4), 0.25),
        (10**400, math.inf),
        (-(10**400), -math.inf),
        (True, True),
        (None, ""),
        (datetime.date(2024, 2, 29), "2024-02-29"),
        (datetime.datetime(2024, 2, 29, 13, 5), "2024-02-29T13:05:00"),
        (("a", "b"), ["a", "b"]),
        ([1, None, ("x", "y"), {"row": 1}], [1.0, "", "x y", ""]),
        ({"row": 1}, ""),
        (object(), ""),
    ],
)
def test_evaluate_normalizes_python_answers(answer: object, expected: object) -> None:
    assert run("${q}", q=answer) == expected


def test_evaluate_reads_signalling_decimal_nan_as_nan() -> None:
    result = run("${q} + 1", q=Decimal("sNaN"))
    assert isinstance(result, float)
    assert math.isnan(result)


def test_evaluate_compares_decimal_answers_numerically() -> None:
    assert run("${q} >= 18.5", q=Decimal("18.50")) is True


def test_evaluate_accepts_any_mapping_of_answers() -> None:
    answers = MappingProxyType({"age": 30})
    assert evaluate(parse("${age} > 18"), answers) is True


def test_evaluate_uses_the_server_date_when_today_is_not_pinned() -> None:
    before = datetime.date.today().isoformat()
    result = evaluate(parse("today()"), {})
    assert result in {before, datetime.date.today().isoformat()}


def test_evaluate_prints_a_pinned_datetime_as_a_date() -> None:
    pinned = datetime.datetime(2024, 5, 17, 23, 59)
    assert evaluate(parse("today()"), {}, today=pinned) == "2024-05-17"


def test_evaluate_treats_current_like_an_answer() -> None:
    assert run(". * 2", current=Decimal("1.5")) == 3.0
    assert run("count-selected(.)", current=("a", "b", "c")) == 3.0


def test_evaluate_gives_empty_text_for_an_unknown_function_in_a_hand_built_tree() -> None:
    assert evaluate(Call("no-such-function", (Literal(1.0),)), {}) == ""


def test_evaluate_matches_the_whole_value_with_regex() -> None:
    assert run("regex(., '[0-9]{3}')", current="123") is True
    assert run("regex(., '[0-9]{3}')", current="1234") is False
    assert run("regex(., '[0-9]{3}')", current="123\n") is False


def test_evaluate_treats_an_invalid_pattern_as_no_match() -> None:
    assert run("regex('a', '(')") is False
    assert run("regex('a', '" + "(" * 2000 + "a" + ")" * 2000 + "')") in {True, False}


# -- conversions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12.0),
        (" -0.5\t", -0.5),
        ("1.", 1.0),
        (".25", 0.25),
        ("1e3", math.nan),
        ("0x10", math.nan),
        ("١٢", math.nan),
        ("", math.nan),
        (True, 1.0),
        (False, 0.0),
        (Decimal("3.5"), 3.5),
        (["4"], 4.0),
        (["4", "5"], math.nan),
        (None, math.nan),
    ],
)
def test_as_number_reads_only_plain_decimals(value: object, expected: float) -> None:
    result = as_number(value)
    assert result == expected or (math.isnan(result) and math.isnan(expected))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (-123.456, "-123.456"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (2**53 + 2, "9007199254740994"),
    ],
)
def test_format_number_writes_plain_decimals(value: float, expected: str) -> None:
    assert format_number(value) == expected


def test_as_string_joins_lists_and_spells_booleans() -> None:
    assert as_string(["a", 2, True]) == "a 2 true"
    assert as_string(None) == ""
    assert as_string(datetime.date(2024, 1, 2)) == "2024-01-02"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", False),
        ("false", True),
        (0, False),
        (-0.0, False),
        (math.nan, False),
        (0.001, True),
        ([], False),
        ([""], True),
        (None, False),
        (Decimal(0), False),
    ],
)
def test_truthy_follows_xpath_boolean(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def test_normalize_turns_tuples_into_lists_of_scalars() -> None:
    assert normalize(((1, 2), "a", None)) == ["1 2", "a", ""]
