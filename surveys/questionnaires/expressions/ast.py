"""The syntax tree of an XLSForm expression and its JSON form.

An expression is parsed once (``parser.parse``) into these frozen nodes, stored as JSON next to
the form, and evaluated both here (``evaluator.evaluate``) and in the browser
(``web/static/js/expressions.js``). The JSON shape is therefore a contract between the two
evaluators and must only ever grow in backward-compatible ways.

JSON shape, one object per node, the kind under ``"k"``:

============================  ======================================================
``{"k": "num", "v": 1.5}``    number literal (always finite)
``{"k": "str", "v": "a"}``    string literal
``{"k": "bool", "v": true}``  ``true()`` / ``false()``
``{"k": "ref", "name": "x"}`` ``${x}``, the answer to question ``x``
``{"k": "col", "name": "x"}`` ``x`` in a ``choice_filter``: column ``x`` of the choice
                              being filtered (``name`` and ``label`` included)
``{"k": "cur"}``              ``.``, the answer to the question being checked
``{"k": "neg", "e": N}``      unary minus
``{"k": "bin", "op": "+",     binary operator; ``op`` is one of ``or and = != < <= > >=
"l": N, "r": N}``             + - * div mod``
``{"k": "call", "fn": "if",   function call; ``fn`` is a name in ``FUNCTION_ARITY``
"args": [N, ...]}``
============================  ======================================================

Example: ``${age} >= 18 and selected(${roles}, 'lead')`` is::

    {"k": "bin", "op": "and",
     "l": {"k": "bin", "op": ">=", "l": {"k": "ref", "name": "age"}, "r": {"k": "num", "v": 18.0}},
     "r": {"k": "call", "fn": "selected",
           "args": [{"k": "ref", "name": "roles"}, {"k": "str", "v": "lead"}]}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

MAX_DEPTH = 100
"""Deepest nesting of brackets, calls and minus signs the parser accepts."""

MAX_HEIGHT = 300
"""Tallest tree the parser builds or ``from_json`` accepts; keeps every recursive walk safe.

A flat chain ``a + b + c ...`` is a tree as tall as it has terms, so this bounds such chains
(far beyond the 101-term sums real forms have) without calling them nesting.
"""

_Expected = TypeVar("_Expected")

BINARY_OPERATORS = frozenset(
    {"or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"}
)

FUNCTION_ARITY: Mapping[str, tuple[int, int | None]] = {
    # name: (fewest arguments, most arguments or None for any number)
    "abs": (1, 1),
    "boolean": (1, 1),
    "coalesce": (2, 2),
    "concat": (1, None),
    "contains": (2, 2),
    "count": (1, 1),
    "count-selected": (1, 1),
    "false": (0, 0),
    "if": (3, 3),
    "indexed-repeat": (3, 3),
    "int": (1, 1),
    "jr:choice-name": (2, 2),
    "max": (1, None),
    "min": (1, None),
    "not": (1, 1),
    "number": (1, 1),
    "once": (1, 1),
    "regex": (2, 2),
    "round": (1, 2),
    "selected": (2, 2),
    "selected-at": (2, 2),
    "starts-with": (2, 2),
    "string": (1, 1),
    "string-length": (0, 1),
    "sum": (1, 1),
    "today": (0, 0),
    "true": (0, 0),
}
"""Every function the expression language knows, with how many arguments it takes."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, string or boolean written in the expression."""

    value: float | str | bool


@dataclass(frozen=True, slots=True)
class Ref:
    """``${name}``: the answer to another question."""

    name: str


@dataclass(frozen=True, slots=True)
class Column:
    """A bare name in a ``choice_filter``: that column of the choice being filtered."""

    name: str


@dataclass(frozen=True, slots=True)
class Current:
    """``.``: the answer to the question the expression belongs to."""


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary minus, the only prefix operator XPath has."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` for one of ``BINARY_OPERATORS``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A call of one of the functions in ``FUNCTION_ARITY``."""

    fn: str
    args: tuple[Node, ...]


Node: TypeAlias = Literal | Ref | Column | Current | Unary | Binary | Call


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``, left to right."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def depth(node: Node) -> int:
    """Height of the tree, computed without recursion so that any tree can be measured."""
    deepest = 0
    pending: list[tuple[Node, int]] = [(node, 1)]
    while pending:
        current, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children(current))
    return deepest


