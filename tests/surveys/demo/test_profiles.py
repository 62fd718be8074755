from __future__ import annotations

from surveys.demo.centres import DEMO_COUNTRIES
from surveys.demo.profiles import PET_CT_PER_MILLION, SURVEY_SPREAD, country_profiles
from surveys.demo.reference import dirac_resources

CODES = list(DEMO_COUNTRIES)


def test_profiles_are_deterministic_from_the_seed() -> None:
    assert country_profiles(CODES, 7) == country_profiles(CODES, 7)
    assert country_profiles(CODES, 7) != country_profiles(CODES, 8)


def test_megavoltage_units_stay_near_dirac() -> None:
    low, high = SURVEY_SPREAD
    for seed in (1, 2, 2026):
        for code, profile in country_profiles(CODES, seed).items():
            dirac = dirac_resources()[code].mv_units
            assert profile.dirac_mv_units == dirac
            assert low * dirac - 1 <= profile.mv_units <= high * dirac + 1, code


def test_pet_ct_levels_are_those_of_european_countries() -> None:
    low, high = PET_CT_PER_MILLION
    for profile in country_profiles(CODES, 2026).values():
        assert low <= profile.pet_ct_per_million <= high
        assert profile.pet_ct_units >= 1
    iceland = country_profiles(["IS"], 2026)["IS"]
    assert iceland.pet_ct_units <= 2  # one or two scanners for 350,000 people, not sixteen


def test_particle_therapy_follows_the_reference_data() -> None:
    profiles = country_profiles(CODES, 2026)
    for code, profile in profiles.items():
        assert profile.proton_centres == dirac_resources()[code].proton_ion_units
    carbon = {code: p.carbon_ion_centres for code, p in profiles.items() if p.carbon_ion_centres}
    assert carbon == {"AT": 1, "DE": 2, "IT": 1}
    assert [code for code, p in profiles.items() if p.carbon_ion_planned] == ["FR"]


def test_a_country_without_dirac_figures_gets_the_median_density() -> None:
    kosovo = country_profiles(["XK"], 2026)["XK"]
    assert kosovo.proton_centres == 0
    assert kosovo.carbon_ion_centres == 0
    assert 3 <= kosovo.mv_units / kosovo.millions <= 12
