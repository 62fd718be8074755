"""Demo answers to the physical methods of ablation questionnaire.

Microwave and radiofrequency ablation are the common techniques (liver first); cryoablation,
electrochemotherapy, HIFU, IRE and laser are found at fewer centres. A generator does some
dozens to 150 sessions a year; interventional staff follow the number of techniques offered.
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
)

TECHNIQUES = ("has_rfa", "has_mwa", "has_cryo", "has_laser", "has_hifu", "has_ire", "has_ect")


def _techniques(draw: Draw) -> int:
    return sum(1 for name in TECHNIQUES if draw.has(name))


def _organs(draw: Draw) -> list[str]:
    return some_of(
        {
            "liver": 0.95,
            "kidney": 0.6 if draw.has("has_cryo") else 0.4,
            "lung": 0.45,
            "bone_soft_tissue": 0.3,
            "pancreas": 0.8 if draw.has("has_ire") else 0.03,
            "prostate": 0.6 if draw.has("has_hifu") else 0.05,
            "thyroid": 0.15,
            "breast": 0.05,
            "skin": 0.9 if draw.has("has_ect") else 0.02,
        },
        at_least="liver",
    )(draw)


RULES = FormRules(
    values={
        "abl_reference_year": reference_year,
        "has_rfa": available(0.4),
        "rfa_systems": whole(1, 2.6),
        "rfa_procedures_year": per("rfa_systems", 40, 130),
        "has_mwa": available(0.6),
        "mwa_systems": whole(1, 2.6),
        "mwa_procedures_year": per("mwa_systems", 50, 160),
        "has_cryo": available(0.25, planned=0.05),
        "cryo_systems": whole(1, 1.8),
        "cryo_procedures_year": per("cryo_systems", 20, 110),
        "has_laser": available(0.06),
        "laser_systems": whole(1, 1),
        "laser_procedures_year": per("laser_systems", 10, 60),
        "has_hifu": available(0.07),
        "hifu_systems": whole(1, 1),
        "hifu_procedures_year": per("hifu_systems", 20, 120),
        "has_ire": available(0.07),
        "ire_systems": whole(1, 1),
        "ire_procedures_year": per("ire_systems", 10, 50),
        "has_ect": available(0.18),
        "ect_systems": whole(1, 1.8),
        "ect_procedures_year": per("ect_systems", 20, 100),
        "abl_wait_weeks": weeks(1.5, 4.5),
        "abl_organs": _organs,
        "abl_guidance": some_of(
            {
                "ultrasound": 0.9,
                "ct": 0.85,
                "cone_beam_ct": 0.3,
                "mri": 0.1,
                "fusion": 0.3,
                "robotic": 0.05,
            },
            at_least="ultrasound",
        ),
        "abl_fte_interventional_radiologists": only_if(
            lambda d: _techniques(d) > 0,
            lambda d: d.uniform(1.0, 3.0) + _techniques(d) * d.uniform(0.3, 0.8),
        ),
        "abl_fte_other_physicians": only_if(
            lambda d: _techniques(d) > 0, lambda d: d.uniform(0.0, 2.0)
        ),
        "abl_fte_nurses_radiographers": only_if(
            lambda d: _techniques(d) > 0,
            lambda d: d.uniform(1.0, 3.0) + _techniques(d) * d.uniform(0.8, 2.0),
        ),
        "reimb_thermal": reimbursement,
        "reimb_cryo": reimbursement,
        "reimb_hifu": reimbursement,
        "reimb_ire": reimbursement,
        "reimb_ect": reimbursement,
    },
)
