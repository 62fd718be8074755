"""Disclosure control: no centre stands out by what a pseudonymised export says about it.

A pseudonym hides a centre's name, but the registry facts that travel with it (country, NUTS-2
region, centre type, location) are known to anyone who knows the hospitals of a country; a
combination that only one centre has names that centre, and with it every answer under its
pseudonym. So before a pseudonymised export or a release, the **quasi-identifiers** of every centre
in it are coarsened until each published combination is shared by at least ``k`` centres
(k-anonymity; ``ACCESSGAP_DISCLOSURE_MIN_CENTRES``, default 5).

The rule (:data:`LEVELS`), applied to every centre of the export, from the most detailed level:

====  ==================  =========================================================
 0    ``region_type``     country, NUTS-2 region, centre type
 1    ``region``          country, NUTS-2 region (type withheld)
 2    ``country_type``    country, centre type (region coarsened to the country)
 3    ``country``         country only
 4    ``suppressed``      the centre's responses are left out of the export
====  ==================  =========================================================

Every centre starts at level 0. The centres are grouped by what they would publish; the members of
every group smaller than ``k`` move one level down, and this repeats until every published group
holds ``k`` centres or more (levels only grow, so it ends after at most four rounds). Exact
coordinates are never published: a centre's point is the mean of the coordinates of its published
group (rounded to 0.1 degree), the same point for at least ``k`` centres. A centre without a NUTS-2
region starts at level 2.

The result (:class:`DisclosurePlan`) holds what each centre publishes and a report for the manifest:
the rule, ``k``, and how many centres and which groups were coarsened or suppressed
(:meth:`DisclosurePlan.report`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MIN_CENTRES = 5
LOCATION_DECIMALS = 1
LEVELS = ("region_type", "region", "country_type", "country", "suppressed")
SUPPRESSED = len(LEVELS) - 1
RULE = (
    "k-anonymity over (country, NUTS-2 region, centre type, location): every published "
    "combination is shared by at least k centres. A centre in a smaller group is published with "
    "less detail, one step at a time: type withheld, then region coarsened to the country with "
    "the type, then the country alone, then its responses are suppressed. Locations are the "
    "mean point of the published group, never a centre's own coordinates."
)


@dataclass(frozen=True)
class CentreFacts:
    """What the registry says about a centre that an outsider could also know."""

    key: str  # the centre's public id (never published)
    country: str
    region: str | None
    centre_type: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Published:
    """What a pseudonymised export says about one centre."""

    level: int
    country: str
    region: str | None
    centre_type: str | None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def suppressed(self) -> bool:
        return self.level == SUPPRESSED

    def combination(self) -> tuple[str, str | None, str | None, float | None, float | None]:
        """The published quasi-identifiers, as an attacker would group them."""
        return (self.country, self.region, self.centre_type, self.latitude, self.longitude)


def _key_at(facts: CentreFacts, level: int) -> tuple[Any, ...]:
    if level == 0:
        return (level, facts.country, facts.region, facts.centre_type)
    if level == 1:
        return (level, facts.country, facts.region, None)
    if level == 2:
        return (level, facts.country, None, facts.centre_type)
    if level == 3:
        return (level, facts.country, None, None)
    return (level, None, None, None)


def _first_level(facts: CentreFacts) -> int:
    return 0 if facts.region else 2


@dataclass
class DisclosurePlan:
    """What each centre of an export publishes, and what the coarsening did."""

    min_centres: int
    published: dict[str, Published] = field(default_factory=dict)

    def of(self, key: str) -> Published:
        return self.published[key]

    @property
    def suppressed_keys(self) -> set[str]:
        return {k for k, p in self.published.items() if p.suppressed}

    def report(self) -> dict[str, Any]:
        """For the manifest: the rule, k, and per level how many centres were published so.

        ``coarsened`` lists each published group below full detail (level, country, and the
        region or type kept) with its size; ``suppressed`` counts the centres left out.
        """
        levels = Counter(LEVELS[p.level] for p in self.published.values())
        groups: Counter[tuple[str, str, str | None, str | None]] = Counter(
            (LEVELS[p.level], p.country, p.region, p.centre_type)
            for p in self.published.values()
            if 0 < p.level < SUPPRESSED
        )
        return {
            "rule": RULE,
            "k": self.min_centres,
            "quasi_identifiers": ["country", "region", "centre_type", "location"],
            "levels": list(LEVELS),
            "centres": len(self.published),
            "centres_per_level": {level: levels.get(level, 0) for level in LEVELS},
            "coarsened": [
                {"level": level, "country": country, "region": region, "centre_type": kind}
                | {"centres": size}
                for (level, country, region, kind), size in sorted(
                    groups.items(), key=lambda item: tuple(str(part) for part in item[0])
                )
            ],
            "suppressed": levels.get(LEVELS[SUPPRESSED], 0),
        }


def plan_disclosure(centres: Iterable[CentreFacts], *, min_centres: int) -> DisclosurePlan:
    """Coarsen the centres' quasi-identifiers until every published group has ``min_centres``.

    Examples
    --------
    >>> few = [CentreFacts(f"c{i}", "FR", "FR10", "university") for i in range(5)]
    >>> lone = [CentreFacts("x", "FR", "FR10", "private")]
    >>> plan = plan_disclosure(few + lone, min_centres=5)
    >>> plan.of("c0").level, plan.of("x").level
    (0, 4)
    >>> plan.report()["suppressed"]
    1
    >>> plan_disclosure(few + lone, min_centres=1).of("x").level
    0
    """
    if min_centres < 1:
        raise ValueError("the disclosure threshold k must be at least 1")
    facts = {c.key: c for c in centres}
    level = {key: _first_level(f) for key, f in facts.items()}
    while True:
        groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for key, f in facts.items():
            groups[_key_at(f, level[key])].append(key)
        small = [
            members
            for group, members in groups.items()
            if len(members) < min_centres and group[0] < SUPPRESSED
        ]
        if not small:
            break
        for members in small:
            for key in members:
                level[key] += 1
    plan = DisclosurePlan(min_centres=min_centres)
    for members in groups.values():
        first = facts[members[0]]
        lvl = level[members[0]]
        latitude, longitude = _mean_point(facts[key] for key in members)
        _, country, region, kind = _key_at(first, lvl)
        for key in members:
            plan.published[key] = Published(
                level=lvl,
                country=country or "",
                region=region,
                centre_type=kind,
                latitude=None if lvl == SUPPRESSED else latitude,
                longitude=None if lvl == SUPPRESSED else longitude,
            )
    return plan


def _mean_point(members: Iterable[CentreFacts]) -> tuple[float | None, float | None]:
    points = [(m.latitude, m.longitude) for m in members]
    located = [(lat, lon) for lat, lon in points if lat is not None and lon is not None]
    if not located:
        return None, None
    latitude = sum(lat for lat, _ in located) / len(located)
    longitude = sum(lon for _, lon in located) / len(located)
    return round(latitude, LOCATION_DECIMALS), round(longitude, LOCATION_DECIMALS)


def unique_combinations(
    published: Iterable[tuple[Any, ...]], *, min_centres: int
) -> dict[tuple[Any, ...], int]:
    """The published combinations (one tuple per centre) held by fewer than ``min_centres``.

    What an attacker looks for; empty when the export is k-anonymous.
    """
    counts = Counter(published)
    return {combo: n for combo, n in counts.items() if n < min_centres}
