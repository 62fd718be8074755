"""Survey waves: an indicator's change between two campaigns of the same questionnaire, only
where the indicator and the questions it reads did not change; its series over every wave."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from sqlalchemy.orm import Session

from mapping import waves
from mapping.wave_comparability import indicator_comparability
from surveys.campaigns.models import Campaign
from surveys.policy import system_actor
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre, Population
from surveys.responses.submission import submit
from tests.builders import make_campaign, make_centre, make_published_form
from tests.mapping.test_service import FORM

SYSTEM = system_actor("system:test")
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
# Version 2 no longer requires the number of units: the PET/CT count no longer compares (a
# blank is now allowed where a number was forced); the wait does.
FORM_V2 = FORM.replace(
    "| integer           | units   | Units     | yes      |",
    "| integer           | units   | Units     | no       |",
).replace("| pet_map | 1 ", "| pet_map | 2 ")


def wave(
    session: Session,
    centres: list[Centre],
    version: QuestionnaireVersion,
    year: int,
    answers: dict[int, dict[str, object]],
) -> Campaign:
    campaign = make_campaign(
        session, slug=f"wave-{year}-{uuid.uuid4().hex[:4]}", centres=centres, versions=[version]
    )
    campaign.opens_at = dt.datetime(year, 3, 1, tzinfo=dt.UTC)
    for index, payload in answers.items():
        submit(
            session,
            submission_uuid=str(uuid.uuid4()),
            campaign=campaign,
            centre=centres[index],
            version=version,
            answers=payload,
            now=NOW,
            actor="t",
        )
    return campaign


@pytest.fixture
def registry(session: Session) -> list[Centre]:
    for code, value in (("FR", 68_000_000), ("DE", 84_000_000)):
        session.add(
            Population(area_code=code, area_level="country", year=2024, value=value, source="t")
        )
    return [
        make_centre(session, name=f"C{i}", country=code)
        for i, code in enumerate(["FR", "FR", "DE", "DE"])
    ]


def test_the_change_between_two_waves_of_one_version(
    session: Session, registry: list[Centre]
) -> None:
    version = make_published_form(session, FORM)
    earlier = wave(session, registry, version, 2024, {0: {"has_pet": "yes", "units": 4}})
    later = wave(
        session,
        registry,
        version,
        2026,
        {
            0: {"has_pet": "yes", "units": 5},
            1: {"has_pet": "yes", "units": 3},
            2: {"has_pet": "yes", "units": 2},
        },
    )
    change = waves.wave_change(session, SYSTEM, later.slug, "pet_per_m", geometry=True)
    assert change.before.slug == earlier.slug  # the previous wave by default
    assert change.comparability.comparable
    rows = change.rows.set_index("area_code")
    assert rows.loc["FR", "before"] == pytest.approx(4 / 68)
    assert rows.loc["FR", "after"] == pytest.approx(8 / 68)
    assert rows.loc["FR", "change"] == pytest.approx(4 / 68)
    assert rows.loc["FR", "change_percent"] == pytest.approx(100.0)
    # Germany did not answer the earlier wave: both values shown, no change, never zero.
    assert math.isnan(rows.loc["DE", "before"])
    assert math.isnan(rows.loc["DE", "change"])
    assert rows.loc["DE", "no_data"]
    assert change.classification.codes["DE"] < 0  # not a value class
    assert change.areas is not None
    assert "FR" in set(change.areas["area_code"])
    assert "2024 to 2026" in change.value_label
    assert "are the same in both waves" in change.note
    assert [w.slug for w in waves.earlier_waves(session, SYSTEM, later.slug, "pet_per_m")] == [
        earlier.slug
    ]


def test_a_changed_question_makes_its_indicators_incomparable_and_says_why(
    session: Session, registry: list[Centre]
) -> None:
    first = make_published_form(session, FORM)
    second = make_published_form(session, FORM_V2)
    wave(session, registry, first, 2024, {0: {"has_pet": "yes", "units": 4, "wait": 2.0}})
    later = wave(session, registry, second, 2026, {0: {"has_pet": "yes", "units": 6, "wait": 3.0}})
    count = waves.wave_change(session, SYSTEM, later.slug, "pet_per_m")
    assert not count.comparability.comparable
    (reason,) = count.comparability.reasons
    assert reason.startswith("question 'units' changed its required")
    rows = count.rows.set_index("area_code")
    assert rows.loc["FR", "before"] == pytest.approx(4 / 68)  # both values are shown
    assert rows.loc["FR", "after"] == pytest.approx(6 / 68)
    assert math.isnan(rows.loc["FR", "change"])  # but no change is computed
    wait = waves.wave_change(session, SYSTEM, later.slug, "pet_wait")
    assert wait.comparability.comparable  # reads has_pet and wait, which did not change
    assert wait.rows.set_index("area_code").loc["FR", "change"] == pytest.approx(1.0)


def test_wording_does_not_break_comparability_but_a_choice_does(session: Session) -> None:
    v1 = make_published_form(session, FORM).definition
    reworded = FORM.replace("| PET/CT?   |", "| PET/CT scanner? |").replace(
        "| pet_map | 1 ", "| pet_map | 3 "
    )
    assert indicator_comparability(
        v1, make_published_form(session, reworded).definition, "pet_share"
    ).comparable
    choice = FORM.replace(
        "|         | yes_no    | no   | No        |",
        "|         | yes_no    | no   | No        |\n|         | yes_no    | planned | Planned |",
    ).replace("| pet_map | 1 ", "| pet_map | 4 ")
    result = indicator_comparability(
        v1, make_published_form(session, choice).definition, "pet_share"
    )
    assert not result.comparable
    assert result.reasons == ("the choices of 'has_pet' (yes_no) added: planned",)


def test_the_first_wave_has_nothing_to_compare_with(
    session: Session, registry: list[Centre]
) -> None:
    only = wave(session, registry, make_published_form(session, FORM), 2026, {})
    with pytest.raises(waves.NoEarlierWave, match="first wave"):
        waves.wave_change(session, SYSTEM, only.slug, "pet_per_m")


def test_a_series_over_three_waves_per_country(session: Session, registry: list[Centre]) -> None:
    first = make_published_form(session, FORM)
    second = make_published_form(session, FORM_V2)
    a = wave(session, registry, first, 2022, {0: {"has_pet": "yes", "units": 2}})
    b = wave(session, registry, first, 2024, {0: {"has_pet": "yes", "units": 4}})
    c = wave(session, registry, second, 2026, {0: {"has_pet": "yes", "units": 6}})
    series = waves.wave_series(session, SYSTEM, c.slug, "pet_per_m")
    assert [w.slug for w in series.waves] == [a.slug, b.slug, c.slug]
    assert series.comparable[b.slug].comparable
    assert not series.comparable[c.slug].comparable
    france = next(row for row in series.by_area() if row["area_code"] == "FR")
    assert [france[w] for w in (a.slug, b.slug, c.slug)] == pytest.approx([2 / 68, 4 / 68, 6 / 68])
    germany = next(row for row in series.by_area() if row["area_code"] == "DE")
    assert germany[a.slug] is None
