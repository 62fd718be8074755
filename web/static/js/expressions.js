// Browser interpreter for accessgap's XLSForm expressions.
//
// The server parses each `relevant`, `constraint`, `calculation`, `required` and
// `choice_filter` expression once (surveys/questionnaires/expressions/parser.py) and ships the
// tree as JSON (shape documented in surveys/questionnaires/expressions/ast.py). This module walks
// that tree with exactly the rules of surveys/questionnaires/expressions/evaluator.py (read its
// docstring for the semantics); both are held to the shared vectors in
// tests/surveys/questionnaires/expressions/vectors.json. Nothing here calls eval or Function.
//
// Like XPath, evaluation never throws: meaningless operations give NaN, '' or false.

const XML_SPACE_RUN = /[ \t\r\n]+/;
const XML_SPACE_EDGES = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const NUMBER_TEXT = /^[ \t\r\n]*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[ \t\r\n]*$/;
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/**
 * Evaluate a JSON expression tree against `answers` (question name -> answer). `choice` is the
 * choice a choice_filter is tested on (column -> value), `labels` the choice labels
 * jr:choice-name() reads (question -> choice -> label).
 */
export function evaluate(ast, answers, current, today, choice, labels) {
  const isObject = (value) => value !== null && typeof value === "object";
  const context = {
    answers: isObject(answers) ? answers : {},
    current: normalize(current),
    today,
    choice: isObject(choice) ? choice : {},
    labels: isObject(labels) ? labels : {},
  };
  return evaluateNode(ast, context);
}

/** XPath boolean(): non-empty text or list, a number other than 0 and NaN. */
export function truthy(value) {
  const v = normalize(value);
  if (typeof v === "number") return v === v && v !== 0;
  if (typeof v === "boolean") return v;
  return v.length > 0;
}

/** XPath number(): booleans are 1/0, text must be a plain decimal, anything else NaN. */
export function asNumber(value) {
  const v = normalize(value);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  const text = asString(v);
  return NUMBER_TEXT.test(text) ? Number(text.replace(XML_SPACE_EDGES, "")) : NaN;
}

/** XPath string(): numbers without exponent or trailing .0, lists space-separated. */
export function asString(value) {
  const v = normalize(value);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return formatNumber(v);
  if (Array.isArray(v)) return v.map(asString).join(" ");
  return v;
}

/** The evaluator's view of an answer: '' when unanswered, lists of scalars kept as lists. */
export function normalize(raw) {
  return Array.isArray(raw) ? raw.map(normalizeScalar) : normalizeScalar(raw);
}

function normalizeScalar(raw) {
  if (typeof raw === "string" || typeof raw === "boolean" || typeof raw === "number") return raw;
  if (typeof raw === "bigint") return Number(raw);
  if (Array.isArray(raw)) return asString(normalize(raw));
  return "";
}

/** Plain decimal notation from the shortest round-trip digits (the same digits Python prints). */
export function formatNumber(number) {
  if (Number.isNaN(number)) return "NaN";
  if (!Number.isFinite(number)) return number > 0 ? "Infinity" : "-Infinity";
  if (number === 0) return "0";
  const { sign, digits, point } = decimalDigits(number);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function decimalDigits(number) {
  const text = String(number);
  const sign = text.startsWith("-") ? "-" : "";
  const [mantissa, exponent = "0"] = text.replace(/^-/, "").split("e");
  const [whole, fraction = ""] = mantissa.split(".");
  const digits = whole + fraction;
  const stripped = digits.replace(/^0+/, "");
  const point = whole.length + Number(exponent) - (digits.length - stripped.length);
  return { sign, digits: stripped.replace(/0+$/, ""), point };
}

function roundHalfUp(number, places) {
  if (!Number.isFinite(number) || number === 0) return number;
  const negative = number < 0;
  const { digits, point } = decimalDigits(Math.abs(number));
  const keep = point + places;
  if (keep >= digits.length) return number;
  let kept = keep > 0 ? BigInt(digits.slice(0, keep)) : 0n;
  const dropped = keep >= 0 ? digits.slice(keep) : "";
  if (dropped) {
    const tie = dropped[0] === "5" && /^0*$/.test(dropped.slice(1));
    if (dropped[0] > "5" || (dropped[0] === "5" && !(tie && negative))) kept += 1n;
  }
  const magnitude = Number(`${kept}e${-places}`);
  return negative ? -magnitude : magnitude;
}

function splitChoices(value) {
  const text = asString(value).replace(XML_SPACE_EDGES, "");
  return text ? text.split(XML_SPACE_RUN) : [];
}

function isEmpty(value) {
  return (typeof value === "number" && Number.isNaN(value)) || asString(value) === "";
}

// Code-point order, as Python compares strings (JavaScript's < compares UTF-16 units).
function compareText(left, right) {
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const a = left.codePointAt(i);
    const b = right.codePointAt(j);
    if (a !== b) return a < b ? -1 : 1;
    i += a > 0xffff ? 2 : 1;
    j += b > 0xffff ? 2 : 1;
  }
  if (i < left.length) return 1;
  return j < right.length ? -1 : 0;
}

