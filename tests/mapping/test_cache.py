"""Map views kept per data version: the same view of the same data is computed once, any
change of what it is computed from computes it afresh, and a draft changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from mapping import queries, service
from mapping.cache import NONCE_PLACEHOLDER, VIEWS, ViewCache, with_nonce
from mapping.service import MapRequest
from surveys.campaigns.models import Campaign
from surveys.policy import Role, staff_actor, system_actor
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre, Population
from surveys.responses.submission import start_draft, submit
from tests.builders import make_campaign, make_centre, make_published_form
from tests.mapping.spies import counting_numerators, statements

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SYSTEM = system_actor("system:test")
FORM = """
| survey |
|        | type    | name  | label::en | required |
|        | integer | units | Units     | yes      |
| indicators |
|            | id    | numerator | aggregation | denominator            | label::en | unit::en          |
|            | units | ${units}  | sum         | population_per_million | Units     | units per million |
| settings |
|          | form_id   | version | form_title | domain           |
|          | cache_map | 1       | Units      | nuclear_medicine |
"""


@pytest.fixture(autouse=True)
def fresh_views() -> Iterator[None]:
    VIEWS.clear()
    yield
    VIEWS.clear()


def populate(session: Session) -> tuple[Campaign, list[Centre], QuestionnaireVersion]:
    session.add(
        Population(area_code="FR", area_level="country", year=2024, value=68_000_000, source="test")
    )
    centres = [make_centre(session, name=f"C{i}", country="FR") for i in range(3)]
    version = make_published_form(session, FORM)
    campaign = make_campaign(
        session, slug=f"cache-{uuid.uuid4().hex[:6]}", centres=centres, versions=[version]
    )
    answer(session, campaign, centres[0], version, 2)
    return campaign, centres, version


def answer(
    session: Session, campaign: Campaign, centre: Centre, version: QuestionnaireVersion, units: int
) -> None:
    submit(
        session,
        submission_uuid=str(uuid.uuid4()),
        campaign=campaign,
        centre=centre,
        version=version,
        answers={"units": units},
        now=NOW,
        actor="t",
    )
    session.flush()


def numerator(session: Session, campaign: Campaign) -> float:
    result = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "units"))
    return float(result.frame.set_index("area_code").loc["FR", "numerator"])


def test_the_same_view_of_the_same_data_is_computed_once(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, _, _ = populate(session)
    evaluations = counting_numerators(monkeypatch)
    first = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "units"))
    with statements(engine) as seen:
        again = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "units"))
    assert len(evaluations) == 1
    assert (VIEWS.misses, VIEWS.hits) == (1, 1)
    assert again.frame is first.frame
    # A kept view costs the campaign and its data version: two statements, no answers read.
    assert len(seen) == 2
    assert not [s for s in seen if "answers" in s]


def test_a_new_submission_computes_the_view_afresh(session: Session) -> None:
    campaign, centres, version = populate(session)
    assert numerator(session, campaign) == 2
    assert numerator(session, campaign) == 2
    answer(session, campaign, centres[1], version, 5)
    assert numerator(session, campaign) == 7
    assert (VIEWS.misses, VIEWS.hits) == (2, 1)
    assert len(VIEWS) == 1  # the view of the older data is dropped, not kept until evicted


def test_parts_of_an_older_version_go_with_it() -> None:
    views = ViewCache()
    views.get_or_build("map-1", lambda: "map", family="page", version=1)
    views.get_or_build("table-1", lambda: "table", family="page", version=1)
    views.get_or_build("other", lambda: "other", family="another page", version=1)
    views.get_or_build("map-2", lambda: "map", family="page", version=2)
    assert len(views) == 2  # map-2 and the other page's entry
    assert views.get_or_build("other", lambda: "rebuilt") == "other"


def test_a_draft_leaves_the_view_kept(session: Session) -> None:
    campaign, centres, version = populate(session)
    before = queries.data_version(session, campaign)
    numerator(session, campaign)
    start_draft(session, campaign, centres[2], version, now=NOW)
    session.flush()
    assert queries.data_version(session, campaign) == before
    numerator(session, campaign)
    assert (VIEWS.misses, VIEWS.hits) == (1, 1)


@pytest.mark.parametrize("change", ["centre", "population", "campaign"])
def test_a_change_of_what_the_map_shows_changes_the_data_version(
    session: Session, change: str
) -> None:
    campaign, centres, _ = populate(session)
    before = queries.data_version(session, campaign)
    if change == "centre":
        centres[0].latitude = 43.3
    elif change == "population":
        session.add(
            Population(area_code="FR", area_level="country", year=2025, value=1, source="x")
        )
    else:
        campaign.name = "Renamed wave"
    session.flush()
    assert queries.data_version(session, campaign) != before


def test_views_are_kept_apart_by_request_and_by_domain_scope(session: Session) -> None:
    campaign, _, _ = populate(session)
    lead = staff_actor(user_id=1, role=Role.DOMAIN_LEAD.value, domains=["nuclear_medicine"])
    service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "units"))
    service.indicator_map(session, lead, MapRequest(campaign.slug, "units"))
    service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "units", classes=3))
    assert (VIEWS.misses, VIEWS.hits) == (3, 0)


def test_parts_of_a_kept_view_are_built_once_and_a_fragment_gets_each_nonce(
    session: Session,
) -> None:
    campaign, _, _ = populate(session)
    renders: list[str] = []

    def render(nonce: str) -> str:
        renders.append(nonce)
        return f'<script nonce="{nonce}">map()</script>'

    for nonce in ("firstNonce123", "secondNonce456"):
        result = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "units"))
        assert result.fragment("map", nonce, render) == f'<script nonce="{nonce}">map()</script>'
    assert renders == [NONCE_PLACEHOLDER]


def test_the_cache_keeps_its_bound_dropping_the_least_recently_used() -> None:
    views = ViewCache(max_entries=2)
    built: list[str] = []

    def build(key: str) -> str:
        built.append(key)
        return key.upper()

    for key in ("a", "b", "a", "c", "b", "a"):
        assert views.get_or_build(key, lambda key=key: build(key)) == key.upper()
    assert built == ["a", "b", "c", "b", "a"]  # "b" went when "c" came; "a" when "b" came back
    assert (views.hits, views.misses) == (1, 5)


def test_a_fragment_outside_the_cache_is_rendered_with_the_nonce_it_is_given() -> None:
    assert with_nonce("k", "abcdefgh", lambda nonce: f"[{nonce}]") == "[abcdefgh]"
    assert with_nonce("k", "ijklmnop", lambda nonce: "never called") == "[ijklmnop]"
