"""Which responding demo centre holds which share of its country's equipment.

Each country's totals (:mod:`surveys.demo.profiles`) are shared out over the centres that answer
the demo survey, before any answer is written, so that the answers add up to the country's
figure: megavoltage units and proton centres as IAEA DIRAC counts them, carbon ions only where a
carbon-ion facility exists, PET/CT scanners and surgical robots at the country's drawn level.
Bigger centres (comprehensive cancer centres, university hospitals) get more, and no centre
more than a large department of its kind has. When a small demo has too few centres for a large
country, the caps win and the country falls short of its figure.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from surveys.demo.profiles import CountryProfile

# How likely a centre of each type is to run a department, and how big it is when it does.
RT_PRESENCE = {
    "comprehensive_cancer_centre": 1.0,
    "university_hospital": 0.9,
    "general_hospital": 0.55,
    "private_clinic": 0.5,
    "research_institute": 0.35,
    "other": 0.1,
}
NM_PRESENCE = {
    "comprehensive_cancer_centre": 0.95,
    "university_hospital": 0.9,
    "general_hospital": 0.5,
    "private_clinic": 0.35,
    "research_institute": 0.3,
    "other": 0.1,
}
SURGERY_PRESENCE = {
    "comprehensive_cancer_centre": 0.95,
    "university_hospital": 0.95,
    "general_hospital": 0.85,
    "private_clinic": 0.6,
    "research_institute": 0.2,
    "other": 0.1,
}
SIZE = {
    "comprehensive_cancer_centre": 3.0,
    "university_hospital": 2.2,
    "general_hospital": 1.0,
    "private_clinic": 0.9,
    "research_institute": 1.1,
    "other": 0.5,
}
# The most a centre of each type holds: large European departments, satellites included.
MV_CAP = {
    "comprehensive_cancer_centre": 20,
    "university_hospital": 16,
    "general_hospital": 10,
    "private_clinic": 8,
    "research_institute": 10,
    "other": 4,
}
PET_CT_CAP = {
    "comprehensive_cancer_centre": 6,
    "university_hospital": 5,
    "general_hospital": 3,
    "private_clinic": 4,
    "research_institute": 3,
    "other": 2,
}
ROBOT_CAP = {
    "comprehensive_cancer_centre": 4,
    "university_hospital": 4,
    "general_hospital": 2,
    "private_clinic": 3,
    "research_institute": 1,
    "other": 1,
}
AFTERLOADER_CAP = {"comprehensive_cancer_centre": 6, "university_hospital": 4}
RT_SHARE = 0.85  # at most this share of the responding centres runs radiotherapy
PET_CT_PER_SITE = 1.7  # scanners per PET/CT centre, on average
ROBOTS_PER_SITE = 1.4
REGIONAL_HEADROOM = 2.0
"""A centre holds at most this many times its region's population share of the country's units,
so a small region with one big answering centre does not show several times the country's
rate."""
LARGE_CENTRE_TYPES = ("comprehensive_cancer_centre", "university_hospital", "research_institute")


@dataclass(frozen=True)
class Respondent:
    """A demo centre that answers the survey, as the planning sees it."""

    id: int
    iso2: str
    centre_type: str
    accreditations: tuple[str, ...] = ()
    catchment: float = 1.0
    """The people the centre serves beside the country's other answering centres (its region's
    population over the region's answering centres, relative to the country's mean)."""
    regional_share: float = 1.0
    """Its region's share of the people living where the country's centres answer."""


@dataclass(frozen=True)
class Radiotherapy:
    """A centre's treatment units (its radiotherapy department)."""

    conventional: int
    mr_linac: int = 0
    robotic: int = 0
    gamma_knife: int = 0
    proton_rooms: int = 0
    carbon_ion_rooms: int = 0
    afterloaders: int = 0

    @property
    def megavoltage(self) -> int:
        """Megavoltage units as DIRAC and ESTRO-HERO count them (no particle therapy)."""
        return self.conventional + self.mr_linac + self.robotic + self.gamma_knife


