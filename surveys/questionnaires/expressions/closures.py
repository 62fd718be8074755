"""Expressions compiled once into Python closures, for the hot paths that evaluate them.

:func:`evaluator.evaluate` walks the tree on every call: for each node it tests the node's
class, then the operator or the function name, before doing the work. A submission of a
150-question form evaluates a few hundred relevance, constraint and calculation expressions, a
map of 300 centres one numerator per centre. :func:`compiled` turns a tree into nested closures
once, each node's dispatch decided at compile time, and keeps them for as long as the tree
lives (the trees belong to a questionnaire version's compiled form, itself kept per content
hash: each expression is compiled once per version and process).

The closures compute exactly what the tree walk computes: they call the evaluator's own
conversions, comparisons and function table (:data:`evaluator._FUNCTIONS`), and any call the
compiler does not know how to specialise (a function whose arguments are not evaluated first,
added to the evaluator later) is handed to the evaluator's tree walk for that sub-tree. The
shared vectors check both paths (``tests/surveys/questionnaires/expressions/test_closures.py``).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Mapping

from surveys.questionnaires.expressions import evaluator as walk
from surveys.questionnaires.expressions.ast import Binary, Call, Current, Literal, Node, Ref, Unary
from surveys.questionnaires.expressions.evaluator import Value

Closure = Callable[["walk._Context"], Value]
CompiledExpression = Callable[..., Value]

MAX_KEPT = 50_000
"""Compiled trees kept per process (a tree of the catalogue compiles to a few closures); past
this the table starts afresh, so trees of forgotten versions cannot pile up."""

_KEPT: dict[int, tuple[Node, CompiledExpression]] = {}
_LOCK = threading.Lock()
# Calls the evaluator handles before its function table (``evaluator._call``); ``if`` and
# ``coalesce`` are compiled here, the others are left to the tree walk.
_SPECIAL_FORMS = frozenset({"if", "coalesce", "today", "once", "jr:choice-name"})


def compiled(node: Node) -> CompiledExpression:
    """The expression as a function of ``(answers, current=None, today=None, choice=None,
    labels=None)``, compiled on first use and kept while the tree lives; it returns what
    ``evaluate(node, answers, current=..., today=..., choice=..., labels=...)`` returns.

    >>> from surveys.questionnaires.expressions import parse
    >>> adult = compiled(parse("${age} >= 18 and selected(${roles}, 'lead')"))
    >>> adult({"age": 40, "roles": ["lead", "member"]}), adult({"age": 12, "roles": "lead"})
    (True, False)
    """
    # Keyed by identity, the tree held beside its closure so that the id cannot be reused:
    # hashing a frozen tree would walk all of it, which is the cost this module removes.
    found = _KEPT.get(id(node))
    if found is not None and found[0] is node:
        return found[1]
    body = _compile(node)

    def run(
        answers: Mapping[str, object],
        current: object = None,
        today: datetime.date | None = None,
        choice: Mapping[str, object] | None = None,
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Value:
        return body(walk._Context(answers, walk.normalize(current), today, choice, labels))

    with _LOCK:
        if len(_KEPT) >= MAX_KEPT:
            _KEPT.clear()
        _KEPT[id(node)] = (node, run)
    return run


def _compile(node: Node) -> Closure:
    if isinstance(node, Literal):
        value = node.value
        return lambda context: value
    if isinstance(node, Ref):
        name = node.name
        normalize = walk.normalize
        return lambda context: normalize(context.answers.get(name))
    if isinstance(node, Current):
        return lambda context: context.current
    if isinstance(node, Unary):
        operand = _compile(node.operand)
        as_number = walk.as_number
        return lambda context: -as_number(operand(context))
    if isinstance(node, Binary):
        return _binary(node)
    if isinstance(node, Call):
        return _call(node)
    tree_walk = walk._evaluate  # a kind of node compiled nowhere here: the evaluator's walk
    return lambda context: tree_walk(node, context)


def _binary(node: Binary) -> Closure:
    left, right, op = _compile(node.left), _compile(node.right), node.op
    truthy, as_number = walk.truthy, walk.as_number
    if op == "or":
        return lambda context: truthy(left(context)) or truthy(right(context))
    if op == "and":
        return lambda context: truthy(left(context)) and truthy(right(context))
    if op == "=":
        equal = walk._equal
        return lambda context: equal(left(context), right(context))
    if op == "!=":
        equal = walk._equal
        return lambda context: not equal(left(context), right(context))
    if op in ("<", "<=", ">", ">="):
        ordered = walk._ordered
        return lambda context: ordered(op, left(context), right(context))
    arithmetic = walk._arithmetic
    return lambda context: arithmetic(op, as_number(left(context)), as_number(right(context)))


def _call(node: Call) -> Closure:
    fn = node.fn
    if fn == "if" and len(node.args) == 3:  # only the chosen branch is evaluated
        condition, then, otherwise = (_compile(arg) for arg in node.args)
        truthy = walk.truthy
        return lambda context: then(context) if truthy(condition(context)) else otherwise(context)
    if fn == "coalesce" and len(node.args) == 2:
        first, second = (_compile(arg) for arg in node.args)
        is_empty = walk._is_empty

        def coalesce(context: walk._Context) -> Value:
            value = first(context)
            return second(context) if is_empty(value) else value

        return coalesce
    implementation = walk._FUNCTIONS.get(fn)
    special = fn in _SPECIAL_FORMS or (fn == "string-length" and not node.args)
    if special or implementation is None:
        # A special form, or a function the evaluator handles itself: its own tree walk.
        tree_walk = walk._evaluate
        return lambda context: tree_walk(node, context)
    arguments = tuple(_compile(arg) for arg in node.args)
    if len(arguments) == 1:
        (only,) = arguments
        return lambda context: implementation([only(context)])
    if len(arguments) == 2:
        first, second = arguments
        return lambda context: implementation([first(context), second(context)])
    return lambda context: implementation([argument(context) for argument in arguments])
