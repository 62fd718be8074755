"""Use cases of the centre registry: list, read, register and update centres.

:func:`register_centre` and :func:`update_centre` check ``registry:write`` and record their own
audit event (``centre.create``, ``centre.update``); the JSON API calls them. The import of a
centre list is :func:`surveys.registry.transfer.import_centre_list`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.errors import Conflict, FieldError, InvalidInput, NotFound
from surveys.policy import Actor, Permission, authorize, country_clause
from surveys.registry.codes import UnknownCode, country_code
from surveys.registry.countries import countries_by_code
from surveys.registry.models import Centre, Country
from surveys.registry.schemas import (
    CentreCreate,
    CentreFilter,
    CentrePage,
    CentreRead,
    CentreUpdate,
)

MAX_PER_PAGE = 200

_Query = TypeVar("_Query", bound=Select[Any])


class CentreNotFound(NotFound):
    code = "centre_not_found"


class StaleCentre(Conflict):
    code = "stale_version"


class UnknownCountry(InvalidInput):
    code = "unknown_country"


def to_read(centre: Centre) -> CentreRead:
    """The public view of a centre (needs ``country`` and ``region`` loaded)."""
    return CentreRead(
        id=centre.public_id,
        name=centre.name,
        country=centre.country.iso2,
        country_name=centre.country.name,
        city=centre.city,
        latitude=centre.latitude,
        longitude=centre.longitude,
        region=centre.region.code if centre.region is not None else None,
        centre_type=centre.centre_type,
        accreditations=list(centre.accreditations),
        active=centre.active,
        is_synthetic=centre.is_synthetic,
        provenance=centre.provenance,
        last_verified=centre.last_verified,
        version=centre.version,
    )


def _with_relations(query: Select[Centre]) -> Select[Centre]:
    return query.options(joinedload(Centre.country), joinedload(Centre.region))


def _filtered(query: _Query, filters: CentreFilter) -> _Query:
    if filters.country:
        country_id = select(Country.id).where(Country.iso2 == filters.country)
        query = query.where(Centre.country_id == country_id.scalar_subquery())
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(
            or_(func.lower(Centre.name).like(pattern), func.lower(Centre.city).like(pattern))
        )
    if filters.centre_type:
        query = query.where(Centre.centre_type == filters.centre_type)
    if filters.active is not None:
        query = query.where(Centre.active == filters.active)
    if filters.synthetic is not None:
        query = query.where(Centre.is_synthetic == filters.synthetic)
    return query


def list_centres(
    session: Session, filters: CentreFilter, *, page: int = 1, per_page: int = 50
) -> CentrePage:
    """One page of centres matching the filters, ordered by country then name."""
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    total = session.scalar(_filtered(select(func.count(Centre.id)), filters)) or 0
    query = (
        _with_relations(_filtered(select(Centre), filters))
        .join(Country, Country.id == Centre.country_id)
        .order_by(Country.name, Centre.name, Centre.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [to_read(c) for c in session.scalars(query).unique()]
    return CentrePage(items=items, total=total, page=page, per_page=per_page)


def _in_scope(query: _Query, actor: Actor) -> _Query:
    """Centres of the countries a country-scoped domain lead is limited to (scenario 33)."""
    countries = select(Country.id).where(country_clause(actor, Country.iso2))
    return query.where(Centre.country_id.in_(countries))


def browse_centres(
    session: Session, actor: Actor, filters: CentreFilter, *, page: int = 1, per_page: int = 50
) -> CentrePage:
    """One page of the registry as the actor may see it (registry:read; a lead's countries)."""
    authorize(actor, Permission.REGISTRY_READ)
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    count = _in_scope(_filtered(select(func.count(Centre.id)), filters), actor)
    total = session.scalar(count) or 0
    query = (
        _with_relations(_in_scope(_filtered(select(Centre), filters), actor))
        .join(Country, Country.id == Centre.country_id)
        .order_by(Country.name, Centre.name, Centre.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [to_read(c) for c in session.scalars(query).unique()]
    return CentrePage(items=items, total=total, page=page, per_page=per_page)


def read_centre(session: Session, actor: Actor, public_id: str) -> CentreRead:
    """One centre the actor may see; outside a lead's countries it is not found (404)."""
    authorize(actor, Permission.REGISTRY_READ)
    query = _in_scope(_with_relations(select(Centre)), actor).where(Centre.public_id == public_id)
    centre = session.scalar(query)
    if centre is None:
        raise CentreNotFound(f"No centre has the id {public_id!r}.")
    return to_read(centre)


def get_centre(session: Session, public_id: str) -> Centre:
    """A centre by its stable public id."""
    centre = session.scalar(_with_relations(select(Centre)).where(Centre.public_id == public_id))
    if centre is None:
        raise CentreNotFound(f"No centre has the id {public_id!r}.")
    return centre


def _country(session: Session, code: str) -> Country:
    try:
        country: Country | None = countries_by_code(session).get(country_code(code))
    except UnknownCode:
        country = None
    if country is None:
        raise UnknownCountry(
            f"Unknown country {code!r}.",
            errors=[
                FieldError(
                    ("country",),
                    f"unknown country code {code!r}; use an ISO 3166 alpha-2 code "
                    "of a surveyed country, such as FR or DE",
                    "unknown_country",
                )
            ],
        )
    return country


def register_centre(
    session: Session, actor: Actor, data: CentreCreate, *, request_id: str | None
) -> Centre:
    """Register a new centre; it gets a stable public id."""
    authorize(actor, Permission.REGISTRY_WRITE)
    centre = create_centre(session, data)
    record(
        session,
        actor=actor,
        action="centre.create",
        object_type="centre",
        object_id=centre.public_id,
        details={"version": centre.version, **channel(actor)},
        request_id=request_id,
    )
    return centre


def create_centre(session: Session, data: CentreCreate, *, is_synthetic: bool = False) -> Centre:
    """A new centre row with a stable public id: the step of :func:`register_centre`, unaudited
    (test builders and the synthetic demo use it)."""
    centre = Centre(
        name=data.name,
        country=_country(session, data.country),
        city=data.city,
        latitude=data.latitude,
        longitude=data.longitude,
        centre_type=data.centre_type,
        accreditations=list(data.accreditations),
        provenance=data.provenance,
        last_verified=data.last_verified,
        is_synthetic=is_synthetic,
        active=True,
    )
    session.add(centre)
    session.flush()
    return get_centre(session, centre.public_id)


def update_centre(
    session: Session, actor: Actor, public_id: str, data: CentreUpdate, *, request_id: str | None
) -> Centre:
    """Change some fields of a centre, refusing the edit if someone else changed it first."""
    authorize(actor, Permission.REGISTRY_WRITE)
    centre = get_centre(session, public_id)
    if centre.version != data.version:
        raise StaleCentre(
            f"Someone else changed this centre (now version {centre.version}); your copy "
            f"(version {data.version}) is out of date. Reload it and apply your change again."
        )
    country = _country(session, data.country) if data.country is not None else None
    changes = data.model_dump(exclude_unset=True, exclude={"version", "country"})
    for field, value in changes.items():
        setattr(centre, field, value)
    if country is not None:
        centre.country = country
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleCentre("Someone else changed this centre at the same time; reload it.") from exc
    centre = get_centre(session, public_id)
    record(
        session,
        actor=actor,
        action="centre.update",
        object_type="centre",
        object_id=centre.public_id,
        details={
            "fields": sorted(data.model_dump(exclude_unset=True, exclude={"version"})),
            "version": centre.version,
            **channel(actor),
        },
        request_id=request_id,
    )
    return centre
