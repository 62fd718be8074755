"""Small building blocks for the demo's answer rules: a rule is one function from the centre's
situation (:class:`Draw`) to one answer.

The domain modules beside this one (``radiotherapy.py``, ``nuclear_medicine.py``, ...) give
every question of their questionnaire a rule built from these blocks, so that each reads like
the sentence it stands for: "scans a year: 1,800 to 3,200 per PET/CT scanner".
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from surveys.demo.capacity import CentreFacts, Radiotherapy
from surveys.demo.profiles import CountryProfile


@dataclass
class Draw:
    """What a rule may look at: the centre's facts, the answers given so far, a random source."""

    facts: CentreFacts
    rng: random.Random
    answers: dict[str, Any]
    row: int = 0
    """The index of the repeat row being filled (0 outside repeats)."""

    @property
    def country(self) -> CountryProfile:
        return self.facts.country

    @property
    def centre_type(self) -> str:
        return self.facts.centre_type

    @property
    def rt(self) -> Radiotherapy | None:
        return self.facts.radiotherapy

    @property
    def large(self) -> bool:
        """A comprehensive cancer centre, a university hospital or a research institute."""
        return self.centre_type in LARGE

    def number(self, name: str) -> float:
        """The numeric answer to ``name`` given so far, 0 when there is none."""
        value = self.answers.get(name)
        return float(value) if isinstance(value, int | float) else 0.0

    def has(self, name: str) -> bool:
        return self.answers.get(name) == "yes"

    def uniform(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability


Rule = Callable[[Draw], Any]


@dataclass(frozen=True)
class FormRules:
    """The rules of one questionnaire: one per question, and the row count of each repeat."""

    values: Mapping[str, Rule]
    rows: Mapping[str, Callable[[Draw], int]] = field(default_factory=dict)


LARGE = frozenset({"comprehensive_cancer_centre", "university_hospital", "research_institute"})
# How much likelier a technology is at each type of centre than at a comprehensive cancer centre.
CLINICAL = {
    "comprehensive_cancer_centre": 1.0,
    "university_hospital": 0.85,
    "general_hospital": 0.4,
    "private_clinic": 0.35,
    "research_institute": 0.3,
    "other": 0.15,
}
RESEARCH = {
    "comprehensive_cancer_centre": 1.0,
    "university_hospital": 0.8,
    "general_hospital": 0.12,
    "private_clinic": 0.08,
    "research_institute": 1.1,
    "other": 0.1,
}
EVERYWHERE = {
    "comprehensive_cancer_centre": 1.0,
    "university_hospital": 1.0,
    "general_hospital": 0.8,
    "private_clinic": 0.7,
    "research_institute": 0.6,
    "other": 0.4,
}


def fixed(value: Any) -> Rule:
    return lambda draw: value


def reference_year(draw: Draw) -> int:
    """The year the activity figures refer to: the last complete year, for most centres."""
    return draw.facts.reference_year


def whole(low: float, high: float, *, scaled: bool = False) -> Callable[[Draw], int]:
    """A whole number from ``low`` to ``high``; ``scaled`` multiplies it by the centre's size."""

    def rule(draw: Draw) -> int:
        factor = draw.facts.size if scaled else 1.0
        return max(round(low), round(draw.uniform(low, high) * factor))

    return rule


def decimal(low: float, high: float) -> Rule:
    return lambda draw: round(draw.uniform(low, high), 1)


def per(driver: str, low: float, high: float, *, plus: float = 0.0) -> Rule:
    """``low`` to ``high`` times the answer to ``driver`` (activity per unit, staff per unit)."""

    def rule(draw: Draw) -> float:
        return draw.number(driver) * draw.uniform(low, high) + plus

    return rule


def weeks(low: float, high: float) -> Rule:
    """A median waiting time: ``low`` to ``high`` weeks in a typical country, longer where the
    country's patients wait longer."""

    def rule(draw: Draw) -> float:
        return max(0.3, round(draw.uniform(low, high) * draw.country.wait_factor, 1))

    return rule


def available(
    base: float,
    *,
    types: Mapping[str, float] = CLINICAL,
    needs: Callable[[Draw], bool] | None = None,
    planned: float = 0.06,
) -> Callable[[Draw], str]:
    """Yes, planned or no: "yes" with probability ``base`` at a comprehensive cancer centre of
    a typical country, less at other types of centre and in less resourced countries."""

    def rule(draw: Draw) -> str:
        if needs is not None and not needs(draw):
            return "planned" if draw.chance(planned / 3) else "no"
        p = min(0.97, base * types.get(draw.centre_type, 0.3) * draw.country.resource)
        roll = draw.rng.random()
        if roll < p:
            return "yes"
        return "planned" if roll < p + planned else "no"

    return rule


def yes_when(
    test: Callable[[Draw], bool], *, otherwise: Callable[[Draw], str] | None = None
) -> Callable[[Draw], str]:
    """ "yes" when the centre's facts say so; otherwise ``otherwise`` (or "no")."""

    def rule(draw: Draw) -> str:
        if test(draw):
            return "yes"
        return otherwise(draw) if otherwise is not None else "no"

    return rule


def one_of(weights: Mapping[str, float]) -> Callable[[Draw], str]:
    options, values = list(weights), list(weights.values())
    return lambda draw: draw.rng.choices(options, weights=values)[0]


def some_of(
    chances: Mapping[str, float], *, at_least: str | None = None
) -> Callable[[Draw], list[str]]:
    """Each option with its own chance; ``at_least`` when nothing else was chosen."""

    def rule(draw: Draw) -> list[str]:
        chosen = [option for option, p in chances.items() if draw.chance(p)]
        if not chosen:
            chosen = [at_least or next(iter(chances))]
        return chosen

    return rule


def reimbursement(draw: Draw) -> str:
    """Reimbursement status: fully reimbursed more often in better resourced countries."""
    r = draw.country.resource
    return draw.rng.choices(
        ["full", "partial", "case_by_case", "not_reimbursed", "unknown"],
        weights=[0.45 * r, 0.2, 0.15, 0.12 / r, 0.05],
    )[0]


def only_if(test: Callable[[Draw], bool], rule: Rule, *, otherwise: Any = 0) -> Rule:
    """``rule`` when ``test`` holds, ``otherwise`` when not (staff of a service a centre lacks)."""
    return lambda draw: rule(draw) if test(draw) else otherwise
