"""Inline questionnaire fixtures, written as small tables the way pyxform's tests write them."""

from __future__ import annotations

from surveys.questionnaires.definitions.compiled import CompiledForm, compile_definition
from surveys.questionnaires.definitions.model import to_definition
from surveys.questionnaires.definitions.tables import FormTables, read_markdown

SETTINGS = """
| settings |
|          | form_id | version | form_title | default_language |
|          | devices | 1       | Devices    | en               |
"""


def tables(md: str, settings: str = SETTINGS) -> FormTables:
    return read_markdown(md + settings, source="inline.md")


def form(md: str, settings: str = SETTINGS) -> CompiledForm:
    return compile_definition(to_definition(tables(md, settings)))
