"""Centre lists in and out: import from CSV or XLSX with row-level checks, export to CSV.

An import is all or nothing: when any row has an error, nothing is written and the report names
every problem by row (as a spreadsheet numbers it, the header being row 1) and column. Probable
duplicates are warnings: they do not block the import, but the coordinator sees them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.errors import ImportReport, RowProblem
from surveys.policy import Actor, Permission, authorize
from surveys.registry.codes import UnknownCode, country_code
from surveys.registry.countries import countries_by_code
from surveys.registry.models import CENTRE_TYPES, Centre, Country, Region
from surveys.tabular import RowCounter, TabularFileError, csv_chunks, read_rows

COLUMNS = (
    "id",
    "name",
    "country",
    "city",
    "latitude",
    "longitude",
    "centre_type",
    "accreditations",
    "provenance",
    "last_verified",
    "active",
    "synthetic",
)
REQUIRED_COLUMNS = ("name", "country")
DUPLICATE_DISTANCE_KM = 1.0
MAX_ROWS = 50_000


@dataclass
class _CentreRow:
    row: int
    public_id: str | None
    name: str
    country: Country
    city: str | None
    latitude: float | None
    longitude: float | None
    centre_type: str
    accreditations: list[str]
    provenance: str | None
    last_verified: dt.date | None


def normalised_name(name: str) -> str:
    """A name folded for duplicate detection: no accents, case, punctuation or extra spaces."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of radius 6,371 km (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


class _RowChecker:
    """Turns raw rows into checked centre rows, collecting every problem on the way."""

    def __init__(self, countries: dict[str, Country], report: ImportReport) -> None:
        self.countries = countries
        self.report = report

    def problem(self, row: int, column: str, message: str, value: str | None = None) -> None:
        self.report.problems.append(RowProblem(row, column, message, "error", value))

    def check(self, number: int, raw: dict[str, str]) -> _CentreRow | None:
        errors_before = len(self.report.errors)
        name = raw.get("name", "").strip()
        if not name:
            self.problem(number, "name", "the centre name is missing; every centre needs a name")
        elif len(name) > 300:
            self.problem(number, "name", "the name is longer than 300 characters; shorten it")
        for column, value in raw.items():
            if "\x00" in value:
                self.problem(number, column, "contains a NUL character; remove it")
        country = self._country(number, raw.get("country", ""))
        latitude, longitude = self._coordinates(number, raw)
        centre_type = raw.get("centre_type", "").strip() or "other"
        if centre_type not in CENTRE_TYPES:
            self.problem(
                number,
                "centre_type",
                f"unknown centre type; use one of: {', '.join(CENTRE_TYPES)}",
                centre_type,
            )
        last_verified = self._date(number, "last_verified", raw.get("last_verified", ""))
        if len(self.report.errors) > errors_before or country is None:
            return None
        return _CentreRow(
            row=number,
            public_id=raw.get("id", "").strip() or None,
            name=name,
            country=country,
            city=raw.get("city", "").strip() or None,
            latitude=latitude,
            longitude=longitude,
            centre_type=centre_type,
            accreditations=[
                a.strip() for a in raw.get("accreditations", "").split(";") if a.strip()
            ],
            provenance=raw.get("provenance", "").strip() or None,
            last_verified=last_verified,
        )

    def _country(self, number: int, value: str) -> Country | None:
        code = value.strip().upper()
        if not code:
            self.problem(number, "country", "the country is missing; give an ISO code such as FR")
            return None
        try:
            country = self.countries.get(country_code(code))
        except UnknownCode:
            self.problem(
                number,
                "country",
                "unknown country code; use ISO 3166 alpha-2 (GR), alpha-3 (GRC) or Eurostat's "
                "code (EL)",
                value,
            )
            return None
        if country is None:
            self.problem(
                number,
                "country",
                "not a surveyed country; the registry holds the countries of the network",
                value,
            )
        return country

    def _coordinates(self, number: int, raw: dict[str, str]) -> tuple[float | None, float | None]:
        lat_text, lon_text = raw.get("latitude", "").strip(), raw.get("longitude", "").strip()
        if not lat_text and not lon_text:
            return None, None
        if not lat_text or not lon_text:
            missing = "latitude" if not lat_text else "longitude"
            self.problem(number, missing, "give both latitude and longitude, or neither")
            return None, None
        values: list[float | None] = []
        for column, text, limit in (("latitude", lat_text, 90), ("longitude", lon_text, 180)):
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                self.problem(number, column, "not a number; use decimal degrees like 48.85", text)
                values.append(None)
                continue
            if not math.isfinite(value) or abs(value) > limit:
                self.problem(
                    number,
                    column,
                    f"impossible {column}: it must be between -{limit} and {limit}",
                    text,
                )
                values.append(None)
                continue
            values.append(value)
        latitude, longitude = values
        if latitude == 0 and longitude == 0:
            self.report.problems.append(
                RowProblem(
                    number,
                    "latitude",
                    "coordinates 0, 0 are in the Gulf of Guinea; probably missing values",
                    "warning",
                )
            )
        return latitude, longitude

    def _date(self, number: int, column: str, value: str) -> dt.date | None:
        text = value.strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            self.problem(number, column, "not a date; use YYYY-MM-DD", text)
            return None


