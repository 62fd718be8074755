"""Cycles: calculations and relevance conditions that depend on themselves cannot be computed."""

from __future__ import annotations

from collections.abc import Iterator

from surveys.questionnaires.expressions import references
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

ORDERING_COLUMNS = ("calculation", "relevant")


def dependency_graph(context: RuleContext) -> dict[str, set[str]]:
    """For each question, the questions its calculation or relevance reads."""
    graph: dict[str, set[str]] = {}
    for parsed in context.expressions:
        name = parsed.row.get("name")
        if parsed.sheet != "survey" or parsed.node is None or not name:
            continue
        if parsed.column in ORDERING_COLUMNS:
            graph.setdefault(name, set()).update(references(parsed.node))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of names (first == last), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def check(context: RuleContext) -> Iterator[Problem]:
    graph = dependency_graph(context)
    reported: set[frozenset[str]] = set()
    while (cycle := find_cycle(graph)) is not None:
        members = frozenset(cycle)
        if members not in reported:
            reported.add(members)
            row = context.names[cycle[0]]
            column = "calculation" if row.get("calculation") else "relevant"
            yield Problem(
                "definition.calculation_cycle",
                "survey",
                row.number,
                column,
                "These questions depend on each other in a circle: " + " -> ".join(cycle) + ".",
                "Break the circle: one of them must not refer back to the others.",
            )
        graph[cycle[0]].discard(cycle[1])
