"""Answer validation: a version's definition and submitted answers in, typed answers and
per-question problems out.

The server is authoritative: it computes calculations itself, applies relevance (answers to
questions that are not relevant are dropped, with a warning), checks types, required questions,
constraints and choice filters. Repeats are lists of rows (``{"linac_devices": [{...}, {...}]}``);
a problem inside a repeat is located as ``("linac_devices", 0, "vendor")``.

Why one module of about 400 lines: the walk over groups, repeats and matrices, and the checks it
applies at each question, share one traversal state (the answer scope and the problem location);
split apart, each half would need the other's internals.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from surveys.questionnaires.definitions.compiled import CompiledForm, Question
from surveys.questionnaires.expressions import Node, truthy
from surveys.questionnaires.expressions.closures import compiled

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
DEFAULT_TEXT_LIMIT = 10_000
MAX_REPEAT_ROWS = 500
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?$")
Loc = tuple[str | int, ...]
DEFAULT_MESSAGES = {
    "required": {
        "en": "This question requires an answer.",
        "fr": "Cette question exige une réponse.",
    },
    "constraint": {"en": "This answer is not allowed.", "fr": "Cette réponse n'est pas acceptée."},
}


@dataclass(frozen=True)
class AnswerProblem:
    loc: Loc
    code: str
    message: str


@dataclass
class ValidatedAnswers:
    answers: dict[str, Any] = field(default_factory=dict)
    errors: list[AnswerProblem] = field(default_factory=list)
    warnings: list[AnswerProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _TypeProblem(ValueError):
    pass


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


def _number_text(value: object) -> str:
    if isinstance(value, bool):
        raise _TypeProblem("expects a number, not true/false")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value.strip().replace(",", ".")
    raise _TypeProblem("expects a number")


def _integer(value: object) -> int:
    text = _number_text(value)
    try:
        number = float(text)
    except ValueError as exc:
        raise _TypeProblem("expects a whole number, e.g. 12") from exc
    if not math.isfinite(number) or not number.is_integer():
        raise _TypeProblem("expects a whole number, e.g. 12")
    if not INT_MIN <= number <= INT_MAX:
        raise _TypeProblem("is too large a number")
    return int(number)


def _decimal(value: object) -> float | int:
    try:
        number = float(_number_text(value))
    except ValueError as exc:
        raise _TypeProblem("expects a number, e.g. 3.5") from exc
    if not math.isfinite(number):
        raise _TypeProblem("expects a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _text(value: object, question: Question) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _TypeProblem("expects text")
    text = str(value)
    if "\x00" in text:
        raise _TypeProblem("contains a NUL character")
    limit = int(question.parameters.get("max-length", DEFAULT_TEXT_LIMIT))
    if len(text) > limit:
        raise _TypeProblem(f"is longer than {limit} characters")
    return text


def _date(value: object) -> str:
    if not isinstance(value, str) or not DATE.match(value.strip()):
        raise _TypeProblem("expects a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        raise _TypeProblem("is not a real date") from exc


def _datetime(value: object) -> str:
    """``YYYY-MM-DDTHH:MM[:SS]`` (what a browser's datetime-local input sends), kept as typed."""
    if not isinstance(value, str):
        raise _TypeProblem("expects a date and time written YYYY-MM-DDTHH:MM")
    text = value.strip().replace(" ", "T", 1)
    date, _, time = text.partition("T")
    if not DATE.match(date) or not TIME.match(time):
        raise _TypeProblem("expects a date and time written YYYY-MM-DDTHH:MM")
    try:
        dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise _TypeProblem("is not a real date and time") from exc
    return text


def _time(value: object) -> str:
    if not isinstance(value, str) or not TIME.match(value.strip()):
        raise _TypeProblem("expects a time written HH:MM (24 hours)")
    return value.strip()


GEOPOINT_EXAMPLE = "48.8566 2.3522"
GEOPOINT_PARTS = ("latitude", "longitude", "altitude", "accuracy")


def _geopoint(value: object) -> str:
    """ODK's geopoint text: ``latitude longitude [altitude [accuracy]]`` in decimal degrees.

    A comma between the numbers is read as a separator (``48.8566, 2.3522`` as copied from a
    map); each problem is named: a missing part, a part that is not a number, a coordinate out
    of range."""
    parts = value.replace(",", " ").split() if isinstance(value, str) else []
    if len(parts) < 2:
        raise _TypeProblem(
            f"needs both a latitude and a longitude in decimal degrees, e.g. {GEOPOINT_EXAMPLE}"
        )
    if len(parts) > 4:
        raise _TypeProblem(
            "has more than latitude, longitude, altitude and accuracy: "
            f"write the latitude and the longitude, e.g. {GEOPOINT_EXAMPLE}"
        )
    numbers = []
    for name, part in zip(GEOPOINT_PARTS, parts, strict=False):
        try:
            number = float(part)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise _TypeProblem(
                f"has a {name} that is not a number ({part[:20]!r}): write decimal degrees "
                f"with a point, e.g. {GEOPOINT_EXAMPLE}"
            )
        numbers.append(number)
    latitude, longitude = numbers[0], numbers[1]
    if not -90 <= latitude <= 90:
        raise _TypeProblem(f"has a latitude of {parts[0]}: a latitude is between -90 and 90")
    if not -180 <= longitude <= 180:
        raise _TypeProblem(f"has a longitude of {parts[1]}: a longitude is between -180 and 180")
    return " ".join(parts)


def _range(value: object, question: Question) -> float | int:
    number = _decimal(value)
    start = float(question.parameters.get("start", 0))
    end = float(question.parameters.get("end", 10))
    step = float(question.parameters.get("step", 1))
    if not start <= number <= end:
        raise _TypeProblem(f"must be between {start:g} and {end:g}")
    if abs(((number - start) / step) - round((number - start) / step)) > 1e-9:
        raise _TypeProblem(f"must be a multiple of {step:g} from {start:g}")
    return number


def _selection(value: object) -> list[str]:
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise _TypeProblem("expects a list of choice names")
    return list(dict.fromkeys(i for i in items if i))


def _coerce(value: object, question: Question) -> Any:
    kind = question.kind
    if kind == "integer":
        return _integer(value)
    if kind == "decimal":
        return _decimal(value)
    if kind == "range":
        return _range(value, question)
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if kind == "time":
        return _time(value)
    if kind == "geopoint":
        return _geopoint(value)
    if kind == "select_one":
        if not isinstance(value, str):
            raise _TypeProblem("expects one choice name")
        return value.strip()
    if kind == "select_multiple":
        return _selection(value)
    if kind == "acknowledge":
        if value is True or (
            isinstance(value, str) and value.strip().lower() in {"ok", "yes", "true", "1"}
        ):
            return "OK"
        raise _TypeProblem("expects OK when acknowledged")
    return _text(value, question)


def expression_context(values: Mapping[str, Any]) -> dict[str, object]:
    """What expressions see of answers: top-level names as they are, and each repeat as a list
    of rows (for ``count()``) with its children's values listed across the rows (for ``sum()``,
    ``indexed-repeat()``), one per row, ``''`` where a row has no answer, as ODK and the
    browser list them.

    A repeat nested in another is listed across all the rows of its parents; its rows are
    marked with the numbers of the rows they are in (``"2"``: in row 2 of the outer repeat;
    ``"2 1"``: two levels down), which ``indexed-repeat()`` with 5 or 7 arguments reads. The
    rows of a top-level repeat are marked ``"row"``.
    """
    context: dict[str, object] = {}
    children: dict[str, dict[str, None]] = {}
    for name, value in values.items():
        if _is_rows(value):
            _repeat_children(name, value, children)
    for name, value in values.items():
        if _is_rows(value):
            context[name] = []
            _list_rows(context, name, value, (), children)
        elif isinstance(value, list) and not value:
            context[name] = []
        else:
            context[name] = value
    return context


def _is_rows(value: object) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


def _repeat_children(name: str, rows: list[Any], found: dict[str, dict[str, None]]) -> None:
    """The single-valued children of each repeat, across all its rows (and parents' rows)."""
    known = found.setdefault(name, {})
    for row in rows:
        if not isinstance(row, dict):
            continue
        for child, value in row.items():
            if _is_rows(value):
                _repeat_children(child, value, found)
            elif not isinstance(value, list):
                known.setdefault(child)


def _list_rows(
    context: dict[str, object],
    name: str,
    rows: list[Any],
    path: tuple[int, ...],
    children: dict[str, dict[str, None]],
) -> None:
    markers = context.setdefault(name, [])
    marker = " ".join(map(str, path)) if path else "row"
    for number, row in enumerate(rows, start=1):
        values = row if isinstance(row, dict) else {}
        if isinstance(markers, list):
            markers.append(marker)
        for child in children.get(name, {}):
            bucket = context.setdefault(child, [])
            if isinstance(bucket, list):
                value = values.get(child, "")
                bucket.append("" if isinstance(value, list) else value)
        for child, value in values.items():
            if _is_rows(value):
                _list_rows(context, child, value, (*path, number), children)


def _stored(result: object) -> Any:
    """A calculated value as stored: NaN is no value, whole floats are integers."""
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, float):
        if not math.isfinite(result):
            return ""
        return int(result) if result.is_integer() and abs(result) < 2**53 else result
    return result


