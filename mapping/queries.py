"""The reads behind the maps: every ``select`` of the map use cases, and none of their logic.

Which indicators a campaign declares (within the actor's domains), the responses and expected
centres an indicator is computed from, the areas with their population figures, the boundaries
with their data version, and the campaigns a map can show. Each function returns plain rows or
a frame; :mod:`mapping.service` composes them, and the adapters (``api/``, ``web/``) call the
service, never these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping.indicators import IndicatorSpec
from surveys.audit.models import AuditEvent
from surveys.campaigns.lifecycle import get_campaign, list_campaigns
from surveys.campaigns.models import Campaign, CampaignCentre, CampaignQuestionnaire
from surveys.policy import Actor, scope_by_domain
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country, Population, Region
from surveys.responses.models import FINAL_STATUSES, Response

Level: TypeAlias = Literal["country", "nuts2"]

BOUNDARIES_IMPORTED = "geo.import_boundaries"
"""The audit action of a boundary import; the latest one is the boundaries' data version."""
POPULATION_IMPORTED = "geo.import_population"
"""The audit action of a population import."""

RESPONSE_COLUMNS = ["centre_id", "country", "region", "answers"]
CENTRE_COLUMNS = ["centre_id", "country", "region", "name", "city", "latitude", "longitude"]


@dataclass(frozen=True)
class DeclaredIndicator:
    """An indicator a campaign's questionnaire declares, with the questionnaire's domain."""

    spec: IndicatorSpec
    domain: str | None


def campaign(session: Session, slug: str) -> Campaign:
    """The campaign called ``slug``; :class:`surveys.campaigns.errors.CampaignNotFound` if none."""
    return get_campaign(session, slug)


def map_campaigns(session: Session) -> list[Campaign]:
    """The campaigns a map can show (every one but drafts), newest first."""
    return [c for c in list_campaigns(session) if c.status != "draft"]


def declared_indicators(
    session: Session, actor: Actor, campaign: Campaign
) -> list[DeclaredIndicator]:
    """Every indicator of the campaign's questionnaires in the actor's domains, in one query."""
    query = (
        select(QuestionnaireVersion.definition, Questionnaire.domain)
        .join(
            CampaignQuestionnaire,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(CampaignQuestionnaire.campaign_id == campaign.id)
        .order_by(QuestionnaireVersion.id)
    )
    declared = []
    for definition, domain in session.execute(scope_by_domain(actor, query, Questionnaire.domain)):
        form_id = definition["settings"]["form_id"]
        survey = definition.get("survey", [])
        declared += [
            DeclaredIndicator(IndicatorSpec.from_definition(form_id, item, survey), domain)
            for item in definition.get("indicators", [])
        ]
    return declared


def final_responses(session: Session, campaign: Campaign, form_id: str) -> pd.DataFrame:
    """The submitted and approved responses to one questionnaire of the campaign.

    One row per response: ``centre_id``, ``country`` (ISO alpha-2), ``region`` (the centre's
    NUTS-2 code, None when it has none) and ``answers``.
    """
    query = (
        select(Response.centre_id, Country.iso2, Region.code, Response.answers)
        .join(Centre, Centre.id == Response.centre_id)
        .join(Country, Country.id == Centre.country_id)
        .outerjoin(Region, Region.id == Centre.region_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status.in_(FINAL_STATUSES),
            Questionnaire.form_id == form_id,
        )
        .order_by(Response.id)
    )
    return pd.DataFrame(session.execute(query).all(), columns=RESPONSE_COLUMNS)


def expected_centres(session: Session, campaign: Campaign) -> pd.DataFrame:
    """The centres the campaign expects answers from, with their areas and coordinates.

    Columns ``centre_id``, ``country``, ``region`` (None without one), ``name``, ``city``,
    ``latitude`` and ``longitude`` (None when unknown).
    """
    query = (
        select(
            CampaignCentre.centre_id,
            Country.iso2,
            Region.code,
            Centre.name,
            Centre.city,
            Centre.latitude,
            Centre.longitude,
        )
        .join(Centre, Centre.id == CampaignCentre.centre_id)
        .join(Country, Country.id == Centre.country_id)
        .outerjoin(Region, Region.id == Centre.region_id)
        .where(CampaignCentre.campaign_id == campaign.id)
        .order_by(CampaignCentre.centre_id)
    )
    return pd.DataFrame(session.execute(query).all(), columns=CENTRE_COLUMNS)


def countries(session: Session) -> list[tuple[str, str]]:
    """Every country of the registry: ISO alpha-2 code and name."""
    return [(code, name) for code, name in session.execute(select(Country.iso2, Country.name))]


def nuts2_regions(session: Session) -> list[tuple[str, str]]:
    """Every NUTS-2 region: code and name, by code."""
    query = select(Region.code, Region.name).where(Region.level == 2).order_by(Region.code)
    return [(code, name) for code, name in session.execute(query)]


def area_countries(session: Session, level: Level) -> pd.DataFrame:
    """Every area of a level with its country and whether that country is an EU member.

    Columns ``area_code``, ``country`` (ISO alpha-2, as the registry keys countries; a NUTS
    code of Greece starts with EL, its country is GR) and ``eu_member`` (the registry's flag).
    """
    query = (
        select(Country.iso2.label("area_code"), Country.iso2, Country.eu_member)
        if level == "country"
        else select(Region.code, Country.iso2, Country.eu_member)
        .join(Country, Country.id == Region.country_id)
        .where(Region.level == 2)
    )
    return pd.DataFrame(
        session.execute(query).all(), columns=["area_code", "country", "eu_member"]
    ).astype({"eu_member": bool})


def has_nuts2_regions(session: Session) -> bool:
    """Whether any NUTS-2 region is loaded."""
    return session.scalar(select(Region.id).where(Region.level == 2).limit(1)) is not None


def nuts2_shapes(session: Session) -> list[tuple[str, str, str]]:
    """The NUTS-2 regions with a geometry: code, GeoJSON text (EPSG:4326) and name, by code."""
    query = (
        select(Region.code, Region.geometry_geojson, Region.name)
        .where(Region.level == 2, Region.geometry_geojson.is_not(None))
        .order_by(Region.code)
    )
    return [(code, text or "null", name) for code, text, name in session.execute(query)]


def imported_populations(session: Session, area_level: str) -> dict[str, tuple[int, str, int]]:
    """The latest imported figure of each area of a level: value, source and year."""
    latest: dict[str, tuple[int, str, int]] = {}
    query = select(Population).where(Population.area_level == area_level).order_by(Population.year)
    for row in session.scalars(query):
        latest[row.area_code] = (row.value, row.source, row.year)
    return latest


def boundary_version(session: Session) -> str:
    """The data version of the imported boundaries: the hash of the NUTS-2 layer as the latest
    boundary import left it ("none" before any import).

    Every boundary import records its audit event (``geo.import_boundaries``) in the same
    transaction as the regions it writes, with that hash. A new vintage with as many regions
    as the old one has another hash; the same layer imported again has the same one.
    """
    details = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.action == BOUNDARIES_IMPORTED)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if details is None:
        return "none"
    return f"nuts2:{details.get('nuts2_sha256', '')}"
