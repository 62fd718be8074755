"""Demo answers to the cell therapies questionnaire.

CAR-T cells are given at JACIE-accredited centres, mostly comprehensive cancer centres and
university hospitals: 10 to 60 patients a year each, with a vein-to-vein time of about four to
seven weeks. Point-of-care manufacturing, TIL and TCR-T therapies are found at very few centres.
"""

from __future__ import annotations

from surveys.demo.answers.rules import (
    Draw,
    FormRules,
    available,
    decimal,
    only_if,
    reference_year,
    reimbursement,
    some_of,
    weeks,
    whole,
)


def _jacie(draw: Draw) -> bool:
    return "JACIE" in draw.facts.respondent.accreditations


def _car_t(draw: Draw) -> bool:
    return draw.has("has_car_t")


def _has_car_t(draw: Draw) -> str:
    base = 0.75 if _jacie(draw) else 0.06
    return available(base, planned=0.15 if _jacie(draw) else 0.03)(draw)


def _jacie_status(draw: Draw) -> str:
    if _jacie(draw):
        return "accredited" if _car_t(draw) or draw.chance(0.4) else "accredited_hsct_only"
    if _car_t(draw):
        return "in_progress"
    return "in_progress" if draw.large and draw.chance(0.15) else "not_accredited"


def _icu(draw: Draw) -> str:
    if _car_t(draw) or draw.large:
        return "on_site" if draw.chance(0.9) else "off_site_agreement"
    return draw.rng.choices(["on_site", "off_site_agreement", "none"], [0.55, 0.3, 0.15])[0]


def _collections(draw: Draw) -> float:
    if _car_t(draw):
        return draw.number("car_t_patients_year") * draw.uniform(1.05, 1.4) + draw.uniform(0, 20)
    return draw.uniform(0, 20)


def _car_t_or_poc(draw: Draw) -> bool:
    return _car_t(draw) or draw.has("has_poc_manufacturing")


RULES = FormRules(
    values={
        "cell_reference_year": reference_year,
        "has_car_t": _has_car_t,
        "car_t_products": some_of(
            {
                "axi_cel": 0.8,
                "tisa_cel": 0.7,
                "brexu_cel": 0.4,
                "liso_cel": 0.3,
                "ide_cel": 0.4,
                "cilta_cel": 0.4,
                "academic": 0.08,
                "investigational": 0.25,
            },
            at_least="axi_cel",
        ),
        "car_t_patient_groups": lambda d: (
            ["adults", "paediatric"] if d.chance(0.25) else ["adults"]
        ),
        "car_t_patients_year": lambda d: whole(10, 60, scaled=True)(d) * d.country.resource,
        "car_t_referral_wait_weeks": weeks(1.5, 5.0),
        "car_t_vein_to_vein_weeks": decimal(3.5, 7.5),
        "jacie_status": _jacie_status,
        "has_apheresis": lambda d: "yes" if _car_t(d) else available(0.45, planned=0.04)(d),
        "apheresis_machines": whole(1, 3, scaled=True),
        "apheresis_collections_year": _collections,
        "icu_access": _icu,
        "tocilizumab_on_site": lambda d: "yes" if d.chance(0.98) else "no",
        "has_poc_manufacturing": available(0.1, needs=_car_t, planned=0.06),
        "poc_platforms": whole(1, 3),
        "poc_products_year": whole(5, 50),
        "poc_framework": some_of(
            {"hospital_exemption": 0.6, "clinical_trial": 0.8, "compassionate_use": 0.2}
        ),
        "has_til": available(0.06, needs=_car_t, planned=0.04),
        "til_patients_year": whole(3, 30),
        "til_wait_weeks": weeks(4.0, 10.0),
        "has_tcr": available(0.05, needs=_car_t, planned=0.03),
        "tcr_patients_year": whole(2, 15),
        "cell_fte_physicians": only_if(_car_t, lambda d: d.uniform(1.5, 4.0) * d.facts.size),
        "cell_fte_coordinators_nurses": only_if(
            _car_t, lambda d: d.uniform(3.0, 10.0) * d.facts.size
        ),
        "cell_fte_processing_lab": only_if(
            _car_t_or_poc,
            lambda d: d.uniform(3.0, 12.0) if d.has("has_poc_manufacturing") else d.uniform(1, 4),
        ),
        "cell_fte_quality": only_if(
            lambda d: _car_t(d) or _jacie(d), lambda d: d.uniform(0.5, 3.0)
        ),
        "reimb_car_t": reimbursement,
        "reimb_poc": reimbursement,
        "reimb_til": reimbursement,
    },
)
