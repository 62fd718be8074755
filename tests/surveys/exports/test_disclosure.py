"""Disclosure control (issue 14, point 1): no centre stands out in what a researcher can read.

The rule itself on plain data (:func:`plan_disclosure`), then the attacker of
``tests/surveys/exports/attacker.py`` against the app on a small built registry (both databases)
and on the demo (``tests/surveys/demo/test_campaign.py``, which loads it once for its tests).
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from surveys.exports import releases
from surveys.exports.disclosure import (
    LEVELS,
    SUPPRESSED,
    CentreFacts,
    plan_disclosure,
    unique_combinations,
)
from surveys.exports.errors import NothingToRelease
from surveys.exports.schemas import ReleaseCreate
from surveys.policy import staff_actor
from surveys.registry.countries import countries_by_code, seed_countries
from surveys.registry.models import Centre, Region
from surveys.responses import review
from surveys.responses.models import Response
from tests.builders import make_campaign, make_centre, make_published_form
from tests.conftest import app_client
from tests.surveys.exports.attacker import attack, sign_in_researcher
from tests.surveys.exports.data import EXPORT_FORM, answers, submit_answers
from tests.surveys.exports.helpers import SECRET

K = 5
COORDINATOR = staff_actor(user_id=3, role="coordinator")


# --- the rule -------------------------------------------------------------------------------


def facts(n: int, country: str, region: str | None, kind: str, start: int = 0) -> list[CentreFacts]:
    return [
        CentreFacts(f"{country}-{region}-{kind}-{start + i}", country, region, kind, 45.0 + i, 5.0)
        for i in range(n)
    ]


def published_groups(centres: list[CentreFacts], k: int) -> Counter[tuple[object, ...]]:
    plan = plan_disclosure(centres, min_centres=k)
    return Counter(p.combination() for p in plan.published.values() if not p.suppressed)


def test_the_ladder_coarsens_one_step_at_a_time() -> None:
    univ = facts(6, "FR", "FR10", "university_hospital")
    mixed = facts(3, "FR", "FR10", "private_clinic") + facts(2, "FR", "FR10", "other")
    german = facts(4, "DE", None, "university_hospital") + facts(1, "DE", None, "other")
    lone = facts(1, "IT", "ITC4", "other")
    plan = plan_disclosure(univ + mixed + german + lone, min_centres=K)
    levels = {c.key: LEVELS[plan.of(c.key).level] for c in univ + mixed + german + lone}
    assert {levels[c.key] for c in univ} == {"region_type"}
    assert {levels[c.key] for c in mixed} == {"region"}  # type withheld, region kept
    assert {levels[c.key] for c in german} == {"country"}  # no region: type, then country
    assert levels[lone[0].key] == "suppressed"
    assert plan.of(mixed[0].key).centre_type is None
    assert plan.of(german[0].key).region is None
    report = plan.report()
    assert report["k"] == K
    assert report["suppressed"] == 1
    assert report["centres_per_level"] == {
        "region_type": 6,
        "region": 5,
        "country_type": 0,
        "country": 5,
        "suppressed": 1,
    }
    assert {(c["level"], c["country"], c["centres"]) for c in report["coarsened"]} == {
        ("region", "FR", 5),
        ("country", "DE", 5),
    }


def test_locations_are_the_mean_of_the_group_never_a_centres_own() -> None:
    centres = facts(5, "FR", "FR10", "university_hospital")
    plan = plan_disclosure(centres, min_centres=K)
    points = {(plan.of(c.key).latitude, plan.of(c.key).longitude) for c in centres}
    assert points == {(47.0, 5.0)}  # the mean of 45..49
    assert all((c.latitude, c.longitude) not in points for c in centres if c.latitude != 47.0)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_every_published_combination_holds_k_centres(k: int) -> None:
    rng = random.Random(k)  # noqa: S311 - reproducible test data, not security
    regions = {"FR": ["FR10", "FR71", None], "DE": ["DE21", None], "MT": [None]}
    centres = [
        CentreFacts(
            f"c{i}",
            country := rng.choice(list(regions)),
            rng.choice(regions[country]),
            rng.choice(["university_hospital", "private_clinic", "other"]),
            rng.uniform(40, 55),
            rng.uniform(-5, 20),
        )
        for i in range(300)
    ]
    plan = plan_disclosure(centres, min_centres=k)
    shown = [p.combination() for p in plan.published.values() if not p.suppressed]
    assert unique_combinations(shown, min_centres=k) == {}
    # A centre whose full-detail group is big enough keeps its full detail.
    full = Counter((c.country, c.region, c.centre_type) for c in centres if c.region)
    for c in centres:
        if c.region and full[(c.country, c.region, c.centre_type)] >= k:
            assert plan.of(c.key).level == 0
    assert plan.report()["suppressed"] == sum(
        p.level == SUPPRESSED for p in plan.published.values()
    )


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan_disclosure([], min_centres=0)


# --- the app on a small registry ------------------------------------------------------------


def regional_registry(session: Session) -> tuple[str, list[Centre]]:
    """17 centres that answered: 6 + 5 in one French region, 5 German ones without a region and
    a lone Italian one; all approved, so a release holds them too."""
    seed_countries(session)
    france = countries_by_code(session)["FR"]
    region = Region(
        code="FR10", nuts_version="2021", level=2, name="Ile-de-France", country_id=france.id
    )
    session.add(region)
    session.flush()
    groups = [
        (6, "FR", "university_hospital"),
        (3, "FR", "private_clinic"),
        (2, "FR", "other"),
        (4, "DE", "university_hospital"),
        (1, "DE", "other"),
        (1, "IT", "other"),
    ]
    centres = []
    for count, country, kind in groups:
        for _ in range(count):
            centre = make_centre(
                session,
                name=f"Named Hospital {len(centres)}",
                country=country,
                centre_type=kind,
                latitude=48.8 + len(centres) / 100,
                longitude=2.3,
            )
            if country == "FR":
                centre.region_id = region.id
            centres.append(centre)
    version = make_published_form(session, EXPORT_FORM)
    campaign = make_campaign(session, slug="disclosure", centres=centres, versions=[version])
    for i, centre in enumerate(centres):
        submit_answers(
            session, campaign=campaign, centre=centre, version=version, values=answers(i)
        )
    for response in session.scalars(select(Response).where(Response.campaign_id == campaign.id)):
        review.review(session, response, "approved")
    session.flush()
    return campaign.slug, centres


def secrets_of(centres: list[Centre]) -> list[str]:
    return [c.name for c in centres] + [c.public_id for c in centres]


@pytest.fixture
def registry(session_factory: sessionmaker[Session]) -> tuple[str, list[Centre]]:
    with session_factory() as session, session.begin():
        slug, centres = regional_registry(session)
        releases.freeze_release(
            session,
            COORDINATOR,
            ReleaseCreate(campaign=slug),
            pseudonym_secret=SECRET,
            request_id=None,
            min_centres=K,
        )
        return slug, centres


def test_a_researcher_singles_out_no_centre(
    settings: Settings,
    client: TestClient,
    session_factory: sessionmaker[Session],
    registry: tuple[str, list[Centre]],
) -> None:
    slug, centres = registry
    sign_in_researcher(client, session_factory)
    found = attack(client, min_centres=K, secrets=secrets_of(centres), campaign=slug)
    assert found.small_groups == []
    assert found.leaks == []
    assert found.centres == 16  # the lone Italian centre is suppressed
    assert "/api/v1/centres 403" in found.routes_read
    assert "/centres 403" in found.routes_read
    # Each download has its own pseudonyms: the CSV's and the GeoJSON's do not join, nor the
    # release's.
    csv_names, geo_names = found.pseudonyms["export csv"], found.pseudonyms["export geojson"]
    (release_label,) = [label for label in found.pseudonyms if label.startswith("release")]
    assert len(csv_names) == len(geo_names) == len(found.pseudonyms[release_label]) == 16
    assert csv_names.isdisjoint(geo_names)
    assert found.pseudonyms[release_label].isdisjoint(csv_names | geo_names)
    # Every manifest records the rule, k and what was coarsened or suppressed.
    for label, manifest in found.manifests.items():
        disclosure = manifest["disclosure"]
        assert disclosure["rule"].startswith("k-anonymity"), label
        assert disclosure["k"] == K, label
        assert disclosure["suppressed"] == 1, label
        assert disclosure["centres_per_level"] == {
            "region_type": 6,
            "region": 5,
            "country_type": 0,
            "country": 5,
            "suppressed": 1,
        }, label
    assert found.manifests["export csv"]["responses"] == 16

    # The attacker can fail: with the control off (k = 1) it finds the lone centres.
    off = Settings(**{**settings.model_dump(), "disclosure_min_centres": 1})
    with app_client(off, session_factory) as unprotected:
        sign_in_researcher(unprotected, session_factory)
        exposed = attack(
            unprotected,
            min_centres=K,
            secrets=secrets_of(centres),
            campaign=slug,
            formats=("geojson",),
            every_route=False,
        )
    assert exposed.unique_centres >= 1


def test_a_release_of_only_small_groups_says_why_it_is_empty(
    session: Session,
) -> None:
    seed_countries(session)
    version = make_published_form(session, EXPORT_FORM)
    lone = [make_centre(session, name="Only one", country="MT")]
    campaign = make_campaign(session, slug="tiny", centres=lone, versions=[version])
    response = submit_answers(
        session, campaign=campaign, centre=lone[0], version=version, values=answers(0)
    )
    review.review(session, response, "approved")
    with pytest.raises(NothingToRelease, match="suppressed"):
        releases.create_release(
            session,
            ReleaseCreate(campaign="tiny"),
            created_by="test",
            pseudonym_secret=SECRET,
            min_centres=K,
        )
