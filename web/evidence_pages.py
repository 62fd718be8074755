"""Evidence pages for the paper: barriers to access (in every interface language), a printable
country profile, and who is left out of reach of a centre. Each handler parses the query, calls
one use case of :mod:`mapping.evidence` and renders it, or writes its CSV or figure."""

from __future__ import annotations

import io
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from mapping.evidence.barriers import ALL_COUNTRIES, BarrierSummary, barrier_summary, domains_of
from mapping.evidence.left_out import left_out
from mapping.evidence.profiles import country_profile
from mapping.notes import LEVEL_LABELS
from mapping.render.interactive import TooltipField, choropleth_map
from surveys.policy import Actor
from surveys.tabular import csv_chunks
from web.i18n import request_language
from web.templating import templates

router = APIRouter(include_in_schema=False)
FIGURE_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
Format = Literal["png", "svg", "pdf"]
DomainParam = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")]
CountryParam = Annotated[str | None, Query(max_length=2, pattern=r"^[A-Za-z]{0,2}$")]
DistanceParam = Annotated[list[float] | None, Query()]


def N_(message: str) -> str:
    """Babel's marker for a string translated later, where it is shown."""
    return message


# The domains' names as the pages say them, translated in the templates with _().
DOMAIN_LABELS = {
    "nuclear_medicine": N_("Nuclear medicine"),
    "radiomics": N_("Radiomics"),
    "radiotherapy": N_("Innovative radiotherapy"),
    "surgery": N_("Innovative surgery"),
    "ablation": N_("Physical methods of ablation"),
    "cell_therapy": N_("Cell therapies"),
    "ex_vivo": N_("Ex-vivo testing of agents"),
    "profile": N_("Centre profile"),
}


