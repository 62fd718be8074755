"""The demo's two waves as ``accessgap demo load`` makes them: the earlier wave (2024, closed)
holds less capacity, compares with the main wave, and the DIRAC series sits beside it."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from mapping import official_statistics, waves
from mapping.demo_reference import DIRAC_INDICATOR, load_demo_reference
from surveys import migrate
from surveys.campaigns.lifecycle import get_campaign
from surveys.db import make_engine, make_session_factory, transaction
from surveys.demo.campaign import (
    DEMO_SLUG,
    EARLIER_SLUG,
    EARLIER_WAVE,
    earlier_profile,
    load_demo_campaign,
    load_earlier_wave,
)
from surveys.demo.centres import load_demo_centres
from surveys.demo.profiles import country_profiles
from surveys.policy import system_actor
from surveys.registry.countries import seed_countries

SYSTEM = system_actor("system:test")
NOW = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)


def test_the_demo_has_an_earlier_comparable_wave_and_an_official_series(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as session:
            seed_countries(session)
            load_demo_centres(session, total=12)
        with transaction(factory) as session:
            assert load_demo_campaign(session, now=NOW) is not None
            earlier = load_earlier_wave(session)
            assert earlier is not None
            assert load_earlier_wave(session) is None  # once
            load_demo_reference(session)
        with transaction(factory) as session:
            old = get_campaign(session, EARLIER_SLUG)
            assert old.status == "closed"
            assert "synthetic" in old.name
            change = waves.wave_change(session, SYSTEM, DEMO_SLUG, DIRAC_INDICATOR)
            assert change.before.slug == EARLIER_SLUG
            assert change.before.reference_year == 2023
            assert change.comparability.comparable
            assert change.rows["change"].notna().any()
            assert waves.earlier_waves(session, SYSTEM, DEMO_SLUG, DIRAC_INDICATOR)[0].slug == (
                EARLIER_SLUG
            )
            compared = official_statistics.survey_vs_official(
                session, SYSTEM, DEMO_SLUG, DIRAC_INDICATOR
            )
            assert "demo comparison series" in compared.sources[0]
            ratios = compared.rows["capture_ratio"].dropna()
            assert len(ratios) >= 1
            assert all(not math.isnan(r) and r > 0 for r in ratios)
    finally:
        engine.dispose()


@pytest.mark.parametrize("field", ["mv_units", "pet_ct_per_million", "robots_per_million"])
def test_earlier_countries_had_less(field: str) -> None:
    for profile in country_profiles(["DE", "FR", "MT"], 2026).values():
        then = earlier_profile(profile, EARLIER_WAVE)
        assert getattr(then, field) <= getattr(profile, field)
