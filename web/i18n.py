"""The interface in the reader's language: Babel catalogues, language negotiation, and the
``gettext`` that templates call.

The catalogues are plain ``.po`` files under ``web/locales/<lang>/LC_MESSAGES/messages.po``, read
with Babel when the app starts (no compiled ``.mo`` file, so no build step): editing a ``.po``
file and restarting is enough. English is the source language; a string missing from a catalogue
falls back to English. The form content (labels, hints, messages) is not here: it comes from the
questionnaire definition, per language.

Updating the catalogues after changing a template or a page (then translate the new empty
``msgstr`` entries; English, whose ``msgstr`` repeat the ``msgid``, and French must stay complete)::

    .venv/bin/pybabel extract -F babel.cfg -o web/locales/messages.pot \\
        --no-location --omit-header --sort-output .
    .venv/bin/pybabel update -i web/locales/messages.pot -d web/locales -D messages \\
        --no-fuzzy-matching -w 100

``tests/web/test_i18n.py`` fails when a string of a template is missing from the ``.pot`` file,
or when the English or French catalogue lacks a translation.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request

DateStyle = Literal["full", "long", "medium", "short"]
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# The network's partner languages, each named in itself (as a language switch shows them).
UI_LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "el": "Ελληνικά",
    "sl": "Slovenščina",
    "da": "Dansk",
    "no": "Norsk",
}
# Browsers send Norwegian as Bokmål or Nynorsk; both read the one Norwegian catalogue.
ALIASES = {"nb": "no", "nn": "no"}


def language_name(code: str) -> str:
    return UI_LANGUAGES.get(code, code)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of one language, read from its ``.po`` file (English: the source texts)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language not in UI_LANGUAGES or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_catalogues() -> None:
    """Read every catalogue now, so a broken ``.po`` file stops the start, not a page."""
    for language in UI_LANGUAGES:
        translations(language)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    return translations(language).ngettext(singular, plural, n)


def normalise(code: str | None) -> str | None:
    """``fr-BE`` → ``fr``, ``nb_NO`` → ``no``; None for a language without a catalogue."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()[:8]
    primary = ALIASES.get(primary, primary)
    return primary if primary in UI_LANGUAGES else None


def accepted_languages(header: str) -> list[str]:
    """The primary language tags of an ``Accept-Language`` header, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and primary != "*" and quality > 0:
            weighted.append((-quality, position, ALIASES.get(primary, primary)))
    return [language for _, _, language in sorted(weighted)]


def negotiate(
    *,
    requested: str | None = None,
    stored: str | None = None,
    accept_language: str = "",
    available: Iterable[str] = UI_LANGUAGES,
    default: str | None = None,
) -> str:
    """The first of: the ``?lang=`` asked for, the choice kept in the session, the browser's
    preferences, the default; each only if ``available`` has it."""
    offered = list(available)
    for candidate in (requested, stored):
        code = candidate.strip().lower() if candidate else None
        code = ALIASES.get(code, code) if code else None
        if code in offered:
            return code
    for code in accepted_languages(accept_language):
        if code in offered:
            return code
    return default if default in offered else (offered[0] if offered else DEFAULT_LANGUAGE)


def request_language(request: Request) -> str:
    """The interface language of a request: what the page chose, else ``?lang=``, else the
    browser's ``Accept-Language``."""
    chosen = getattr(request.state, "ui_language", None)
    if isinstance(chosen, str) and chosen in UI_LANGUAGES:
        return chosen
    return negotiate(
        requested=request.query_params.get("lang"),
        accept_language=request.headers.get("accept-language", ""),
        default=DEFAULT_LANGUAGE,
    )


def template_context(request: Request) -> dict[str, Any]:
    """Added to every template's context: the interface language (``<html lang>``, ``_()``)."""
    return {"ui_language": request_language(request)}


def _context_language(context: Context) -> str:
    language = context.get("ui_language")
    return language if isinstance(language, str) else DEFAULT_LANGUAGE


@pass_context
def template_gettext(context: Context, message: str) -> str:
    return gettext(_context_language(context), message)


@pass_context
def template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return ngettext(_context_language(context), singular, plural, n)


def _babel_locale(language: str) -> str:
    """Dates as Europeans write them: British English, Bokmål for Norwegian."""
    return {"en": "en_GB", "no": "nb"}.get(language, language)


@pass_context
def format_date(context: Context, value: dt.date | None, style: DateStyle = "long") -> str:
    """A date in the interface language: "3 March 2026", "3 mars 2026"."""
    if value is None:
        return ""
    return babel_format_date(value, format=style, locale=_babel_locale(_context_language(context)))


@pass_context
def format_datetime(
    context: Context, value: dt.datetime | None, style: DateStyle = "medium"
) -> str:
    """A UTC timestamp in the interface language, to the minute: "3 March 2026, 14:05 UTC"."""
    if value is None:
        return ""
    language = _babel_locale(_context_language(context))
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    date_part = babel_format_date(aware.date(), format=style, locale=language)
    time_part = babel_format_time(aware, format="short", tzinfo=dt.UTC, locale=language)
    pattern = str(get_datetime_format(style, locale=language)).replace("'", "")
    return pattern.replace("{0}", time_part).replace("{1}", date_part) + " UTC"
