"""Evaluate a parsed expression against a respondent's answers, the XLSForm/ODK way.

The same rules are implemented in ``web/static/js/expressions.js`` and both are held to the
shared vectors in ``tests/surveys/questionnaires/expressions/vectors.json``; change one, change
both. Evaluation never raises: like XPath, a meaningless operation yields ``NaN``, ``''`` or
``False`` so that a half-filled form is always checkable.

Values are ``str``, ``float``, ``bool`` or a ``list`` of those (a ``select_multiple`` answer or
the values of one question across a repeat). Answers are normalised on the way in: an
unanswered question (missing or ``None``) is ``''``; ``int`` and ``Decimal`` become ``float``;
dates become ISO strings; anything else that is not a list becomes ``''``.

Rules worth knowing:

* Comparison. With a boolean on either side, ``=``/``!=`` compare truth values; with a number
  on either side, both sides are compared as numbers (``''`` and non-numeric text are ``NaN``,
  so every comparison with them is false except ``!=``). Two strings are equal when identical;
  ``<``/``<=``/``>``/``>=`` between two strings compare numbers when both read as numbers, are
  false when either is ``''``, and otherwise compare by code point, which orders ISO dates.
* Arithmetic reads both sides as numbers; ``x div 0`` is ``Infinity``/``-Infinity`` and
  ``0 div 0`` is ``NaN`` as in XPath; ``mod`` keeps the sign of the dividend.
* Numbers print the XPath way: ``1.0`` is ``'1'``, never exponent notation, ``NaN``,
  ``Infinity``.
* ``regex(value, pattern)`` must match the *whole* value, as in ODK Collect (JavaRosa calls
  Java's ``Pattern.matches``); ``^``/``$`` anchors are harmless. An invalid pattern matches
  nothing. Stick to syntax that Python and JavaScript read alike (classes, groups, ``|``,
  quantifiers, ``\\d``, ``\\w``, ``\\s``): ``\\d`` and ``\\w`` are ASCII-only on both sides, but
  Python-only forms such as ``(?P<name>...)``, ``(?i)`` or ``\\Z`` do not work in the browser; the
  browser's ``\\s`` also matches non-ASCII spaces. Patterns come from form authors; a pattern
  that backtracks catastrophically is slow in both places, so keep them simple.
* ``round(x, digits)`` rounds the shortest decimal form of ``x`` half towards positive
  infinity (XPath), so ``round(2.675, 2)`` is ``2.68``; ``int()`` truncates towards zero.
* ``sum``, ``min`` and ``max`` skip empty and non-numeric values (``NaN`` only if none is left);
  ``count`` is the length of a list, 0 for ``''`` and 1 for any other single value.
* In a ``choice_filter`` a bare name is a column of the choice being filtered (``choice``):
  ``state = ${state}`` keeps the choices whose ``state`` column is the answer to ``state``.
* ``once(x)`` is the current value when there is one, else ``x`` (the value is kept once set);
  ``indexed-repeat(${q}, ${repeat}, n)`` is ``${q}`` in row ``n`` (from 1) of the repeat, ``''``
  past the end; ``jr:choice-name(value, '${q}')`` is the label of choice ``value`` of question
  ``q`` (from ``labels``), ``''`` when there is none.
"""

from __future__ import annotations

import datetime
import math
import numbers
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeAlias

from surveys.questionnaires.expressions.ast import (
    Binary,
    Call,
    Column,
    Current,
    Literal,
    Node,
    Ref,
    Unary,
)

Scalar: TypeAlias = str | float | bool
Value: TypeAlias = Scalar | list[Scalar]

_NAN = math.nan
_XML_SPACE = " \t\r\n"
_NUMBER_TEXT = re.compile(r"[ \t\r\n]*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[ \t\r\n]*")
_SPACE_RUN = re.compile(r"[ \t\r\n]+")
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class _Context:
    answers: Mapping[str, object]
    current: Value
    today: datetime.date | None
    choice: Mapping[str, object] | None = None
    labels: Mapping[str, Mapping[str, str]] | None = None


