"""Demo answers to the centre profile: the registry's own type and accreditations, and a size
that fits the centre's radiotherapy (about 600 to 850 new cancer patients a year per
megavoltage unit, as roughly half of all patients receive radiotherapy)."""

from __future__ import annotations

from surveys.demo.answers.rules import Draw, FormRules, fixed, reference_year

# Registry accreditations as the questionnaire's choices name them.
ACCREDITATIONS = {
    "OECI": "oeci",
    "JACIE": "jacie",
    "EUSOMA": "eusoma",
    "ISO 9001": "iso_9001",
    "national": "national",
}
# New cancer patients a year at a centre without radiotherapy, by type.
NEW_PATIENTS = {
    "comprehensive_cancer_centre": (2500, 6000),
    "university_hospital": (1800, 4500),
    "general_hospital": (500, 1800),
    "private_clinic": (300, 1500),
    "research_institute": (200, 1200),
    "other": (80, 500),
}
# Catchment population by type (thousands of inhabitants).
CATCHMENT = {
    "comprehensive_cancer_centre": (800, 3000),
    "university_hospital": (400, 1800),
    "general_hospital": (80, 400),
    "private_clinic": (50, 500),
    "research_institute": (500, 3000),
    "other": (30, 200),
}


def _accreditations(draw: Draw) -> list[str]:
    chosen = [
        ACCREDITATIONS[a] for a in draw.facts.respondent.accreditations if a in ACCREDITATIONS
    ]
    return sorted(chosen) or ["none"]


def _new_patients(draw: Draw) -> float:
    if draw.rt is not None:
        return draw.rt.megavoltage * draw.uniform(600, 850)
    low, high = NEW_PATIENTS.get(draw.centre_type, (100, 500))
    return draw.uniform(low, high) * draw.facts.size


def _catchment(draw: Draw) -> int:
    low, high = CATCHMENT.get(draw.centre_type, (30, 200))
    people = draw.uniform(low, high) * 1000 * draw.facts.size
    return min(draw.country.population, int(round(people, -3)))


def _designation(draw: Draw) -> str:
    if draw.centre_type == "comprehensive_cancer_centre":
        return "comprehensive_cancer_centre" if draw.chance(0.85) else "clinical_cancer_centre"
    if draw.large:
        return "clinical_cancer_centre" if draw.chance(0.6) else "cancer_centre"
    return "cancer_centre"


RULES = FormRules(
    values={
        "centre_type": lambda d: d.centre_type,
        "centre_type_other": fixed("Oncology network unit (synthetic)"),
        "catchment_population": _catchment,
        "new_patients_year": _new_patients,
        "prof_reference_year": reference_year,
        "accreditations": _accreditations,
        "oeci_designation": _designation,
        "contact_role": fixed("Survey coordinator (synthetic)"),
    },
)
