"""The reads behind the maps: every ``select`` of the map use cases, and none of their logic.

Which indicators a campaign declares (within the actor's domains), the responses and expected
centres an indicator is computed from, the areas of the active NUTS version with their figures,
the boundaries with their versions and data version, and the campaigns a map can show. Each
function returns plain rows or a frame; :mod:`mapping.service` composes them, and the adapters
(``api/``, ``web/``) call the service, never these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    FromClause,
    ScalarSelect,
    Select,
    and_,
    case,
    func,
    select,
    true,
)
from sqlalchemy.orm import Session

from mapping.indicators import IndicatorSpec
from surveys.audit.models import AuditEvent
from surveys.campaigns.lifecycle import visible_campaign, visible_campaigns
from surveys.campaigns.models import Campaign, CampaignCentre, CampaignQuestionnaire
from surveys.policy import Actor, scope_by_domain
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import (
    BoundaryVersion,
    Centre,
    Country,
    Population,
    ReferenceFigure,
    Region,
)
from surveys.responses.models import FINAL_STATUSES, Response

Level: TypeAlias = Literal["country", "nuts2"]

BOUNDARIES_IMPORTED = "geo.import_boundaries"
"""The audit action of a boundary import; it carries the hash of the active NUTS-2 layer."""
BOUNDARIES_ACTIVATED = "geo.activate_boundaries"
"""The audit action of switching a level to another NUTS version; it carries the hash too."""
POPULATION_IMPORTED = "geo.import_population"
"""The audit action of a population import."""
CENTRES_PLACED = "geo.place_centres"
"""The audit action of placing the centres in the active NUTS-2 regions."""
LAYER_EVENTS = (BOUNDARIES_IMPORTED, BOUNDARIES_ACTIVATED)
GEOGRAPHY_EVENTS = (*LAYER_EVENTS, "geo.import_population", "geo.place_centres")
"""The audited changes of the geography: boundaries, population figures, centres' regions."""
"""The events whose latest one holds the boundaries' data version."""

FIGURE_COLUMNS = ["area_code", "year", "value", "source", "nuts_version"]
RESPONSE_COLUMNS = ["centre_id", "country", "region", "answers"]
CENTRE_COLUMNS = ["centre_id", "country", "region", "name", "city", "latitude", "longitude"]


@dataclass(frozen=True)
class DeclaredIndicator:
    """An indicator a campaign's questionnaire declares, with the questionnaire's domain."""

    spec: IndicatorSpec
    domain: str | None


def campaign(session: Session, actor: Actor, slug: str) -> Campaign:
    """The campaign called ``slug`` if the actor may see it (a lead: one asking their domains);
    :class:`surveys.campaigns.errors.CampaignNotFound` otherwise."""
    return visible_campaign(session, actor, slug)


def map_campaigns(session: Session, actor: Actor) -> list[Campaign]:
    """The campaigns a map can show to the actor (every visible one but drafts), newest first."""
    return [c for c in visible_campaigns(session, actor) if c.status != "draft"]


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
        .outerjoin(Region, _active_region_of_centre())
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
        .outerjoin(Region, _active_region_of_centre())
        .where(CampaignCentre.campaign_id == campaign.id)
        .order_by(CampaignCentre.centre_id)
    )
    return pd.DataFrame(session.execute(query).all(), columns=CENTRE_COLUMNS)


def countries(session: Session) -> list[tuple[str, str]]:
    """Every country of the registry: ISO alpha-2 code and name."""
    return [(code, name) for code, name in session.execute(select(Country.iso2, Country.name))]


def active_version(session: Session, level: int) -> str | None:
    """The active NUTS version of a level (None before any boundaries of it are loaded)."""
    return session.scalar(
        select(BoundaryVersion.nuts_version).where(
            BoundaryVersion.level == level, BoundaryVersion.active.is_(True)
        )
    )


def boundary_versions(session: Session) -> list[BoundaryVersion]:
    """Every NUTS version the registry holds, by level and version."""
    query = select(BoundaryVersion).order_by(BoundaryVersion.level, BoundaryVersion.nuts_version)
    return list(session.scalars(query))


