"""Safe XLSForm expressions: parse once, store as JSON, evaluate in Python and in the browser.

Used for the ``relevant``, ``constraint``, ``calculation``, ``required`` and ``choice_filter``
columns. Nothing here calls ``eval``: text becomes a small tree (``ast``) that two matching
interpreters walk (``evaluator`` here, ``web/static/js/expressions.js`` in the browser).
"""

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
    from_json,
    references,
    to_json,
)
from surveys.questionnaires.expressions.evaluator import (
    Scalar,
    Value,
    as_number,
    as_string,
    evaluate,
    format_number,
    normalize,
    truthy,
)
from surveys.questionnaires.expressions.parser import MAX_LENGTH, ExpressionError, parse

__all__ = [
    "FUNCTION_ARITY",
    "MAX_DEPTH",
    "MAX_HEIGHT",
    "MAX_LENGTH",
    "Binary",
    "Call",
    "Column",
    "Current",
    "ExpressionError",
    "Literal",
    "Node",
    "Ref",
    "Scalar",
    "Unary",
    "Value",
    "as_number",
    "as_string",
    "evaluate",
    "format_number",
    "from_json",
    "normalize",
    "parse",
    "references",
    "to_json",
    "truthy",
]
