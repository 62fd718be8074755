"""Settings: a form needs an id and a version; unknown settings are ignored with a warning."""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.domains import QUESTIONNAIRE_DOMAINS
from surveys.questionnaires.definitions.model import SETTINGS_KEYS, split_column
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

FORM_ID = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def check(context: RuleContext) -> Iterator[Problem]:
    settings = context.tables.settings
    form_id = settings.get("form_id") or settings.get("id_string", "")
    if not form_id:
        yield Problem(
            "definition.missing_form_id",
            "settings",
            None,
            "form_id",
            "The form has no form_id.",
            "Add a form_id in the settings sheet, e.g. radiotherapy.",
        )
    elif not FORM_ID.match(form_id):
        yield Problem(
            "definition.invalid_form_id",
            "settings",
            None,
            "form_id",
            f"form_id {form_id!r} is not a lowercase identifier.",
            "Use lowercase letters, digits and underscores, starting with a letter.",
        )
    if not settings.get("version"):
        yield Problem(
            "definition.missing_version",
            "settings",
            None,
            "version",
            "The form has no version.",
            "Add a version in the settings sheet, e.g. 2026.1.",
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