def nuts2_regions(session: Session) -> list[tuple[str, str]]:
    """Every NUTS-2 region of the active version: code and name, by code."""
    query = (
        select(Region.code, Region.name)
        .where(Region.level == 2, Region.nuts_version == _active(2))
        .order_by(Region.code)
    )
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
    """Whether NUTS-2 regions of an active version are loaded."""
    query = select(Region.id).where(Region.level == 2, Region.nuts_version == _active(2))
    return session.scalar(query.limit(1)) is not None


def nuts2_shapes(session: Session) -> list[tuple[str, str, str]]:
    """The NUTS-2 regions of the active version with a geometry: code, GeoJSON text (EPSG:4326)
    and name, by code."""
    query = (
        select(Region.code, Region.geometry_geojson, Region.name)
        .where(
            Region.level == 2,
            Region.nuts_version == _active(2),
            Region.geometry_geojson.is_not(None),
        )
        .order_by(Region.code)
    )
    return [(code, text or "null", name) for code, text, name in session.execute(query)]


LOCATION_COLUMNS = ["public_id", "name", "country", "latitude", "longitude", "region"]


def centre_locations(session: Session, placement: str | None) -> pd.DataFrame:
    """The centres with coordinates placed ``"proximity"`` (with their region and distance),
    or, for ``None``, those with coordinates and no region in a country the active NUTS-2
    version covers (unplaced); by country and name."""
    query = (
        select(
            Centre.public_id,
            Centre.name,
            Country.iso2,
            Centre.latitude,
            Centre.longitude,
            Region.code,
            Centre.region_distance_km,
        )
        .join(Country, Country.id == Centre.country_id)
        .outerjoin(Region, _active_region_of_centre())
        .where(Centre.latitude.is_not(None), Centre.longitude.is_not(None))
        .order_by(Country.iso2, Centre.name, Centre.id)
    )
    covered = select(Region.country_id).where(Region.level == 2, Region.nuts_version == _active(2))
    query = (
        query.where(Centre.region_placement == placement)
        if placement is not None
        else query.where(Region.id.is_(None), Centre.country_id.in_(covered))
    )
    return pd.DataFrame(session.execute(query).all(), columns=[*LOCATION_COLUMNS, "distance_km"])


def known_region_codes(session: Session) -> dict[str, set[str]]:
    """Every NUTS code the registry holds, with the versions that have it."""
    known: dict[str, set[str]] = {}
    for code, version in session.execute(select(Region.code, Region.nuts_version)):
        known.setdefault(code, set()).add(version)
    return known


def population_figures(session: Session, area_level: str) -> pd.DataFrame:
    """The stored figures of a level (``country``, ``nuts2``), in the order they were loaded:
    ``area_code``, ``year``, ``value``, ``source`` and ``nuts_version``."""
    query = (
        select(
            Population.area_code,
            Population.year,
            Population.value,
            Population.source,
            Population.nuts_version,
        )
        .where(Population.area_level == area_level)
        .order_by(Population.id)
    )
    return pd.DataFrame(session.execute(query).all(), columns=FIGURE_COLUMNS)


def boundary_version(session: Session) -> str:
    """The data version of the boundaries: the hash of the active NUTS-2 layer as the latest
    boundary import or version switch left it ("none" before any import).

    Every boundary import and every switch of version records its audit event
    (``geo.import_boundaries``, ``geo.activate_boundaries``) in the same transaction as the
    change, with that hash. A new vintage with as many regions as the old one has another
    hash; the same layer imported again has the same one; importing a version without
    activating it leaves the hash as it was.
    """
    details = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.action.in_(LAYER_EVENTS))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if details is None:
        return "none"
    return f"nuts2:{details.get('nuts2_sha256', '')}"


def _active(level: int) -> ScalarSelect[str]:
    """The active NUTS version of a level, as a subquery."""
    return (
        select(BoundaryVersion.nuts_version)
        .where(BoundaryVersion.level == level, BoundaryVersion.active.is_(True))
        .scalar_subquery()
    )


def _active_region_of_centre() -> ColumnElement[bool]:
    """A centre's region, when it is a region of the active NUTS-2 version (never another)."""
    return and_(Region.id == Centre.region_id, Region.nuts_version == _active(2))


