"""Demo answers to the nuclear medicine questionnaire.

PET/CT scanners come from the country plan (1 to 5 per million inhabitants); a scanner does
1,800 to 3,200 oncology scans a year (10 to 15 a working day). Radioligand therapy is given at
part of the departments with PET/CT, more often in better resourced countries; a patient has
about four cycles. A centre without a nuclear medicine department answers "no" throughout.
"""

from __future__ import annotations

from surveys.demo.answers.rules import (
    CLINICAL,
    Draw,
    FormRules,
    available,
    one_of,
    only_if,
    per,
    reference_year,
    reimbursement,
    some_of,
    weeks,
    whole,
    yes_when,
)


def _department(draw: Draw) -> bool:
    return draw.facts.nuclear_medicine


def _pet(draw: Draw) -> bool:
    return draw.facts.pet_ct_units > 0


def _large_pet(draw: Draw) -> bool:
    return _pet(draw) and draw.large


def _cameras(draw: Draw) -> int:
    return max(
        1, min(6, round(draw.uniform(0.8, 2.5) * draw.facts.size * (1.4 if draw.large else 1)))
    )


def _physicians(draw: Draw) -> float:
    return (
        1
        + draw.facts.pet_ct_units * draw.uniform(1.0, 1.6)
        + draw.number("spect_ct_units") * draw.uniform(0.4, 0.8)
    )


def _radiopharmacists(draw: Draw) -> float:
    if draw.has("has_gmp_radiopharmacy") or draw.has("has_cyclotron"):
        return draw.uniform(1, 3.5)
    return draw.uniform(0, 0.8)


def _technologists(draw: Draw) -> float:
    scanners = draw.facts.pet_ct_units + draw.number("spect_ct_units")
    return 1 + scanners * draw.uniform(2.5, 4.0)


def _tracers(draw: Draw) -> list[str]:
    """FDG everywhere; PSMA at most centres of well resourced countries; the rest at fewer."""
    others = some_of(
        {
            "psma": 0.7 * draw.country.resource,
            "sstr": 0.45,
            "fes": 0.1,
            "choline_fluciclovine": 0.2,
            "fdopa": 0.2,
            "fapi": 0.08,
        },
        at_least="psma",
    )
    return ["fdg", *others(draw)]


RULES = FormRules(
    values={
        "nm_reference_year": reference_year,
        "has_pet_ct": yes_when(_pet, otherwise=available(0.08, needs=_department, planned=0.1)),
        "pet_ct_units": lambda d: d.facts.pet_ct_units or None,
        "pet_ct_scans_year": per("pet_ct_units", 1800, 3200),
        "pet_ct_wait_weeks": weeks(0.5, 2.5),
        "has_pet_mr": available(0.25, needs=_large_pet, planned=0.05),
        "pet_mr_units": lambda d: 2 if d.chance(0.05) else 1,
        "pet_mr_scans_year": per("pet_mr_units", 500, 1200),
        "pet_mr_wait_weeks": weeks(1.0, 4.0),
        "has_spect_ct": available(0.9, needs=_department, types=dict.fromkeys(CLINICAL, 1.0)),
        "spect_ct_units": _cameras,
        "spect_ct_scans_year": per("spect_ct_units", 1200, 2500),
        "spect_ct_wait_weeks": weeks(1.0, 4.0),
        "pet_tracers": _tracers,
        "has_cyclotron": available(0.3, needs=_pet, planned=0.03),
        "cyclotron_units": lambda d: 2 if d.chance(0.1) else 1,
        "has_gmp_radiopharmacy": available(0.55, needs=_department),
        "has_ga68_generator": available(0.55, needs=_pet),
        "has_lu_psma": available(0.6, needs=_pet, planned=0.1),
        "lu_psma_patients_year": whole(20, 120, scaled=True),
        "lu_psma_cycles_year": per("lu_psma_patients_year", 3.5, 5.0),
        "lu_psma_wait_weeks": weeks(2.0, 6.0),
        "has_lu_dotatate": available(0.5, needs=_pet, planned=0.06),
        "lu_dotatate_patients_year": whole(10, 50, scaled=True),
        "lu_dotatate_cycles_year": per("lu_dotatate_patients_year", 3.2, 4.0),
        "lu_dotatate_wait_weeks": weeks(2.0, 6.0),
        "has_radioiodine": available(0.7, needs=_department),
        "radioiodine_treatments_year": whole(40, 300, scaled=True),
        "radioiodine_wait_weeks": weeks(2.0, 6.0),
        "has_ra223": available(0.5, needs=_department),
        "ra223_patients_year": whole(5, 35, scaled=True),
        "therapy_rooms": whole(1, 6, scaled=True),
        "has_sirt": available(0.35, needs=_department, planned=0.04),
        "sirt_procedures_year": whole(10, 70, scaled=True),
        "sirt_wait_weeks": weeks(2.0, 5.0),
        "nm_fte_physicians": only_if(_department, _physicians),
        "nm_fte_radiopharmacists": only_if(_department, _radiopharmacists),
        "nm_fte_physicists": only_if(
            _department, lambda d: d.uniform(0.5, 1.0) + 0.3 * d.facts.pet_ct_units
        ),
        "nm_fte_technologists": only_if(_department, _technologists),
        "reimb_pet_ct": reimbursement,
        "reimb_psma_pet": one_of(
            {
                "full": 0.4,
                "partial": 0.15,
                "case_by_case": 0.3,
                "not_reimbursed": 0.1,
                "unknown": 0.05,
            }
        ),
        "reimb_lu_psma": reimbursement,
        "reimb_lu_dotatate": reimbursement,
        "reimb_sirt": reimbursement,
    },
)
