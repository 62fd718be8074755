// Holds web/static/js/expressions.js to the shared expression vectors.
//
// The browser never parses expressions: the server does, so this test needs the parsed trees.
// tests/surveys/questionnaires/expressions/test_vectors.py parses every vector with the Python
// parser, writes {vector id: JSON tree} to a file and runs this test with
//   EXPRESSION_ASTS     path of that file (required; without it every check is skipped)
//   EXPRESSION_VECTORS  path of the vectors (default: the committed vectors.json)
// A vector is {id, expr, answers, current?, today?, choice?, labels?, columns?, expect}
// (choice: the choice a choice_filter tests, labels: for jr:choice-name); `today` pins today() as
// "YYYY-MM-DD". Expected values are JSON values, {"nan": true}, {"infinity": 1 | -1} or
// {"error": "parse"} (parse failures are the Python parser's business and are skipped here).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const astsPath = process.env.EXPRESSION_ASTS;
const vectorsPath =
  process.env.EXPRESSION_VECTORS ??
  new URL("../surveys/questionnaires/expressions/vectors.json", import.meta.url);

async function loadEvaluator() {
  const url = new URL("../../web/static/js/expressions.js", import.meta.url);
  try {
    return await import(url.href);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Node releases before 20.19 read a .js file outside a "type": "module" package as
    // CommonJS; the module itself is plain ES, so load it from its text instead.
    const source = Buffer.from(readFileSync(url, "utf8")).toString("base64");
    return import(`data:text/javascript;base64,${source}`);
  }
}

function matches(actual, expected) {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => matches(actual[index], item))
    );
  }
  if (expected !== null && typeof expected === "object") {
    if (expected.nan === true) return typeof actual === "number" && Number.isNaN(actual);
    if ("infinity" in expected) return actual === expected.infinity * Infinity;
    return false;
  }
  return typeof actual === typeof expected && actual === expected;
}

function describe(value) {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value);
}

if (astsPath === undefined) {
  test("expression vectors", {
    skip:
      "EXPRESSION_ASTS is not set: run `pytest tests/surveys/questionnaires/expressions/" +
      "test_vectors.py`, which parses the vectors and runs this file",
  }, () => {});
} else {
  const { evaluate } = await loadEvaluator();
  const vectors = JSON.parse(readFileSync(vectorsPath, "utf8"));
  const asts = JSON.parse(readFileSync(astsPath, "utf8"));
  for (const vector of vectors) {
    if (vector.expect !== null && typeof vector.expect === "object" && "error" in vector.expect) {
      continue;
    }
    test(`${vector.id}: ${vector.expr.slice(0, 80)}`, () => {
      const ast = asts[vector.id];
      assert.ok(ast, `no parsed tree for vector ${vector.id}`);
      const actual = evaluate(
        ast, vector.answers, vector.current, vector.today, vector.choice, vector.labels);
      assert.ok(
        matches(actual, vector.expect),
        `${vector.expr}\n  expected ${describe(vector.expect)}\n  got      ${describe(actual)}`,
      );
    });
  }
}
