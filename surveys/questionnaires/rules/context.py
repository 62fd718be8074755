"""What every rule needs, computed once: parsed types, names, and parsed expressions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from surveys.questionnaires.definitions.model import (
    LOGIC_COLUMNS,
    ParsedType,
    declared_languages,
    parse_type,
)
from surveys.questionnaires.definitions.tables import FormTables, Row
from surveys.questionnaires.expressions import ExpressionError, Node, parse


@dataclass
class ParsedExpression:
    sheet: str
    row: Row
    column: str
    text: str
    node: Node | None
    error: ExpressionError | None


@dataclass
class RuleContext:
    tables: FormTables
    types: dict[int, ParsedType] = field(default_factory=dict)
    names: dict[str, Row] = field(default_factory=dict)
    repeat_of: dict[str, str | None] = field(default_factory=dict)
    expressions: list[ParsedExpression] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, tables: FormTables) -> RuleContext:
        context = cls(tables=tables, languages=declared_languages(tables))
        repeats: list[str] = []
        for row in tables.survey:
            parsed = parse_type(row.get("type"))
            context.types[row.number] = parsed
            name = row.get("name")
            if parsed.base == "begin_repeat":
                if name:
                    context.repeat_of.setdefault(name, repeats[-1] if repeats else None)
                repeats.append(name)
            elif parsed.base == "end_repeat":
                if repeats:
                    repeats.pop()
            elif name:
                context.repeat_of.setdefault(name, repeats[-1] if repeats else None)
            if name and name not in context.names:
                context.names[name] = row
            for column in LOGIC_COLUMNS:
                text = row.get(column)
                if column == "required" and text.lower() in {"yes", "no", "true", "false", ""}:
                    continue
                if column == "repeat_count" and text.strip().isdigit():
                    continue
                if text:
                    context.expressions.append(context._parse(row, column, text))
        for row in tables.indicators:
            if row.get("numerator"):
                context.expressions.append(
                    context._parse(row, "numerator", row.get("numerator"), sheet="indicators")
                )
        return context

    def _parse(
        self, row: Row, column: str, text: str, *, sheet: str = "survey"
    ) -> ParsedExpression:
        label = row.get("name") or row.get("id")
        try:
            node = parse(text, question=label, columns=column == "choice_filter")
            return ParsedExpression(sheet, row, column, text, node, None)
        except ExpressionError as error:
            return ParsedExpression(sheet, row, column, text, None, error)

    def questions(self) -> Iterator[tuple[Row, ParsedType]]:
        for row in self.tables.survey:
            yield row, self.types[row.number]
