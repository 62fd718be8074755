"""What the export and release services accept and return."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from surveys.schemas import Schema, no_nul_in_schema


class ExportFormat(StrEnum):
    CSV = "csv"
    CSV_LONG = "csv-long"
    XLSX = "xlsx"
    DATAPACKAGE = "datapackage"
    SAV = "sav"
    DTA = "dta"
    GEOJSON = "geojson"


# Formats that are one file, which can also be delivered bare (without the zip around it).
SINGLE_FILE_FORMATS = frozenset({ExportFormat.CSV_LONG, ExportFormat.GEOJSON})
# A release holds answers, not centre locations: every format but the centre map.
RELEASE_FORMATS = frozenset(ExportFormat) - {ExportFormat.GEOJSON}


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_no_nul),
    no_nul_in_schema(),
]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$"), AfterValidator(str.upper)]
Status = Literal["submitted", "approved"]


def _final_statuses() -> list[Status]:
    return ["submitted", "approved"]


class ExportFilter(Schema):
    """Which responses an export holds. Drafts and withdrawn responses are never exported.

    ``submitted_to`` is inclusive (the whole day). Unknown query parameters pass through, so the
    options of the route can sit beside these.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    campaign: Slug | None = None
    questionnaire: Code | None = None
    domain: Code | None = None
    country: list[CountryCode] = Field(default_factory=list, max_length=60)
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    status: list[Status] = Field(default_factory=_final_statuses, min_length=1)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.submitted_from and self.submitted_to and self.submitted_to < self.submitted_from:
            raise ValueError("submitted_to must not be before submitted_from")
        return self

    def describe(self) -> dict[str, Any]:
        """The filters as recorded in manifests and audit events (JSON-ready, stable order)."""
        return {
            "campaign": self.campaign,
            "questionnaire": self.questionnaire,
            "domain": self.domain,
            "country": sorted(set(self.country)),
            "submitted_from": self.submitted_from.isoformat() if self.submitted_from else None,
            "submitted_to": self.submitted_to.isoformat() if self.submitted_to else None,
            "status": sorted(set(self.status)),
        }


class ExportOptions(Schema):
    """How values are written: codes or labels (in ``language``), a BOM, bare or zipped."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    values: Literal["codes", "labels"] = "codes"
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")] | None = None
    bom: bool = False
    plain: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "language": self.language,
            "bom": self.bom,
            "plain": self.plain,
        }


class ManifestFile(Schema):
    path: str
    media_type: str
    rows: int | None = None
    bytes: int
    sha256: str


class ManifestTable(Schema):
    """One table of the export: its rows, and the file (and sheet) that holds it."""

    name: str
    rows: int
    file: str
    sheet: str | None = None


class ManifestArchive(Schema):
    """The delivered file itself (the zip, or the bare file): what the client received."""

    path: str
    bytes: int
    sha256: str


class Manifest(Schema):
    """What an export holds and how to check it: row counts and SHA-256 of every file."""

    model_config = ConfigDict(extra="ignore")

    export_id: str
    format: ExportFormat
    complete: bool
    pseudonymised: bool
    dataset_version: str
    generated_at: str
    filters: dict[str, Any]
    options: dict[str, Any]
    responses: int
    tables: list[ManifestTable]
    files: list[ManifestFile]
    archive: ManifestArchive | None = None
    release: dict[str, Any] | None = None
    disclosure: dict[str, Any] | None = None


class ReleaseCreate(Schema):
    campaign: Slug
    title: (
        Annotated[
            str, StringConstraints(max_length=300), AfterValidator(_no_nul), no_nul_in_schema()
        ]
        | None
    ) = None
    note: (
        Annotated[
            str, StringConstraints(max_length=2000), AfterValidator(_no_nul), no_nul_in_schema()
        ]
        | None
    ) = None


class ReleaseRead(Schema):
    id: int
    name: str
    campaign: str
    number: int
    title: str
    note: str | None
    citation: str
    record_count: int
    content_sha256: str
    created_at: dt.datetime
