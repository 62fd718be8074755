"""Properties that must hold for every input: form authors and respondents type anything."""

from __future__ import annotations

import datetime
import json
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.questionnaires.expressions import (
    FUNCTION_ARITY,
    PAIRED_ARGUMENTS,
    ExpressionError,
    Node,
    as_number,
    evaluate,
    format_number,
    from_json,
    parse,
    to_json,
)

FAST = settings(max_examples=200, deadline=None)
QUESTION_NAMES = ("a", "b", "m", "first-name", "città")

TOKENS = (
    *("(", ")", ",", ".", "-", "+", "*", "=", "!=", "<", "<=", ">", ">=", "/", "!", "$", "{"),
    *("}", "'", '"', "and", "or", "div", "mod", "${a}", "${", "1", "0.5", ".5", "'x'", '"y"'),
    *(sorted(FUNCTION_ARITY)),
    *("foo", "if(", "selected(", "9" * 320, " ", ""),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "0", "-0", " 12 ", "1.", ".5", "a b", "2024-01-01", "NaN", "Infinity"]),
    st.dates(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
answer_values = st.one_of(scalars, st.lists(st.one_of(scalars, st.lists(scalars, max_size=3))))
answers = st.dictionaries(st.sampled_from(QUESTION_NAMES), answer_values)


def _leaf() -> st.SearchStrategy[str]:
    numbers = st.one_of(
        st.integers(min_value=0, max_value=10**20).map(str),
        st.decimals(min_value=0, max_value=10**6, places=3).map(lambda d: format(d, "f")),
        st.sampled_from([".5", "2.", "0"]),
    )
    strings = st.text(max_size=8).filter(lambda s: "'" not in s).map(lambda s: f"'{s}'")
    references = st.sampled_from(QUESTION_NAMES).map(lambda name: "${" + name + "}")
    return st.one_of(numbers, strings, references, st.just("."))


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operators = st.sampled_from(
        ["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]
    )
    binary = st.tuples(children, operators, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    negation = children.map(lambda child: f"-{child}")
    calls = st.sampled_from(sorted(FUNCTION_ARITY)).flatmap(lambda fn: _call(fn, children))
    return st.one_of(binary, negation, calls)


def _call(fn: str, children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    fewest, most = FUNCTION_ARITY[fn]
    arguments = st.lists(children, min_size=fewest, max_size=3 if most is None else most)
    if fn in PAIRED_ARGUMENTS:  # a value, then (repeat, row) pairs
        arguments = arguments.filter(lambda args: len(args) % 2 == 1)
    return arguments.map(lambda args: f"{fn}({', '.join(args)})")


valid_expressions = st.recursive(_leaf(), _compound, max_leaves=12)
"""Expression text built only from the grammar's productions, so it must always parse."""


def parse_error_of(text: str) -> ExpressionError | None:
    """The error parsing ``text`` raises, if any; anything but ``ExpressionError`` propagates."""
    try:
        parse(text)
    except ExpressionError as error:
        return error
    return None


def assert_is_value(result: object) -> None:
    if isinstance(result, list):
        assert all(isinstance(item, str | float | bool) for item in result)
    else:
        assert isinstance(result, str | float | bool)


# -- parse --------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=200))
def test_parse_raises_only_expression_error_on_any_text(text: str) -> None:
    error = parse_error_of(text)
    assert error is None or 0 <= error.position <= len(text)


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.sampled_from(["", " "]))
def test_parse_raises_only_expression_error_on_token_soup(tokens: list[str], glue: str) -> None:
    text = glue.join(tokens)
    error = parse_error_of(text)
    assert error is None or 0 <= error.position <= len(text)


@FAST
@given(valid_expressions)
def test_parse_accepts_every_generated_expression(text: str) -> None:
    parse(text)


# -- evaluate -----------------------------------------------------------------------------


@FAST
@given(valid_expressions, answers, answer_values, st.dates())
def test_evaluate_never_raises(
    text: str, given_answers: dict[str, object], current: object, today: datetime.date
) -> None:
    assert_is_value(evaluate(parse(text), given_answers, current=current, today=today))


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_loses_nothing(number: float) -> None:
    assert as_number(format_number(number)) == number


@FAST
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6))
def test_numbers_compare_equal_to_their_text(number: Decimal) -> None:
    node = parse("${n} = string(${n}) and number(string(${n})) = ${n}")
    # Beyond the float range a number reads as infinity, whose text 'Infinity' is not a number.
    assert evaluate(node, {"n": number}) is math.isfinite(float(number))


# -- to_json / from_json ------------------------------------------------------------------


@FAST
@given(valid_expressions)
def test_json_round_trip_rebuilds_the_same_tree(text: str) -> None:
    tree: Node = parse(text)
    stored = json.dumps(to_json(tree), allow_nan=False)
    assert from_json(json.loads(stored)) == tree
