"""HTML pages of the registry: home, centre list and centre detail. Thin: parse, call, render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.staticfiles import StaticFiles

from api.auth import PublicActor, RegistryReader
from api.deps import DbSession
from mapping.layers import country_outlines
from surveys.registry import service
from surveys.registry.countries import list_countries
from surveys.registry.models import CENTRE_TYPES
from surveys.registry.overview import registry_overview
from surveys.registry.schemas import CentreFilter
from web.templating import templates

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def mount_vendor_assets(app: FastAPI) -> None:
    """Serve third-party browser assets from their Python packages: no CDN, ever.

    Swagger UI comes from ``fastapi-offline``'s static folder (Swagger UI 5, which reads
    OpenAPI 3.1; the ``swagger-ui-bundle`` package ships 3.x, which cannot). Only the assets
    are used, not its app factory.
    """
    import fastapi_offline
    import xstatic.pkg.leaflet

    app.mount("/vendor/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR), "leaflet")
    swagger_ui = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/vendor/swagger-ui", StaticFiles(directory=swagger_ui), "swagger-ui")


@router.get("/geo/countries.geojson")
def country_outlines_file(actor: PublicActor) -> Response:
    """The country outlines a geopoint question's map picker draws (public reference data)."""
    return Response(
        country_outlines(),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, actor: PublicActor) -> HTMLResponse:
    """What the platform is for, and what the registry holds."""
    overview = registry_overview(session)
    return templates.TemplateResponse(request, "home.html", {"overview": overview})


@router.get("/centres", response_class=HTMLResponse)
def centres(
    request: Request,
    session: DbSession,
    actor: RegistryReader,
    country: Annotated[str | None, Query(max_length=3)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    centre_type: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The registry as a searchable, paged table."""
    form = {"country": country or "", "q": q or "", "centre_type": centre_type or ""}
    errors: list[str] = []
    try:
        filters = CentreFilter(
            country=country or None, q=q or None, centre_type=centre_type or None
        )
    except ValidationError as exc:
        errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        filters = CentreFilter()
    result = service.browse_centres(session, actor, filters, page=page, per_page=PER_PAGE)
    return templates.TemplateResponse(
        request,
        "centres.html",
        {
            "result": result,
            "form": form,
            "errors": errors,
            "countries": list_countries(session),
            "centre_types": CENTRE_TYPES,
            "pages": max(1, -(-result.total // PER_PAGE)),
        },
        status_code=422 if errors else 200,
    )


@router.get("/centres/{centre_id}", response_class=HTMLResponse)
def centre(
    request: Request, session: DbSession, actor: RegistryReader, centre_id: str
) -> HTMLResponse:
    """One centre with its provenance."""
    found = service.read_centre(session, actor, centre_id)
    return templates.TemplateResponse(request, "centre.html", {"centre": found})


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, actor: PublicActor) -> HTMLResponse:
    """The OpenAPI documentation, rendered with Swagger UI served by the app itself."""
    return templates.TemplateResponse(request, "api_docs.html", {})