def data_version(session: Session, campaign: Campaign) -> tuple[object, ...]:
    """Everything a map of the campaign is computed from, summarised in one query: a new
    value whenever any of it changes, the same value while none of it does.

    Per table, a row count with the sum of the ids and versions and the latest change catch a
    row added, removed, replaced or updated: the campaign's submitted and approved responses
    (drafts leave it unchanged: autosaves do not empty the maps' cache), its centres and
    questionnaire versions, the centre registry, the countries, the regions and boundary
    versions with the latest boundary import or switch, and the population figures.
    """

    # One statement, each table read once: a one-row summary per table, side by side.
    parts = [
        select(
            func.count(),
            func.sum(Response.id),
            func.sum(Response.version),
            func.max(Response.updated_at),
        ).where(Response.campaign_id == campaign.id, Response.status.in_(FINAL_STATUSES)),
        select(func.count(), func.sum(CampaignCentre.centre_id)).where(
            CampaignCentre.campaign_id == campaign.id
        ),
        select(func.count(), func.sum(CampaignQuestionnaire.questionnaire_version_id)).where(
            CampaignQuestionnaire.campaign_id == campaign.id
        ),
        select(func.count(), func.sum(Centre.version), func.max(Centre.updated_at)),
        select(func.count(), func.sum(case((Country.eu_member.is_(True), Country.id), else_=0))),
        select(func.count(), func.max(Region.id)),
        select(func.sum(case((BoundaryVersion.active.is_(True), BoundaryVersion.id), else_=0))),
        select(func.max(AuditEvent.id)).where(AuditEvent.action.in_(GEOGRAPHY_EVENTS)),
        select(
            func.count(),
            func.max(Population.id),
            func.sum(Population.value),
            func.sum(Population.year),
        ),
    ]
    tables = [part.subquery(f"part_{n}") for n, part in enumerate(parts)]
    summary: Select[Any] = select(*(column for table in tables for column in table.c))
    joined: FromClause = tables[0]
    for table in tables[1:]:
        joined = joined.join(table, true())  # one row each: side by side, no product warning
    summary = summary.select_from(joined)
    row = session.execute(summary).one()
    return (campaign.id, campaign.name, campaign.status, campaign.opens_at, *map(str, row))


def declared_indicator_ids(session: Session) -> set[str]:
    """The id of every indicator any stored questionnaire version declares."""
    return {
        str(item["id"])
        for definition in session.scalars(select(QuestionnaireVersion.definition))
        for item in definition.get("indicators", [])
    }


def reference_figures(session: Session, indicator: str, area_level: str) -> pd.DataFrame:
    """The official figures of one indicator at one level: ``area_code``, ``year``, ``value``,
    ``source``, ``flag``."""
    query = (
        select(
            ReferenceFigure.area_code,
            ReferenceFigure.year,
            ReferenceFigure.value,
            ReferenceFigure.source,
            ReferenceFigure.flag,
        )
        .where(ReferenceFigure.indicator == indicator, ReferenceFigure.area_level == area_level)
        .order_by(ReferenceFigure.area_code, ReferenceFigure.year, ReferenceFigure.source)
    )
    return pd.DataFrame(
        session.execute(query).all(), columns=["area_code", "year", "value", "source", "flag"]
    )


def campaign_definition(
    session: Session, campaign: Campaign, form_id: str
) -> dict[str, Any] | None:
    """The definition of the campaign's version of one questionnaire (None if it has none)."""
    query = (
        select(QuestionnaireVersion.definition)
        .join(
            CampaignQuestionnaire,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(CampaignQuestionnaire.campaign_id == campaign.id, Questionnaire.form_id == form_id)
    )
    definition = session.scalar(query)
    return dict(definition) if definition is not None else None


def waves_of_form(session: Session, form_id: str) -> list[Campaign]:
    """The campaigns (drafts aside) that ask one questionnaire: its waves, oldest first."""
    query = (
        select(Campaign)
        .join(CampaignQuestionnaire, CampaignQuestionnaire.campaign_id == Campaign.id)
        .join(
            QuestionnaireVersion,
            QuestionnaireVersion.id == CampaignQuestionnaire.questionnaire_version_id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.form_id == form_id, Campaign.status != "draft")
    )
    found = list(session.scalars(query).unique())
    return sorted(found, key=lambda c: (c.opens_at or c.created_at, c.id))