def _csv(rows: list[list[object]], filename: str) -> Response:
    header, *body = rows
    return Response(
        b"".join(csv_chunks([str(name) for name in header], body)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _figure(content: bytes, fmt: Format, filename: str) -> Response:
    return Response(
        content,
        media_type=FIGURE_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def _country(code: str | None) -> str | None:
    return code.upper() if code else None


def _barriers(
    request: Request,
    session: Session,
    actor: Actor,
    slug: str,
    domain: str | None,
    country: str | None,
) -> BarrierSummary:
    """The barrier summary a barriers page, CSV or figure shows (labels in the page's
    language)."""
    return barrier_summary(
        session,
        actor,
        slug,
        domain=domain or None,
        country=_country(country),
        language=request_language(request),
    )


@router.get("/evidence/{slug}/barriers", response_class=HTMLResponse)
def barriers_page(
    request: Request,
    session: DbSession,
    actor: MapReader,
    slug: str,
    domain: DomainParam = None,
    country: CountryParam = None,
) -> HTMLResponse:
    """The barriers of every domain: a bar chart and a table per domain, "other" for staff."""
    summary = _barriers(request, session, actor, slug, domain, country)
    area = _country(country) or ALL_COUNTRIES
    return templates.TemplateResponse(
        request,
        "evidence/barriers.html",
        {
            "summary": summary,
            "campaign": summary.campaign,
            "domains": domains_of(summary),
            "domain_labels": DOMAIN_LABELS,
            "rows": summary.table.to_dict("records"),
            "area": area,
            "domain": domain or "",
            "country": _country(country) or "",
            "query": request.url.query,
        },
    )


@router.get("/evidence/{slug}/barriers.csv")
def barriers_csv(
    request: Request,
    session: DbSession,
    actor: MapReader,
    slug: str,
    domain: DomainParam = None,
    country: CountryParam = None,
) -> Response:
    """The barriers table as CSV (labels in the interface language)."""
    summary = _barriers(request, session, actor, slug, domain, country)
    return _csv(summary.table_rows(), f"{slug}-barriers.csv")


@router.get("/evidence/{slug}/barriers.{fmt}")
def barriers_figure(
    request: Request,
    session: DbSession,
    actor: MapReader,
    slug: str,
    fmt: Format,
    domain: DomainParam = None,
    country: CountryParam = None,
) -> Response:
    """The barriers as a figure: one panel per domain, for a country or all countries."""
    summary = _barriers(request, session, actor, slug, domain, country)
    buffer = io.BytesIO()
    from mapping.evidence import figures  # matplotlib loads with the first figure

    figures.barrier_figure(summary, fmt, buffer, area=_country(country) or ALL_COUNTRIES)
    return _figure(buffer.getvalue(), fmt, f"{slug}-barriers")


@router.get("/evidence/{slug}/countries")
def choose_country(
    actor: MapReader, slug: str, country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")]
) -> RedirectResponse:
    """The country choice of the maps index: go to the country's profile."""
    return RedirectResponse(f"/evidence/{quote(slug)}/countries/{country.upper()}", 303)


@router.get("/evidence/{slug}/countries/{code}", response_class=HTMLResponse)
def profile_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    code: str,
) -> HTMLResponse:
    """One country's profile: every domain's indicators, access and barriers; printable."""
    profile = country_profile(
        session,
        actor,
        slug,
        code,
        language=request_language(request),
        low_coverage_threshold=settings.low_coverage_threshold,
    )
    return templates.TemplateResponse(
        request,
        "evidence/profile.html",
        {
            "profile": profile,
            "campaign": profile.campaign,
            "domain_labels": DOMAIN_LABELS,
            "summary": profile.barriers,
            "domains": domains_of(profile.barriers),
            "rows": profile.barriers.table.to_dict("records"),
            "area": profile.country,
        },
    )


@router.get("/evidence/{slug}/countries/{code}/profile.csv")
def profile_csv(
    session: DbSession, settings: AppSettings, actor: MapReader, slug: str, code: str
) -> Response:
    """The profile's indicators as CSV."""
    profile = country_profile(
        session, actor, slug, code, low_coverage_threshold=settings.low_coverage_threshold
    )
    return _csv(profile.table_rows(), f"{slug}-{profile.country}-profile.csv")


@router.get("/evidence/{slug}/countries/{code}/profile.{fmt}")
def profile_figure(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    code: str,
    fmt: Format,
) -> Response:
    """The profile's indicators against their benchmarks as a figure."""
    profile = country_profile(
        session, actor, slug, code, low_coverage_threshold=settings.low_coverage_threshold
    )
    buffer = io.BytesIO()
    from mapping.evidence import figures  # matplotlib loads with the first figure

    figures.profile_figure(profile, fmt, buffer)
    return _figure(buffer.getvalue(), fmt, f"{slug}-{profile.country}-profile")


LEFT_OUT_TOOLTIP = (
    TooltipField("population_beyond", "People beyond reach", of_column="population"),
)


@router.get("/evidence/{slug}/left-out/{indicator}", response_class=HTMLResponse)
def left_out_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    distance: DistanceParam = None,
    shown: Annotated[float | None, Query(gt=0, le=1000)] = None,
) -> HTMLResponse:
    """The places and regions beyond reach: a map of one distance, the tables, the CSVs."""
    result = left_out(
        session,
        actor,
        slug,
        indicator,
        distances=distance or (),
        low_coverage_threshold=settings.low_coverage_threshold,
        with_geometry=True,
    )
    mapped = shown if shown in result.distances else result.distances[-1]
    areas, classes = result.map_layer(mapped)
    fragment = choropleth_map(
        areas,
        classes,
        nonce=request.state.csp_nonce,
        value_label=f"% of people beyond {mapped:g} km",
        tooltip_fields=LEFT_OUT_TOOLTIP,
        centres=result.centres,
        title=f"{result.label}: people beyond {mapped:g} km",
        source_note=result.source_note,
    )
    return templates.TemplateResponse(
        request,
        "evidence/left_out.html",
        {
            "result": result,
            "campaign": result.campaign,
            "mapped": mapped,
            "map_html": Markup(fragment),  # noqa: S704 - built by choropleth_map, every text escaped
            "places": result.places.head(200).to_dict("records"),
            "areas": result.areas.to_dict("records"),
            "level_label": LEVEL_LABELS[result.level],
            "distance_query": "&".join(f"distance={d:g}" for d in result.distances),
        },
    )


@router.get("/evidence/{slug}/left-out/{indicator}/{table}.csv")
def left_out_csv(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    table: Literal["places", "areas"],
    distance: DistanceParam = None,
) -> Response:
    """The places or the areas beyond reach as CSV."""
    result = left_out(
        session,
        actor,
        slug,
        indicator,
        distances=distance or (),
        low_coverage_threshold=settings.low_coverage_threshold,
    )
    return _csv(result.table_rows(table), f"{slug}-{indicator}-left-out-{table}.csv")
