"""Compiled expressions compute what the tree walk computes, on every shared vector."""

from __future__ import annotations

import datetime

from surveys.questionnaires.expressions import Call, Literal, Ref, evaluate, parse
from surveys.questionnaires.expressions.closures import compiled
from tests.surveys.questionnaires.expressions.test_vectors import (
    VECTORS,
    expects_parse_error,
    matches,
)

EVALUATED = [v for v in VECTORS if not expects_parse_error(v)]


def test_compiled_expressions_match_every_vector_and_the_tree_walk() -> None:
    wrong = []
    for vector in EVALUATED:  # one test for all: ~300 vectors, a few milliseconds in all
        today = datetime.date.fromisoformat(vector["today"]) if "today" in vector else None
        node = parse(vector["expr"], question=vector["id"], columns=vector.get("columns", False))
        given = {
            "current": vector.get("current"),
            "today": today,
            "choice": vector.get("choice"),
            "labels": vector.get("labels"),
        }
        result = compiled(node)(vector["answers"], **given)
        walked = evaluate(node, vector["answers"], **given)
        same = matches(result, walked) or (result != result and walked != walked)
        if not (matches(result, vector["expect"]) and same):
            wrong.append((vector["id"], vector["expr"], result, walked))
    assert len(EVALUATED) > 200
    assert wrong == []


def test_a_tree_is_compiled_once_and_kept_while_it_lives() -> None:
    node = parse("${a} + 1")
    assert compiled(node) is compiled(node)
    assert compiled(node)({"a": 2}) == 3.0
    assert compiled(parse("${a} + 1")) is not compiled(node)  # another tree, its own closure


def test_only_the_chosen_branch_of_if_is_evaluated() -> None:
    # regex() with an invalid pattern is harmless, but a division by a missing answer in the
    # branch not taken must not matter either way: the result is the chosen branch.
    node = parse("if(${a} = 1, 'one', ${b} div 0)")
    assert compiled(node)({"a": 1}) == "one"
    assert compiled(node)({"a": 2, "b": 3}) == float("inf")


def test_a_call_the_compiler_does_not_know_goes_to_the_tree_walk() -> None:
    unknown = Call("no-such-function", (Ref("a"),))  # as a hand-built tree may hold
    assert compiled(unknown)({"a": 1}) == evaluate(unknown, {"a": 1}) == ""
    today = Call("today", ())
    assert compiled(today)({}, None, datetime.date(2026, 1, 2)) == "2026-01-02"
    assert compiled(Literal(2.0))({}) == 2.0