const patternCache = new Map();

function compilePattern(pattern) {
  if (patternCache.has(pattern)) return patternCache.get(pattern);
  let compiled = null;
  // Whole-value match as in ODK Collect. Unicode mode first so that '.' is one code point as in
  // Python; patterns only the legacy syntax accepts (e.g. a needless '\-') fall back to it.
  // The pattern is compiled alone first: wrapping an unbalanced one such as 'a)|(b' would
  // otherwise turn an invalid pattern into a different, valid one.
  for (const flags of ["u", ""]) {
    try {
      new RegExp(pattern, flags);
      compiled = new RegExp(`^(?:${pattern})$`, flags);
      break;
    } catch {
      compiled = null;
    }
  }
  if (patternCache.size > 256) patternCache.clear();
  patternCache.set(pattern, compiled);
  return compiled;
}

function evaluateNode(node, context) {
  switch (node && node.k) {
    case "num":
    case "str":
    case "bool":
      return node.v;
    case "ref":
      return normalize(hasOwn(context.answers, node.name) ? context.answers[node.name] : undefined);
    case "col":
      return normalize(hasOwn(context.choice, node.name) ? context.choice[node.name] : undefined);
    case "cur":
      return context.current;
    case "neg":
      return -asNumber(evaluateNode(node.e, context));
    case "bin":
      return evaluateBinary(node, context);
    case "call":
      return evaluateCall(node, context);
    default:
      return "";
  }
}

function evaluateBinary(node, context) {
  const left = evaluateNode(node.l, context);
  const op = node.op;
  if (op === "or") return truthy(left) || truthy(evaluateNode(node.r, context));
  if (op === "and") return truthy(left) && truthy(evaluateNode(node.r, context));
  const right = evaluateNode(node.r, context);
  if (op === "=") return equal(left, right);
  if (op === "!=") return !equal(left, right);
  if (op === "<" || op === "<=" || op === ">" || op === ">=") return ordered(op, left, right);
  return arithmetic(op, asNumber(left), asNumber(right));
}

function equal(left, right) {
  if (typeof left === "boolean" || typeof right === "boolean") {
    return truthy(left) === truthy(right);
  }
  if (typeof left === "number" || typeof right === "number") {
    return asNumber(left) === asNumber(right);
  }
  return asString(left) === asString(right);
}

function ordered(op, left, right) {
  const isNumeric = (v) => typeof v === "number" || typeof v === "boolean";
  let a = asNumber(left);
  let b = asNumber(right);
  let order;
  if (isNumeric(left) || isNumeric(right) || !(Number.isNaN(a) || Number.isNaN(b))) {
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
    order = a < b ? -1 : a > b ? 1 : 0;
  } else {
    a = asString(left);
    b = asString(right);
    if (a === "" || b === "") return false;
    order = compareText(a, b);
  }
  if (op === "<") return order < 0;
  if (op === "<=") return order <= 0;
  if (op === ">") return order > 0;
  return order >= 0;
}

function arithmetic(op, left, right) {
  if (op === "+") return left + right;
  if (op === "-") return left - right;
  if (op === "*") return left * right;
  if (op === "div") return left / right; // IEEE: x/0 is ±Infinity, 0/0 is NaN, as in XPath
  if (op === "mod") return left % right; // sign of the dividend, like Python's math.fmod
  return NaN;
}

