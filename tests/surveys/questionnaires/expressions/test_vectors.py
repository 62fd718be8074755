"""The shared vectors hold the Python and the browser evaluators to the same answers.

Every vector in ``vectors.json`` is checked here against the Python parser and evaluator; the
parsed trees are then handed to ``tests/js/expressions.test.mjs``, which checks the browser
interpreter on the same vectors. A second, generated batch of random expressions checks that the
two interpreters agree on inputs nobody thought to write down.

A vector is ``{"id", "expr", "answers", "current"?, "today"?, "choice"?, "labels"?, "columns"?,
"expect"}``: ``columns`` parses the expression as a ``choice_filter`` (bare names are columns of
``choice``), ``labels`` are the choice labels of ``jr:choice-name()``, ``today`` pins
``today()`` (ISO date) and ``expect`` is a JSON value, ``{"nan": true}``,
``{"infinity": 1 | -1}`` or ``{"error": "parse"}`` for text that must not parse.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from surveys.questionnaires.expressions import (
    FUNCTION_ARITY,
    ExpressionError,
    Value,
    evaluate,
    parse,
    to_json,
)

VECTORS_PATH = Path(__file__).with_name("vectors.json")
REPO_ROOT = Path(__file__).resolve().parents[4]
JS_TEST = REPO_ROOT / "tests" / "js" / "expressions.test.mjs"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def expects_parse_error(vector: dict[str, Any]) -> bool:
    return bool(vector["expect"] == {"error": "parse"})


def evaluate_vector(vector: dict[str, Any]) -> Value:
    today = datetime.date.fromisoformat(vector["today"]) if "today" in vector else None
    node = parse(vector["expr"], question=vector["id"], columns=vector.get("columns", False))
    return evaluate(
        node,
        vector["answers"],
        current=vector.get("current"),
        today=today,
        choice=vector.get("choice"),
        labels=vector.get("labels"),
    )


def matches(actual: object, expected: object) -> bool:
    """Whether ``actual`` is ``expected`` in the vectors' encoding, types included."""
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        if expected.get("nan") is True:
            return isinstance(actual, float) and math.isnan(actual)
        if "infinity" in expected:
            return actual == math.copysign(math.inf, expected["infinity"])
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float):
        return isinstance(actual, float) and actual == expected
    return isinstance(actual, str) and actual == expected


def encode(value: Value) -> object:
    """``value`` in the vectors' encoding: JSON has no NaN or infinities."""
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return {"nan": True}
    if isinstance(value, float) and math.isinf(value):
        return {"infinity": 1 if value > 0 else -1}
    return value


def run_javascript_vectors(vectors: list[dict[str, Any]], directory: Path) -> None:
    """Run the Node test on ``vectors``, parsed here; skip (locally only) without Node."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed, so the browser evaluator cannot be checked")
        pytest.skip("node is not installed; the browser evaluator was not checked")
    asts = {
        v["id"]: to_json(parse(v["expr"], columns=v.get("columns", False)))
        for v in vectors
        if not expects_parse_error(v)
    }
    vectors_file = directory / "vectors.json"
    asts_file = directory / "asts.json"
    vectors_file.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")
    asts_file.write_text(json.dumps(asts, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "EXPRESSION_VECTORS": str(vectors_file), "EXPRESSION_ASTS": str(asts_file)}
    result = subprocess.run(
        [node, "--test", str(JS_TEST)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    failures = "\n".join(line for line in result.stdout.splitlines() if "not ok" in line)
    assert result.returncode == 0, f"{failures}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


# -- the committed vectors ----------------------------------------------------------------


def test_vectors_are_plentiful_and_uniquely_named() -> None:
    ids = [vector["id"] for vector in VECTORS]
    assert len(ids) >= 180
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["id"] for vector in VECTORS])
def test_python_evaluator_meets_vector(vector: dict[str, Any]) -> None:
    if expects_parse_error(vector):
        with pytest.raises(ExpressionError):
            parse(vector["expr"], columns=vector.get("columns", False))
        return
    actual = evaluate_vector(vector)
    assert matches(actual, vector["expect"]), f"{vector['expr']!r} gave {actual!r}"


def test_browser_evaluator_meets_vectors(tmp_path: Path) -> None:
    run_javascript_vectors(VECTORS, tmp_path)


# -- generated expressions ----------------------------------------------------------------

_LEAVES = (
    *("0", "1", "2.5", ".5", "10", "0.1", "3"),
    *("''", "'a'", "'10'", "' 2 '", "'a b'", "'2024-01-01'", "'é😀'", "'-0'"),
    *("${a}", "${b}", "${m}", "${n}", "${t}", "${missing}", "."),
)
_OPERATORS = ("or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod")
# Patterns that Python's re and JavaScript's RegExp read identically.
_PATTERNS = ("'[0-9]+'", "'a.*'", "'.'", "''", "'[a-z ]*'", "'(a|b)+'", "'-?[0-9.]+'")
_ANSWERS: tuple[object, ...] = (
    *(None, True, False, 0, 1, -2, 2.5, 0.1, 1e21, 1e-7, -0.0),
    *("", "3", " 4 ", "abc", "a b", "Zürich", "😀", "2024-02-29", "-0", "0"),
    *([], ["a", "b"], [1, "2", ""], ["3"], [0.5, -1.5]),
)


def random_expression(rng: random.Random, depth: int = 0) -> str:
    """A random expression built only from the grammar's productions, so it always parses."""
    if depth >= 4 or rng.random() < 0.3:
        return rng.choice(_LEAVES)
    roll = rng.random()
    if roll < 0.45:
        left, right = random_expression(rng, depth + 1), random_expression(rng, depth + 1)
        return f"({left} {rng.choice(_OPERATORS)} {right})"
    if roll < 0.55:
        return f"-({random_expression(rng, depth + 1)})"
    fn = rng.choice(sorted(FUNCTION_ARITY))
    fewest, most = FUNCTION_ARITY[fn]
    args = [
        random_expression(rng, depth + 1)
        for _ in range(rng.randint(fewest, 3 if most is None else most))
    ]
    if fn == "regex":
        args[1] = rng.choice(_PATTERNS)
    return f"{fn}({', '.join(args)})"


def generated_vectors(count: int, seed: int) -> list[dict[str, Any]]:
    """Random expressions with the Python evaluator's results as the expectations."""
    rng = random.Random(seed)  # noqa: S311 -- a reproducible test input, not a secret
    vectors = []
    for index in range(count):
        answers = {name: rng.choice(_ANSWERS) for name in ("a", "b", "m", "n", "t")}
        vector: dict[str, Any] = {
            "id": f"generated-{index}",
            "expr": random_expression(rng),
            "answers": json.loads(json.dumps(answers)),  # exactly what the browser would get
            "current": rng.choice(_ANSWERS),
            "today": "2024-05-17",
        }
        vector["expect"] = encode(evaluate_vector(vector))
        vectors.append(vector)
    return vectors


def test_browser_evaluator_agrees_on_generated_expressions(tmp_path: Path) -> None:
    run_javascript_vectors(generated_vectors(500, seed=20240517), tmp_path)
