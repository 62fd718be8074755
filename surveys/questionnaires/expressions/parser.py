"""Parse the XLSForm/XPath expression subset of ``docs/questionnaires.md`` into a tree.

Form authors type these expressions into spreadsheet cells, so the parser's job is as much to
explain mistakes (with the question and the character position) as to build the tree. It is
hand-written (a tokenizer, recursive descent for brackets and calls, and an operator stack for
binary operators) so that it can be bounded: input length and
nesting depth are capped and every failure is an ``ExpressionError``, never a ``RecursionError``.

Precedence, loosest first, all operators left-associative::

    or  <  and  <  = !=  <  < <= > >=  <  + -  <  * div mod  <  unary -
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from surveys.questionnaires.expressions.ast import (
    FUNCTION_ARITY,
    MAX_DEPTH,
    MAX_HEIGHT,
    Binary,
    Call,
    Column,
    Current,
    Literal,
    Node,
    Ref,
    Unary,
    depth,
    describe_arity,
)

MAX_LENGTH: Final = 10_000
"""Longest expression accepted; far beyond any real form, short enough to parse instantly."""

_PRECEDENCE: Final = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}
_WORD_OPERATORS: Final = frozenset({"and", "or", "div", "mod"})
_SYMBOLS: Final = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "(", ")", ",")
_DIGITS: Final = frozenset("0123456789")
_HINTS: Final = {
    "/": "; use 'div' to divide",
    "&": "; use 'and'",
    "|": "; use 'or'",
    "!": "; use '!=' or not()",
}


class ExpressionError(Exception):
    """An expression that cannot be parsed, located by question and 0-based character offset."""

    def __init__(self, message: str, *, position: int, question: str | None = None) -> None:
        self.message = message
        self.position = position
        self.question = question
        where = f"position {position}"
        if question is not None:
            where = f"question '{question}', {where}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "str", "ref", "dot", "name", "sym" or "end"
    text: str
    position: int
    value: str = ""  # the string's content or the reference's name


def parse(text: str, *, question: str | None = None, columns: bool = False) -> Node:
    """Parse one expression; ``question`` names its row in error messages.

    ``columns``: the expression is a ``choice_filter``, where a bare name (``state``) is a
    column of the choice being filtered and ``${state}`` the answer, as in XLSForm.
    """
    return _Parser(text, question, columns).parse()


class _Parser:
    def __init__(self, text: str, question: str | None, columns: bool = False) -> None:
        self._text = text
        self._question = question
        self._columns = columns
        self._tokens: list[_Token] = []
        self._index = 0
        self._nesting = 0

    def parse(self) -> Node:
        if len(self._text) > MAX_LENGTH:
            raise self._error(f"expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
        self._tokens = self._tokenize()
        if self._peek().kind == "end":
            raise self._error("expression is empty", 0)
        tree = self._expression()
        token = self._peek()
        if token.kind != "end":
            raise self._error(f"unexpected {_describe(token)}", token.position)
        if depth(tree) > MAX_HEIGHT:
            raise self._error(
                f"expression has more than {MAX_HEIGHT} operators in a row; split it into "
                "calculate rows",
                0,
            )
        return tree

    # -- tokens ---------------------------------------------------------------------------

    def _tokenize(self) -> list[_Token]:
        text = self._text
        tokens: list[_Token] = []
        position = 0
        while position < len(text):
            char = text[position]
            if char.isspace():
                position += 1
            elif char in _DIGITS or (char == "." and text[position + 1 : position + 2] in _DIGITS):
                end = self._skip_number(position)
                tokens.append(_Token("num", text[position:end], position))
                position = end
            elif char == ".":
                tokens.append(_Token("dot", char, position))
                position += 1
            elif char in "'\"":
                end = text.find(char, position + 1)
                if end < 0:
                    raise self._error("string is not closed", position)
                content = text[position + 1 : end]
                tokens.append(_Token("str", text[position : end + 1], position, content))
                position = end + 1
            elif text.startswith("${", position):
                tokens.append(self._reference(position))
                position = tokens[-1].position + len(tokens[-1].text)
            elif _is_name_start(char):
                end = position + 1
                while end < len(text) and _is_function_name_part(text[end]):
                    end += 1
                tokens.append(_Token("name", text[position:end], position))
                position = end
            else:
                symbol = next((s for s in _SYMBOLS if text.startswith(s, position)), None)
                if symbol is None:
                    hint = _HINTS.get(char, "")
                    raise self._error(f"unexpected character {char!r}{hint}", position)
                tokens.append(_Token("sym", symbol, position))
                position += len(symbol)
        tokens.append(_Token("end", "", len(text)))
        return tokens

    def _skip_number(self, start: int) -> int:
        text = self._text
        end = start
        while end < len(text) and text[end] in _DIGITS:
            end += 1
        if end < len(text) and text[end] == ".":
            end += 1
            while end < len(text) and text[end] in _DIGITS:
                end += 1
        return end

    def _reference(self, start: int) -> _Token:
        close = self._text.find("}", start + 2)
        if close < 0:
            raise self._error("reference is not closed; expected '}'", start)
        name = self._text[start + 2 : close]
        valid = (
            bool(name) and _is_name_start(name[0]) and all(map(_is_question_name_part, name[1:]))
        )
        if not valid:
            raise self._error(f"'${{{name}}}' does not name a question", start)
        return _Token("ref", self._text[start : close + 1], start, name)

    # -- grammar --------------------------------------------------------------------------

    def _expression(self) -> Node:
        # Operator precedence is resolved with explicit stacks rather than one recursive call
        # per precedence level, so Python's stack grows only with brackets, calls and minus
        # signs, which ``_enter`` counts and caps.
        operands = [self._unary()]
        operators: list[str] = []
        while (operator := self._binary_operator()) is not None:
            self._index += 1
            while operators and _PRECEDENCE[operators[-1]] >= _PRECEDENCE[operator]:
                _reduce(operands, operators)
            operators.append(operator)
            operands.append(self._unary())
        while operators:
            _reduce(operands, operators)
        return operands[0]

    def _binary_operator(self) -> str | None:
        token = self._peek()
        if token.kind == "sym" and token.text in _PRECEDENCE:
            return token.text
        if token.kind == "name" and token.text in _WORD_OPERATORS:
            return token.text
        return None

    def _unary(self) -> Node:
        token = self._peek()
        if token.kind == "sym" and token.text == "-":
            self._index += 1
            self._enter(token)
            operand = self._unary()
            self._nesting -= 1
            return Unary(operand)
        return self._primary()

    def _primary(self) -> Node:
        token = self._advance()
        if token.kind == "num":
            number = float(token.text)
            if math.isinf(number):
                raise self._error("number is too large", token.position)
            return Literal(number)
        if token.kind == "str":
            return Literal(token.value)
        if token.kind == "ref":
            return Ref(token.value)
        if token.kind == "dot":
            return Current()
        if token.kind == "sym" and token.text == "(":
            self._enter(token)
            inner = self._expression()
            self._expect_closing(token)
            self._nesting -= 1
            return inner
        if token.kind == "name" and token.text not in _WORD_OPERATORS:
            return self._call(token)
        if token.kind == "end":
            raise self._error("expression ends too early", token.position)
        if token.text == "=" and self._tokens[self._index - 2].text == "=":
            raise self._error("unexpected '='; compare with a single '='", token.position)
        raise self._error(f"unexpected {_describe(token)}", token.position)

    def _call(self, name: _Token) -> Node:
        opening = self._peek()
        if not (opening.kind == "sym" and opening.text == "(") and self._columns:
            return Column(name.text)
        if not (opening.kind == "sym" and opening.text == "("):
            raise self._error(
                f"unexpected name '{name.text}'; write ${{{name.text}}} for a question's answer "
                f"or '{name.text}' for text",
                name.position,
            )
        if name.text not in FUNCTION_ARITY:
            raise self._error(f"unknown function '{name.text}'", name.position)
        self._index += 1
        self._enter(opening)
        args: list[Node] = []
        if not self._at_symbol(")"):
            args.append(self._expression())
            while self._at_symbol(","):
                self._index += 1
                args.append(self._expression())
        self._expect_closing(opening)
        self._nesting -= 1
        fewest, most = FUNCTION_ARITY[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            message = f"function '{name.text}' takes {describe_arity(name.text)}, got {len(args)}"
            raise self._error(message, name.position)
        if name.text in ("true", "false"):
            return Literal(name.text == "true")
        return Call(name.text, tuple(args))

    # -- helpers --------------------------------------------------------------------------

    def _enter(self, token: _Token) -> None:
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise self._error(f"expression nests more than {MAX_DEPTH} levels deep", token.position)

    def _expect_closing(self, opening: _Token) -> None:
        token = self._peek()
        if token.kind == "sym" and token.text == ")":
            self._index += 1
            return
        if token.kind == "end":
            message = f"'(' at position {opening.position} is not closed"
            raise self._error(message, token.position)
        raise self._error(f"unexpected {_describe(token)}; expected ')'", token.position)

    def _at_symbol(self, symbol: str) -> bool:
        token = self._peek()
        return token.kind == "sym" and token.text == symbol

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, position=position, question=self._question)


def _reduce(operands: list[Node], operators: list[str]) -> None:
    right = operands.pop()
    left = operands.pop()
    operands.append(Binary(operators.pop(), left, right))


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of expression"
    return repr(token.text) if len(token.text) <= 40 else repr(token.text[:37] + "...")


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def _is_function_name_part(char: str) -> bool:
    # ':' for namespaced functions such as jr:choice-name().
    return char.isalnum() or char in "_-:"


def _is_question_name_part(char: str) -> bool:
    # XML names, which XLSForm question names are, may also contain dots.
    return char.isalnum() or char in "_-."