class _Validator:
    def __init__(
        self,
        form: CompiledForm,
        language: str | None,
        today: dt.date | None,
        partial: bool,
    ) -> None:
        self.form = form
        self.language = language or form.default_language
        self.today = today
        self.partial = partial
        self.result = ValidatedAnswers()
        self._labels: dict[str, dict[str, str]] | None = None

    @property
    def labels(self) -> dict[str, dict[str, str]]:
        """Choice labels by question, in the respondent's language (for jr:choice-name)."""
        if self._labels is None:
            self._labels = {
                q.name: {
                    c.name: q.text(c.label, self.language, self.form.default_language)
                    for c in self.form.options(q)
                }
                for q in self.form.walk()
                if q.kind in {"select_one", "select_multiple"}
            }
        return self._labels

    def message(self, question: Question, kind: str) -> str:
        own = question.required_message if kind == "required" else question.constraint_message
        defaults = DEFAULT_MESSAGES[kind]
        return (
            own.get(self.language)
            or own.get(self.form.default_language)
            or defaults.get(self.language)
            or defaults["en"]
        )

    def eval(
        self,
        node: Node,
        context: Mapping[str, object],
        current: object = None,
        choice: Mapping[str, object] | None = None,
    ) -> object:
        # Compiled once per tree (the form's trees are kept per version): no tree walk.
        return compiled(node)(context, current, self.today, choice, self.labels)

    def coerce_level(
        self, questions: list[Question], submitted: Mapping[str, Any], prefix: Loc
    ) -> dict[str, Any]:
        """Typed values of one level (top or one repeat row), unknown names reported."""
        values: dict[str, Any] = {}
        known = {q.name: q for q in self._level(questions)}
        for name, raw in submitted.items():
            question = known.get(name)
            if question is None:
                self.result.errors.append(
                    AnswerProblem(
                        (*prefix, name), "unknown_question", "is not a question of this form"
                    )
                )
                continue
            if question.kind == "repeat":
                values[name] = self.coerce_repeat(question, raw, (*prefix, name))
                continue
            if question.kind in {"note", "calculate", "group"} or question.is_metadata:
                self.result.warnings.append(
                    AnswerProblem(
                        (*prefix, name),
                        "ignored",
                        f"{question.kind} values are not taken from input",
                    )
                )
                continue
            if _is_empty(raw):
                continue
            try:
                values[name] = _coerce(raw, question)
            except _TypeProblem as problem:
                self.result.errors.append(AnswerProblem((*prefix, name), "type", str(problem)))
        return values

    def coerce_repeat(self, question: Question, raw: object, loc: Loc) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            self.result.errors.append(AnswerProblem(loc, "type", "expects a list of rows"))
            return []
        if len(raw) > MAX_REPEAT_ROWS:
            self.result.errors.append(
                AnswerProblem(loc, "too_many_rows", f"has more than {MAX_REPEAT_ROWS} rows")
            )
            return []
        return [self.coerce_level(question.children, row, (*loc, i)) for i, row in enumerate(raw)]

    def _level(self, questions: list[Question]) -> list[Question]:
        """The questions answered at this level: groups are transparent, repeats are not."""
        found: list[Question] = []
        for question in questions:
            found.append(question)
            if question.kind == "group":
                found.extend(self._level(question.children))
        return found

    def context(self, values: Mapping[str, Any]) -> dict[str, object]:
        return expression_context(values)

    def calculate(
        self, questions: list[Question], values: dict[str, Any], outer: MutableMapping[str, object]
    ) -> None:
        level = {q.name for q in self._level(questions)}
        context = self.context(values)
        scope = ChainMap(context, outer)
        for question in self.form.calculation_order:
            if question.name not in level or question.calculation is None:
                continue
            values[question.name] = context[question.name] = _stored(
                self.eval(question.calculation, scope, current=values.get(question.name))
            )

    def check_level(
        self,
        questions: list[Question],
        values: dict[str, Any],
        outer: MutableMapping[str, object],
        prefix: Loc,
        relevant: bool = True,
        *,
        prune_only: bool = False,
        context: dict[str, object] | None = None,
    ) -> None:
        """Apply relevance (drop what does not apply); unless pruning, check what remains."""
        # One evaluation context per level, kept in step with ``values`` as answers are dropped.
        context = self.context(values) if context is None else context
        scope = ChainMap(context, outer)
        for question in questions:
            is_relevant = relevant and (
                question.relevant is None or truthy(self.eval(question.relevant, scope))
            )
            loc = (*prefix, question.name)
            if question.kind == "group":
                self.check_level(
                    question.children,
                    values,
                    outer,
                    prefix,
                    is_relevant,
                    prune_only=prune_only,
                    context=context,
                )
                continue
            present = question.name in values and not _is_empty(values[question.name])
            if not is_relevant:
                if present and question.kind != "calculate":
                    self.result.warnings.append(
                        AnswerProblem(
                            loc, "not_relevant", "was dropped: the question does not apply"
                        )
                    )
                values.pop(question.name, None)
                context.pop(question.name, None)
                continue
            if question.kind == "repeat":
                rows = values.get(question.name, [])
                if not prune_only:
                    self.check_repeat_count(question, rows, scope, loc)
                for index, row in enumerate(rows):
                    inner = scope
                    self.calculate(question.children, row, inner)
                    self.check_level(
                        question.children, row, inner, (*loc, index), prune_only=prune_only
                    )
                    self.calculate(question.children, row, inner)
                continue
            if not question.takes_answer or prune_only:
                continue
            if not present:
                required = question.required
                if not self.partial and (
                    required is True
                    or (
                        required is not False
                        and not isinstance(required, bool)
                        and truthy(self.eval(required, scope))
                    )
                ):
                    self.result.errors.append(
                        AnswerProblem(loc, "required", self.message(question, "required"))
                    )
                continue
            value = values[question.name]
            self.check_choices(question, value, scope, loc)
            if question.constraint is not None and not truthy(
                self.eval(question.constraint, scope, current=value)
            ):
                self.result.errors.append(
                    AnswerProblem(loc, "constraint", self.message(question, "constraint"))
                )

    def check_repeat_count(
        self, question: Question, rows: list[Any], scope: Mapping[str, object], loc: Loc
    ) -> None:
        """A repeat_count fixes how many rows there are: fewer may be kept while drafting, more
        are refused."""
        if question.repeat_count is None:
            return
        count = self.eval(question.repeat_count, scope)
        number = _stored(count) if isinstance(count, float) else count
        if isinstance(number, int) and len(rows) > max(number, 0):
            self.result.errors.append(
                AnswerProblem(
                    loc, "repeat_count", f"has {len(rows)} rows; the form asks for {number}"
                )
            )

    def check_choices(
        self, question: Question, value: Any, scope: Mapping[str, object], loc: Loc
    ) -> None:
        if question.kind not in {"select_one", "select_multiple"}:
            return
        options = self.form.options(question)
        if question.choice_filter is not None:
            # XLSForm: a bare name is the choice's column, ${q} the answer to q.
            options = [
                c
                for c in options
                if truthy(self.eval(question.choice_filter, scope, choice=choice_columns(c)))
            ]
        allowed = {c.name for c in options}
        chosen = value if isinstance(value, list) else [value]
        unknown = [v for v in chosen if v not in allowed]
        if not unknown:
            return
        listed = ", ".join(map(repr, unknown))
        if question.choice_filter is not None and all(
            v in {c.name for c in self.form.options(question)} for v in unknown
        ):
            message = (
                f"{listed} does not go with the answers before it (its choices depend on "
                "them): choose one of the choices offered now"
            )
        else:
            message = f"{listed} is not one of the choices"
        self.result.errors.append(AnswerProblem(loc, "choice", message))


