"""The map use cases: one indicator's map for one view, computed once, rendered many ways.

A view (the map page, its CSV table, a figure download, a JSON route, the CLI) names what it
wants in a :class:`MapRequest` and calls :func:`indicator_map` once. That reads the campaign's
indicators once (within the actor's domains), its responses once, evaluates each numerator once,
and returns an :class:`IndicatorMap` holding everything the view renders: the indicator per area,
its classes, the centres, the equity figures and, when asked, the geometry and the access
figures. The pure steps live in :mod:`mapping.indicators`, :mod:`mapping.classify`,
:mod:`mapping.equity_summary` and :mod:`mapping.access`; the reads in :mod:`mapping.queries`;
the geometry in :mod:`mapping.layers`. Boundary and population imports are in
:mod:`mapping.imports`.

Why one module past 400 lines: the request, the result it returns and the one computation
behind every view are read together; the pure steps it calls live in their own modules.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TypeAlias, TypeVar

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from mapping import denominators, indicators, layers, queries
from mapping.access import access_by_area
from mapping.cache import VIEWS, with_nonce
from mapping.classify import Classification, Scheme, classify, shared_classification
from mapping.denominators import DenominatorSummary
from mapping.equity_summary import BenchmarkAreas, EquitySummary, equity_summary
from mapping.errors import (
    IncomparableUnits,
    IndicatorNotFound,
    NoMapCampaign,
    NoRegionalDenominator,
    NoRegions,
)
from mapping.indicators import IndicatorSpec, indicator_by_area
from mapping.notes import LEVEL_LABELS, sentences
from mapping.official import BOUNDARY_ATTRIBUTION
from mapping.queries import Level
from mapping.reads import CampaignReads
from surveys.campaigns.models import Campaign
from surveys.demo.reference import SYNTHETIC_SOURCE
from surveys.policy import Actor, Permission, authorize, domain_scoped

if TYPE_CHECKING:
    from mapping.render import Format

Geometry: TypeAlias = Literal["none", "web", "print"]
_T = TypeVar("_T")
ACCESS_THRESHOLDS_KM = (50.0, 100.0, 200.0)
ACCESS_CATCHMENT_KM = 100.0
ACCESS_COLUMNS = [
    "area_code",
    "population",
    *(f"beyond_{km:g}km" for km in ACCESS_THRESHOLDS_KM),
    "e2sfca_per_100k",
]
BOUNDARIES_NOTE = {
    "country": "Boundaries: Natural Earth.",
    "nuts2": f"NUTS regions {BOUNDARY_ATTRIBUTION}.",
}
MEASURES = {"population_per_million": "Population", "new_cases_per_thousand": "New cancer cases"}


@dataclass(frozen=True)
class MapRequest:
    """One view of one indicator's map, as an adapter parsed it.

    Attributes
    ----------
    campaign : str
        The campaign's slug.
    indicator : str
        The indicator's id.
    level : {"country", "nuts2"}
        The areas.
    scheme, classes
        How values are classed (:func:`mapping.classify.classify`).
    low_coverage_threshold : float
        The share of expected centres below which an area is "low coverage".
    geometry : {"none", "web", "print"}
        The areas' geometry the view draws: simplified for the browser, whole for print, none.
    with_access : bool
        Whether the view shows access to care (distances, E2SFCA): it costs more than the rest.

    The actor is passed beside the request: its domains decide which indicators exist for it.
    """

    campaign: str
    indicator: str
    level: Level = "country"
    scheme: Scheme = "quantiles"
    classes: int = 5
    low_coverage_threshold: float = 0.5
    geometry: Geometry = "web"
    with_access: bool = False


@dataclass(frozen=True)
class MapKey:
    """What a computed map is kept under: the view (database, request, the actor's scope) and
    the data version it was computed from (:func:`mapping.queries.data_version`)."""

    view: Hashable
    version: Hashable


@dataclass(frozen=True, eq=False)
class IndicatorMap:
    """Everything one view of an indicator map shows, computed once.

    ``frame`` is the indicator per area of the study (the columns of
    :func:`mapping.indicators.indicator_by_area`): the countries where the campaign expects
    centres, or their NUTS-2 regions. ``areas`` is the same on geometry unless the request asked
    for none: every area of the layer, those outside the study unclassified (drawn grey, "Outside
    the study"). ``access`` is the access to care per area when the request asked for it, empty
    with ``access_note`` saying why when it cannot be computed (no centre has answered, or none
    that answered has coordinates); ``specs`` are every indicator of the campaign the actor may
    see (for a page's indicator choice).
    """

    campaign: Campaign
    spec: IndicatorSpec
    specs: tuple[IndicatorSpec, ...]
    level: Level
    frame: pd.DataFrame
    classification: Classification
    centres: gpd.GeoDataFrame
    equity: EquitySummary
    denominators: DenominatorSummary
    reference_year: int
    areas: gpd.GeoDataFrame | None = None
    access: pd.DataFrame | None = None
    access_note: str | None = None
    cache_key: MapKey | None = None

    @property
    def label(self) -> str:
        """The indicator's English label (its id when it has none)."""
        return self.spec.label.get("en") or self.spec.id

    @property
    def unit(self) -> str:
        """The indicator's English unit, or an empty string."""
        return self.spec.unit.get("en", "")

    @property
    def value_label(self) -> str:
        """What a value is, with its unit, and "lower is better" where it is: "PET/CT per
        million (units per million)", "Median wait (weeks); lower is better"."""
        label = f"{self.label} ({self.unit})" if self.unit else self.label
        return f"{label}; lower is better" if self.spec.lower_is_better else label

    @property
    def level_label(self) -> str:
        """The areas, as a title says them: "by country", "by NUTS-2 region"."""
        return LEVEL_LABELS[self.level]

    @property
    def figure_title(self) -> str:
        """A figure's title: the indicator and the areas."""
        return f"{self.label}, {self.level_label}"

    @property
    def figure_subtitle(self) -> str:
        """The line under a figure's title: the survey wave."""
        return f"Survey wave: {self.campaign.name}"

    @property
    def figure_legend_title(self) -> str:
        """A figure's legend title: the unit (the indicator is in the title), and "lower is
        better" where it is."""
        unit = self.unit or self.label
        unit = unit[:1].upper() + unit[1:]
        return f"{unit}; lower is better" if self.spec.lower_is_better else unit

    @property
    def denominator_note(self) -> str:
        """Where the denominators come from, with their years, as the table's rows say."""
        return sentences(self.denominators.note() or "", self.denominators.warning or "")

    @property
    def survey_note(self) -> str:
        """The survey wave a map shows and the year its figures refer to, as its note says it."""
        return survey_line(self.campaign, str(self.reference_year))

    @property
    def source_note(self) -> str:
        """The line under a map or figure: the survey, the denominators (sources and years, and
        a plain warning when many are stand-ins), the boundaries."""
        return sentences(self.survey_note, self.denominator_note, BOUNDARIES_NOTE[self.level])

    @property
    def denominator_warning(self) -> str | None:
        """A plain sentence when more than a tenth of the areas rest on stand-in figures."""
        return self.denominators.warning

    def geometry(self) -> gpd.GeoDataFrame:
        """The areas on geometry; ValueError when the request asked for none."""
        if self.areas is None:
            raise ValueError("the map was computed without geometry; ask for 'web' or 'print'")
        return self.areas

    def kept(self, part: str, build: Callable[[], _T]) -> _T:
        """A part derived from this map (the page's rows, a figure), built once per map and
        data version (every time for a map computed outside the cache)."""
        key = self.cache_key
        if key is None:
            return build()
        return VIEWS.get_or_build((part, key), build, family=key.view, version=key.version)

    def fragment(self, part: str, nonce: str, render: Callable[[str], str]) -> str:
        """An HTML fragment of this map, rendered once per map and data version with a
        placeholder nonce and served with ``nonce`` (``render`` takes the nonce)."""
        key = self.cache_key
        if key is None:
            return render(nonce)
        return with_nonce((part, key), nonce, render, family=key.view, version=key.version)

    def table_records(self) -> list[dict[Hashable, Any]]:
        """The rows of the page's table, by area name."""
        return self.kept("records", lambda: self.frame.sort_values("area_name").to_dict("records"))

    def access_by_area(self) -> dict[str, dict[str, Any]]:
        """The access figures keyed by area code (empty when the request did not ask)."""
        return self.kept("access", self._access_by_area)

    def _access_by_area(self) -> dict[str, dict[str, Any]]:
        if self.access is None:
            return {}
        table: dict[str, dict[str, Any]] = {}
        for row in self.access.to_dict("records"):
            cells = {str(column): value for column, value in row.items()}
            table[str(cells.pop("area_code"))] = cells
        return table

    def table_rows(self) -> list[list[Any]]:
        """The table behind the map: a header row, then one row per area (missing as None)."""
        frame = self.frame
        values = frame.astype(object).where(frame.notna(), None).values.tolist()
        return [list(frame.columns), *values]


@dataclass(frozen=True)
class MapIndex:
    """The campaigns with maps, the chosen one, and its indicators by domain."""

    campaigns: list[Campaign]
    campaign: Campaign | None
    by_domain: dict[str, list[IndicatorSpec]]


def map_index(session: Session, actor: Actor, campaign: str | None = None) -> MapIndex:
    """The indicators of a campaign (the newest by default) the actor may see, by domain."""
    authorize(actor, Permission.MAPS_READ)
    campaigns = queries.map_campaigns(session, actor)
    chosen = queries.campaign(session, actor, campaign) if campaign else next(iter(campaigns), None)
    by_domain: dict[str, list[IndicatorSpec]] = {}
    if chosen is not None:
        for declared in queries.declared_indicators(session, actor, chosen):
            by_domain.setdefault(declared.domain or "profile", []).append(declared.spec)
    return MapIndex(campaigns, chosen, by_domain)


def indicator_specs(session: Session, actor: Actor, campaign: str) -> list[IndicatorSpec]:
    """The indicators the campaign's questionnaires declare, within the actor's domains."""
    authorize(actor, Permission.MAPS_READ)
    chosen = queries.campaign(session, actor, campaign)
    return [d.spec for d in queries.declared_indicators(session, actor, chosen)]


def indicator_map(session: Session, actor: Actor, request: MapRequest) -> IndicatorMap:
    """One indicator's map for one view, from submitted and approved responses only.

    Raises :class:`~mapping.errors.IndicatorNotFound` for an indicator the campaign does not
    declare within the actor's domains, :class:`~mapping.errors.NoRegions` for a NUTS-2 map
    before regions are imported.
    """
    authorize(actor, Permission.MAPS_READ)
    campaign = queries.campaign(session, actor, request.campaign)
    # The same view of the same data is computed once (mapping.cache): the key names the
    # database, the data version, the request and what bounds what the actor sees (the
    # indicators of its domains, the centres of its countries).
    scope = (actor.kind, actor.role, actor.domains, actor.countries)
    view = (str(session.get_bind().engine.url), request, scope)
    version = queries.data_version(session, campaign)
    key = MapKey(view, version)
    computed = VIEWS.get_or_build(
        ("map", key),
        lambda: indicator_maps(session, actor, [request])[0],
        family=view,
        version=version,
    )
    return replace(computed, campaign=campaign, cache_key=key)


def indicator_maps(
    session: Session,
    actor: Actor,
    requests: Sequence[MapRequest],
    *,
    reads: CampaignReads | None = None,
) -> list[IndicatorMap]:
    """Several indicators' maps of one campaign (a country profile's every indicator), in the
    order asked: the campaign's responses, centres, areas and population points are read once
    for all of them (:class:`mapping.reads.CampaignReads`; pass ``reads`` to share them with
    the rest of a use case).

    Raises what :func:`indicator_map` raises, and ValueError when the requests name more than
    one campaign.
    """
    authorize(actor, Permission.MAPS_READ)
    if not requests:
        return []
    slugs = {r.campaign for r in requests}
    if len(slugs) > 1:
        raise ValueError(f"indicator_maps takes one campaign, got {sorted(slugs)}")
    campaign = queries.campaign(session, actor, requests[0].campaign)
    specs = tuple(d.spec for d in queries.declared_indicators(session, actor, campaign))
    by_id = {s.id: s for s in specs}
    if reads is None or reads.campaign.id != campaign.id:
        reads = CampaignReads(session, campaign)
    shown = frozenset(actor.countries) if domain_scoped(actor) and actor.countries else None
    maps = []
    for request in requests:
        spec = by_id.get(request.indicator)
        if spec is None:
            raise IndicatorNotFound(f"The campaign declares no indicator {request.indicator!r}.")
        if request.level == "nuts2" and not queries.has_nuts2_regions(session):
            raise NoRegions(
                "No NUTS-2 regions are loaded; import them with "
                "'accessgap geo import-boundaries FILE --level 2'."
            )
        if request.level == "nuts2" and spec.denominator == "new_cases_per_thousand":
            raise NoRegionalDenominator(
                f"{spec.label.get('en') or spec.id} is counted per 1,000 new cancer cases, "
                "which GLOBOCAN estimates per country only; show it by country."
            )
        maps.append(_compute(reads, spec, specs, request, centre_countries=shown))
    return maps


def indicator_values(
    session: Session, actor: Actor, request: MapRequest
) -> tuple[IndicatorSpec, pd.DataFrame]:
    """The indicator per area and its spec, without geometry (for exports and tables)."""
    result = indicator_map(session, actor, replace(request, geometry="none"))
    return result.spec, result.frame


@dataclass(frozen=True)
class FigureSeries:
    """Indicator maps of one campaign on print geometry, classed together so they compare."""

    campaign: Campaign
    maps: list[IndicatorMap]

    @property
    def source_note(self) -> str:
        """The survey line of each figure of the series (each figure adds its denominators and
        the boundaries)."""
        years = ", ".join(str(year) for year in sorted({m.reference_year for m in self.maps}))
        return survey_line(self.campaign, years)


def survey_line(campaign: Campaign, years: str) -> str:
    """The survey a map or figure shows and its reference year(s); a synthetic (demo) campaign
    says so and names what its answers are sized on."""
    synthetic = f" (answers {SYNTHETIC_SOURCE})" if campaign.is_synthetic else ""
    return f"Survey: {campaign.name}{synthetic}" + (f", reference year {years}." if years else ".")


def figure_series(
    session: Session,
    actor: Actor,
    indicator_ids: Sequence[str],
    *,
    campaign: str | None = None,
    level: Level = "country",
    scheme: Scheme = "quantiles",
    classes: int = 5,
    low_coverage_threshold: float = 0.5,
) -> FigureSeries:
    """Maps of several indicators (of the newest campaign by default) with shared classes.

    Raises :class:`~mapping.errors.IncomparableUnits` when the indicators are not measured in
    the same unit: one colour must mean one value on every map of a series.
    """
    authorize(actor, Permission.MAPS_READ)
    chosen = (
        queries.campaign(session, actor, campaign)
        if campaign
        else next(iter(queries.map_campaigns(session, actor)), None)
    )
    if chosen is None:
        raise NoMapCampaign("No campaign has data yet; name one with --campaign.")
    declared = {d.spec.id: d.spec for d in queries.declared_indicators(session, actor, chosen)}
    check_units([declared[i] for i in dict.fromkeys(indicator_ids) if i in declared])
    maps = [
        indicator_map(
            session,
            actor,
            MapRequest(
                chosen.slug,
                ident,
                level,
                scheme,
                classes,
                low_coverage_threshold=low_coverage_threshold,
                geometry="print",
            ),
        )
        for ident in indicator_ids
    ]
    series = [m.frame.set_index("area_code") for m in maps]
    shared = shared_classification(
        [f["value"].astype(float) for f in series],
        scheme,
        classes,
        low_coverage=[f["low_coverage"].astype(bool) for f in series],
    )
    return FigureSeries(
        chosen, [replace(m, classification=c) for m, c in zip(maps, shared, strict=True)]
    )


def check_units(specs: Sequence[IndicatorSpec]) -> None:
    """Raise :class:`~mapping.errors.IncomparableUnits` unless the indicators share one unit."""
    units = {spec.id: spec.unit.get("en", "") for spec in specs}
    if len(set(units.values())) > 1:
        listed = "; ".join(f"{ident}: {unit or 'no unit'}" for ident, unit in units.items())
        raise IncomparableUnits(
            f"These indicators are measured in different units and cannot share classes "
            f"({listed}). Render each unit as a series of its own."
        )


def draw_figure(
    result: IndicatorMap, fmt: Format, out: Path | BinaryIO, *, source_note: str | None = None
) -> None:
    """The map as a publication figure (EPSG:3035; PNG at 300 dpi, SVG or PDF).

    The title names the indicator, the areas and the survey wave; the note under the map the
    survey (``source_note`` replaces this part, e.g. a series' shared line), then always this
    map's denominators with their years and the boundaries.
    """
    # matplotlib is imported by the figure alone, not by every process that serves maps.
    from mapping.render.static import static_map

    survey = result.survey_note if source_note is None else source_note
    note = sentences(survey, result.denominator_note, BOUNDARIES_NOTE[result.level])
    static_map(
        result.geometry(),
        result.classification,
        title=result.figure_title,
        subtitle=result.figure_subtitle,
        source_note=note,
        fmt=fmt,
        out=out,
        value_label=result.figure_legend_title,
    )


def figure_bytes(result: IndicatorMap, fmt: Format) -> bytes:
    """The map's publication figure (:func:`draw_figure`) as bytes, drawn once per map and
    data version."""

    def draw() -> bytes:
        buffer = io.BytesIO()
        draw_figure(result, fmt, buffer)
        return buffer.getvalue()

    return result.kept(f"figure.{fmt}", draw)


def _compute(
    reads: CampaignReads,
    spec: IndicatorSpec,
    specs: tuple[IndicatorSpec, ...],
    request: MapRequest,
    *,
    centre_countries: frozenset[str] | None = None,
) -> IndicatorMap:
    """The map; ``centre_countries`` limits the centre layer (names, points) to a country-scoped
    lead's countries. The areas' figures stay: they are aggregates, compared across countries."""
    session, campaign = reads.session, reads.campaign
    level = request.level
    area = "country" if level == "country" else "region"
    responses = reads.responses(spec.form_id)
    # Each numerator is evaluated once, for the values and for the centres alike.
    numerators = (
        indicators.numerator_values(responses, spec, contexts=reads.contexts(spec.form_id))
        if len(responses)
        else pd.Series(index=responses.index, dtype=object)
    )
    expected = reads.expected()
    # The study: the countries where the campaign expects centres, or their regions. Other
    # areas of the layer are drawn as outside the study, and are not in the table.
    countries = reads.area_countries(level)
    in_study = countries[countries["country"].isin(set(expected["country"]))]
    in_area = responses[area].notna()
    year = reads.once(
        ("reference_year", spec.form_id), lambda: campaign_reference_year(campaign, responses)
    )
    frame = indicator_by_area(
        responses[in_area].assign(area_code=responses[area]),
        expected[expected[area].notna()].assign(area_code=expected[area]),
        reads.areas(level, frozenset(in_study["area_code"]), year),
        spec,
        low_coverage_threshold=request.low_coverage_threshold,
        numerators=numerators[in_area],
    )
    indexed = frame.set_index("area_code")
    classification = classify(
        indexed["value"].astype(float),
        request.scheme,
        request.classes,
        low_coverage=indexed["low_coverage"].astype(bool),
    )
    # Regions are grouped by country, so Theil splits into between- and within-country parts.
    country_of = dict(zip(countries["area_code"], countries["country"], strict=True))
    groups = frame["area_code"].map(country_of).fillna(frame["area_code"].str[:2])
    # Computed benchmarks are over the EU-27 member states (or their regions), never over
    # every area with data (Switzerland, Norway, Turkey...).
    eu = BenchmarkAreas(
        frozenset(countries.loc[countries["eu_member"], "area_code"]),
        noun="member states" if level == "country" else "regions of EU-27 member states",
    )
    centres = _centres(expected, responses, numerators, frame if level == "country" else None)
    access, access_note = (
        _access(reads, level, centres, len(responses)) if request.with_access else (None, None)
    )
    if centre_countries is not None:
        mine = expected[expected["country"].isin(centre_countries)]
        centres = _centres(mine, responses, numerators, frame if level == "country" else None)
    return IndicatorMap(
        campaign=campaign,
        spec=spec,
        specs=specs,
        level=level,
        frame=frame,
        classification=classification,
        centres=centres,
        equity=equity_summary(spec, frame, groups, benchmark_areas=eu),
        denominators=denominators.summarise(
            frame,
            level,
            divided=indicators.divides_by_reference(spec),
            measure=MEASURES.get(spec.denominator, "Denominator"),
        ),
        reference_year=year,
        areas=_areas(session, level, request.geometry, frame),
        access=access,
        access_note=access_note,
    )


def campaign_reference_year(campaign: Campaign, responses: pd.DataFrame) -> int:
    """The year the campaign's figures refer to: the most common answer to the
    questionnaire's reference-year question (``*_reference_year``) in its responses, else the
    year it opened, else the year it was created. Denominators take the closest year."""
    answered = [
        value
        for answers in responses["answers"]
        if isinstance(answers, dict)
        for name, value in answers.items()
        if name.endswith("_reference_year")
    ]
    opened = campaign.opens_at.year if campaign.opens_at is not None else None
    return denominators.reference_year(answered, opened, campaign.created_at.year)


def _centres(
    expected: pd.DataFrame,
    responses: pd.DataFrame,
    numerators: pd.Series,
    country_frame: pd.DataFrame | None,
) -> gpd.GeoDataFrame:
    """The expected centres that answered, as points: whether each offers what is counted."""
    offered = {
        int(centre): layers.offers(value)
        for centre, value in zip(responses["centre_id"], numerators, strict=True)
    }
    answered = expected[expected["centre_id"].isin(offered)]
    if country_frame is not None:
        answered = answered[answered["country"].isin(set(country_frame["area_code"]))]
    return layers.centre_points(
        answered.assign(offers=[offered[int(c)] for c in answered["centre_id"]])
    )


def _areas(
    session: Session, level: Level, geometry: Geometry, frame: pd.DataFrame
) -> gpd.GeoDataFrame | None:
    if geometry == "none":
        return None
    layer = (
        layers.area_layer(session, level)
        if geometry == "print"
        else layers.web_layer(session, level)
    )
    return layers.with_geometry(layer, frame)


def _access(
    reads: CampaignReads, level: Level, centres: gpd.GeoDataFrame, responses: int
) -> tuple[pd.DataFrame, str | None]:
    """Per area: the share of the population beyond 50, 100 and 200 km of the nearest centre
    offering it (across borders), and the population-weighted E2SFCA score.

    Population points are the packaged GeoNames cities of 15,000 inhabitants or more; an area
    without any city point is left out. Without an answer, or without a responding centre with
    coordinates, nothing is known about where the care is: the table is empty and the note
    says why (everyone "beyond 200 km" would be a finding the survey did not make).
    """
    if not responses:
        return pd.DataFrame(columns=ACCESS_COLUMNS), "No centre has answered yet."
    if not len(centres):
        return pd.DataFrame(columns=ACCESS_COLUMNS), (
            "None of the centres that answered has known coordinates, so distances to care "
            "cannot be computed yet."
        )
    table = access_by_area(
        reads.population_points(level),
        centres[centres["offers"]],
        "area_code",
        ACCESS_THRESHOLDS_KM,
        ACCESS_CATCHMENT_KM,
    )
    return table, None
