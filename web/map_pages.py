"""Map pages for domain leads and coordinators: indicators per country or NUTS-2 region.

Each page holds the interactive map (served with the app's own Leaflet, no tiles, no CDN), its
legend, the data table as the map's accessible alternative, the equity figures, and downloads
(CSV of the table, publication figures in PNG, SVG and PDF). Every view is one call of
:func:`mapping.service.indicator_map`, which computes the map once; the handlers only parse the
query, call it and render. They are plain ``def`` functions: the database work runs in the
thread pool, never on the event loop.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from mapping import service
from mapping.render.interactive import choropleth_map
from surveys.domains import QUESTIONNAIRE_DOMAINS, domain_name
from surveys.tabular import csv_chunks
from web.templating import templates

router = APIRouter(include_in_schema=False)
LevelParam = Annotated[Literal["country", "nuts2"], Query()]
SchemeParam = Annotated[Literal["quantiles", "natural_breaks", "equal_interval"], Query()]
ClassesParam = Annotated[int, Query(ge=2, le=7)]
FIGURE_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


@router.get("/maps", response_class=HTMLResponse)
def maps_index(
    request: Request,
    session: DbSession,
    actor: MapReader,
    campaign: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """The indicators of a campaign, grouped by domain."""
    index = service.map_index(session, actor, campaign)
    return templates.TemplateResponse(
        request,
        "maps/index.html",
        {
            "campaigns": index.campaigns,
            "campaign": index.campaign,
            "by_domain": index.by_domain,
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
    """One indicator's interactive map, table, equity figures and access to care."""
    asked = service.MapRequest(
        slug,
        indicator,
        level,
        scheme,
        classes,
        low_coverage_threshold=settings.low_coverage_threshold,
        geometry="web",
        with_access=True,
    )
    data = service.indicator_map(session, actor, asked)
    fragment = data.fragment(
        "page-map",
        request.state.csp_nonce,
        lambda nonce: choropleth_map(
            data.geometry(),
            data.classification,
            nonce=nonce,
            value_label=data.value_label,
            centres=data.centres,
            title=data.label,
            source_note=data.source_note,
        ),
    )
    return templates.TemplateResponse(
        request,
        "maps/indicator.html",
        {
            "campaign": data.campaign,
            "spec": data.spec,
            "label": data.label,
            "unit": data.unit,
            "map_html": Markup(fragment),  # noqa: S704 - built by choropleth_map, every text escaped
            "tables_html": data.kept("page-tables", lambda: _tables(data, level)),
            "equity": data.equity,
            "denominator_warning": data.denominator_warning,
            "level": level,
            "scheme": scheme,
            "classes": classes,
            "legend": data.classification.legend(),
            "specs": data.specs,
        },
    )


def _tables(data: service.IndicatorMap, level: str) -> Markup:
    """The page's data table and access table, rendered once per map and data version."""
    rows = data.table_records()
    marks: dict[tuple[object, object], int] = {}
    for row in rows:
        year = row.get("denominator_year")
        if row.get("denominator_source"):
            key = (row["denominator_source"], None if year != year else year)  # NaN: no year
            marks.setdefault(key, len(marks) + 1)
    html = templates.get_template("maps/_tables.html").render(
        rows=rows,
        access=data.access_by_area(),
        access_note=data.access_note,
        equity=data.equity,
        label=data.label,
        level=level,
        source_marks=marks,
    )
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template


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
    asked = service.MapRequest(
        slug,
        indicator,
        level,
        low_coverage_threshold=settings.low_coverage_threshold,
        geometry="none",
    )
    header, *rows = service.indicator_map(session, actor, asked).table_rows()
    return Response(
        b"".join(csv_chunks([str(name) for name in header], rows)),
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
    asked = service.MapRequest(
        slug,
        indicator,
        level,
        scheme,
        classes,
        low_coverage_threshold=settings.low_coverage_threshold,
        geometry="print",
    )
    figure = service.figure_bytes(service.indicator_map(session, actor, asked), fmt)
    return Response(
        figure,
        media_type=FIGURE_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{slug}-{indicator}-{level}.{fmt}"'},
    )
