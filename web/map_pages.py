"""Map pages for domain leads and coordinators: indicators per country or NUTS-2 region.

Each page holds the interactive map (served with the app's own Leaflet, no tiles, no CDN), its
legend, the data table as the map's accessible alternative, the equity figures, and downloads
(CSV of the table, publication figures in PNG, SVG and PDF).
"""

from __future__ import annotations

import io
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from mapping import service
from mapping.indicators import IndicatorSpec
from mapping.render.interactive import choropleth_map
from mapping.render.static import static_map
from surveys.campaigns.lifecycle import get_campaign, list_campaigns
from surveys.domains import QUESTIONNAIRE_DOMAINS, domain_name
from surveys.policy import Actor, Role
from surveys.tabular import write_csv
from web.templating import templates

router = APIRouter(include_in_schema=False)
LevelParam = Annotated[Literal["country", "nuts2"], Query()]
SchemeParam = Annotated[Literal["quantiles", "natural_breaks", "equal_interval"], Query()]
ClassesParam = Annotated[int, Query(ge=2, le=7)]
FIGURE_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def domains_of(actor: Actor) -> set[str] | None:
    """The domains a domain lead may see; None (all) for the other roles."""
    return set(actor.domains) if actor.role is Role.DOMAIN_LEAD else None


@router.get("/maps", response_class=HTMLResponse)
def maps_index(
    request: Request,
    session: DbSession,
    actor: MapReader,
    campaign: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """The indicators of a campaign, grouped by domain."""
    campaigns = [c for c in list_campaigns(session) if c.status != "draft"]
    chosen = get_campaign(session, campaign) if campaign else (campaigns[0] if campaigns else None)
    by_domain: dict[str, list[IndicatorSpec]] = {}
    if chosen is not None:
        for spec in service.indicator_specs(session, chosen, domains_of(actor)):
            domain = service.domain_of(session, spec) or "profile"
            by_domain.setdefault(domain, []).append(spec)
    return templates.TemplateResponse(
        request,
        "maps/index.html",
        {
            "campaigns": campaigns,
            "campaign": chosen,
            "by_domain": by_domain,
            "domain_names": {code: domain_name(code) for code in QUESTIONNAIRE_DOMAINS},
        },
    )


@router.get("/maps/{slug}")
def choose_indicator(
    actor: MapReader,
    slug: str,
    indicator: Annotated[str, Query(max_length=100, pattern=r"^[a-z0-9_]+$")],
    level: LevelParam = "country",
    scheme: SchemeParam = "quantiles",
    classes: ClassesParam = 5,
) -> RedirectResponse:
    """The options form of a map page: go to the chosen indicator's map."""
    return RedirectResponse(
        f"/maps/{quote(slug)}/{indicator}?level={level}&scheme={scheme}&classes={classes}",
        status_code=303,
    )


@router.get("/maps/{slug}/{indicator}", response_class=HTMLResponse)
def map_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    level: LevelParam = "country",
    scheme: SchemeParam = "quantiles",
    classes: ClassesParam = 5,
) -> HTMLResponse:
    """One indicator's interactive map, table, equity figures and downloads."""
    campaign = get_campaign(session, slug)
    data = service.map_data(
        session,
        campaign,
        indicator,
        level=level,
        scheme=scheme,
        classes=classes,
        domains=domains_of(actor),
        low_coverage_threshold=settings.low_coverage_threshold,
    )
    label = data.spec.label.get("en") or data.spec.id
    unit = data.spec.unit.get("en", "")
    access = service.access_to_care(
        session, campaign, indicator, level=level, domains=domains_of(actor)
    ).set_index("area_code")
    fragment = choropleth_map(
        data.areas,
        data.classification,
        nonce=request.state.csp_nonce,
        value_label=f"{label} ({unit})" if unit else label,
        centres=data.centres,
        title=label,
        source_note=_source_note(campaign.name, data.frame),
    )
    return templates.TemplateResponse(
        request,
        "maps/indicator.html",
        {
            "campaign": campaign,
            "spec": data.spec,
            "label": label,
            "unit": unit,
            "map_html": Markup(fragment),  # noqa: S704 - built by choropleth_map, every text escaped
            "rows": data.frame.sort_values("area_name").to_dict("records"),
            "access": access.to_dict("index"),
            "equity": data.equity,
            "level": level,
            "scheme": scheme,
            "classes": classes,
            "legend": data.classification.legend(),
            "specs": service.indicator_specs(session, campaign, domains_of(actor)),
        },
    )


def _source_note(campaign_name: str, frame: object) -> str:
    return (
        f"Survey: {campaign_name}. Population denominators: source and year per area in "
        "the table. Boundaries: Natural Earth; NUTS © EuroGeographics."
    )


@router.get("/maps/{slug}/{indicator}/data.csv")
def map_table(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    level: LevelParam = "country",
) -> Response:
    """The table behind the map as CSV."""
    campaign = get_campaign(session, slug)
    _, frame = service.indicator_values(
        session,
        campaign,
        indicator,
        level=level,
        low_coverage_threshold=settings.low_coverage_threshold,
        domains=domains_of(actor),
    )
    rows = [list(frame.columns), *frame.astype(object).where(frame.notna(), None).values.tolist()]
    return Response(
        "".join(write_csv(rows)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{slug}-{indicator}-{level}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/maps/{slug}/{indicator}/figure.{fmt}")
def map_figure(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    fmt: Literal["png", "svg", "pdf"],
    level: LevelParam = "country",
    scheme: SchemeParam = "quantiles",
    classes: ClassesParam = 5,
) -> Response:
    """The map as a publication figure (EPSG:3035, 300 dpi PNG, SVG or PDF)."""
    campaign = get_campaign(session, slug)
    data = service.map_data(
        session,
        campaign,
        indicator,
        level=level,
        scheme=scheme,
        classes=classes,
        domains=domains_of(actor),
        low_coverage_threshold=settings.low_coverage_threshold,
        for_print=True,
    )
    label = data.spec.label.get("en") or data.spec.id
    buffer = io.BytesIO()
    static_map(
        data.areas,
        data.classification,
        title=label,
        source_note=_source_note(campaign.name, data.frame),
        fmt=fmt,
        out=buffer,
        value_label=data.spec.unit.get("en") or None,
    )
    return Response(
        buffer.getvalue(),
        media_type=FIGURE_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{slug}-{indicator}-{level}.{fmt}"'},
    )
