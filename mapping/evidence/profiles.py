"""Country profiles: every domain's indicators for one country, with its rank among the EU-27,
the EU-27 median, the benchmark, the shortfall (or excess) and the units needed, coverage,
access to care and the barriers its centres report.

Each indicator's figures come from :func:`mapping.service.indicator_map` (by country, without
geometry), so a profile says exactly what the map pages say; access to care is computed for the
indicators that count a technology (a sum or a count of "yes" divided by population or new
cancer cases), the ones whose centres "offer" something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from mapping import equity, queries, service
from mapping.access import share_beyond
from mapping.errors import CountryNotInStudy
from mapping.evidence.barriers import BarrierSummary, collect_barriers, domain_rank
from mapping.indicators import PER_UNIT, IndicatorSpec
from mapping.notes import sentences
from mapping.reads import CampaignReads
from mapping.service import ACCESS_THRESHOLDS_KM, BOUNDARIES_NOTE, IndicatorMap, MapRequest
from surveys.campaigns.models import Campaign
from surveys.policy import Actor, Permission, authorize

PROFILE_COLUMNS = [
    "domain",
    "indicator",
    "label",
    "unit",
    "lower_is_better",
    "value",
    "rank_eu27",
    "ranked_of",
    "eu27_median",
    "benchmark",
    "benchmark_label",
    "gap",
    "gap_kind",
    "units_needed",
    "responding",
    "expected",
    "coverage",
    "low_coverage",
    "no_data",
    "denominator_source",
    "denominator_year",
    "population_counted",
    "beyond_50km",
    "beyond_100km",
    "beyond_200km",
]


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator of a country profile (the columns of :data:`PROFILE_COLUMNS`).

    ``rank_eu27`` is 1 for the best of the ``ranked_of`` member states with data (the highest
    value, or the lowest when lower is better), None for a country outside the EU or without
    data. ``gap`` is the shortfall below the benchmark, or the excess over it when lower is
    better (``gap_kind``). The access figures are None where they were not computed.
    """

    domain: str
    indicator: str
    label: str
    unit: str
    lower_is_better: bool
    value: float | None
    rank_eu27: int | None
    ranked_of: int
    eu27_median: float | None
    benchmark: float | None
    benchmark_label: str | None
    gap: float | None
    gap_kind: str
    units_needed: int | None
    responding: int
    expected: int
    coverage: float | None
    low_coverage: bool
    no_data: bool
    denominator_source: str | None
    denominator_year: int | None
    population_counted: float | None = None
    beyond_50km: float | None = None
    beyond_100km: float | None = None
    beyond_200km: float | None = None

    @property
    def share_of_benchmark(self) -> float | None:
        """The value as a share of the benchmark (1.0 = at the benchmark)."""
        if self.value is None or not self.benchmark:
            return None
        return self.value / self.benchmark

    def cells(self) -> list[Any]:
        return [getattr(self, column) for column in PROFILE_COLUMNS]


@dataclass(frozen=True, eq=False)
class CountryProfile:
    """Everything one country's page, CSV and figure show."""

    campaign: Campaign
    country: str
    country_name: str
    eu_member: bool
    reference_year: int
    lines: tuple[IndicatorLine, ...]
    barriers: BarrierSummary
    source_note: str

    def by_domain(self) -> dict[str, list[IndicatorLine]]:
        """The lines by domain, the centre profile first, then the domains in their usual order."""
        grouped: dict[str, list[IndicatorLine]] = {}
        for line in sorted(self.lines, key=lambda x: domain_rank(x.domain)):
            grouped.setdefault(line.domain, []).append(line)
        return grouped

    def table_rows(self) -> list[list[Any]]:
        """A header row, then one row per indicator, for a CSV."""
        return [["country", *PROFILE_COLUMNS], *([self.country, *x.cells()] for x in self.lines)]


