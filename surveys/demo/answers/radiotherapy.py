"""Demo answers to the innovative radiotherapy questionnaire.

The machines come from the country plan (:mod:`surveys.demo.capacity`); activity follows the
machines: about 380 to 520 courses a year per megavoltage unit (ESTRO-HERO's European
departments treat a few hundred patients per machine), 100 to 220 patients a year per proton
room (the particle centres of Weber et al., Radiother Oncol 2017;124:185-189, treated 221 a year
on average), staff per machine in the proportions European departments report.
"""

from __future__ import annotations

from surveys.demo.answers.rules import (
    EVERYWHERE,
    Draw,
    FormRules,
    Rule,
    available,
    one_of,
    only_if,
    per,
    reference_year,
    reimbursement,
    some_of,
    weeks,
    yes_when,
)

MR_VENDORS = {"Elekta": 0.8, "ViewRay": 0.2}
VENDORS = {"Varian": 0.55, "Elekta": 0.35, "Accuray": 0.1}
MODELS = {
    "Varian": {
        "TrueBeam": 0.47,
        "Halcyon": 0.2,
        "Clinac iX": 0.15,
        "VitalBeam": 0.15,
        "Ethos": 0.03,
    },
    "Elekta": {"Versa HD": 0.5, "Synergy": 0.25, "Infinity": 0.15, "Harmony": 0.1},
    "Accuray": {"Radixact": 0.6, "TomoTherapy HD": 0.4},
    "ViewRay": {"MRIdian": 1.0},
}
MR_MODELS = {"Elekta": "Unity", "ViewRay": "MRIdian"}
# Years a model was sold in Europe, roughly: an installation year is drawn inside them.
MODEL_YEARS = {
    "Unity": (2018, 2025),
    "MRIdian": (2015, 2023),
    "Ethos": (2020, 2025),
    "Halcyon": (2017, 2025),
    "TrueBeam": (2010, 2025),
    "VitalBeam": (2015, 2025),
    "Clinac iX": (2006, 2014),
    "Versa HD": (2013, 2025),
    "Synergy": (2005, 2015),
    "Infinity": (2010, 2020),
    "Harmony": (2021, 2025),
    "Radixact": (2017, 2025),
    "TomoTherapy HD": (2008, 2017),
}
ADAPTIVE_MODELS = frozenset({"Unity", "MRIdian", "Ethos"})


def _units(draw: Draw) -> int:
    return draw.rt.megavoltage if draw.rt else 0


def _is_mr_row(draw: Draw) -> bool:
    return draw.rt is not None and draw.row < draw.rt.mr_linac


def _vendor(draw: Draw) -> str:
    table = MR_VENDORS if _is_mr_row(draw) else VENDORS
    return draw.rng.choices(list(table), weights=list(table.values()))[0]


def _model(draw: Draw) -> str:
    vendor = draw.answers.get("linac_vendor", "Varian")
    if _is_mr_row(draw):
        return MR_MODELS.get(vendor, "Unity")
    return one_of(MODELS.get(vendor, MODELS["Varian"]))(draw)


def _installed(draw: Draw) -> int:
    first, last = MODEL_YEARS.get(draw.answers.get("linac_model", ""), (2010, 2025))
    return draw.rng.randint(first, last)


def _adaptive_rows(draw: Draw) -> int:
    rows = draw.answers.get("linac_devices", [])
    return sum(1 for row in rows if row.get("supports_online_adaptive") == "yes")


def _referrals_abroad(draw: Draw) -> float:
    """Proton patients sent abroad: some where the country has no proton centre, few otherwise."""
    if draw.country.proton_centres:
        return draw.rng.choice([0, 0, 0, 1, 2])
    if draw.rt is None:
        return draw.rng.choice([0, 0, 1, 2])
    return draw.uniform(2, 12 if draw.large else 5) * draw.facts.size


def _has_rt(draw: Draw) -> bool:
    return draw.rt is not None


def _planned_large(probability: float) -> Rule:
    """ "planned" at a few large centres, "no" elsewhere."""
    return lambda draw: "planned" if draw.large and draw.chance(probability) else "no"


def _srs_patients(draw: Draw) -> float:
    rt = draw.rt
    extra = (
        (rt.gamma_knife * draw.uniform(250, 450) + rt.robotic * draw.uniform(100, 250)) if rt else 0
    )
    return draw.number("rt_courses_year") * draw.uniform(0.02, 0.05) + extra


