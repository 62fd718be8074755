"""The evidence use cases on the database: barriers by domain and country, a country profile,
and who is left out of reach of a centre."""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid

import pytest
from sqlalchemy.orm import Session

from mapping import service
from mapping.errors import BadDistances, CountryNotInStudy, DomainNotInCampaign, NotATechnology
from mapping.evidence import figures
from mapping.evidence.barriers import ALL_COUNTRIES, barrier_summary
from mapping.evidence.left_out import left_out
from mapping.evidence.profiles import country_profile
from mapping.service import MapRequest
from surveys.campaigns.errors import CampaignNotFound
from surveys.campaigns.models import Campaign
from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.registry.models import Population
from surveys.responses.submission import submit
from tests.builders import make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SYSTEM = system_actor("system:test")
FORM = """
| survey |
|        | type                               | name        | label::en | label::fr | required | relevant           |
|        | select_one yes_no                  | has_pet     | PET/CT?   | TEP ?     | yes      |                    |
|        | integer                            | units       | Units     | Unités    | yes      | ${has_pet} = 'yes' |
|        | decimal                            | wait        | Weeks     | Semaines  |          | ${has_pet} = 'yes' |
|        | select_multiple barriers or_other  | nm_barriers | Barriers  | Obstacles |          |                    |
| choices |
|         | list_name | name     | label::en     | label::fr        |
|         | yes_no    | yes      | Yes           | Oui              |
|         | yes_no    | no       | No            | Non              |
|         | barriers  | cost     | Cost          | Coût             |
|         | barriers  | staff    | Staff         | Personnel        |
|         | barriers  | none     | None          | Aucun            |
| indicators |
|            | id        | numerator | aggregation | denominator            | label::en          | label::fr    | unit::en          | unit::fr | higher_is_better |
|            | pet_per_m | ${units}  | sum         | population_per_million | PET/CT per million | TEP par M    | units per million | par M    | yes              |
|            | pet_wait  | ${wait}   | median      | none                   | Wait for PET/CT    | Attente TEP  | weeks             | semaines | no               |
| settings |
|          | form_id | version | form_title::en | form_title::fr | domain           | default_language |
|          | ev_pet  | 1       | PET            | TEP            | nuclear_medicine | en               |
"""
OTHER_TEXT = "Waiting for the <b>ministry</b>"


def populate(session: Session) -> Campaign:
    """France: 3 of 4 centres answer (Paris and Marseille offer PET/CT, Lyon does not); Germany:
    1 of 2 (Berlin offers it); Malta: none of 1 answers."""
    for code, value in (("FR", 68_000_000), ("DE", 84_000_000), ("MT", 500_000)):
        session.add(
            Population(
                area_code=code, area_level="country", year=2024, value=value, source="test figures"
            )
        )
    places = [
        ("FR", 48.85, 2.35),
        ("FR", 45.76, 4.84),
        ("FR", 43.30, 5.37),
        ("FR", 44.84, -0.58),
        ("DE", 52.52, 13.40),
        ("DE", 48.14, 11.58),
        ("MT", 35.90, 14.51),
    ]
    centres = [
        make_centre(session, name=f"C{i}", country=c, latitude=lat, longitude=lon)
        for i, (c, lat, lon) in enumerate(places)
    ]
    version = make_published_form(session, FORM)
    campaign = make_campaign(
        session, slug=f"ev-{uuid.uuid4().hex[:6]}", centres=centres, versions=[version]
    )
    answers = {
        0: {"has_pet": "yes", "units": 2, "wait": 3.0, "nm_barriers": ["cost", "staff"]},
        1: {"has_pet": "no", "nm_barriers": ["cost", "other"], "nm_barriers_other": OTHER_TEXT},
        2: {"has_pet": "yes", "units": 5, "wait": 9.0, "nm_barriers": ["none"]},
        4: {"has_pet": "yes", "units": 4, "wait": 2.0, "nm_barriers": ["staff"]},
    }
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