def choice_columns(choice: Any) -> dict[str, object]:
    """What a choice_filter's bare names read: the choice's own columns, name and label."""
    return {**choice.filters, "name": choice.name}


def record_metadata(
    form: CompiledForm, *, start: dt.datetime, end: dt.datetime, device: str, user: str
) -> dict[str, str]:
    """The values of the form's metadata rows, recorded (not asked) when a response is
    submitted: ``start`` when the draft began, ``end`` at submission, ``today`` its date,
    ``deviceid`` and ``username`` naming the session and the account that submitted."""
    known = {
        "start": start.isoformat(timespec="seconds"),
        "end": end.isoformat(timespec="seconds"),
        "today": end.date().isoformat(),
        "deviceid": device,
        "username": user,
    }
    return {
        q.name: known.get(q.kind, "")
        for q in form.walk()
        if q.is_metadata and q.name and q.repeat is None
    }


def recorded_values(form: CompiledForm, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata values a submission recorded: a correction keeps them as they were."""
    return {
        q.name: answers[q.name]
        for q in form.walk()
        if q.is_metadata and q.repeat is None and q.name in answers
    }


def validate_answers(
    form: CompiledForm,
    submitted: Mapping[str, Any],
    *,
    language: str | None = None,
    today: dt.date | None = None,
    partial: bool = False,
) -> ValidatedAnswers:
    """Type, compute and check answers. ``partial`` (a draft) skips the required checks.
    Metadata rows are never taken from input (see :func:`record_metadata`)."""
    validator = _Validator(form, language, today, partial)
    if not isinstance(submitted, Mapping):
        validator.result.errors.append(AnswerProblem((), "type", "answers must be an object"))
        return validator.result
    values = validator.coerce_level(form.questions, submitted, ())
    # Relevance can depend on calculations and calculations on relevant answers only: settle
    # both (prune, recompute) before the checks, so nothing reads an answer that was dropped.
    validator.calculate(form.questions, values, {})
    validator.check_level(form.questions, values, {}, (), prune_only=True)
    validator.calculate(form.questions, values, {})
    validator.check_level(form.questions, values, {}, ())
    validator.result.answers = values
    return validator.result
