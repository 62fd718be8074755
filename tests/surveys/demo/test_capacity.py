from __future__ import annotations

import random

import pytest

from surveys.demo.capacity import (
    MV_CAP,
    PET_CT_CAP,
    Respondent,
    allocate,
    plan_country,
    weighted_sample,
)
from surveys.demo.centres import DEMO_COUNTRIES
from surveys.demo.profiles import country_profiles
from surveys.demo.reference import dirac_resources
from surveys.registry.models import CENTRE_TYPES

PROFILES = country_profiles(list(DEMO_COUNTRIES), 2026)
TYPE_SHARES = (0.12, 0.25, 0.4, 0.13, 0.04, 0.06)  # the demo registry's mix


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible test data, not security


def respondents(code: str, count: int, *, seed: int = 1) -> list[Respondent]:
    """A country's responding centres, in the demo registry's mix of types."""
    rng = seeded(seed)
    types = rng.choices(CENTRE_TYPES, weights=TYPE_SHARES, k=count)
    accreditations = [("JACIE",) if rng.random() < 0.25 else () for _ in range(count)]
    return [
        Respondent(1000 + i, code, kind, acc)
        for i, (kind, acc) in enumerate(zip(types, accreditations, strict=True))
    ]


def enough(code: str) -> int:
    """Responding centres enough to hold the country's units at a few each."""
    return max(3, dirac_resources()[code].mv_units // 4)


@pytest.mark.parametrize(
    ("total", "weights", "caps", "expected"),
    [
        (10, [3.0, 1.0, 1.0], [20, 20, 20], [6, 2, 2]),
        (10, [3.0, 1.0], [4, 3], [4, 3]),
        (2, [1.0, 1.0, 1.0], [5, 5, 5], [1, 1, 0]),
        (0, [1.0], [5], [0]),
    ],
)
def test_allocate_shares_in_proportion_within_caps(
    total: int, weights: list[float], caps: list[int], expected: list[int]
) -> None:
    assert allocate(total, weights, caps) == expected


def test_allocate_gives_every_site_one_before_any_gets_more() -> None:
    counts = allocate(40, [10.0] + [0.1] * 9, [30] * 10)
    assert sum(counts) == 40
    assert min(counts) == 1


def test_weighted_sample_is_distinct_and_deterministic() -> None:
    items = respondents("FR", 30)
    weights = [float(i % 5) for i in range(30)]
    first = weighted_sample(items, weights, 10, seeded(3))
    assert first == weighted_sample(items, weights, 10, seeded(3))
    assert len({r.id for r in first}) == 10
    assert all(weights[items.index(r)] > 0 for r in first)


@pytest.mark.parametrize("code", DEMO_COUNTRIES)
def test_with_enough_centres_a_country_holds_its_megavoltage_units(code: str) -> None:
    profile = PROFILES[code]
    facts = plan_country(profile, respondents(code, enough(code)), seed=2026)
    plans = [f.radiotherapy for f in facts.values() if f.radiotherapy is not None]
    assert sum(p.megavoltage for p in plans) == profile.mv_units
    assert 1 <= len(plans) <= dirac_resources()[code].centres_with_rt
    for fact in facts.values():
        if fact.radiotherapy is not None:
            assert 1 <= fact.radiotherapy.megavoltage <= MV_CAP[fact.centre_type]
            assert fact.radiotherapy.conventional >= 1


@pytest.mark.parametrize("code", DEMO_COUNTRIES)
def test_particle_therapy_only_where_the_country_has_it(code: str) -> None:
    profile = PROFILES[code]
    facts = plan_country(profile, respondents(code, enough(code)), seed=2026)
    proton = [f for f in facts.values() if f.radiotherapy and f.radiotherapy.proton_rooms]
    carbon = [f for f in facts.values() if f.radiotherapy and f.radiotherapy.carbon_ion_rooms]
    assert len(proton) <= dirac_resources()[code].proton_ion_units
    if dirac_resources()[code].proton_ion_units:
        assert proton, "a country with proton units shows a proton centre"
    assert len(carbon) == {"DE": 2, "IT": 1, "AT": 1}.get(code, 0)
    assert all(f.radiotherapy and f.radiotherapy.proton_rooms for f in carbon)
    planned = [f for f in facts.values() if f.carbon_ion_planned]
    assert len(planned) == (1 if code == "FR" else 0)


@pytest.mark.parametrize("code", DEMO_COUNTRIES)
def test_pet_ct_scanners_add_up_to_the_country_level(code: str) -> None:
    profile = PROFILES[code]
    facts = plan_country(profile, respondents(code, enough(code)), seed=2026)
    scanners = sum(f.pet_ct_units for f in facts.values())
    assert scanners == profile.pet_ct_units
    assert 1.0 <= scanners / profile.millions <= 5.0
    for fact in facts.values():
        assert fact.pet_ct_units <= PET_CT_CAP[fact.centre_type]
        assert fact.nuclear_medicine or not fact.pet_ct_units


def test_a_small_demo_stays_within_plausible_centre_sizes() -> None:
    facts = plan_country(PROFILES["DE"], respondents("DE", 4), seed=2026)
    for fact in facts.values():
        if fact.radiotherapy is not None:
            assert fact.radiotherapy.megavoltage <= MV_CAP[fact.centre_type]
    assert any(f.pet_ct_units for f in facts.values()), "every country shows some PET/CT"


def test_the_plan_is_deterministic() -> None:
    centres = respondents("IT", 60)
    assert plan_country(PROFILES["IT"], centres, seed=5) == plan_country(
        PROFILES["IT"], centres, seed=5
    )
