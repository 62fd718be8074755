"""Schemas of the registry: what the API and the importer accept and return."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from surveys.registry.countries import SURVEYED
from surveys.registry.models import CENTRE_TYPES
from surveys.schemas import Schema, no_nul_in_schema


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character; remove it and try again")
    return value


def _known_centre_type(value: str) -> str:
    if value not in CENTRE_TYPES:
        raise ValueError(f"unknown centre type {value!r}; use one of: {', '.join(CENTRE_TYPES)}")
    return value


CleanText = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_no_nul), no_nul_in_schema()
]
Name = Annotated[CleanText, StringConstraints(min_length=1, max_length=300)]
# Any two letters, for a filter: a code of no surveyed country simply matches nothing.
CountryPattern = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2}$"), AfterValidator(str.upper)
]
# A surveyed country's ISO alpha-2 code, in either case: the schema lists exactly those, the
# services refuse any other code with ``unknown_country`` naming the field.
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(str.upper),
    WithJsonSchema(
        {"type": "string", "enum": sorted(SURVEYED) + sorted(c.lower() for c in SURVEYED)}
    ),
]
# The enum is in the schema too, so clients (and the OpenAPI document) know the accepted values.
CentreType = Annotated[
    str, AfterValidator(_known_centre_type), Field(json_schema_extra={"enum": list(CENTRE_TYPES)})
]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class CountryRead(Schema):
    iso2: str
    iso3: str
    name: str
    eu_member: bool
    eea_member: bool
    eu_candidate: bool


class CentreCreate(Schema):
    name: Name
    country: CountryCode
    city: Annotated[CleanText, StringConstraints(max_length=200)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    centre_type: CentreType = "other"
    accreditations: list[Annotated[CleanText, StringConstraints(max_length=50)]] = Field(
        default_factory=list
    )
    provenance: Annotated[CleanText, StringConstraints(max_length=300)] | None = None
    last_verified: dt.date | None = None


class CentreUpdate(Schema):
    """A partial update; ``version`` is the one the client read, so a stale edit is refused."""

    version: int
    name: Name | None = None
    country: CountryCode | None = None
    city: Annotated[CleanText, StringConstraints(max_length=200)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    centre_type: CentreType | None = None
    accreditations: list[Annotated[CleanText, StringConstraints(max_length=50)]] | None = None
    active: bool | None = None
    provenance: Annotated[CleanText, StringConstraints(max_length=300)] | None = None
    last_verified: dt.date | None = None


class CentreRead(Schema):
    id: str
    name: str
    country: str
    country_name: str
    city: str | None
    latitude: float | None
    longitude: float | None
    region: str | None
    centre_type: str
    accreditations: list[str]
    active: bool
    is_synthetic: bool
    provenance: str | None
    last_verified: dt.date | None
    version: int


class CentreFilter(Schema):
    """Filters of the centre list; other query parameters (paging) pass through."""

    model_config = ConfigDict(extra="ignore")

    country: CountryPattern | None = None
    q: Annotated[CleanText, StringConstraints(max_length=100)] | None = None
    centre_type: CentreType | None = None
    active: bool | None = None
    synthetic: bool | None = None


class CentrePage(Schema):
    items: list[CentreRead]
    total: int
    page: int
    per_page: int
