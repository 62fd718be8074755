"""Synthetic answers to the built-in questionnaires: one rule per question, per domain module."""

from __future__ import annotations

from surveys.demo.answers import (
    ablation,
    cell_therapy,
    centre_profile,
    ex_vivo,
    nuclear_medicine,
    radiomics,
    radiotherapy,
    surgery,
)
from surveys.demo.answers.engine import synthetic_answers
from surveys.demo.answers.rules import FormRules

RULES_BY_FORM: dict[str, FormRules] = {
    "ablation": ablation.RULES,
    "cell_therapy": cell_therapy.RULES,
    "centre_profile": centre_profile.RULES,
    "ex_vivo": ex_vivo.RULES,
    "nuclear_medicine": nuclear_medicine.RULES,
    "radiomics": radiomics.RULES,
    "radiotherapy": radiotherapy.RULES,
    "surgery": surgery.RULES,
}
NO_RULES = FormRules(values={})


def rules_for(form_id: str) -> FormRules:
    """The rules of a built-in questionnaire; none (cautious defaults) for any other form."""
    return RULES_BY_FORM.get(form_id, NO_RULES)


__all__ = ["RULES_BY_FORM", "rules_for", "synthetic_answers"]