@dataclass(frozen=True)
class CentreFacts:
    """What a responding centre has, decided for its whole country before it answers."""

    respondent: Respondent
    country: CountryProfile
    size: float
    """The centre's size beside others of its type (about 0.5 to 2)."""
    reference_year: int
    radiotherapy: Radiotherapy | None = None
    proton_planned: bool = False
    carbon_ion_planned: bool = False
    nuclear_medicine: bool = False
    pet_ct_units: int = 0
    surgery: bool = False
    robotic_systems: int = 0

    @property
    def centre_type(self) -> str:
        return self.respondent.centre_type


def allocate(total: int, weights: Sequence[float], caps: Sequence[int]) -> list[int]:
    """Share ``total`` whole units over sites in proportion to weight, one at least and at most
    its cap each (Sainte-Laguë divisors, so small sites are not starved).

    Returns fewer than ``total`` units in all when the caps are reached first.

    Example
    -------
    >>> allocate(10, [3.0, 1.0, 1.0], [20, 20, 20])
    [6, 2, 2]
    >>> allocate(10, [3.0, 1.0], [4, 3])
    [4, 3]
    """
    counts = [1 if cap > 0 and total > index else 0 for index, cap in enumerate(caps)]
    remaining = total - sum(counts)
    heap = [
        (-weight / (2 * counts[i] + 1), i)
        for i, weight in enumerate(weights)
        if counts[i] and counts[i] < caps[i]
    ]
    heapq.heapify(heap)
    while remaining > 0 and heap:
        _, i = heapq.heappop(heap)
        counts[i] += 1
        remaining -= 1
        if counts[i] < caps[i]:
            heapq.heappush(heap, (-weights[i] / (2 * counts[i] + 1), i))
    return counts


def weighted_sample(
    items: Sequence[Respondent], weights: Sequence[float], k: int, rng: random.Random
) -> list[Respondent]:
    """``k`` distinct items, each drawn with probability rising with its weight (the
    Efraimidis-Spirakis keys), in the order of the items."""
    keyed = [(rng.random() ** (1 / w) if w > 0 else -1.0, index) for index, w in enumerate(weights)]
    chosen = sorted(index for _, index in heapq.nlargest(k, keyed) if _ >= 0)
    return [items[i] for i in chosen]


def plan_country(
    profile: CountryProfile, respondents: Sequence[Respondent], seed: int
) -> dict[int, CentreFacts]:
    """The facts of every responding centre of one country, keyed by centre id."""
    rng = random.Random(f"{seed}:plan:{profile.iso2}")  # noqa: S311 - demo data, not security
    ordered = sorted(respondents, key=lambda r: r.id)
    facts = {
        r.id: CentreFacts(
            respondent=r,
            country=profile,
            size=round(math.exp(rng.gauss(0, 0.35)), 3),
            reference_year=2024 if rng.random() < 0.08 else 2025,
        )
        for r in ordered
    }
    if not ordered:
        return facts
    _plan_radiotherapy(profile, ordered, facts, rng)
    _plan_nuclear_medicine(profile, ordered, facts, rng)
    _plan_surgery(profile, ordered, facts, rng)
    return facts


def _caps(type_caps: dict[str, int], total: int) -> Callable[[Respondent], int]:
    """The most units a centre may hold: its type's cap, and no more than
    :data:`REGIONAL_HEADROOM` times its region's share of ``total`` (at least 2)."""

    def cap(respondent: Respondent) -> int:
        regional = math.ceil(REGIONAL_HEADROOM * total * respondent.regional_share)
        return min(type_caps.get(respondent.centre_type, 1), max(2, regional))

    return cap


def _weight(facts: CentreFacts) -> float:
    return SIZE.get(facts.centre_type, 1.0) * facts.size * facts.respondent.catchment


