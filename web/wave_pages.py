"""Change since an earlier survey wave: the map of change, both values per area, the series.

Thin: parse the query, call :mod:`mapping.waves`, render.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from mapping import waves
from mapping.render.interactive import choropleth_map
from mapping.render.tooltips import TooltipField
from surveys.tabular import csv_chunks
from web.templating import templates

router = APIRouter(include_in_schema=False)
SlugParam = Annotated[str | None, Query(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
CHANGE_TOOLTIP = (
    TooltipField("before", "Earlier wave"),
    TooltipField("after", "Later wave"),
)


@router.get("/maps/{slug}/{indicator}/change", response_class=HTMLResponse)
def change_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    since: SlugParam = None,
    level: Annotated[Literal["country", "nuts2"], Query()] = "country",
) -> HTMLResponse:
    """The indicator's change since an earlier wave, and its series over every wave."""
    earlier = waves.earlier_waves(session, actor, slug, indicator)
    context: dict[str, object] = {"slug": slug, "indicator": indicator, "earlier": earlier}
    if earlier:
        change = waves.wave_change(
            session,
            actor,
            slug,
            indicator,
            before=since or earlier[0].slug,
            level=level,
            low_coverage_threshold=settings.low_coverage_threshold,
            geometry=True,
        )
        series = waves.wave_series(session, actor, slug, indicator, level=level)
        context |= {
            "change": change,
            "rows": change.rows.sort_values("area_name").to_dict("records"),
            "series": series if len(series.waves) > 2 else None,
            "map_html": Markup(  # noqa: S704 - built by choropleth_map, every text escaped
                choropleth_map(
                    change.geometry(),
                    change.classification,
                    nonce=request.state.csp_nonce,
                    value_label=change.value_label,
                    tooltip_fields=CHANGE_TOOLTIP,
                    title=change.value_label,
                    source_note=change.note,
                )
            ),
        }
    return templates.TemplateResponse(request, "maps/change.html", context)


@router.get("/maps/{slug}/{indicator}/change.csv")
def change_table(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    since: SlugParam = None,
    level: Annotated[Literal["country", "nuts2"], Query()] = "country",
) -> Response:
    """Both waves' values and the change per area, as CSV."""
    change = waves.wave_change(
        session,
        actor,
        slug,
        indicator,
        before=since,
        level=level,
        low_coverage_threshold=settings.low_coverage_threshold,
    )
    header, *rows = change.table_rows()
    return Response(
        b"".join(csv_chunks([str(name) for name in header], rows)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{slug}-{indicator}-change.csv"',
            "Cache-Control": "no-store",
        },
    )
