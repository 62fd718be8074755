"""Who is left out: the populated places and the regions beyond given distances of the nearest
centre offering a technology, with the people concerned, sorted.

The centres are those whose answers say they offer what the indicator counts
(:attr:`mapping.service.IndicatorMap.centres`), in any country of the campaign: a place near a
border is served by the centre across it. The places are the packaged GeoNames places of 15,000
inhabitants or more (:func:`mapping.reference.load_cities`) in the campaign's countries;
distances are straight lines in EPSG:3035 (:func:`mapping.access.nearest_distance_km`). The
regions are the NUTS-2 regions of the active version when they are loaded, else the countries:
for each, the population of its places and how much of it lives beyond each distance.
Smaller places and the countryside are not counted, so the figures are a floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from mapping import layers, queries, service
from mapping.access import nearest_distance_km
from mapping.classify import Classification, classify
from mapping.errors import BadDistances, NotATechnology
from mapping.indicators import IndicatorSpec
from mapping.queries import Level
from mapping.reference import load_cities
from mapping.service import MapRequest
from surveys.campaigns.models import Campaign
from surveys.policy import Actor, Permission, authorize

DEFAULT_DISTANCES_KM: tuple[float, ...] = (50.0, 100.0, 200.0)
MAX_DISTANCE_KM = 1000.0
PLACE_COLUMNS = [
    "geonameid",
    "name",
    "country",
    "region",
    "population",
    "distance_km",
    "beyond_km",
]
PLACES_NOTE = (
    "Places: GeoNames places of 15,000 inhabitants or more; straight-line distances to the "
    "nearest centre offering it, in any country of the survey."
)


@dataclass(frozen=True, eq=False)
class LeftOut:
    """The places and areas beyond reach, for one technology (indicator) of one campaign.

    ``places`` has :data:`PLACE_COLUMNS`, one row per place farther than the smallest distance,
    the most populous first (``beyond_km`` is the largest distance it lies beyond). ``areas``
    has ``area_code``, ``area_name``, ``country``, ``population`` (of its places), then
    ``population_beyond_<d>km`` and ``share_beyond_<d>km`` per distance, sorted by the people
    beyond the largest distance, then the next. ``note`` says why the tables are empty when
    nothing is known about where the care is.
    """

    campaign: Campaign
    spec: IndicatorSpec
    distances: tuple[float, ...]
    level: Level
    places: pd.DataFrame
    areas: pd.DataFrame
    centres: gpd.GeoDataFrame
    source_note: str
    note: str | None = None
    layer: gpd.GeoDataFrame | None = None

    @property
    def label(self) -> str:
        return self.spec.label.get("en") or self.spec.id

    def column(self, kind: str, distance: float) -> str:
        """``population_beyond_100km`` or ``share_beyond_100km``."""
        return f"{kind}_beyond_{distance:g}km"

    def total_beyond(self, distance: float) -> int:
        """The people in places beyond ``distance``."""
        return int(self.places.loc[self.places["distance_km"] > distance, "population"].sum())

    def table_rows(self, table: str = "places") -> list[list[Any]]:
        """A header row, then the rows of the places or the areas table, for a CSV."""
        frame = self.places if table == "places" else self.areas
        values = frame.astype(object).where(frame.notna(), None).values.tolist()
        return [list(frame.columns), *values]

    def map_layer(self, distance: float) -> tuple[gpd.GeoDataFrame, Classification]:
        """The areas on geometry with the share beyond ``distance`` as ``value`` (per cent),
        and its classes; ValueError when the use case was asked for no geometry."""
        if self.layer is None:
            raise ValueError("left_out was computed without geometry; pass with_geometry=True")
        frame, classes = self.map_frame(distance)
        return layers.with_geometry(self.layer, frame), classes

    def map_frame(self, distance: float) -> tuple[pd.DataFrame, Classification]:
        """The areas with the share beyond ``distance`` as ``value``, and its classes."""
        share = self.column("share", distance)
        frame = pd.DataFrame(
            {
                "area_code": self.areas["area_code"],
                "area_name": self.areas["area_name"],
                "value": self.areas[share] * 100,
                "population": self.areas["population"],
                "population_beyond": self.areas[self.column("population", distance)],
                "no_data": self.areas["population"].fillna(0) <= 0,
                "low_coverage": False,
            }
        )
        indexed = frame.set_index("area_code")
        return frame, classify(indexed["value"].astype(float), "equal_interval", 5)


def check_distances(distances: Sequence[float]) -> tuple[float, ...]:
    """The distances sorted, or :class:`~mapping.errors.BadDistances` saying what is wrong.

    >>> check_distances([200, 50])
    (50.0, 200.0)
    """
    if not distances:
        return DEFAULT_DISTANCES_KM
    if len(distances) > 5:
        raise BadDistances("Give at most 5 distances, e.g. 50, 100 and 200 km.")
    bad = [d for d in distances if not 0 < float(d) <= MAX_DISTANCE_KM]
    if bad:
        raise BadDistances(
            f"Distances must be kilometres above 0 and at most {MAX_DISTANCE_KM:g}; "
            f"got {', '.join(f'{d:g}' for d in bad)}."
        )
    return tuple(sorted({float(d) for d in distances}))


def left_out(
    session: Session,
    actor: Actor,
    campaign: str,
    indicator: str,
    *,
    distances: Sequence[float] = DEFAULT_DISTANCES_KM,
    low_coverage_threshold: float = 0.5,
    with_geometry: bool = False,
) -> LeftOut:
    """The places and areas beyond each distance of the nearest centre offering what the
    indicator counts (see the module docstring).

    Raises :class:`~mapping.errors.BadDistances` for unusable distances,
    :class:`~mapping.errors.NotATechnology` for a median or mean (they say nothing about which
    centres offer it), and what :func:`mapping.service.indicator_map` raises.
    ``with_geometry`` adds the areas' web geometry for a map layer (:meth:`LeftOut.map_layer`).
    """
    authorize(actor, Permission.MAPS_READ)
    chosen = check_distances(distances)
    result = service.indicator_map(
        session,
        actor,
        MapRequest(
            campaign, indicator, low_coverage_threshold=low_coverage_threshold, geometry="none"
        ),
    )
    if result.spec.aggregation in {"median", "mean"}:
        raise NotATechnology(
            f"{result.label} is a {result.spec.aggregation}: it does not say which centres "
            "offer a technology. Choose an indicator that counts units or centres offering it."
        )
    offering = result.centres[result.centres["offers"]]
    study = set(result.frame["area_code"])
    level: Level = "nuts2" if queries.has_nuts2_regions(session) else "country"
    cities = load_cities()
    region = (
        layers.city_regions(session).to_numpy() if level == "nuts2" else cities["iso2"].to_numpy()
    )
    points = gpd.GeoDataFrame(
        {
            "geonameid": cities["geonameid"],
            "name": cities["name"],
            "country": cities["iso2"],
            "region": region,
            "population": cities["population"],
        },
        geometry=gpd.points_from_xy(cities["longitude"], cities["latitude"]),
        crs="EPSG:4326",
    )
    points = points[points["country"].isin(study)]
    source = " ".join([result.survey_note, PLACES_NOTE])
    layer = layers.web_layer(session, level) if with_geometry else None
    if not int(result.frame["responding"].sum()):
        return LeftOut(
            result.campaign,
            result.spec,
            chosen,
            level,
            pd.DataFrame(columns=PLACE_COLUMNS),
            _areas(session, level, points.iloc[0:0].assign(distance_km=[]), chosen),
            offering,
            source,
            "No centre has answered yet, so nothing is known about where the care is.",
            layer,
        )
    note = (
        None
        if len(offering)
        else "None of the centres that answered offers it at a known place: every place is "
        "beyond reach of a surveyed centre."
    )
    distance = nearest_distance_km(points, offering)
    places = pd.DataFrame(points.drop(columns="geometry")).assign(distance_km=distance.round(1))
    places["beyond_km"] = None
    for threshold in chosen:
        places.loc[places["distance_km"] > threshold, "beyond_km"] = threshold
    far = places[places["distance_km"] > chosen[0]]
    far = far.sort_values(
        ["population", "distance_km", "name"], ascending=[False, False, True], ignore_index=True
    )
    return LeftOut(
        result.campaign,
        result.spec,
        chosen,
        level,
        far[PLACE_COLUMNS],
        _areas(session, level, places, chosen),
        offering,
        source,
        note,
        layer,
    )


def _areas(
    session: Session, level: Level, places: pd.DataFrame, distances: tuple[float, ...]
) -> pd.DataFrame:
    countries = queries.area_countries(session, level)
    country_of = dict(zip(countries["area_code"], countries["country"], strict=True))
    names = (
        dict(queries.nuts2_regions(session))
        if level == "nuts2"
        else dict(queries.countries(session))
    )
    placed = places[places["region"].notna()]
    grouped = placed.groupby("region")
    table = pd.DataFrame({"population": grouped["population"].sum()})
    for threshold in distances:
        beyond = placed["population"].where(placed["distance_km"] > threshold, 0)
        table[f"population_beyond_{threshold:g}km"] = beyond.groupby(placed["region"]).sum()
    for threshold in distances:
        table[f"share_beyond_{threshold:g}km"] = (
            table[f"population_beyond_{threshold:g}km"] / table["population"]
        )
    table.index.name = "area_code"
    table = table.reset_index()
    table.insert(1, "area_name", [names.get(str(c), str(c)) for c in table["area_code"]])
    table.insert(2, "country", [country_of.get(str(c), str(c)[:2]) for c in table["area_code"]])
    order = [f"population_beyond_{d:g}km" for d in reversed(distances)]
    return table.sort_values(
        [*order, "area_code"], ascending=[False] * len(order) + [True], ignore_index=True
    )
