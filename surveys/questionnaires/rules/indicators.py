"""Indicators: each has a unique id, a numerator, and a known aggregation and denominator."""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.questionnaires.definitions.model import (
    INDICATOR_AGGREGATIONS,
    INDICATOR_DENOMINATORS,
    parse_benchmark,
)
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

INDICATOR_ID = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
BENCHMARK_KINDS = ("eu_median", "top_quartile", "rate")


def check(context: RuleContext) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for row in context.tables.indicators:
        ident = row.get("id")
        if not ident or not INDICATOR_ID.match(ident):
            yield Problem(
                "definition.indicator_id",
                "indicators",
                row.number,
                "id",
                f"{ident!r} is not a valid indicator id.",
                "Use lowercase letters, digits and underscores.",
            )
        elif ident in seen:
            yield Problem(
                "definition.duplicate_indicator",
                "indicators",
                row.number,
                "id",
                f"The indicator {ident!r} is already declared on row {seen[ident]}.",
                "Give every indicator a unique id.",
            )
        else:
            seen[ident] = row.number
        if not row.get("numerator"):
            yield Problem(
                "definition.indicator_numerator",
                "indicators",
                row.number,
                "numerator",
                "The indicator has no numerator.",
                "Write an expression over the answers, e.g. ${linac_units}.",
            )
        aggregation = row.get("aggregation") or "sum"
        if aggregation not in INDICATOR_AGGREGATIONS:
            yield Problem(
                "definition.indicator_aggregation",
                "indicators",
                row.number,
                "aggregation",
                f"Unknown aggregation {aggregation!r}.",
                f"Use one of: {', '.join(INDICATOR_AGGREGATIONS)}.",
            )
        denominator = row.get("denominator") or "none"
        if denominator not in INDICATOR_DENOMINATORS:
            yield Problem(
                "definition.indicator_denominator",
                "indicators",
                row.number,
                "denominator",
                f"Unknown denominator {denominator!r}.",
                f"Use one of: {', '.join(INDICATOR_DENOMINATORS)}.",
            )
        if row.get("benchmark"):
            benchmark = parse_benchmark(row.get("benchmark"))
            kind = benchmark.get("kind")
            if kind not in BENCHMARK_KINDS or (
                kind == "rate" and not isinstance(benchmark.get("value"), int | float)
            ):
                yield Problem(
                    "definition.indicator_benchmark",
                    "indicators",
                    row.number,
                    "benchmark",
                    f"The benchmark {row.get('benchmark')!r} is not valid.",
                    "Use {kind: eu_median}, {kind: top_quartile} or "
                    "{kind: rate, value: 5.3, source: '...'}.",
                )
