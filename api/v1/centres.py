"""JSON routes of the centre registry and the country list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from api.auth import Public, RegistryReader, RegistryWriter
from api.deps import DbSession
from api.problems import PROBLEM_RESPONSES
from mapping.versions import place_centres
from surveys.policy import Actor
from surveys.registry import service
from surveys.registry.countries import list_countries
from surveys.registry.models import Centre
from surveys.registry.schemas import (
    CentreCreate,
    CentreFilter,
    CentrePage,
    CentreRead,
    CentreUpdate,
    CountryRead,
)

router = APIRouter(tags=["registry"], responses=PROBLEM_RESPONSES)


@router.get("/countries")
def countries(session: DbSession, actor: Annotated[Actor, Depends(Public())]) -> list[CountryRead]:
    """Every surveyed country with its EU, EEA and candidate status."""
    return [CountryRead.model_validate(c) for c in list_countries(session)]


@router.get("/centres")
def list_centres(
    session: DbSession,
    actor: RegistryReader,
    filters: Annotated[CentreFilter, Query()],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 50,
) -> CentrePage:
    """Centres filtered by country, type, activity, synthetic flag or a text search."""
    return service.list_centres(session, filters, page=page, per_page=per_page)


@router.get("/centres/{centre_id}")
def read_centre(session: DbSession, actor: RegistryReader, centre_id: str) -> CentreRead:
    """One centre by its stable id."""
    return service.to_read(service.get_centre(session, centre_id))


@router.post("/centres", status_code=201)
def create_centre(
    request: Request,
    session: DbSession,
    actor: RegistryWriter,
    data: CentreCreate,
    response: Response,
) -> CentreRead:
    """Register a centre; the answer's ``Location`` names its stable id."""
    centre = service.register_centre(session, actor, data, request_id=request.state.request_id)
    if centre.latitude is not None:  # its NUTS-2 region, as the import and the CLI give it
        centre = _placed(session, actor, centre, request.state.request_id)
    response.headers["Location"] = f"/api/v1/centres/{centre.public_id}"
    return service.to_read(centre)


@router.patch("/centres/{centre_id}")
def update_centre(
    request: Request, session: DbSession, actor: RegistryWriter, centre_id: str, data: CentreUpdate
) -> CentreRead:
    """Change a centre; ``version`` must be the one you read, or the answer is 409."""
    centre = service.update_centre(
        session, actor, centre_id, data, request_id=request.state.request_id
    )
    if {"latitude", "longitude", "country"} & data.model_fields_set:
        centre = _placed(session, actor, centre, request.state.request_id)
    return service.to_read(centre)


def _placed(session: Session, actor: Actor, centre: Centre, request_id: str) -> Centre:
    """The centre again after every centre's region was set (the use case the CLI and the
    centre import call after a change)."""
    place_centres(session, actor, request_id=request_id)
    session.expire(centre)
    return service.get_centre(session, centre.public_id)