RULES = FormRules(
    values={
        "rt_reference_year": reference_year,
        "has_rt_department": yes_when(_has_rt, otherwise=_planned_large(0.05)),
        "rt_courses_year": lambda d: _units(d) * d.uniform(380, 520),
        "rt_wait_weeks": weeks(1.5, 4.0),
        "rt_units_conventional_linac": lambda d: d.rt.conventional if d.rt else None,
        "rt_units_mr_linac": lambda d: d.rt.mr_linac if d.rt else None,
        "rt_units_robotic_radiosurgery": lambda d: d.rt.robotic if d.rt else None,
        "rt_units_gamma_knife": lambda d: d.rt.gamma_knife if d.rt else None,
        "rt_units_proton_gantry": lambda d: d.rt.proton_rooms if d.rt else None,
        "linac_vendor": _vendor,
        "linac_model": _model,
        "linac_year_installed": _installed,
        "supports_online_adaptive": lambda d: (
            "yes" if d.answers.get("linac_model") in ADAPTIVE_MODELS else "no"
        ),
        "has_mr_linac": yes_when(
            lambda d: d.rt is not None and d.rt.mr_linac > 0, otherwise=_planned_large(0.06)
        ),
        "mr_linac_patients_year": lambda d: (d.rt.mr_linac if d.rt else 0) * d.uniform(120, 260),
        "mr_linac_wait_weeks": weeks(1.5, 4.0),
        "has_online_adaptive": yes_when(
            lambda d: _adaptive_rows(d) > 0, otherwise=_planned_large(0.1)
        ),
        "online_adaptive_patients_year": lambda d: _adaptive_rows(d) * d.uniform(100, 220),
        "online_adaptive_wait_weeks": weeks(1.5, 4.0),
        "has_sbrt": available(0.92, needs=_has_rt, types=EVERYWHERE),
        "sbrt_patients_year": per("rt_courses_year", 0.06, 0.14),
        "sbrt_wait_weeks": weeks(1.0, 3.5),
        "has_srs": yes_when(
            lambda d: d.rt is not None and (d.rt.robotic + d.rt.gamma_knife) > 0,
            otherwise=available(0.6, needs=_has_rt, types=EVERYWHERE),
        ),
        "srs_patients_year": _srs_patients,
        "srs_wait_weeks": weeks(1.0, 4.0),
        "has_proton": yes_when(
            lambda d: d.rt is not None and d.rt.proton_rooms > 0,
            otherwise=lambda d: "planned" if d.facts.proton_planned else "no",
        ),
        "proton_patients_year": per("rt_units_proton_gantry", 100, 220),
        "proton_wait_weeks": weeks(2.0, 5.0),
        "proton_referrals_abroad": _referrals_abroad,
        "has_carbon_ion": yes_when(
            lambda d: d.rt is not None and d.rt.carbon_ion_rooms > 0,
            otherwise=lambda d: "planned" if d.facts.carbon_ion_planned else "no",
        ),
        "carbon_ion_rooms": lambda d: d.rt.carbon_ion_rooms if d.rt else None,
        "carbon_ion_patients_year": per("carbon_ion_rooms", 60, 140),
        "carbon_ion_wait_weeks": weeks(3.0, 7.0),
        "has_brachytherapy": yes_when(
            lambda d: d.rt is not None and d.rt.afterloaders > 0, otherwise=_planned_large(0.03)
        ),
        "brachy_afterloaders": lambda d: d.rt.afterloaders if d.rt else None,
        "brachy_procedures_year": per("brachy_afterloaders", 150, 350),
        "brachy_wait_weeks": weeks(1.0, 3.5),
        "has_iort": available(0.3, needs=_has_rt, planned=0.04),
        "iort_units": lambda d: 2 if d.chance(0.1) else 1,
        "iort_procedures_year": per("iort_units", 40, 180),
        "rt_fte_radiation_oncologists": only_if(_has_rt, lambda d: _units(d) * d.uniform(1.0, 1.8)),
        "rt_fte_physicists": only_if(
            _has_rt,
            lambda d: _units(d) * d.uniform(0.8, 1.5) + (d.rt.proton_rooms * 2 if d.rt else 0),
        ),
        "rt_fte_dosimetrists": only_if(_has_rt, lambda d: _units(d) * d.uniform(0.0, 1.0)),
        "rt_fte_rtts": only_if(
            _has_rt,
            lambda d: _units(d) * d.uniform(3.5, 6.0) + (d.rt.proton_rooms * 6 if d.rt else 0),
        ),
        "reimb_sbrt": reimbursement,
        "reimb_online_adaptive": reimbursement,
        "reimb_proton": reimbursement,
        "reimb_carbon_ion": reimbursement,
        "reimb_iort": reimbursement,
        "rt_plans": some_of(
            {
                "new_linac": 0.2,
                "replace_linac": 0.35,
                "mr_linac": 0.08,
                "online_adaptive": 0.15,
                "particle_therapy": 0.05,
                "stereotactic": 0.2,
                "recruit_staff": 0.4,
                "training": 0.3,
                "clinical_trials": 0.25,
            },
            at_least="none",
        ),
    },
    rows={"linac_devices": lambda d: (d.rt.conventional + d.rt.mr_linac) if d.rt else 0},
)
