"""Parsing expressions into trees, reporting mistakes, and the tree's JSON form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from surveys.questionnaires.expressions import (
    MAX_DEPTH,
    MAX_HEIGHT,
    MAX_LENGTH,
    Binary,
    Call,
    Current,
    ExpressionError,
    Literal,
    Node,
    Ref,
    Unary,
    from_json,
    parse,
    references,
    to_json,
)


def num(value: float) -> Literal:
    return Literal(float(value))


# -- parse: trees -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1", num(1)),
        (".5", num(0.5)),
        ("2.", num(2)),
        ("'it''s'", None),  # two adjacent strings: a parse error, checked below
        ('"x"', Literal("x")),
        ("true()", Literal(True)),
        ("false()", Literal(False)),
        ("${age}", Ref("age")),
        (".", Current()),
        ("-.", Unary(Current())),
        ("1 + 2 * 3", Binary("+", num(1), Binary("*", num(2), num(3)))),
        ("1 - 2 - 3", Binary("-", Binary("-", num(1), num(2)), num(3))),
        ("8 div 4 mod 3", Binary("mod", Binary("div", num(8), num(4)), num(3))),
        ("-2 * 3", Binary("*", Unary(num(2)), num(3))),
        ("- -1", Unary(Unary(num(1)))),
        (
            "${a} = 1 or ${b} < 2 and . != 3",
            Binary(
                "or",
                Binary("=", Ref("a"), num(1)),
                Binary("and", Binary("<", Ref("b"), num(2)), Binary("!=", Current(), num(3))),
            ),
        ),
        ("1 < 2 = 3 >= 4", Binary("=", Binary("<", num(1), num(2)), Binary(">=", num(3), num(4)))),
        ("(1 + 2) * 3", Binary("*", Binary("+", num(1), num(2)), num(3))),
        ("count-selected(${m})", Call("count-selected", (Ref("m"),))),
        ("string-length()", Call("string-length", ())),
        ("concat('a', ${b}, 1)", Call("concat", (Literal("a"), Ref("b"), num(1)))),
        ("6 div(2)", Binary("div", num(6), num(2))),
        ("${first-name.v2}", Ref("first-name.v2")),
        ("${città}", Ref("città")),
    ],
)
def test_parse_builds_the_expected_tree(text: str, tree: Node | None) -> None:
    if tree is None:
        with pytest.raises(ExpressionError):
            parse(text)
    else:
        assert parse(text) == tree


def test_parse_accepts_any_whitespace_between_tokens() -> None:
    assert parse("\tif (\n. = 'a' ,\u00a01 , 2 )\r\n") == parse("if(.='a',1,2)")


def test_parse_keeps_string_content_verbatim() -> None:
    assert parse("'  Zürich \\n '") == Literal("  Zürich \\n ")


# -- parse: errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expression is empty"),
        ("1 +", 3, "expression ends too early"),
        ("1 + 2)", 5, "unexpected ')'"),
        ("(1 + 2", 6, "'(' at position 0 is not closed"),
        ("if(1, 2 3)", 8, "unexpected '3'; expected ')'"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("1 + if(1, 2)", 4, "function 'if' takes 3 arguments, got 2"),
        ("round()", 0, "function 'round' takes 1 to 2 arguments, got 0"),
        ("concat()", 0, "function 'concat' takes at least 1 argument, got 0"),
        ("today(1)", 0, "function 'today' takes 0 arguments, got 1"),
        ("x = 'a'", 0, "unexpected name 'x'; write ${x} for a question's answer or 'x' for text"),
        ("'abc", 0, "string is not closed"),
        ('1 = "a', 4, "string is not closed"),
        ("${abc", 0, "reference is not closed; expected '}'"),
        ("${}", 0, "'${}' does not name a question"),
        ("1 + ${2x}", 4, "'${2x}' does not name a question"),
        ("1 / 2", 2, "unexpected character '/'; use 'div' to divide"),
        ("1 == 2", 3, "unexpected '='; compare with a single '='"),
        ("1 && 2", 2, "unexpected character '&'; use 'and'"),
        ("1 # 2", 2, "unexpected character '#'"),
        ("and 1", 0, "unexpected 'and'"),
        ("+1", 0, "unexpected '+'"),
        ("9" * 400, 0, "number is too large"),
    ],
)
def test_parse_reports_what_and_where(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert (caught.value.position, caught.value.message) == (position, message)


def test_expression_error_names_the_question() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("${a} + (1 * 2))", question="mr_linac_units")
    assert caught.value.question == "mr_linac_units"
    assert str(caught.value) == "question 'mr_linac_units', position 14: unexpected ')'"


def test_expression_error_without_question_names_only_the_position() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("1 +")
    assert caught.value.question is None
    assert str(caught.value) == "position 3: expression ends too early"


def test_parse_rejects_overlong_text() -> None:
    text = "1" + " + 1" * (MAX_LENGTH // 4)
    with pytest.raises(ExpressionError, match="longer than 10000 characters"):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4000 + "1" + ")" * 4000,
        "-" * 9000 + "1",
        "not(" * 1500 + "1" + ")" * 1500,
    ],
    ids=["brackets", "minus-signs", "calls"],
)
def test_parse_rejects_deep_nesting_without_recursion_error(text: str) -> None:
    with pytest.raises(ExpressionError, match=f"nests more than {MAX_DEPTH} levels deep"):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [" + ".join(["1"] * 2000), " or ".join(["1 = 1"] * 1000)],
    ids=["long-sum", "long-or"],
)
def test_parse_rejects_overlong_chains_as_chains_not_nesting(text: str) -> None:
    with pytest.raises(ExpressionError, match=f"more than {MAX_HEIGHT} operators in a row"):
        parse(text)


def test_a_flat_sum_of_101_terms_is_not_nesting() -> None:
    text = " + ".join(f"coalesce(${{q{i}}}, 0)" for i in range(101))
    assert len(references(parse(text))) == 101


def test_parse_accepts_nesting_up_to_the_limit() -> None:
    assert parse("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH) == num(1)


# -- references ---------------------------------------------------------------------------


def test_references_lists_every_question_read_once() -> None:
    node = parse("if(${a} > 0, concat(${b}, .), -${a}) + sum(${rows})")
    assert references(node) == {"a", "b", "rows"}


def test_references_of_constant_expression_is_empty() -> None:
    assert references(parse("today() = '2024-01-01' and .")) == set()


# -- to_json / from_json ------------------------------------------------------------------


def test_to_json_uses_the_documented_compact_shape() -> None:
    tree = parse("${age} >= 18 and selected(${roles}, 'lead') or -. = true()")
    assert to_json(tree) == {
        "k": "bin",
        "op": "or",
        "l": {
            "k": "bin",
            "op": "and",
            "l": {
                "k": "bin",
                "op": ">=",
                "l": {"k": "ref", "name": "age"},
                "r": {"k": "num", "v": 18.0},
            },
            "r": {
                "k": "call",
                "fn": "selected",
                "args": [{"k": "ref", "name": "roles"}, {"k": "str", "v": "lead"}],
            },
        },
        "r": {
            "k": "bin",
            "op": "=",
            "l": {"k": "neg", "e": {"k": "cur"}},
            "r": {"k": "bool", "v": True},
        },
    }


def test_from_json_reads_back_what_to_json_wrote() -> None:
    tree = parse("if(count(${r}) > 2, round(sum(${r}) div 3, 1), coalesce(${x}, 'none'))")
    assert from_json(json.loads(json.dumps(to_json(tree)))) == tree


def test_from_json_accepts_integer_numbers() -> None:
    assert from_json({"k": "num", "v": 3}) == num(3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected an expression node object"),
        ({"k": "nope"}, "unknown expression node kind 'nope'"),
        ({"k": "num", "v": "1"}, "'num' node needs a number"),
        ({"k": "num", "v": True}, "'num' node needs a number"),
        ({"k": "num", "v": float("nan")}, "'num' node needs a finite number"),
        ({"k": "num", "v": 10**400}, "'num' node needs a finite number"),
        ({"k": "str"}, "'str' node needs a str under 'v'"),
        ({"k": "ref", "name": 1}, "'ref' node needs a str under 'name'"),
        ({"k": "bin", "op": "**", "l": {"k": "cur"}, "r": {"k": "cur"}}, "unknown binary operator"),
        ({"k": "bin", "op": "+", "l": {"k": "cur"}}, "expected an expression node object"),
        ({"k": "call", "fn": "eval", "args": []}, "unknown function 'eval'"),
        ({"k": "call", "fn": "if", "args": [{"k": "cur"}]}, "function 'if' takes 3 arguments"),
        ({"k": "call", "fn": "not"}, "'call' node needs a list under 'args'"),
    ],
)
def test_from_json_rejects_malformed_trees(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_json(data)


def test_from_json_rejects_trees_deeper_than_the_parser_builds() -> None:
    data: dict[str, Any] = {"k": "cur"}
    for _ in range(5000):
        data = {"k": "neg", "e": data}
    with pytest.raises(ValueError, match="deeper than"):
        from_json(data)
