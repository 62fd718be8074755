from __future__ import annotations

import random
from typing import Any

import pytest

from surveys.demo.answers import RULES_BY_FORM, rules_for, synthetic_answers
from surveys.demo.answers.engine import is_activity_count
from surveys.demo.answers.rules import FormRules, fixed
from surveys.demo.capacity import CentreFacts, Respondent, plan_country
from surveys.demo.profiles import country_profiles
from surveys.questionnaires.answers import validate_answers
from surveys.questionnaires.definitions.compiled import CompiledForm, compile_definition
from surveys.questionnaires.definitions.model import to_definition
from surveys.questionnaires.definitions.tables import read_markdown
from surveys.questionnaires.service import catalogue_tables
from surveys.registry.models import CENTRE_TYPES

FORMS = {t.settings["form_id"]: compile_definition(to_definition(t)) for t in catalogue_tables()}
PROFILES = country_profiles(["DE", "IS", "NL", "PL"], 2026)


def seeded(key: str) -> random.Random:
    return random.Random(key)  # noqa: S311 - reproducible test data, not security


def centres(code: str, count: int) -> list[CentreFacts]:
    rng = seeded(code)
    members = [
        Respondent(
            i,
            code,
            rng.choices(CENTRE_TYPES, weights=(0.12, 0.25, 0.4, 0.13, 0.04, 0.06))[0],
            ("JACIE",) if rng.random() < 0.3 else (),
        )
        for i in range(count)
    ]
    return list(plan_country(PROFILES[code], members, seed=2026).values())


SAMPLE = centres("DE", 150) + centres("NL", 30) + centres("IS", 2) + centres("PL", 40)


def answers(form_id: str, facts: CentreFacts) -> dict[str, Any]:
    rng = seeded(f"{facts.respondent.id}:{form_id}")
    return synthetic_answers(FORMS[form_id], rules_for(form_id), facts, rng)


def validated(form_id: str, facts: CentreFacts) -> dict[str, Any]:
    result = validate_answers(FORMS[form_id], answers(form_id, facts))
    assert result.ok, (form_id, facts.centre_type, result.errors)
    return result.answers


def numeric_questions(form: CompiledForm) -> list[str]:
    return [
        q.name
        for q in form.walk()
        if q.kind in {"integer", "decimal"} and q.takes_answer and not q.generated
    ]


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_every_number_and_availability_question_has_its_own_rule(form_id: str) -> None:
    rules = RULES_BY_FORM[form_id].values
    wanted = numeric_questions(FORMS[form_id]) + [
        q.name for q in FORMS[form_id].walk() if q.name.startswith("has_") and q.takes_answer
    ]
    assert [name for name in wanted if name not in rules] == []
    assert set(rules) <= set(FORMS[form_id].by_name), "a rule for a question that is gone"


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_answers_pass_the_forms_own_validation(form_id: str) -> None:
    for facts in SAMPLE[::3]:
        validated(form_id, facts)


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_activity_counts_are_never_the_reference_year(form_id: str) -> None:
    counts = [q for q in FORMS[form_id].walk() if is_activity_count(q)]
    assert counts, "every questionnaire counts some activity a year"
    for facts in SAMPLE:
        given = answers(form_id, facts)
        for question in counts:
            assert given.get(question.name) != facts.reference_year, question.name


def test_an_activity_count_that_falls_on_the_reference_year_is_moved_off_it() -> None:
    form = compile_definition(
        to_definition(
            read_markdown(
                """
| survey |
|        | type    | name              | label::en | constraint          |
|        | integer | ref_reference_year| Year      | . >= 2015           |
|        | integer | scans_year        | Scans     | . >= 0 and . <= 9000 |
| settings |
|          | form_id | version | title::en |
|          | tiny    | 1       | Tiny      |
""",
                source="tiny.md",
            )
        )
    )
    rules = FormRules(values={"scans_year": fixed(2025)})
    facts = SAMPLE[0]
    given = synthetic_answers(form, rules, facts, seeded("x"))
    assert given["ref_reference_year"] == facts.reference_year
    assert given["scans_year"] != facts.reference_year
    assert abs(given["scans_year"] - 2025) <= 1


def test_radiotherapy_answers_agree_with_the_centres_machines() -> None:
    for facts in SAMPLE:
        given = validated("radiotherapy", facts)
        rt = facts.radiotherapy
        if rt is None:
            assert given["has_rt_department"] != "yes"
            assert given.get("rt_mv_units", 0) == 0
            continue
        assert given["has_rt_department"] == "yes"
        assert given["rt_mv_units"] == rt.megavoltage
        assert len(given["linac_devices"]) == rt.conventional + rt.mr_linac
        assert (given["has_mr_linac"] == "yes") == (rt.mr_linac > 0)
        assert (given["has_proton"] == "yes") == (rt.proton_rooms > 0)
        assert (given["has_carbon_ion"] == "yes") == (rt.carbon_ion_rooms > 0)
        assert 380 <= given["rt_courses_year"] / rt.megavoltage <= 520
        if rt.proton_rooms:
            assert 100 <= given["proton_patients_year"] / rt.proton_rooms <= 220
        for row in given["linac_devices"]:
            assert 2005 <= row["linac_year_installed"] <= 2025


def test_nuclear_medicine_answers_agree_with_the_centres_scanners() -> None:
    for facts in SAMPLE:
        given = validated("nuclear_medicine", facts)
        assert (given["has_pet_ct"] == "yes") == (facts.pet_ct_units > 0)
        if facts.pet_ct_units:
            assert given["pet_ct_units"] == facts.pet_ct_units
            assert 1800 <= given["pet_ct_scans_year"] / facts.pet_ct_units <= 3200
            assert "fdg" in given["pet_tracers"]
        if not facts.nuclear_medicine:
            assert given["nm_fte_physicians"] == 0


def test_the_centre_profile_repeats_the_registry() -> None:
    for facts in SAMPLE[:40]:
        given = validated("centre_profile", facts)
        assert given["centre_type"] == facts.centre_type
        assert ("jacie" in given["accreditations"]) == ("JACIE" in facts.respondent.accreditations)
        assert given["catchment_population"] <= facts.country.population


def test_answers_are_deterministic_from_the_random_source() -> None:
    facts = SAMPLE[5]
    assert answers("radiotherapy", facts) == answers("radiotherapy", facts)


def test_a_few_centres_name_another_barrier_in_their_own_words() -> None:
    barrier_forms = {
        form_id: [q.name for q in form.walk() if q.name.endswith("barriers")]
        for form_id, form in FORMS.items()
    }
    named, answered = [], 0
    for form_id, questions in barrier_forms.items():
        for facts in SAMPLE[:60]:
            given = validated(form_id, facts) if questions else {}
            for name in questions:
                if name not in given:
                    continue
                answered += 1
                text = given.get(f"{name}_other")
                assert ("other" in given[name]) == bool(text), (form_id, given[name], text)
                if text:
                    named.append(text)
    assert answered > 200
    assert 0 < len(named) < answered * 0.1  # a few, never most
    assert all(text.startswith("Synthetic demo answer:") for text in named)