def test_barriers_by_country_with_coverage_and_other_text_for_staff(session: Session) -> None:
    campaign = populate(session)
    summary = barrier_summary(session, SYSTEM, campaign.slug)
    rows = summary.table.set_index(["area_code", "barrier"])
    assert rows.loc[("FR", "cost"), ["citing", "responding", "invited"]].tolist() == [2, 3, 4]
    assert rows.loc[("FR", "cost"), "share"] == pytest.approx(2 / 3)
    assert rows.loc[("FR", "cost"), "coverage"] == pytest.approx(3 / 4)
    assert rows.loc[("DE", "staff"), "share"] == 1.0
    assert math.isnan(rows.loc[("MT", "cost"), "share"])  # nobody answered: no data, not 0
    assert rows.loc[(ALL_COUNTRIES, "staff"), ["citing", "responding", "invited"]].tolist() == [
        2,
        4,
        7,
    ]
    assert list(summary.for_area("FR")["barrier"]) == ["cost", "staff", "none", "other"]
    assert summary.others is not None
    assert [(o.area_code, o.centre, o.text) for o in summary.others] == [("FR", "C1", OTHER_TEXT)]

    french = barrier_summary(session, SYSTEM, campaign.slug, country="FR", language="fr")
    assert set(french.table["area_code"]) == {"FR", ALL_COUNTRIES}
    assert list(french.for_area("FR")["barrier_label"]) == ["Coût", "Personnel", "Aucun", "Autre"]

    lead = staff_actor(user_id=1, role="domain_lead", domains=["nuclear_medicine"])
    assert barrier_summary(session, lead, campaign.slug).others is not None
    other_lead = staff_actor(user_id=2, role="domain_lead", domains=["surgery"])
    # A campaign that asks none of a lead's domains is not theirs to see (the data scope).
    with pytest.raises(CampaignNotFound):
        barrier_summary(session, other_lead, campaign.slug)
    with pytest.raises(DomainNotInCampaign):
        barrier_summary(session, SYSTEM, campaign.slug, domain="surgery")
    with pytest.raises(CountryNotInStudy):
        barrier_summary(session, SYSTEM, campaign.slug, country="ES")
    researcher = staff_actor(user_id=3, role="researcher")
    with pytest.raises(PermissionDenied):
        barrier_summary(session, researcher, campaign.slug)

    png = io.BytesIO()
    figures.barrier_figure(summary, "png", png)
    assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_country_profile_ranks_against_the_eu27(session: Session) -> None:
    campaign = populate(session)
    profile = country_profile(session, SYSTEM, campaign.slug, "fr")
    assert (profile.country, profile.eu_member) == ("FR", True)
    line = {x.indicator: x for x in profile.lines}
    pet = line["pet_per_m"]
    assert pet.value == pytest.approx(7 / 68)
    # Germany 4/84 is lower than France 7/68: France ranks first of the two with data.
    assert (pet.rank_eu27, pet.ranked_of) == (1, 2)
    assert pet.eu27_median == pytest.approx((7 / 68 + 4 / 84) / 2)
    assert (pet.responding, pet.expected) == (3, 4)
    assert pet.beyond_200km is not None
    # The same access figures as the map's access table, computed for France's places only.
    mapped = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", geometry="none", with_access=True)
    ).access_by_area()["FR"]
    assert pet.population_counted == mapped["population"]
    for km in (50, 100, 200):
        assert getattr(pet, f"beyond_{km}km") == pytest.approx(mapped[f"beyond_{km}km"])
    wait = line["pet_wait"]  # lower is better: France's median wait 6 is worse than Germany's 2
    assert (wait.value, wait.rank_eu27, wait.gap_kind) == (6.0, 2, "excess")
    assert wait.beyond_50km is None  # a median counts no technology: no access figures
    assert set(profile.barriers.table["area_code"]) == {"FR", ALL_COUNTRIES}
    header, *rows = profile.table_rows()
    assert header[:3] == ["country", "domain", "indicator"]
    assert len(rows) == 2
    malta = country_profile(session, SYSTEM, campaign.slug, "MT").lines[0]
    assert (malta.value, malta.rank_eu27, malta.no_data) == (None, None, True)
    with pytest.raises(CountryNotInStudy):
        country_profile(session, SYSTEM, campaign.slug, "ES")
    svg = io.BytesIO()
    figures.profile_figure(profile, "svg", svg)
    assert b"<svg" in svg.getvalue()[:400]


def test_who_is_left_out_across_borders(session: Session) -> None:
    campaign = populate(session)
    result = left_out(session, SYSTEM, campaign.slug, "pet_per_m", distances=[100, 50])
    assert result.distances == (50.0, 100.0)
    places = result.places
    assert (places["distance_km"] > 50).all()
    assert list(places["population"]) == sorted(places["population"], reverse=True)
    assert set(places["country"]) <= {"FR", "DE", "MT"}
    # Lyon's centre does not offer PET/CT: Lyon is beyond 100 km of Paris and Marseille.
    lyon = places[places["name"] == "Lyon"].iloc[0]
    assert lyon["distance_km"] > 100
    assert lyon["beyond_km"] == 100
    assert "Paris" not in set(places["name"])
    # Malta's nearest centre offering PET/CT is abroad and far: all of Malta is beyond 100 km.
    areas = result.areas.set_index("area_code")
    assert areas.loc["MT", "share_beyond_100km"] == 1.0
    assert (
        areas.loc["FR", "population_beyond_50km"]
        == result.places.loc[result.places["country"] == "FR", "population"].sum()
    )
    assert result.total_beyond(100) < result.total_beyond(50)
    with pytest.raises(NotATechnology):
        left_out(session, SYSTEM, campaign.slug, "pet_wait")
    with pytest.raises(BadDistances, match="above 0"):
        left_out(session, SYSTEM, campaign.slug, "pet_per_m", distances=[0, 5000])