def _plan_radiotherapy(
    profile: CountryProfile,
    ordered: list[Respondent],
    facts: dict[int, CentreFacts],
    rng: random.Random,
) -> None:
    sites_wanted = min(profile.rt_centres, profile.mv_units, math.ceil(RT_SHARE * len(ordered)))
    if sites_wanted <= 0:
        return
    presence = [RT_PRESENCE.get(r.centre_type, 0.3) * facts[r.id].size for r in ordered]
    sites = weighted_sample(ordered, presence, sites_wanted, rng)
    cap = _caps(MV_CAP, profile.mv_units)
    sites = _widen(sites, ordered, facts, cap, profile.mv_units, profile.rt_centres)
    units = allocate(
        profile.mv_units,
        [_weight(facts[s.id]) * math.exp(rng.gauss(0, 0.3)) for s in sites],
        [cap(s) for s in sites],
    )
    plans = {s.id: Radiotherapy(conventional=n) for s, n in zip(sites, units, strict=True)}
    # Special machines replace conventional linacs at the larger departments: MR-linacs where
    # money allows, CyberKnife and Gamma Knife at a few.
    _swap(plans, "mr_linac", round(profile.mv_units * 0.02 * profile.resource), 2, 4, rng)
    _swap(plans, "robotic", round(profile.mv_units * 0.015), 1, 3, rng)
    _swap(plans, "gamma_knife", round(profile.mv_units * 0.008), 1, 4, rng)
    _plan_particle_therapy(profile, plans, facts, rng)
    _plan_brachytherapy(profile, plans, facts, rng)
    for site, plan in plans.items():
        facts[site] = replace(facts[site], radiotherapy=plan)


