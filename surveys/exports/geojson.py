"""GeoJSON (RFC 7946, EPSG:4326): the centres of an export, and indicator values per area.

Centre features carry an allow-list of properties. Pseudonymised: the centre pseudonym, the
country, NUTS region and centre type as the disclosure plan publishes them (``null`` where
coarsened away, see :mod:`surveys.exports.disclosure`), the number of exported responses and the
questionnaires answered, and the mean point of the centre's published group (rounded to
:data:`PSEUDONYMISED_DECIMALS` decimal, about 11 km), never the centre's own coordinates; no
name, city or id. Identified exports add the id, name and city
and keep full coordinates. A centre without coordinates has a ``null`` geometry.

Indicator values: :func:`indicator_chunks` writes one feature per area from plain records
(:class:`IndicatorValue`) with the value, its numerator and denominator (and the denominator's
source and year), the responding and expected centres and the low-coverage flag; "no data" is
``null``, never 0. The mapping package computes the records (domain code here never imports it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from surveys.tabular import RowCounter

MEDIA_TYPE = "application/geo+json"
PSEUDONYMISED_DECIMALS = 1
CENTRE_PROPERTIES = (
    "centre",
    "country",
    "region",
    "centre_type",
    "responses",
    "questionnaires",
)
IDENTIFIED_PROPERTIES = ("public_id", "name", "city")


@dataclass(frozen=True)
class CentrePoint:
    """One centre of an export, as the map file shows it."""

    centre: str
    country: str
    region: str | None
    centre_type: str | None
    responses: int
    questionnaires: list[str]
    latitude: float | None
    longitude: float | None
    public_id: str | None = None
    name: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class IndicatorValue:
    """An indicator's value for one area (a country or a NUTS region)."""

    indicator: str
    area_code: str
    area_name: str
    level: str
    geometry: dict[str, Any] | None
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    denominator_source: str | None
    denominator_year: int | None
    responding_centres: int
    expected_centres: int
    low_coverage: bool


def _point(latitude: float | None, longitude: float | None, decimals: int | None) -> Any:
    if latitude is None or longitude is None:
        return None
    if decimals is not None:
        latitude, longitude = round(latitude, decimals), round(longitude, decimals)
    return {"type": "Point", "coordinates": [longitude, latitude]}


def _collection(
    features: Iterable[dict[str, Any]], counter: RowCounter | None, meta: dict[str, Any]
) -> Iterator[bytes]:
    head = {"type": "FeatureCollection", **meta}
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'
    yield opening.encode("utf-8")
    for count, feature in enumerate(features, start=1):
        prefix = ",\n" if count > 1 else ""
        yield (prefix + json.dumps(feature, ensure_ascii=False)).encode("utf-8")
        if counter is not None:
            counter.rows = count
    yield b"\n]}\n"


def centre_chunks(
    centres: Iterable[CentrePoint], *, identified: bool, counter: RowCounter | None = None
) -> Iterator[bytes]:
    """A FeatureCollection of centres, one feature at a time."""
    allowed = CENTRE_PROPERTIES + (IDENTIFIED_PROPERTIES if identified else ())
    decimals = None if identified else PSEUDONYMISED_DECIMALS

    def features() -> Iterator[dict[str, Any]]:
        for centre in centres:
            properties = {key: getattr(centre, key) for key in allowed}
            yield {
                "type": "Feature",
                "geometry": _point(centre.latitude, centre.longitude, decimals),
                "properties": properties,
            }

    meta = {"name": "centres", "pseudonymised": not identified}
    return _collection(features(), counter, meta)


def indicator_chunks(
    values: Iterable[IndicatorValue], *, counter: RowCounter | None = None
) -> Iterator[bytes]:
    """A FeatureCollection of indicator values per area (the hook the mapping package fills)."""

    def features() -> Iterator[dict[str, Any]]:
        for item in values:
            properties = {
                "indicator": item.indicator,
                "area_code": item.area_code,
                "area_name": item.area_name,
                "level": item.level,
                "value": item.value,
                "numerator": item.numerator,
                "denominator": item.denominator,
                "unit": item.unit,
                "denominator_source": item.denominator_source,
                "denominator_year": item.denominator_year,
                "responding_centres": item.responding_centres,
                "expected_centres": item.expected_centres,
                "low_coverage": item.low_coverage,
            }
            yield {"type": "Feature", "geometry": item.geometry, "properties": properties}

    return _collection(features(), counter, {"name": "indicators"})
