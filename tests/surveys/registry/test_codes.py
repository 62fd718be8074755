"""The one code crosswalk: ISO alpha-2 and alpha-3, Eurostat's EL and UK, NUTS codes; and the
registry and the centre import reading codes through it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.policy import system_actor
from surveys.registry import codes
from surveys.registry.codes import Area, UnknownCode
from surveys.registry.models import Centre, Country
from surveys.registry.transfer import import_centre_list

SYSTEM = system_actor("system:test")


# --- country_code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("GR", "GR"),
        ("gr", "GR"),
        ("GRC", "GR"),
        ("EL", "GR"),
        (" el ", "GR"),
        ("GB", "GB"),
        ("GBR", "GB"),
        ("UK", "GB"),
        ("FRA", "FR"),
        ("XK", "XK"),
        ("XKX", "XK"),
        ("DEU", "DE"),
    ],
)
def test_country_codes_of_every_kind_become_the_registry_code(given: str, expected: str) -> None:
    assert codes.country_code(given) == expected


@pytest.mark.parametrize("given", ["", "ZZ", "ZZZ", "EU", "EL30", "Greece", "1"])
def test_a_code_that_names_no_country_is_refused(given: str) -> None:
    with pytest.raises(UnknownCode, match="not a country code"):
        codes.country_code(given)


# --- nuts_code, nuts_country ----------------------------------------------------------------


def test_nuts_codes_keep_eurostat_prefixes_and_name_their_country() -> None:
    assert codes.nuts_code(" el30 ") == "EL30"
    assert codes.nuts_country("EL30") == "GR"
    assert codes.nuts_country("UKI3") == "GB"
    assert codes.nuts_country("XK00") == "XK"
    assert codes.eurostat_code("GR") == "EL"
    assert codes.eurostat_code("GB") == "UK"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("GR30", "NUTS codes use Eurostat's EL"),
        ("GBI3", "NUTS codes use Eurostat's UK"),
        ("FR-10", "not a NUTS code"),
        ("F", "not a NUTS code"),
        ("ZZ10", "not a country code"),
    ],
)
def test_malformed_nuts_codes_are_refused_with_a_hint(given: str, message: str) -> None:
    with pytest.raises(UnknownCode, match=message):
        codes.nuts_code(given)


# --- area ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "level", "expected"),
    [
        ("EL", None, Area(0, "GR")),
        ("GRC", None, Area(0, "GR")),
        ("uk", None, Area(0, "GB")),
        ("ITC", None, Area(1, "ITC")),  # no country is called ITC: NUTS-1
        ("EL30", None, Area(2, "EL30")),
        ("FR101", None, Area(3, "FR101")),
        ("EL", "nuts0", Area(0, "GR")),
        ("FRA", "country", Area(0, "FR")),
        ("FR10", "nuts2", Area(2, "FR10")),
        ("FR10", 2, Area(2, "FR10")),
    ],
)
def test_area_reads_the_level_from_the_code_or_the_table(
    given: str, level: str | int | None, expected: Area
) -> None:
    assert codes.area(given, level=level) == expected


def test_area_refuses_a_level_the_code_does_not_have() -> None:
    with pytest.raises(UnknownCode, match="NUTS-2 code, not NUTS-3"):
        codes.area("FR10", level="nuts3")
    with pytest.raises(UnknownCode, match="unknown level"):
        codes.area("FR10", level="region")
    assert codes.area("EL30").country == "GR"
    assert codes.area("GRC").level_name == "country"


# --- the registry: Kosovo, centres ---------------------------------------------------------


def test_kosovo_is_a_registry_country(session: Session) -> None:
    kosovo = session.scalar(select(Country).where(Country.iso2 == "XK"))
    assert kosovo is not None
    assert (kosovo.iso3, kosovo.name, kosovo.eu_member) == ("XKX", "Kosovo", False)


def test_centre_import_reads_every_kind_of_country_code(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "centres.csv"
    path.write_text(
        "name,country,city\n"
        "Centre Athens,EL,Athina\n"
        "Centre London,UK,London\n"
        "Centre Lisbon,PRT,Lisboa\n"
        "Centre Pristina,XK,Prishtina\n"
        "Centre Graz,at,Graz\n",
        encoding="utf-8",
    )
    report = import_centre_list(session, SYSTEM, path, request_id="req-codes")
    assert report.errors == []
    assert report.created == 5
    countries = dict(
        session.execute(
            select(Centre.name, Country.iso2).join(Country, Country.id == Centre.country_id)
        ).all()
    )
    assert countries == {
        "Centre Athens": "GR",
        "Centre London": "GB",
        "Centre Lisbon": "PT",
        "Centre Pristina": "XK",
        "Centre Graz": "AT",
    }


def test_centre_import_names_unknown_and_unsurveyed_countries_by_row(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "centres.csv"
    path.write_text(
        "name,country\nCentre A,ZZ\nCentre B,US\nCentre C,FR\n",
        encoding="utf-8",
    )
    report = import_centre_list(session, SYSTEM, path, request_id=None)
    problems = [(p.row, p.column, p.value) for p in report.errors]
    assert problems == [(2, "country", "ZZ"), (3, "country", "US")]
    assert "unknown country code" in report.errors[0].message
    assert "not a surveyed country" in report.errors[1].message
    assert session.scalar(select(Centre.id)) is None  # all or nothing