def country_profile(
    session: Session,
    actor: Actor,
    campaign: str,
    country: str,
    *,
    language: str = "en",
    low_coverage_threshold: float = 0.5,
) -> CountryProfile:
    """The profile of one country (ISO alpha-2) in one campaign, over the domains the actor may
    see. Raises :class:`~mapping.errors.CountryNotInStudy` when the campaign expects no centre
    there."""
    authorize(actor, Permission.MAPS_READ)
    chosen = queries.campaign(session, actor, campaign)
    code = country.strip().upper()
    reads = CampaignReads(session, chosen)
    if code not in set(reads.expected()["country"]):
        raise CountryNotInStudy(
            f"The campaign expects no centre in {country!r}; use the ISO alpha-2 code of a "
            "country the campaign covers (e.g. FR)."
        )
    members = reads.area_countries("country")
    eu = set(members.loc[members["eu_member"], "area_code"])
    declared = queries.declared_indicators(session, actor, chosen)
    maps = service.indicator_maps(
        session,
        actor,
        [
            MapRequest(
                chosen.slug,
                d.spec.id,
                "country",
                low_coverage_threshold=low_coverage_threshold,
                geometry="none",
            )
            for d in declared
        ],
        reads=reads,
    )
    lines = [
        _line(d.domain or "profile", result, code, eu, _access_in(reads, code, result))
        for d, result in zip(declared, maps, strict=True)
    ]
    # One note: the survey once, each distinct denominator note once, the boundaries.
    notes = dict.fromkeys(
        [maps[0].survey_note if maps else "", *(m.denominator_note for m in maps)]
    )
    notes[BOUNDARIES_NOTE["country"]] = None
    year = maps[-1].reference_year if maps else None
    names = dict(queries.countries(session))
    barriers = collect_barriers(session, actor, chosen, None, code, language, reads=reads)
    return CountryProfile(
        chosen,
        code,
        names.get(code, code),
        code in eu,
        year if year is not None else chosen.created_at.year,
        tuple(lines),
        barriers,
        sentences(*notes),
    )


def counts_technology(spec: IndicatorSpec) -> bool:
    """Whether an indicator counts a technology centres offer (so access to it means something):
    a sum or count of "yes" per inhabitant or per new cancer case."""
    return spec.aggregation in {"sum", "count_yes"} and spec.denominator in PER_UNIT


def _access_in(reads: CampaignReads, code: str, result: IndicatorMap) -> dict[str, Any]:
    """The country's people (in counted places) and the share of them beyond 50, 100 and
    200 km of the nearest centre offering what the indicator counts, in any country: the
    figures of the map's access table (:func:`mapping.service.indicator_map` with access),
    computed for this country's places only. Empty where access means nothing or nothing is
    known about where the care is (no centre answered, or none with coordinates)."""
    if not counts_technology(result.spec) or not len(result.centres):
        return {}
    points = reads.population_points("country")
    mine = points[points["area_code"] == code]
    if not len(mine):
        return {}
    offering = result.centres[result.centres["offers"]]
    table = share_beyond(mine, offering, "area_code", ACCESS_THRESHOLDS_KM)
    return {str(k): v for k, v in table.loc[code].to_dict().items()} if code in table.index else {}


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _line(
    domain: str, result: IndicatorMap, code: str, eu: set[str], access: dict[str, Any]
) -> IndicatorLine:
    frame = result.frame.set_index("area_code")
    row = {str(k): v for k, v in frame.loc[code].to_dict().items()}
    higher = result.spec.higher_is_better
    with_data = frame[~frame["no_data"] & frame["value"].notna()]
    eu_values = with_data.loc[with_data.index.isin(eu), "value"].astype(float)
    value = None if bool(row["no_data"]) else _number(row["value"])
    rank = None
    if value is not None and code in eu and len(eu_values):
        better = eu_values > value if higher else eu_values < value
        rank = int(better.sum()) + 1
    median = (
        equity.benchmark_value(eu_values, "eu_median", higher_is_better=higher)
        if len(eu_values)
        else None
    )
    year = row["denominator_year"]
    return IndicatorLine(
        domain=domain,
        indicator=result.spec.id,
        label=result.label,
        unit=result.unit,
        lower_is_better=result.spec.lower_is_better,
        value=value,
        rank_eu27=rank,
        ranked_of=len(eu_values),
        eu27_median=_number(median),
        benchmark=_number(result.equity.benchmark),
        benchmark_label=result.equity.benchmark_label,
        gap=_number(result.equity.gaps.get(code)),
        gap_kind=result.equity.gap_kind,
        units_needed=result.equity.units_needed.get(code),
        responding=int(row["responding"]),
        expected=int(row["expected"]),
        coverage=_number(row["coverage"]),
        low_coverage=bool(row["low_coverage"]),
        no_data=bool(row["no_data"]),
        denominator_source=row["denominator_source"],
        denominator_year=None if pd.isna(year) else int(year),
        population_counted=_number(access.get("population")),
        beyond_50km=_number(access.get("beyond_50km")),
        beyond_100km=_number(access.get("beyond_100km")),
        beyond_200km=_number(access.get("beyond_200km")),
    )
