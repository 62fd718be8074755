"""Which figure divides each area's numerator: the official one of the year closest to the
campaign's reference year, in the active NUTS version, or a labelled stand-in.

Pure functions, frames in, frames out; :mod:`mapping.populations` does the reads.

- **Nearest year.** Each area takes its official figure of the year closest to the reference
  year; of two equally close years the later one; of two figures of one year, the one loaded
  last. Areas may end up on different years (the United Kingdom has Eurostat figures for 2019
  only); each says which.
- **One NUTS version.** A regional figure is used in the version its code belongs to, or moved
  to the active version with the JRC NUTS converter's 2021 population weights
  (:func:`in_version`): a 2021 region split in 2024 hands each part its share, a 2024 region
  that took a piece of another gets it back. Regions that map one to one keep their figure
  unchanged and unlabelled.
- **Stand-ins only where no official figure exists**, labelled as such; when more than a tenth
  of a map's areas rest on them, :class:`DenominatorSummary` says so plainly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from mapping.official import JRC_CONVERTER

FIGURE_COLUMNS = ["area_code", "year", "value", "source", "nuts_version"]
CHOSEN_COLUMNS = ["area_code", "value", "source", "year"]
STANDIN_SHARE_LIMIT = 0.10
"""Above this share of a map's areas on stand-ins, the panel and the figure note say so."""

CONVERTIBLE = ("2021", "2024")
STANDIN_PREFIX = "stand-in:"
"""How every stand-in's source begins."""
CITY_STANDIN = (
    "stand-in: GeoNames places of 15,000+ inhabitants in the region (an undercount); "
    "no official figure"
)
COUNTRY_STANDIN = "stand-in: GeoNames country population (year not stated); no official figure"
MOVED = ", NUTS figures moved from NUTS "
"""What a source says when its figure was moved between NUTS versions."""


def reference_year(
    answered_years: Iterable[object], opened_year: int | None, created_year: int
) -> int:
    """The campaign's reference year: what most respondents say their figures refer to.

    The questionnaires ask it (``*_reference_year``); the most common answer wins (the later
    of equally common ones). Without answers, the year the campaign opened, else the year it
    was created.

    Examples
    --------
    >>> reference_year([2024, 2025, 2025, "2025", None], 2026, 2026)
    2025
    >>> reference_year([], 2026, 2025), reference_year([], None, 2025)
    (2026, 2025)
    """
    years: Counter[int] = Counter()
    for value in answered_years:
        try:
            year = int(str(value))
        except ValueError:
            continue
        if 1900 <= year <= 2100:
            years[year] += 1
    if years:
        return max(years, key=lambda y: (years[y], y))
    return opened_year if opened_year is not None else created_year


def version_weights(
    correspondence: pd.DataFrame, from_version: str, to_version: str
) -> pd.DataFrame:
    """How a figure of a ``from_version`` region spreads over ``to_version`` regions.

    Returns
    -------
    pandas.DataFrame
        ``from_code``, ``to_code`` and ``weight``: the share of the ``from_code`` region's
        population (2021 population grid) that lies in ``to_code``; the weights of one
        ``from_code`` add up to 1. Empty for a pair of versions the correspondence does not link.

    Examples
    --------
    >>> jrc = pd.DataFrame({"code_v2021": ["PT17", "PT17", "AT11"],
    ...     "code_v2024": ["PT1A", "PT1B", "AT11"], "pop21": [3.0, 1.0, 5.0]})
    >>> weights = version_weights(jrc, "2021", "2024")
    >>> weights["to_code"].tolist(), weights["weight"].tolist()
    (['AT11', 'PT1A', 'PT1B'], [1.0, 0.75, 0.25])
    """
    columns = ["from_code", "to_code", "weight"]
    if {from_version, to_version} != set(CONVERTIBLE):
        return pd.DataFrame(columns=columns)
    source, target = f"code_v{from_version}", f"code_v{to_version}"
    frame = correspondence.rename(columns={source: "from_code", target: "to_code"})
    totals = frame.groupby("from_code")["pop21"].transform("sum")
    frame = frame.assign(weight=(frame["pop21"] / totals).where(totals > 0, 1.0))
    return frame[columns].sort_values(["from_code", "to_code"], ignore_index=True)


