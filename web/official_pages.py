"""The survey beside official statistics: one indicator's table with the capture ratio.

Thin: parse the query, call :func:`mapping.official_statistics.survey_vs_official`, render.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import MapReader
from api.deps import DbSession
from mapping import official_statistics
from surveys.tabular import csv_chunks
from web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/maps/{slug}/{indicator}/official", response_class=HTMLResponse)
def official_page(
    request: Request, session: DbSession, actor: MapReader, slug: str, indicator: str
) -> HTMLResponse:
    """The survey's figure per country beside the official one, disagreements first."""
    result = official_statistics.survey_vs_official(session, actor, slug, indicator)
    return templates.TemplateResponse(
        request,
        "maps/official.html",
        {
            "result": result,
            "rows": result.rows.to_dict("records"),
            "ratio": official_statistics.DISAGREEMENT_RATIO,
        },
    )


@router.get("/maps/{slug}/{indicator}/official.csv")
def official_table(session: DbSession, actor: MapReader, slug: str, indicator: str) -> Response:
    """The comparison table as CSV."""
    result = official_statistics.survey_vs_official(session, actor, slug, indicator)
    header, *rows = result.table_rows()
    return Response(
        b"".join(csv_chunks([str(name) for name in header], rows)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{slug}-{indicator}-official.csv"',
            "Cache-Control": "no-store",
        },
    )