def references(node: Node) -> set[str]:
    """Names of the questions an expression reads, for cycle and unknown-name checks.

    ``.`` is not included: it always means the question the expression belongs to.
    """
    names: set[str] = set()
    pending: list[Node] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, Ref):
            names.add(current.name)
        pending.extend(children(current))
    return names


def to_json(node: Node) -> dict[str, Any]:
    """The JSON-ready dict for ``node`` (see the module docstring for the shape)."""
    if isinstance(node, Literal):
        value = node.value
        if isinstance(value, bool):
            return {"k": "bool", "v": value}
        if isinstance(value, str):
            return {"k": "str", "v": value}
        return {"k": "num", "v": value}
    if isinstance(node, Ref):
        return {"k": "ref", "name": node.name}
    if isinstance(node, Column):
        return {"k": "col", "name": node.name}
    if isinstance(node, Current):
        return {"k": "cur"}
    if isinstance(node, Unary):
        return {"k": "neg", "e": to_json(node.operand)}
    if isinstance(node, Binary):
        return {"k": "bin", "op": node.op, "l": to_json(node.left), "r": to_json(node.right)}
    return {"k": "call", "fn": node.fn, "args": [to_json(arg) for arg in node.args]}


def from_json(data: object) -> Node:
    """Rebuild a tree from ``to_json`` output, checking it as strictly as the parser would.

    Stored trees are read back from the database, so a malformed one is reported with a
    ``ValueError`` naming what is wrong rather than surfacing later as a wrong answer.
    """
    return _from_json(data, level=1)


def _from_json(data: object, *, level: int) -> Node:
    if level > MAX_HEIGHT:
        raise ValueError(f"expression tree is deeper than {MAX_HEIGHT} levels")
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an expression node object, got {type(data).__name__}")
    kind = data.get("k")
    if kind == "num":
        number = data.get("v")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError("'num' node needs a number under 'v'")
        try:
            value = float(number)
        except OverflowError:  # an integer beyond the float range
            value = math.inf
        if not math.isfinite(value):
            raise ValueError("'num' node needs a finite number")
        return Literal(value)
    if kind == "str":
        return Literal(_field(data, "v", str))
    if kind == "bool":
        return Literal(_field(data, "v", bool))
    if kind == "ref":
        return Ref(_field(data, "name", str))
    if kind == "col":
        return Column(_field(data, "name", str))
    if kind == "cur":
        return Current()
    if kind == "neg":
        return Unary(_from_json(data.get("e"), level=level + 1))
    if kind == "bin":
        op = _field(data, "op", str)
        if op not in BINARY_OPERATORS:
            raise ValueError(f"unknown binary operator {op!r}")
        left = _from_json(data.get("l"), level=level + 1)
        return Binary(op, left, _from_json(data.get("r"), level=level + 1))
    if kind == "call":
        fn = _field(data, "fn", str)
        raw_args = data.get("args")
        if not isinstance(raw_args, list):
            raise ValueError("'call' node needs a list under 'args'")
        check_arity(fn, len(raw_args))
        return Call(fn, tuple(_from_json(arg, level=level + 1) for arg in raw_args))
    raise ValueError(f"unknown expression node kind {kind!r}")


def _field(data: Mapping[Any, Any], key: str, expected: type[_Expected]) -> _Expected:
    value = data.get(key)
    if not isinstance(value, expected):
        raise ValueError(f"'{data.get('k')}' node needs a {expected.__name__} under '{key}'")
    return value


def check_arity(fn: str, count: int) -> None:
    """Raise ``ValueError`` unless ``fn`` is a known function taking ``count`` arguments."""
    if fn not in FUNCTION_ARITY:
        raise ValueError(f"unknown function '{fn}'")
    fewest, most = FUNCTION_ARITY[fn]
    if count < fewest or (most is not None and count > most):
        raise ValueError(f"function '{fn}' takes {describe_arity(fn)}, got {count}")


def describe_arity(fn: str) -> str:
    """How many arguments ``fn`` takes, in words, for error messages."""
    fewest, most = FUNCTION_ARITY[fn]
    if most is None:
        return f"at least {fewest} argument{'s' if fewest != 1 else ''}"
    if fewest == most:
        return f"{fewest} argument{'s' if fewest != 1 else ''}"
    return f"{fewest} to {most} arguments"
