"""Demo answers to the ex-vivo testing of agents questionnaire.

These methods live mostly at research institutes and comprehensive cancer centres: organoids
at about a third of them, PDX models and functional screening at fewer, organ-on-chip at very
few. Volumes are tens to a few hundred samples a year; turnaround times are those of the
methods (organoids in weeks, PDX in months) and do not depend on the country.
"""

from __future__ import annotations

from surveys.demo.answers.rules import (
    RESEARCH,
    Draw,
    FormRules,
    Rule,
    available,
    decimal,
    one_of,
    only_if,
    per,
    reference_year,
    reimbursement,
    whole,
)

METHODS = ("has_organoids", "has_pdx", "has_organ_on_chip", "has_functional_screening")


def _methods(draw: Draw) -> int:
    return sum(1 for name in METHODS if draw.has(name))


def _per_method(low: float, high: float) -> Rule:
    """Staff in proportion to the methods the centre runs; none without any."""
    return only_if(lambda d: _methods(d) > 0, lambda d: _methods(d) * d.uniform(low, high))


RULES = FormRules(
    values={
        "exv_reference_year": reference_year,
        "has_organoids": available(0.35, types=RESEARCH, planned=0.08),
        "organoid_samples_year": whole(30, 300, scaled=True),
        "organoid_success_rate": decimal(45, 85),
        "organoid_turnaround_weeks": decimal(4, 10),
        "has_pdx": available(0.15, types=RESEARCH, planned=0.04),
        "pdx_models_year": whole(5, 60, scaled=True),
        "pdx_turnaround_weeks": decimal(12, 30),
        "has_organ_on_chip": available(0.05, types=RESEARCH, planned=0.05),
        "organ_on_chip_assays_year": whole(5, 60),
        "organ_on_chip_turnaround_weeks": decimal(2, 6),
        "has_functional_screening": available(0.12, types=RESEARCH, planned=0.05),
        "screening_patients_year": whole(20, 250, scaled=True),
        "screening_panel_size": whole(20, 150),
        "screening_turnaround_weeks": decimal(1.5, 5),
        "screening_clinical_use": one_of({"research": 0.6, "trial": 0.3, "routine": 0.1}),
        "screening_patients_informed": per("screening_patients_year", 0.1, 0.5),
        "exv_iso15189": one_of({"yes": 0.25, "planned": 0.2, "no": 0.55}),
        "exv_fte_scientists": _per_method(1.0, 3.0),
        "exv_fte_technicians": _per_method(1.0, 3.0),
        "exv_fte_bioinformaticians": _per_method(0.2, 1.5),
        "reimb_ex_vivo": reimbursement,
    },
)
