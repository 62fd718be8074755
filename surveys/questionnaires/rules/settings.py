"""Settings: a form needs an id; unknown settings are ignored with a warning.

As in pyxform, the id defaults to the file name (``form_id`` or ``id_string`` override it) and
the version is optional: without one, the version is derived from the content (``model``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.domains import QUESTIONNAIRE_DOMAINS
from surveys.questionnaires.definitions.model import SETTINGS_KEYS, form_id_of, split_column
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

# An XML name, as pyxform requires of id_string (ASCII: it also appears in URLs).
FORM_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
VERSION = re.compile(r"^[A-Za-z0-9_.:+-]{1,50}$")


def check(context: RuleContext) -> Iterator[Problem]:
    settings = context.tables.settings
    form_id = form_id_of(context.tables)
    if not form_id:
        yield Problem(
            "definition.missing_form_id",
            "settings",
            None,
            "form_id",
            "The form has no form_id and no file name to take it from.",
            "Add a form_id in the settings sheet, e.g. radiotherapy.",
        )
    elif not FORM_ID.match(form_id):
        yield Problem(
            "definition.invalid_form_id",
            "settings",
            None,
            "form_id",
            f"form_id {form_id!r} is not a valid identifier.",
            "Use letters, digits, _ . - (at most 100), starting with a letter or _.",
        )
    version = settings.get("version", "")
    if version and not VERSION.match(version):
        yield Problem(
            "definition.invalid_version",
            "settings",
            None,
            "version",
            f"version {version!r} is not a plain version string.",
            "Use at most 50 letters, digits and . _ - : + (e.g. 2026.1 or 2026010101).",
        )
    domain = settings.get("domain")
    if domain and domain not in QUESTIONNAIRE_DOMAINS:
        yield Problem(
            "definition.unknown_domain",
            "settings",
            None,
            "domain",
            f"Unknown domain {domain!r}.",
            f"Use one of: {', '.join(sorted(QUESTIONNAIRE_DOMAINS))}.",
        )
    for key in settings:
        if split_column(key)[0] not in SETTINGS_KEYS:
            yield Problem(
                "definition.unsupported_setting",
                "settings",
                None,
                key,
                f"The setting {key!r} is not supported and is ignored.",
                "Remove it, or keep it knowing it has no effect here.",
                "warning",
            )