def in_version(
    figures: pd.DataFrame, version: str, codes: Iterable[str], correspondence: pd.DataFrame
) -> pd.DataFrame:
    """The regional figures of ``codes``, all expressed in NUTS ``version``.

    Figures of that version (or naming none) are kept; figures of the other version are moved
    with :func:`version_weights`. A region outside the correspondence keeps its code across
    versions. A moved figure exists for a year only when every region it is made of has a
    figure of that year and source.

    Parameters
    ----------
    figures
        ``area_code``, ``year``, ``value``, ``source``, ``nuts_version``, in the order they were
        loaded (the last of equals wins later).
    version
        The NUTS version of the map.
    codes
        The regions of that version.
    correspondence
        :func:`mapping.official.nuts_correspondence`.

    Returns
    -------
    pandas.DataFrame
        ``area_code``, ``year``, ``value``, ``source`` (naming the move when a figure moved)
        and ``order`` (the load order, moved figures after the direct ones).
    """
    wanted = set(codes)
    figures = figures.reset_index(drop=True)
    same = figures["nuts_version"].isna() | (figures["nuts_version"] == version)
    direct = figures[same & figures["area_code"].isin(wanted)]
    columns = ["area_code", "year", "value", "source", "order", "base"]
    parts = [direct.assign(order=direct.index, base=direct["source"])[columns]]
    for other in sorted(set(figures.loc[~same, "nuts_version"].dropna()) - {version}):
        weights = version_weights(correspondence, str(other), version)
        outside = set(weights["from_code"]) | set(weights["to_code"])
        kept = sorted(wanted - outside)
        weights = pd.concat(
            [weights, pd.DataFrame({"from_code": kept, "to_code": kept, "weight": 1.0})],
            ignore_index=True,
        )
        weights = weights[weights["to_code"].isin(wanted)]
        moved = _moved(figures[figures["nuts_version"] == other], weights, str(other), version)
        parts.append(moved.assign(order=len(figures) + moved.index))
    combined = pd.concat(parts, ignore_index=True)
    # A figure in the map's own version beats a moved one of the same area, year and source.
    combined = combined.drop_duplicates(["area_code", "year", "base"], keep="first")
    return combined.drop(columns="base").reset_index(drop=True)


def _moved(figures: pd.DataFrame, weights: pd.DataFrame, other: str, version: str) -> pd.DataFrame:
    needed = weights.groupby("to_code")["from_code"].nunique()
    joined = figures.merge(weights, left_on="area_code", right_on="from_code")
    joined = joined.assign(part=joined["value"] * joined["weight"])
    grouped = (
        joined.groupby(["to_code", "year", "source"])
        .agg(value=("part", "sum"), sources=("from_code", "nunique"))
        .reset_index()
    )
    complete = grouped[grouped["sources"] == grouped["to_code"].map(needed)]
    one_to_one = set(
        weights[(weights["from_code"] == weights["to_code"]) & (weights["weight"] == 1.0)][
            "to_code"
        ]
    ) - set(weights[weights["from_code"] != weights["to_code"]]["to_code"])
    labels = [
        source
        if code in one_to_one
        else f"{source}{MOVED}{other} to NUTS {version} ({JRC_CONVERTER})"
        for code, source in zip(complete["to_code"], complete["source"], strict=True)
    ]
    return pd.DataFrame(
        {
            "area_code": complete["to_code"].to_numpy(),
            "year": complete["year"].astype(int).to_numpy(),
            "value": [round(float(v)) for v in complete["value"]],
            "source": labels,
            "base": complete["source"].to_numpy(),
        }
    )