def evaluate(
    node: Node,
    answers: Mapping[str, object],
    *,
    current: object = None,
    today: datetime.date | None = None,
    choice: Mapping[str, object] | None = None,
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> Value:
    """Value of ``node`` given ``answers`` (question name to answer) and the current answer.

    ``today`` pins ``today()`` for reproducible checks; it defaults to the server's date.
    ``choice`` is the choice a ``choice_filter`` is tested on (column to value) and ``labels``
    the choice labels ``jr:choice-name()`` reads (question name to choice name to label).
    """
    return _evaluate(node, _Context(answers, normalize(current), today, choice, labels))


# -- conversions --------------------------------------------------------------------------


def normalize(raw: object) -> Value:
    """The evaluator's view of an answer as stored (see the module docstring)."""
    kind = type(raw)
    if kind is str or kind is float or kind is bool:  # the common case, already normal
        return raw  # type: ignore[return-value]
    if isinstance(raw, list | tuple):
        return [_normalize_scalar(item) for item in raw]
    return _normalize_scalar(raw)


def _normalize_scalar(raw: object) -> Scalar:
    if isinstance(raw, bool | str):
        return raw
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            return math.inf if raw > 0 else -math.inf
    if isinstance(raw, numbers.Real | Decimal):  # float, Decimal, Fraction, numpy numbers
        try:
            return float(raw)
        except (ArithmeticError, ValueError, TypeError):  # e.g. a signalling Decimal NaN
            return _NAN
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    if isinstance(raw, list | tuple):
        return as_string(normalize(raw))
    return ""


def as_number(value: object) -> float:
    """XPath ``number()``: booleans are 1/0, text must be a plain decimal, else ``NaN``."""
    value = normalize(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = as_string(value)
    return float(text.strip(_XML_SPACE)) if _NUMBER_TEXT.fullmatch(text) else _NAN


def as_string(value: object) -> str:
    """XPath ``string()``: numbers without exponent or trailing ``.0``, lists space-separated."""
    value = normalize(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, list):
        return " ".join(as_string(item) for item in value)
    return value


def truthy(value: object) -> bool:
    """XPath ``boolean()``: non-empty text or list, a number other than 0 and ``NaN``."""
    value = normalize(value)
    if isinstance(value, float):
        return value == value and value != 0
    if isinstance(value, bool):
        return value
    return len(value) > 0


def format_number(number: float) -> str:
    """Plain decimal notation from the shortest round-trip digits, as the browser prints it."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign, digits, point = _decimal_digits(number)
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _decimal_digits(number: float) -> tuple[str, str, int]:
    """Sign, significant digits and decimal-point position of ``repr(number)``."""
    text = repr(number)
    sign = "-" if text.startswith("-") else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or "0")
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return sign, stripped.rstrip("0"), point


def _round_half_up(number: float, places: int) -> float:
    """Round the shortest decimal form of ``number``; ties go towards positive infinity."""
    if not math.isfinite(number) or number == 0:
        return number
    negative = number < 0
    _, digits, point = _decimal_digits(abs(number))
    keep = point + places  # how many leading digits survive
    if keep >= len(digits):
        return number
    kept = int(digits[:keep]) if keep > 0 else 0
    dropped = digits[keep:] if keep >= 0 else ""
    if dropped:
        tie = dropped[0] == "5" and dropped[1:].strip("0") == ""
        if dropped[0] > "5" or (dropped[0] == "5" and not (tie and negative)):
            kept += 1
    magnitude = float(f"{kept}e{-places}")
    return -magnitude if negative else magnitude


def _split_choices(value: Value) -> list[str]:
    """The choice names of a ``select_multiple`` answer, list or space-separated text."""
    text = as_string(value).strip(_XML_SPACE)
    return _SPACE_RUN.split(text) if text else []


def _is_empty(value: Value) -> bool:
    return (isinstance(value, float) and math.isnan(value)) or as_string(value) == ""


@lru_cache(maxsize=256)
def _compile_pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.ASCII)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


# -- tree walk ----------------------------------------------------------------------------


def _evaluate(node: Node, context: _Context) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return normalize(context.answers.get(node.name))
    if isinstance(node, Column):
        return normalize((context.choice or {}).get(node.name))
    if isinstance(node, Current):
        return context.current
    if isinstance(node, Unary):
        return -as_number(_evaluate(node.operand, context))
    if isinstance(node, Binary):
        return _binary(node, context)
    return _call(node, context)


def _binary(node: Binary, context: _Context) -> Value:
    left = _evaluate(node.left, context)
    op = node.op
    if op == "or":
        return truthy(left) or truthy(_evaluate(node.right, context))
    if op == "and":
        return truthy(left) and truthy(_evaluate(node.right, context))
    right = _evaluate(node.right, context)
    if op == "=":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("<", "<=", ">", ">="):
        return _ordered(op, left, right)
    return _arithmetic(op, as_number(left), as_number(right))


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    if isinstance(left, float) or isinstance(right, float):
        return as_number(left) == as_number(right)
    return as_string(left) == as_string(right)


def _ordered(op: str, left: Value, right: Value) -> bool:
    left_number, right_number = as_number(left), as_number(right)
    numeric = isinstance(left, bool | float) or isinstance(right, bool | float)
    if numeric or not (math.isnan(left_number) or math.isnan(right_number)):
        return bool(_ORDERINGS[op](left_number, right_number))
    left_text, right_text = as_string(left), as_string(right)
    if left_text == "" or right_text == "":
        return False
    return bool(_ORDERINGS[op](left_text, right_text))


def _arithmetic(op: str, left: float, right: float) -> float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "div":
        if right == 0:
            if math.isnan(left) or left == 0:
                return _NAN
            return math.copysign(math.inf, left) * math.copysign(1.0, right)
        return left / right
    if right == 0 or math.isinf(left) or math.isnan(left) or math.isnan(right):
        return _NAN
    return math.fmod(left, right)


# -- functions ----------------------------------------------------------------------------


def _call(node: Call, context: _Context) -> Value:
    args = node.args
    if node.fn == "if":  # only the chosen branch is evaluated
        return _evaluate(args[1] if truthy(_evaluate(args[0], context)) else args[2], context)
    if node.fn == "coalesce":
        first = _evaluate(args[0], context)
        return _evaluate(args[1], context) if _is_empty(first) else first
    if node.fn == "today":
        today = context.today or datetime.date.today()
        return datetime.date(today.year, today.month, today.day).isoformat()
    if node.fn == "string-length" and not args:
        return float(len(as_string(context.current)))
    if node.fn == "once":  # a value once set is kept
        return context.current if not _is_empty(context.current) else _evaluate(args[0], context)
    if node.fn == "jr:choice-name":
        values = [_evaluate(arg, context) for arg in args]
        return _choice_name(values[0], values[1], context.labels)
    implementation = _FUNCTIONS.get(node.fn)
    values = [_evaluate(arg, context) for arg in args]
    return "" if implementation is None else implementation(values)


def _numbers(values: list[Value]) -> list[float]:
    """Numeric arguments of min/max/sum: a single list argument stands for its items."""
    items = values[0] if len(values) == 1 and isinstance(values[0], list) else values
    numbers = (as_number(item) for item in items)
    return [number for number in numbers if not math.isnan(number)]


def _int(value: Value) -> float:
    number = as_number(value)
    return math.copysign(float(math.trunc(number)), number) if math.isfinite(number) else number


def _round(values: list[Value]) -> float:
    places = as_number(values[1]) if len(values) > 1 else 0.0
    if not math.isfinite(places) or abs(places) > 30:
        return _NAN
    return _round_half_up(as_number(values[0]), math.trunc(places))


def _sum(values: list[Value]) -> float:
    total = 0.0
    for number in _numbers(values):  # left to right, exactly as the browser adds
        total += number
    return total


def _extreme(values: list[Value], *, highest: bool) -> float:
    best: float | None = None
    for number in _numbers(values):
        if best is None or (number > best if highest else number < best):
            best = number
    return _NAN if best is None else best


def _count(value: Value) -> float:
    if isinstance(value, list):
        return float(len(value))
    return 0.0 if value == "" else 1.0


def _selected_at(answer: Value, index: Value) -> str:
    choices = _split_choices(answer)
    position = as_number(index)
    if not math.isfinite(position) or not 0 <= math.trunc(position) < len(choices):
        return ""
    return choices[math.trunc(position)]


def _indexed(values: Value, index: Value) -> Value:
    position = as_number(index)
    if not math.isfinite(position) or position < 1:
        return ""
    items = values if isinstance(values, list) else [values]
    row = math.trunc(position) - 1
    return items[row] if row < len(items) else ""


def _choice_name(
    value: Value, question: Value, labels: Mapping[str, Mapping[str, str]] | None
) -> str:
    name = as_string(question).strip()
    if name.startswith("${") and name.endswith("}"):
        name = name[2:-1]
    return (labels or {}).get(name, {}).get(as_string(value).strip(_XML_SPACE), "")


def _regex(text: Value, pattern: Value) -> bool:
    compiled = _compile_pattern(as_string(pattern))
    return compiled is not None and compiled.fullmatch(as_string(text)) is not None


_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "abs": lambda v: abs(as_number(v[0])),
    "boolean": lambda v: truthy(v[0]),
    "concat": lambda v: "".join(as_string(value) for value in v),
    "contains": lambda v: as_string(v[1]) in as_string(v[0]),
    "count": lambda v: _count(v[0]),
    "count-selected": lambda v: float(len(_split_choices(v[0]))),
    "false": lambda v: False,
    "indexed-repeat": lambda v: _indexed(v[0], v[2]),
    "int": lambda v: _int(v[0]),
    "max": lambda v: _extreme(v, highest=True),
    "min": lambda v: _extreme(v, highest=False),
    "not": lambda v: not truthy(v[0]),
    "number": lambda v: as_number(v[0]),
    "regex": lambda v: _regex(v[0], v[1]),
    "round": _round,
    "selected": lambda v: as_string(v[1]).strip(_XML_SPACE) in _split_choices(v[0]),
    "selected-at": lambda v: _selected_at(v[0], v[1]),
    "starts-with": lambda v: as_string(v[0]).startswith(as_string(v[1])),
    "string": lambda v: as_string(v[0]),
    "string-length": lambda v: float(len(as_string(v[0]))),
    "sum": _sum,
    "true": lambda v: True,
}
"""Functions of already-evaluated arguments; ``if``, ``coalesce``, ``today``, ``once`` and
``jr:choice-name`` (which read the context) are in ``_call``."""