def _plan_particle_therapy(
    profile: CountryProfile,
    plans: dict[int, Radiotherapy],
    facts: dict[int, CentreFacts],
    rng: random.Random,
) -> None:
    """Protons at a few of the largest departments, no more than DIRAC's proton units; carbon
    ions at as many of those as the country has carbon-ion facilities."""
    by_size = sorted(plans, key=lambda i: (-plans[i].megavoltage, i))
    large = [i for i in by_size if facts[i].centre_type in LARGE_CENTRE_TYPES] or by_size
    proton_sites: list[int] = []
    if profile.proton_centres and large:
        wanted = min(profile.proton_centres, max(1, len(plans) // 5))
        pool = large[: wanted * 2]
        chosen = weighted_sample(
            [facts[i].respondent for i in pool], [plans[i].megavoltage for i in pool], wanted, rng
        )
        proton_sites = [s.id for s in chosen]
    carbon_sites = proton_sites[: profile.carbon_ion_centres]
    for site in proton_sites:
        rooms = rng.choices([1, 2, 3, 4], weights=[0.35, 0.3, 0.2, 0.15])[0]
        carbon = rng.randint(2, 3) if site in carbon_sites else 0
        plans[site] = replace(plans[site], proton_rooms=max(rooms, carbon), carbon_ion_rooms=carbon)
    # A large centre without protons may have them funded or decided.
    without = [i for i in large if i not in proton_sites]
    if without and rng.random() < 0.35:
        facts[without[0]] = replace(facts[without[0]], proton_planned=True)
    if profile.carbon_ion_planned and large:
        target = (proton_sites or large)[0]
        facts[target] = replace(facts[target], carbon_ion_planned=True)


def _widen(
    chosen: list[Respondent],
    pool: list[Respondent],
    facts: dict[int, CentreFacts],
    cap: Callable[[Respondent], int],
    total: int,
    most: int,
) -> list[Respondent]:
    """``chosen`` and, while their caps cannot hold ``total``, the biggest of ``pool`` beside
    them (at most ``most`` sites in all), in the order of ``pool``."""
    room = sum(cap(r) for r in chosen)
    taken = {r.id for r in chosen}
    for extra in sorted(pool, key=lambda r: (-_weight(facts[r.id]), r.id)):
        if room >= total or len(taken) >= most:
            break
        if extra.id not in taken:
            taken.add(extra.id)
            room += cap(extra)
    return [r for r in pool if r.id in taken]


def _swap(
    plans: dict[int, Radiotherapy],
    kind: str,
    count: int,
    most: int,
    bigger_than: int,
    rng: random.Random,
) -> None:
    """Turn ``count`` conventional linacs into ``kind`` machines, at most ``most`` per centre,
    at centres with more than ``bigger_than`` units."""
    for _ in range(count):
        pool = [
            i
            for i, plan in plans.items()
            if plan.conventional > 1
            and plan.megavoltage > bigger_than
            and getattr(plan, kind) < most
        ]
        if not pool:
            return
        site = rng.choices(pool, weights=[plans[i].megavoltage for i in pool])[0]
        plan = plans[site]
        plans[site] = replace(
            plan, conventional=plan.conventional - 1, **{kind: getattr(plan, kind) + 1}
        )


def _plan_brachytherapy(
    profile: CountryProfile,
    plans: dict[int, Radiotherapy],
    facts: dict[int, CentreFacts],
    rng: random.Random,
) -> None:
    """Afterloaders at the share of departments DIRAC's brachytherapy units suggest (about half
    to two thirds of them), one to a few each."""
    if profile.brachytherapy_units <= 0 or not plans:
        return
    share = min(1.0, profile.brachytherapy_units / max(1, profile.rt_centres)) * 0.9
    wanted = max(1, round(len(plans) * share))
    ids = sorted(plans)
    chosen = weighted_sample(
        [facts[i].respondent for i in ids], [plans[i].megavoltage for i in ids], wanted, rng
    )
    for site in chosen:
        cap = AFTERLOADER_CAP.get(site.centre_type, 3)
        n = max(1, min(cap, round(plans[site.id].megavoltage / rng.uniform(3, 6))))
        plans[site.id] = replace(plans[site.id], afterloaders=n)


def _plan_nuclear_medicine(
    profile: CountryProfile,
    ordered: list[Respondent],
    facts: dict[int, CentreFacts],
    rng: random.Random,
) -> None:
    total = profile.pet_ct_units
    departments = [r for r in ordered if rng.random() < NM_PRESENCE.get(r.centre_type, 0.3)]
    # Every responding country shows its PET/CT: when few centres answer, more of them have it.
    cap = _caps(PET_CT_CAP, total)
    departments = _widen(departments, ordered, facts, cap, total, len(ordered))
    for r in departments:
        facts[r.id] = replace(facts[r.id], nuclear_medicine=True)
    wanted = min(len(departments), total, max(1, round(total / PET_CT_PER_SITE)))
    weights = [_weight(facts[r.id]) for r in departments]
    sites = weighted_sample(departments, weights, wanted, rng)
    sites = _widen(sites, departments, facts, cap, total, total)
    counts = allocate(total, [_weight(facts[s.id]) for s in sites], [cap(s) for s in sites])
    for site, n in zip(sites, counts, strict=True):
        facts[site.id] = replace(facts[site.id], pet_ct_units=n)


def _plan_surgery(
    profile: CountryProfile,
    ordered: list[Respondent],
    facts: dict[int, CentreFacts],
    rng: random.Random,
) -> None:
    departments = [r for r in ordered if rng.random() < SURGERY_PRESENCE.get(r.centre_type, 0.3)]
    for r in departments:
        facts[r.id] = replace(facts[r.id], surgery=True)
    total = profile.robotic_systems
    wanted = min(len(departments), total, max(1, round(total / ROBOTS_PER_SITE)))
    if wanted <= 0:
        return
    sites = weighted_sample(departments, [_weight(facts[r.id]) for r in departments], wanted, rng)
    cap = _caps(ROBOT_CAP, total)
    counts = allocate(total, [_weight(facts[s.id]) for s in sites], [cap(s) for s in sites])
    for site, n in zip(sites, counts, strict=True):
        facts[site.id] = replace(facts[site.id], robotic_systems=n)