def nearest_year(figures: pd.DataFrame, year: int) -> pd.DataFrame:
    """Each area's figure of the year closest to ``year`` (the later of two as close; of one
    year, the figure loaded last).

    Examples
    --------
    >>> figures = pd.DataFrame({"area_code": ["A", "A", "A", "B"],
    ...     "year": [2019, 2023, 2024, 2019], "value": [1, 2, 3, 4], "source": ["s"] * 4,
    ...     "order": [0, 1, 2, 3]})
    >>> nearest_year(figures, 2025)[["area_code", "year"]].to_dict("list")
    {'area_code': ['A', 'B'], 'year': [2024, 2019]}
    >>> nearest_year(figures, 2021)["year"].tolist()  # 2019 and 2023 as close: the later
    [2023, 2019]
    """
    if figures.empty:
        return pd.DataFrame(columns=CHOSEN_COLUMNS)
    order = figures["order"] if "order" in figures else pd.Series(range(len(figures)))
    ranked = figures.assign(
        distance=(figures["year"].astype(int) - year).abs(),
        later=-figures["year"].astype(int),
        loaded=-order.to_numpy(),
    ).sort_values(["area_code", "distance", "later", "loaded"], kind="stable")
    chosen = ranked.drop_duplicates("area_code", keep="first")
    return chosen[CHOSEN_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class DenominatorSummary:
    """Which denominators a map's areas rest on: sources and years, and the stand-ins.

    ``measure`` says what divides ("Population", "New cancer cases"); ``uses`` counts the areas
    per (source, year), most used first; ``standins`` are the codes of the areas on a
    stand-in; ``missing`` those with no denominator at all.
    """

    level: str
    areas: int
    measure: str
    uses: tuple[tuple[str, int | None, int], ...]
    standins: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def standin_share(self) -> float:
        """The share of the areas on stand-ins (0 for no area)."""
        return len(self.standins) / self.areas if self.areas else 0.0

    @property
    def warning(self) -> str | None:
        """A plain sentence when more than a tenth of the areas rest on stand-ins."""
        if self.standin_share <= STANDIN_SHARE_LIMIT:
            return None
        kind = "regions" if self.level == "nuts2" else "countries"
        return (
            f"Warning: {len(self.standins)} of {self.areas} {kind} "
            f"({self.standin_share:.0%}) have no official denominator and rest on GeoNames "
            "stand-ins, which are approximate; compare their values with care."
        )

    def note(self) -> str:
        """One short sentence for a figure's note: each source with its years and the areas on
        each (most used first), the figures moved between NUTS versions, the stand-ins.

        Examples
        --------
        >>> summary = DenominatorSummary("nuts2", 6, "Population", (
        ...     ("Eurostat demo_r_pjangroup", 2024, 3), ("Eurostat demo_r_pjangroup", 2019, 1),
        ...     (f"Eurostat demo_r_pjangroup{MOVED}2024 to NUTS 2021 (x)", 2024, 1),
        ...     (CITY_STANDIN, None, 1)), ("UKN0",), ())
        >>> summary.note()
        'Population: Eurostat demo_r_pjangroup, 2024 (4 areas, 1 moved from NUTS 2024 by the \
JRC NUTS converter), 2019 (1); GeoNames stand-in (1 area).'
        """
        if not self.uses:
            return "No denominator: counts or shares of the responding centres."
        years: dict[str, dict[int | None, list[int]]] = {}
        standins = 0
        for source, year, count in self.uses:
            if source.startswith(STANDIN_PREFIX):
                standins += count
                continue
            base, _, moved_from = source.partition(MOVED)
            counts = years.setdefault(base, {}).setdefault(year, [0, 0])
            counts[0] += count
            counts[1] += count if moved_from else 0
        parts = []
        for base, by_year in years.items():
            shown = []
            for index, (year, (count, moved)) in enumerate(
                sorted(by_year.items(), key=lambda item: -item[1][0])
            ):
                label = f"{count} {'area' if count == 1 else 'areas'}" if index == 0 else str(count)
                if moved:
                    version = _moved_version(source_of(base, year, self.uses))
                    label += f", {moved} moved from NUTS {version} by the JRC NUTS converter"
                shown.append(f"{year if year is not None else 'year not stated'} ({label})")
            parts.append(f"{base}, {', '.join(shown)}")
        if standins:
            parts.append(f"GeoNames stand-in ({standins} {'area' if standins == 1 else 'areas'})")
        return f"{self.measure}: {'; '.join(parts)}."


def summarise(
    frame: pd.DataFrame, level: str, *, divided: bool, measure: str = "Population"
) -> DenominatorSummary:
    """The denominators an indicator frame (:func:`mapping.indicators.indicator_by_area`)
    rests on; nothing when its values are not ``divided`` by a reference figure."""
    uses: Counter[tuple[str, int | None]] = Counter()
    standins: list[str] = []
    missing: list[str] = []
    areas = 0
    for row in frame.to_dict("records") if divided else []:
        areas += 1
        source, year = row.get("denominator_source"), row.get("denominator_year")
        if not isinstance(source, str) or not source:
            missing.append(str(row["area_code"]))
            continue
        uses[(source, _year(year))] += 1
        if bool(row.get("denominator_standin")):
            standins.append(str(row["area_code"]))
    ordered = sorted(uses.items(), key=lambda item: (-item[1], item[0][0], -(item[0][1] or 0)))
    return DenominatorSummary(
        level=level,
        areas=areas,
        measure=measure,
        uses=tuple((source, year, count) for (source, year), count in ordered),
        standins=tuple(sorted(standins)),
        missing=tuple(sorted(missing)),
    )


def standin_counts(official: Mapping[str, object], codes: Iterable[str]) -> tuple[int, int]:
    """How many of ``codes`` have an official figure, and how many would need a stand-in."""
    listed = list(codes)
    covered = sum(1 for code in listed if code in official)
    return covered, len(listed) - covered


def source_of(base: str, year: int | None, uses: Iterable[tuple[str, int | None, int]]) -> str:
    """The first moved source label of ``base`` and ``year`` among ``uses``."""
    return next(s for s, y, _ in uses if y == year and s.startswith(base + MOVED))


def _moved_version(source: str) -> str:
    return source.partition(MOVED)[2][:4]


def _year(value: object) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(float(str(value)))
