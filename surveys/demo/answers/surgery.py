"""Demo answers to the innovative surgery questionnaire.

Surgical robots come from the country plan (under one to about five per million inhabitants);
a robot does 180 to 380 cancer operations a year. Cytoreductive surgery with HIPEC and PIPAC are
done at a few large centres, a few dozen procedures a year each.
"""

from __future__ import annotations

from surveys.demo.answers.rules import (
    Draw,
    FormRules,
    available,
    only_if,
    per,
    reference_year,
    reimbursement,
    some_of,
    weeks,
    whole,
    yes_when,
)


def _surgery(draw: Draw) -> bool:
    return draw.facts.surgery


def _robots(draw: Draw) -> bool:
    return draw.facts.robotic_systems > 0


def _platforms(draw: Draw) -> list[str]:
    first = draw.rng.choices(["da_vinci", "hugo", "versius", "senhance"], [0.85, 0.08, 0.05, 0.02])
    platforms = set(first)
    if draw.facts.robotic_systems > 1 and draw.chance(0.25):
        platforms.add(draw.rng.choice(["da_vinci", "hugo", "versius"]))
    return sorted(platforms)


def _peritoneal(draw: Draw) -> bool:
    return draw.has("has_hipec") or draw.has("has_pipac")


RULES = FormRules(
    values={
        "surg_reference_year": reference_year,
        "has_robotic": yes_when(_robots, otherwise=available(0.1, needs=_surgery, planned=0.12)),
        "robotic_systems": lambda d: d.facts.robotic_systems or None,
        "robotic_platforms": _platforms,
        "robotic_specialties": some_of(
            {
                "urology": 0.95,
                "gynaecology": 0.6,
                "colorectal": 0.6,
                "upper_gi": 0.3,
                "hpb": 0.25,
                "thoracic": 0.35,
                "head_neck": 0.15,
            }
        ),
        "robotic_procedures_year": per("robotic_systems", 180, 380),
        "robotic_wait_weeks": weeks(2.0, 6.0),
        "has_hipec": available(0.3, needs=_surgery, planned=0.04),
        "hipec_procedures_year": whole(15, 90, scaled=True),
        "hipec_wait_weeks": weeks(2.5, 6.0),
        "has_pipac": available(0.12, needs=_surgery, planned=0.04),
        "pipac_procedures_year": whole(15, 120, scaled=True),
        "pipac_wait_weeks": weeks(1.5, 4.0),
        "has_fluorescence": available(0.75, needs=_surgery),
        "fluorescence_procedures_year": whole(80, 700, scaled=True),
        "has_navigation": available(0.35, needs=_surgery),
        "navigation_procedures_year": whole(40, 400, scaled=True),
        "surg_fte_robotic_surgeons": lambda d: d.facts.robotic_systems * d.uniform(3.0, 7.0),
        "surg_fte_peritoneal_surgeons": only_if(_peritoneal, lambda d: d.uniform(1.0, 4.0)),
        "surg_fte_theatre_nurses": lambda d: d.facts.robotic_systems * d.uniform(4.0, 9.0),
        "reimb_robotic": reimbursement,
        "reimb_hipec": reimbursement,
        "reimb_pipac": reimbursement,
    },
)
