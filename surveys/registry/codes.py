"""One crosswalk for the codes every import meets: countries and NUTS regions.

Centre lists, population tables, boundary files and reference series name places in several
codes: ISO 3166-1 alpha-2 (``GR``) and alpha-3 (``GRC``), Eurostat's country codes (``EL`` for
Greece, ``UK`` for the United Kingdom, also the first two letters of every NUTS code) and NUTS
codes (``EL30``). Every import turns them into the registry's codes through this module, and
nowhere else:

- a country becomes the registry's country code: ISO 3166-1 alpha-2, and ``XK`` for Kosovo
  (the code the European Commission and Eurostat use; it is not in ISO 3166);
- a NUTS region keeps its code as Eurostat publishes it (``EL30``, ``UKI3``), upper case.

Pure functions, no database: whether a country is *surveyed* or a region *loaded* is the
importer's question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pycountry

from surveys.errors import InvalidInput

EUROSTAT_TO_ISO2 = {"EL": "GR", "UK": "GB"}
"""Eurostat country codes that differ from ISO 3166-1 alpha-2."""
ISO2_TO_EUROSTAT = {iso2: eurostat for eurostat, iso2 in EUROSTAT_TO_ISO2.items()}
"""The other way: the prefix of the NUTS codes of Greece and the United Kingdom."""
KOSOVO_ISO2, KOSOVO_ISO3 = "XK", "XKX"
"""Kosovo's codes at the European Commission and Eurostat (not in ISO 3166)."""

AREA_LEVELS = {"country": 0, "nuts0": 0, "nuts1": 1, "nuts2": 2, "nuts3": 3}
"""The level names a table may give, as NUTS levels (a country is level 0)."""

_NUTS = re.compile(r"[A-Z]{2}[A-Z0-9]{1,3}")


class UnknownCode(InvalidInput):
    """A code that names no country or NUTS region; the message says what was expected."""

    code = "unknown_code"


@dataclass(frozen=True)
class Area:
    """A place named by a table: a country (level 0, the registry's country code) or a NUTS
    region (levels 1 to 3, the NUTS code)."""

    level: int
    code: str

    @property
    def country(self) -> str:
        """The registry's code of the country the area lies in."""
        return self.code if self.level == 0 else nuts_country(self.code)

    @property
    def level_name(self) -> str:
        """``country``, ``nuts1``, ``nuts2`` or ``nuts3``."""
        return "country" if self.level == 0 else f"nuts{self.level}"


def country_code(text: str) -> str:
    """The registry's code of a country named by ISO alpha-2, ISO alpha-3 or Eurostat.

    Raises
    ------
    UnknownCode
        If the text is no such code.

    Examples
    --------
    >>> [country_code(c) for c in ("gr", "GRC", "EL", " uk ", "XKX", "XK")]
    ['GR', 'GR', 'GR', 'GB', 'XK', 'XK']
    """
    code = text.strip().upper()
    if len(code) == 2:
        code = EUROSTAT_TO_ISO2.get(code, code)
        if code in _iso2_codes():
            return code
    elif len(code) == 3 and code in _iso3_to_iso2():
        return _iso3_to_iso2()[code]
    raise UnknownCode(
        f"{text.strip()!r} is not a country code; use ISO 3166 alpha-2 (GR), alpha-3 (GRC) "
        "or Eurostat's code (EL)"
    )


def nuts_code(text: str) -> str:
    """A NUTS code (levels 1 to 3) as Eurostat writes it: upper case, Eurostat's country prefix.

    Raises
    ------
    UnknownCode
        If the text is not shaped like a NUTS code, or starts with an ISO code where NUTS uses
        Eurostat's (``GR30`` for ``EL30``).

    Examples
    --------
    >>> nuts_code(" el30 "), nuts_code("UKI3"), nuts_code("XK00")
    ('EL30', 'UKI3', 'XK00')
    """
    code = text.strip().upper()
    if not _NUTS.fullmatch(code):
        raise UnknownCode(
            f"{text.strip()!r} is not a NUTS code: two letters of the country, then one to "
            "three letters or digits (EL30)"
        )
    prefix = code[:2]
    if prefix in ISO2_TO_EUROSTAT:
        raise UnknownCode(
            f"{code} starts with the ISO code {prefix}; NUTS codes use Eurostat's "
            f"{ISO2_TO_EUROSTAT[prefix]} ({ISO2_TO_EUROSTAT[prefix]}{code[2:]})"
        )
    nuts_country(code)
    return code


def nuts_country(code: str) -> str:
    """The registry's country code of a NUTS code (its first two letters, Eurostat's code).

    Examples
    --------
    >>> nuts_country("EL30"), nuts_country("UKI3"), nuts_country("FR10")
    ('GR', 'GB', 'FR')
    """
    prefix = code.strip().upper()[:2]
    if prefix in ISO2_TO_EUROSTAT:
        raise UnknownCode(f"{code} is not a NUTS code: NUTS writes {ISO2_TO_EUROSTAT[prefix]}")
    return country_code(prefix)


def eurostat_code(iso2: str) -> str:
    """Eurostat's code of a registry country: the prefix of its NUTS codes.

    Examples
    --------
    >>> eurostat_code("GR"), eurostat_code("FR")
    ('EL', 'FR')
    """
    return ISO2_TO_EUROSTAT.get(iso2, iso2)


def area(text: str, *, level: str | int | None = None) -> Area:
    """The country or NUTS region a table's code names, at the level given or read from it.

    Without a level, two letters are a country (ISO or Eurostat), three letters an ISO alpha-3
    country when one has that code and a NUTS-1 region otherwise, four characters NUTS-2 and
    five NUTS-3. A level (``country``, ``nuts0`` … ``nuts3``, or 0 … 3) settles the rest and is
    checked against the code's length.

    Examples
    --------
    >>> area("EL"), area("GRC"), area("EL30")
    (Area(level=0, code='GR'), Area(level=0, code='GR'), Area(level=2, code='EL30'))
    >>> area("ITC"), area("FR10", level="nuts2")
    (Area(level=1, code='ITC'), Area(level=2, code='FR10'))
    """
    code = text.strip().upper()
    wanted = _level(level)
    if wanted == 0 or (wanted is None and len(code) == 2):
        return Area(0, country_code(code))
    if wanted is None and len(code) == 3 and code in _iso3_to_iso2():
        return Area(0, country_code(code))
    nuts = nuts_code(code)
    found = len(nuts) - 2
    if wanted is not None and wanted != found:
        raise UnknownCode(
            f"{nuts} is a NUTS-{found} code, not NUTS-{wanted}: a NUTS-{wanted} code has "
            f"{wanted + 2} characters"
        )
    return Area(found, nuts)


def _level(level: str | int | None) -> int | None:
    if level is None or level == "":
        return None
    if isinstance(level, int):
        if level in (0, 1, 2, 3):
            return level
    elif level.strip().lower() in AREA_LEVELS:
        return AREA_LEVELS[level.strip().lower()]
    raise UnknownCode(f"unknown level {level!r}; use one of: {', '.join(AREA_LEVELS)}")


@cache
def _iso2_codes() -> frozenset[str]:
    return frozenset({c.alpha_2 for c in pycountry.countries} | {KOSOVO_ISO2})


@cache
def _iso3_to_iso2() -> dict[str, str]:
    table = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    table[KOSOVO_ISO3] = KOSOVO_ISO2
    return table
