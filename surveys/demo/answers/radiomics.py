"""Demo answers to the radiomics and imaging AI questionnaire.

A hospital's imaging department acquires tens of thousands to a few hundred thousand studies a
year, by type and size; AI tools in clinical use are common, radiomics research and federated
learning mostly at research-oriented centres.
"""

from __future__ import annotations

from surveys.demo.answers.rules import (
    EVERYWHERE,
    RESEARCH,
    Draw,
    FormRules,
    available,
    one_of,
    per,
    reference_year,
    reimbursement,
    some_of,
    weeks,
    whole,
)

# Imaging studies a year, all modalities, by type of centre (thousands).
STUDIES = {
    "comprehensive_cancer_centre": (80, 250),
    "university_hospital": (150, 500),
    "general_hospital": (50, 200),
    "private_clinic": (20, 120),
    "research_institute": (5, 40),
    "other": (5, 30),
}


def _studies(draw: Draw) -> float:
    low, high = STUDIES.get(draw.centre_type, (10, 50))
    return round(draw.uniform(low, high) * draw.facts.size * 10) * 100


def _ai_areas(draw: Draw) -> list[str]:
    contouring = 0.85 if draw.rt is not None else 0.2
    return some_of(
        {
            "detection": 0.7,
            "triage": 0.4,
            "auto_contouring": contouring,
            "quantification": 0.4,
            "response": 0.2,
            "reconstruction": 0.3,
            "reporting": 0.25,
        },
        at_least="detection",
    )(draw)


def _data_scientists(draw: Draw) -> float:
    value = draw.uniform(0, 1.5)
    if draw.has("has_radiomics"):
        value += draw.uniform(1, 4)
    if draw.has("has_federated_learning"):
        value += draw.uniform(0.5, 1.5)
    return value


RULES = FormRules(
    values={
        "rdm_reference_year": reference_year,
        "has_vna": available(0.75, types=EVERYWHERE),
        "imaging_studies_year": _studies,
        "has_research_archive": available(0.55, types=RESEARCH, planned=0.1),
        "research_archive_studies": per("imaging_studies_year", 0.3, 3.0),
        "has_deidentification": lambda d: available(
            0.95 if d.has("has_research_archive") else 0.4, types=EVERYWHERE
        )(d),
        "research_data_access_weeks": weeks(3.0, 14.0),
        "has_imaging_cdm": available(0.2, types=RESEARCH, planned=0.1),
        "has_ai_clinical": available(0.6, types=EVERYWHERE, planned=0.12),
        "ai_tools_count": whole(1, 6, scaled=True),
        "ai_use_areas": _ai_areas,
        "ai_exams_year": per("imaging_studies_year", 0.05, 0.3),
        "has_ai_governance": available(0.65, types=EVERYWHERE, planned=0.15),
        "has_radiomics": available(0.45, types=RESEARCH, planned=0.08),
        "radiomics_ibsi": one_of({"verified": 0.2, "declared": 0.35, "no": 0.25, "unknown": 0.2}),
        "radiomics_software": some_of(
            {"pyradiomics": 0.75, "lifex": 0.3, "mirp": 0.1, "cerr": 0.1, "commercial": 0.3},
            at_least="pyradiomics",
        ),
        "radiomics_projects": whole(1, 12, scaled=True),
        "radiomics_clinical_use": one_of({"yes": 0.1, "planned": 0.25, "no": 0.65}),
        "has_federated_learning": available(0.3, types=RESEARCH, planned=0.1),
        "federated_projects": whole(1, 5),
        "rdm_fte_data_scientists": _data_scientists,
        "rdm_fte_imaging_informatics": lambda d: d.uniform(1.0, 6.0) * d.facts.size,
        "rdm_fte_physicists": lambda d: (
            d.uniform(0.5, 2.5) if d.has("has_radiomics") else d.uniform(0, 1.0)
        ),
        "rdm_fte_clinicians": lambda d: (
            d.uniform(0.3, 2.0) if d.has("has_radiomics") else d.uniform(0, 0.8)
        ),
        "reimb_ai_tools": reimbursement,
    },
)