function numbersIn(values) {
  const items = values.length === 1 && Array.isArray(values[0]) ? values[0] : values;
  return items.map(asNumber).filter((number) => !Number.isNaN(number));
}

function extreme(values, highest) {
  let best = null;
  for (const number of numbersIn(values)) {
    if (best === null || (highest ? number > best : number < best)) best = number;
  }
  return best === null ? NaN : best;
}

function isoDate(today) {
  if (typeof today === "string") return today.slice(0, 10);
  const date = today instanceof Date ? today : new Date();
  const pad = (n, width) => String(n).padStart(width, "0");
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1, 2)}-${pad(date.getDate(), 2)}`;
}

const FUNCTIONS = new Map([
  ["abs", (v) => Math.abs(asNumber(v[0]))],
  ["boolean", (v) => truthy(v[0])],
  ["concat", (v) => v.map(asString).join("")],
  ["contains", (v) => asString(v[0]).includes(asString(v[1]))],
  ["count", (v) => (Array.isArray(v[0]) ? v[0].length : v[0] === "" ? 0 : 1)],
  ["count-selected", (v) => splitChoices(v[0]).length],
  ["false", () => false],
  [
    "indexed-repeat",
    (v) => {
      const position = asNumber(v[2]);
      if (!Number.isFinite(position) || position < 1) return "";
      const items = Array.isArray(v[0]) ? v[0] : [v[0]];
      const row = Math.trunc(position) - 1;
      return row < items.length ? items[row] : "";
    },
  ],
  ["int", (v) => Math.trunc(asNumber(v[0]))],
  ["max", (v) => extreme(v, true)],
  ["min", (v) => extreme(v, false)],
  ["not", (v) => !truthy(v[0])],
  ["number", (v) => asNumber(v[0])],
  [
    "regex",
    (v) => {
      const compiled = compilePattern(asString(v[1]));
      return compiled !== null && compiled.test(asString(v[0]));
    },
  ],
  [
    "round",
    (v) => {
      const places = v.length > 1 ? asNumber(v[1]) : 0;
      if (!Number.isFinite(places) || Math.abs(places) > 30) return NaN;
      return roundHalfUp(asNumber(v[0]), Math.trunc(places));
    },
  ],
  ["selected", (v) => splitChoices(v[0]).includes(asString(v[1]).replace(XML_SPACE_EDGES, ""))],
  [
    "selected-at",
    (v) => {
      const choices = splitChoices(v[0]);
      const position = Math.trunc(asNumber(v[1]));
      return Number.isFinite(position) && position >= 0 && position < choices.length
        ? choices[position]
        : "";
    },
  ],
  ["starts-with", (v) => asString(v[0]).startsWith(asString(v[1]))],
  ["string", (v) => asString(v[0])],
  ["string-length", (v) => [...asString(v[0])].length],
  [
    "sum",
    (v) => {
      let total = 0;
      for (const number of numbersIn(v)) total += number;
      return total;
    },
  ],
  ["true", () => true],
]);

function evaluateCall(node, context) {
  const args = Array.isArray(node.args) ? node.args : [];
  switch (node.fn) {
    case "if":
      return evaluateNode(truthy(evaluateNode(args[0], context)) ? args[1] : args[2], context);
    case "coalesce": {
      const first = evaluateNode(args[0], context);
      return isEmpty(first) ? evaluateNode(args[1], context) : first;
    }
    case "today":
      return isoDate(context.today);
    case "string-length":
      if (args.length === 0) return [...asString(context.current)].length;
      break;
    case "once":
      return isEmpty(context.current) ? evaluateNode(args[0], context) : context.current;
    case "jr:choice-name": {
      let question = asString(evaluateNode(args[1], context)).trim();
      if (question.startsWith("${") && question.endsWith("}")) question = question.slice(2, -1);
      const value = asString(evaluateNode(args[0], context)).replace(XML_SPACE_EDGES, "");
      const labels = hasOwn(context.labels, question) ? context.labels[question] : {};
      return labels !== null && typeof labels === "object" && hasOwn(labels, value)
        ? String(labels[value])
        : "";
    }
    default:
      break;
  }
  const implementation = FUNCTIONS.get(node.fn);
  const values = args.map((arg) => evaluateNode(arg, context));
  return implementation === undefined ? "" : implementation(values);
}
