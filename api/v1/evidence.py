"""JSON routes of the evidence for the paper: barriers by domain and country, a country's
profile, and who is left out of reach. Each route is one call of a use case of
:mod:`mapping.evidence`, then a translation of its plain result into JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from api.problems import PROBLEM_RESPONSES
from api.v1.json_values import json_records
from mapping.evidence.barriers import barrier_summary
from mapping.evidence.left_out import left_out
from mapping.evidence.profiles import country_profile
from surveys.schemas import Schema

router = APIRouter(prefix="/campaigns/{slug}", tags=["evidence"], responses=PROBLEM_RESPONSES)
Language = Annotated[str, Query(pattern=r"^[a-z]{2}$")]


class OtherRead(Schema):
    domain: str
    area_code: str
    centre: str
    text: str


class BarriersRead(Schema):
    """``rows``: one per domain, question, area (ISO alpha-2, or ``ALL``) and barrier: the
    centres citing it, responding, invited, ``share`` (of responding; null without any) and
    ``coverage`` (responding / invited). ``others``: the "other" texts, null for an account
    that may not read institution-level answers."""

    campaign: str
    language: str
    rows: list[dict[str, Any]]
    others: list[OtherRead] | None


@router.get("/barriers")
def barriers(
    session: DbSession,
    actor: MapReader,
    slug: str,
    domain: Annotated[str | None, Query(max_length=40)] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    lang: Language = "en",
) -> BarriersRead:
    """The barriers centres report, by domain and country, with coverage."""
    summary = barrier_summary(session, actor, slug, domain=domain, country=country, language=lang)
    header, *rows = summary.table_rows()
    others = (
        None
        if summary.others is None
        else [OtherRead.model_validate(o, from_attributes=True) for o in summary.others]
    )
    return BarriersRead(
        campaign=slug, language=lang, rows=json_records(header, rows), others=others
    )


class ProfileRead(Schema):
    """One country's indicators (rank among the EU-27 member states with data, EU-27 median,
    benchmark, gap and units needed, coverage, access) and the barriers its centres report."""

    campaign: str
    country: str
    country_name: str
    eu_member: bool
    reference_year: int
    source_note: str
    indicators: list[dict[str, Any]]
    barriers: list[dict[str, Any]]


@router.get("/countries/{country}/profile")
def profile(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    country: str,
    lang: Language = "en",
) -> ProfileRead:
    """A country profile (ISO alpha-2 code) over the domains the account may see."""
    result = country_profile(
        session,
        actor,
        slug,
        country,
        language=lang,
        low_coverage_threshold=settings.low_coverage_threshold,
    )
    header, *rows = result.table_rows()
    b_header, *b_rows = result.barriers.table_rows()
    return ProfileRead(
        campaign=slug,
        country=result.country,
        country_name=result.country_name,
        eu_member=result.eu_member,
        reference_year=result.reference_year,
        source_note=result.source_note,
        indicators=json_records(header, rows),
        barriers=json_records(b_header, b_rows),
    )


class LeftOutRead(Schema):
    """Places (GeoNames, 15,000 inhabitants or more) beyond the smallest distance of the nearest
    centre offering it, most populous first, and the areas (NUTS-2 regions when loaded, else
    countries) with the population beyond each distance."""

    campaign: str
    indicator: str
    distances_km: list[float]
    level: str
    note: str | None
    source_note: str
    places: list[dict[str, Any]]
    areas: list[dict[str, Any]]


@router.get("/indicators/{indicator}/left-out")
def who_is_left_out(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    distance: Annotated[list[float] | None, Query(description="km; repeat, at most 5")] = None,
) -> LeftOutRead:
    """Who lives beyond 50, 100 and 200 km (or the given distances) of the nearest centre
    offering the technology the indicator counts, across borders."""
    result = left_out(
        session,
        actor,
        slug,
        indicator,
        distances=distance or (),
        low_coverage_threshold=settings.low_coverage_threshold,
    )
    p_header, *p_rows = result.table_rows("places")
    a_header, *a_rows = result.table_rows("areas")
    return LeftOutRead(
        campaign=slug,
        indicator=indicator,
        distances_km=list(result.distances),
        level=result.level,
        note=result.note,
        source_note=result.source_note,
        places=json_records(p_header, p_rows),
        areas=json_records(a_header, a_rows),
    )
