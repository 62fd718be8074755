"""What each demo country is like: its published radiotherapy figures and a few drawn levels.

A profile holds the national totals the demo's responding centres share out (megavoltage units
from IAEA DIRAC, PET/CT scanners and surgical robots from a level drawn per country) and the
levels that shape every other answer: how well resourced the country's cancer care is, and how
long its patients wait. Everything is deterministic from the seed.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass

from surveys.demo.reference import carbon_ion_facilities, country_populations, dirac_resources

# PET/CT scanners per million inhabitants: European countries range from about 1 to 5.
PET_CT_PER_MILLION = (1.2, 4.8)
# Surgical robots per million inhabitants: from under one in some countries to about three.
ROBOTS_PER_MILLION = (0.4, 3.5)
# A survey never counts exactly what a registry counts: the demo's centres hold 85% to 115% of
# DIRAC's megavoltage units.
SURVEY_SPREAD = (0.85, 1.15)


@dataclass(frozen=True)
class CountryProfile:
    """One country as the demo draws it."""

    iso2: str
    population: int
    dirac_mv_units: int
    """Megavoltage units in the country, as DIRAC counts them."""
    mv_units: int
    """Megavoltage units the responding centres hold together: near DIRAC's count."""
    rt_centres: int
    """At most this many responding centres run a radiotherapy department (DIRAC)."""
    proton_centres: int
    """At most this many centres treat with protons (DIRAC's proton and ion units)."""
    brachytherapy_units: int
    carbon_ion_centres: int
    """Centres treating with carbon ions: the country's clinical carbon-ion facilities."""
    carbon_ion_planned: bool
    resource: float
    """How well resourced cancer care is, about 0.6 to 1.35 (1 is a typical country)."""
    wait_factor: float
    """Multiplies every waiting time: about 0.6 to 1.8."""
    pet_ct_per_million: float
    robots_per_million: float

    @property
    def millions(self) -> float:
        return self.population / 1_000_000

    @property
    def pet_ct_units(self) -> int:
        """PET/CT scanners in the country: at least one."""
        return max(1, round(self.pet_ct_per_million * self.millions))

    @property
    def robotic_systems(self) -> int:
        return max(1, round(self.robots_per_million * self.millions))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def country_profiles(codes: list[str], seed: int) -> dict[str, CountryProfile]:
    """A profile for each country code, drawn from ``seed`` (the same seed, the same profiles).

    A country DIRAC does not list gets the median megavoltage units per million of those it does.
    """
    dirac = dirac_resources()
    populations = country_populations()
    per_million = {
        code: row.mv_units / (populations[code] / 1_000_000)
        for code, row in dirac.items()
        if populations.get(code)
    }
    median = statistics.median(per_million.values())
    carbon = carbon_ion_facilities()
    profiles: dict[str, CountryProfile] = {}
    for code in sorted(codes):
        rng = random.Random(f"{seed}:country:{code}")  # noqa: S311 - demo data, not security
        population = populations.get(code, 1_000_000)
        row = dirac.get(code)
        dirac_mv = row.mv_units if row else round(median * population / 1_000_000)
        mv_units = round(dirac_mv * _clamp(math.exp(rng.gauss(0, 0.08)), *SURVEY_SPREAD))
        # Resource level: a country's radiotherapy per million says something about its cancer
        # care as a whole; the rest is left to chance.
        density = per_million.get(code, median) / median
        resource = _clamp(density**0.7 * math.exp(rng.gauss(0, 0.15)), 0.6, 1.35)
        share = (resource - 0.6) / 0.75
        pet = _blend(PET_CT_PER_MILLION, share, rng)
        robots = _blend(ROBOTS_PER_MILLION, share, rng)
        profiles[code] = CountryProfile(
            iso2=code,
            population=population,
            dirac_mv_units=dirac_mv,
            mv_units=mv_units,
            rt_centres=row.centres_with_rt if row else max(1, round(dirac_mv / 3)),
            proton_centres=row.proton_ion_units if row else 0,
            brachytherapy_units=row.brachytherapy_units if row else round(dirac_mv / 4),
            carbon_ion_centres=sum(1 for f in carbon if f.iso2 == code and f.clinical),
            carbon_ion_planned=any(f.iso2 == code and not f.clinical for f in carbon),
            resource=round(resource, 3),
            wait_factor=round(_clamp(math.exp(rng.gauss(0, 0.25)) / resource**0.5, 0.6, 1.8), 3),
            pet_ct_per_million=pet,
            robots_per_million=robots,
        )
    return profiles


def _blend(bounds: tuple[float, float], share: float, rng: random.Random) -> float:
    """A level within ``bounds``, partly from the country's resources, mostly from chance, and
    more often in the lower half (as most countries are)."""
    low, high = bounds
    return round(low + (high - low) * math.pow(0.3 * share + 0.7 * rng.random(), 1.5), 2)
