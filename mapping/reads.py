"""The reads of one campaign that every indicator shares, made once per use case call.

A map page computes one indicator; a country profile computes every indicator of the campaign
(about fifty in the demo). Each needs its questionnaire's responses (with their answers decoded
and turned into expression contexts), the centres the campaign expects, the areas with their
denominators and, for access to care, the population points. :class:`CampaignReads` reads each
of them the first time an indicator asks and hands the same object to the next one. It lives
for one use case call, in one session and transaction, so it never serves stale data; callers
treat what it returns as read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from mapping import layers, queries
from mapping.populations import areas_frame
from mapping.queries import Level
from mapping.reference import load_cities
from surveys.campaigns.models import Campaign
from surveys.questionnaires.answers import expression_context

T = TypeVar("T")
PROJECTED_CRS = "EPSG:3035"


class CampaignReads:
    """One campaign's shared reads, each made on first use (see the module docstring)."""

    def __init__(self, session: Session, campaign: Campaign) -> None:
        self.session = session
        self.campaign = campaign
        self._memo: dict[Hashable, Any] = {}

    def once(self, key: Hashable, read: Callable[[], T]) -> T:
        """What ``read`` returns, read on the first call with this key only."""
        if key not in self._memo:
            self._memo[key] = read()
        found: T = self._memo[key]
        return found

    def responses(self, form_id: str) -> pd.DataFrame:
        """The submitted and approved responses to one questionnaire
        (:func:`mapping.queries.final_responses`)."""
        return self.once(
            ("responses", form_id),
            lambda: queries.final_responses(self.session, self.campaign, form_id),
        )

    def contexts(self, form_id: str) -> list[dict[str, object]]:
        """What expressions see of each response's answers, in the order of :meth:`responses`."""
        return self.once(
            ("contexts", form_id),
            lambda: [
                expression_context(a if isinstance(a, dict) else {})
                for a in self.responses(form_id)["answers"]
            ],
        )

    def expected(self) -> pd.DataFrame:
        """The centres the campaign expects answers from
        (:func:`mapping.queries.expected_centres`)."""
        return self.once("expected", lambda: queries.expected_centres(self.session, self.campaign))

    def area_countries(self, level: Level) -> pd.DataFrame:
        """The areas of a level with their country and EU membership."""
        return self.once(
            ("area_countries", level), lambda: queries.area_countries(self.session, level)
        )

    def areas(self, level: Level, codes: frozenset[str], reference_year: int) -> pd.DataFrame:
        """The areas with their denominators of the year closest to ``reference_year``
        (:func:`mapping.populations.areas_frame`)."""
        return self.once(
            ("areas", level, codes, reference_year),
            lambda: areas_frame(self.session, level, set(codes), reference_year=reference_year),
        )

    def population_points(self, level: Level) -> gpd.GeoDataFrame:
        """The packaged GeoNames places as population points in EPSG:3035, with the area
        (country or NUTS-2 region, None outside every region) each lies in."""

        def read() -> gpd.GeoDataFrame:
            cities = load_cities()
            areas = (
                cities["iso2"].to_numpy()
                if level == "country"
                else layers.city_regions(self.session).to_numpy()
            )
            points = gpd.GeoDataFrame(
                {"population": cities["population"].astype(float), "area_code": areas},
                geometry=gpd.points_from_xy(cities["longitude"], cities["latitude"]),
                crs="EPSG:4326",
            )
            return points.to_crs(PROJECTED_CRS)

        return self.once(("population_points", level), read)
