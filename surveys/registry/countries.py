"""The countries the network surveys, seeded from ISO 3166 (``pycountry``), and Kosovo.

Membership as of 2026 (sources: europa.eu "EU countries", the EEA Agreement, the European
Commission's enlargement pages for candidate status). Kosovo, a potential candidate with NUTS
2024 statistical regions, has no ISO 3166 code: it is registered as ``XK`` / ``XKX``, the codes
of the European Commission and Eurostat, with the EU's designation note (docs/maps.md).
"""

from __future__ import annotations

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.registry.codes import KOSOVO_ISO2, KOSOVO_ISO3
from surveys.registry.models import Country

EU_MEMBERS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
EEA_NON_EU = frozenset({"IS", "LI", "NO"})
OTHER_EUROPEAN = frozenset({"CH", "GB"})
EU_CANDIDATES = frozenset({"AL", "BA", "GE", "MD", "ME", "MK", "RS", "TR", "UA"})
POTENTIAL_CANDIDATES = frozenset({KOSOVO_ISO2})
SURVEYED = EU_MEMBERS | EEA_NON_EU | OTHER_EUROPEAN | EU_CANDIDATES | POTENTIAL_CANDIDATES


def seed_countries(session: Session) -> int:
    """Insert the surveyed countries that are missing; return how many were added."""
    existing = set(session.scalars(select(Country.iso2)))
    added = 0
    for iso2 in sorted(SURVEYED - existing):
        if iso2 == KOSOVO_ISO2:
            session.add(Country(iso2=iso2, iso3=KOSOVO_ISO3, name="Kosovo", official_name=None))
            added += 1
            continue
        record = pycountry.countries.get(alpha_2=iso2)
        if record is None:  # pragma: no cover - every code above is in ISO 3166
            raise LookupError(f"{iso2} is not an ISO 3166 alpha-2 code")
        session.add(
            Country(
                iso2=iso2,
                iso3=record.alpha_3,
                name=getattr(record, "common_name", None) or record.name,
                official_name=getattr(record, "official_name", None),
                eu_member=iso2 in EU_MEMBERS,
                eea_member=iso2 in EU_MEMBERS or iso2 in EEA_NON_EU,
                eu_candidate=iso2 in EU_CANDIDATES,
            )
        )
        added += 1
    session.flush()
    return added


def list_countries(session: Session) -> list[Country]:
    """Every country in the registry, by name."""
    return list(session.scalars(select(Country).order_by(Country.name)))


def countries_by_code(session: Session) -> dict[str, Country]:
    """Countries keyed by ISO alpha-2 and alpha-3; imports read codes through
    :func:`surveys.registry.codes.country_code` first (Eurostat's EL and UK, alpha-3)."""
    by_code: dict[str, Country] = {}
    for country in session.scalars(select(Country)):
        by_code[country.iso2] = country
        by_code[country.iso3] = country
    return by_code