def _warn_duplicates(rows: list[_CentreRow], existing: list[Centre], report: ImportReport) -> None:
    seen: dict[tuple[str, int], int] = {}
    for row in rows:
        key = (normalised_name(row.name), row.country.id)
        if key in seen:
            report.problems.append(
                RowProblem(
                    row.row,
                    "name",
                    f"probable duplicate of row {seen[key]} (same name and country)",
                    "warning",
                )
            )
        seen.setdefault(key, row.row)
    known = {(normalised_name(c.name), c.country_id): c for c in existing}
    for row in rows:
        match = known.get((normalised_name(row.name), row.country.id))
        if match is not None and match.public_id != row.public_id:
            report.problems.append(
                RowProblem(
                    row.row,
                    "name",
                    f"probable duplicate of registered centre {match.public_id} "
                    "(same name and country); give its id in the id column to update it instead",
                    "warning",
                )
            )
            continue
        if row.latitude is None or row.longitude is None:
            continue
        for centre in existing:
            if (
                centre.public_id != row.public_id
                and centre.latitude is not None
                and centre.longitude is not None
                and centre.country_id == row.country.id
                and distance_km(row.latitude, row.longitude, centre.latitude, centre.longitude)
                < DUPLICATE_DISTANCE_KM
                and _similar(row.name, centre.name)
            ):
                report.problems.append(
                    RowProblem(
                        row.row,
                        "name",
                        f"probable duplicate of registered centre {centre.public_id} "
                        f"({centre.name}, less than {DUPLICATE_DISTANCE_KM:g} km away)",
                        "warning",
                    )
                )
                break


def _similar(a: str, b: str) -> bool:
    words_a, words_b = set(normalised_name(a).split()), set(normalised_name(b).split())
    if not words_a or not words_b:
        return False
    return len(words_a & words_b) / len(words_a | words_b) >= 0.5


def import_centre_list(
    session: Session, actor: Actor, path: Path, *, dry_run: bool = False, request_id: str | None
) -> ImportReport:
    """Check, then (unless a dry run) import a centre list; all rows or none.

    A real import that wrote its rows is audited as ``centre.import`` with the counts; a dry run
    or a refused file changes nothing and records nothing.
    """
    authorize(actor, Permission.REGISTRY_WRITE)
    report = import_centres(session, path, dry_run=dry_run)
    if not dry_run and not report.errors:
        record(
            session,
            actor=actor,
            action="centre.import",
            object_type="centre",
            details={"created": report.created, "updated": report.updated, **channel(actor)},
            request_id=request_id,
        )
    return report


def import_centres(
    session: Session, path: Path, *, dry_run: bool = False, synthetic: bool = False
) -> ImportReport:
    """Check every row of a centre list and, when no row has an error, create or update them.

    The step of :func:`import_centre_list`, unaudited; pages and commands call the use case.
    """
    report = ImportReport()
    try:
        raw_rows = list(_limited(read_rows(path)))
    except TabularFileError as exc:
        report.problems.append(RowProblem(0, "", str(exc)))
        return report
    if raw_rows:
        missing = [c for c in REQUIRED_COLUMNS if c not in raw_rows[0]]
        if missing:
            report.problems.append(
                RowProblem(
                    1,
                    ", ".join(missing),
                    f"missing column(s) {', '.join(missing)}; the header must name at least "
                    f"{', '.join(REQUIRED_COLUMNS)} (all columns: {', '.join(COLUMNS)})",
                )
            )
            return report
    checker = _RowChecker(countries_by_code(session), report)
    rows = [r for n, raw in enumerate(raw_rows, start=2) if (r := checker.check(n, raw))]
    existing = list(session.scalars(select(Centre).options(joinedload(Centre.country))))
    by_public_id = {c.public_id: c for c in existing}
    for row in rows:
        if row.public_id is not None and row.public_id not in by_public_id:
            checker.problem(
                row.row,
                "id",
                "no registered centre has this id; leave it empty to create a new centre",
                row.public_id,
            )
    _warn_duplicates(rows, existing, report)
    if report.errors:
        return report
    for row in rows:
        centre = by_public_id.get(row.public_id) if row.public_id else None
        if centre is None:
            report.created += 1
        else:
            report.updated += 1
        if dry_run:
            continue
        if centre is None:
            centre = Centre(is_synthetic=synthetic, active=True)
            session.add(centre)
        centre.name = row.name
        centre.country_id = row.country.id
        centre.city = row.city
        centre.latitude = row.latitude
        centre.longitude = row.longitude
        centre.centre_type = row.centre_type
        centre.accreditations = row.accreditations
        centre.provenance = row.provenance
        centre.last_verified = row.last_verified
    session.flush()
    return report


def _limited(rows: Iterator[dict[str, str]]) -> Iterator[dict[str, str]]:
    for count, row in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise TabularFileError(f"the file has more than {MAX_ROWS} rows; split it")
        yield row


def export_csv(
    session: Session, *, bom: bool = False, counter: RowCounter | None = None
) -> Iterator[bytes]:
    """The registry as CSV with the import's columns, so an export can be imported again."""
    return csv_chunks(COLUMNS, export_rows(session), bom=bom, counter=counter)


def export_rows(session: Session) -> Iterator[list[object]]:
    """The registry's centres as rows of :data:`COLUMNS` (no header)."""
    query = (
        select(Centre, Country.iso2, Region.code)
        .join(Country, Country.id == Centre.country_id)
        .outerjoin(Region, Region.id == Centre.region_id)
        .order_by(Country.iso2, Centre.name, Centre.id)
        .execution_options(yield_per=1000)
    )
    for centre, iso2, _region in session.execute(query):
        yield [
            centre.public_id,
            centre.name,
            iso2,
            centre.city,
            centre.latitude,
            centre.longitude,
            centre.centre_type,
            ";".join(centre.accreditations),
            centre.provenance,
            centre.last_verified.isoformat() if centre.last_verified else None,
            "yes" if centre.active else "no",
            "yes" if centre.is_synthetic else "no",
        ]
