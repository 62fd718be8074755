"""The interface in the respondent's language: the Babel catalogues, negotiation from ``?lang=``,
the session and ``Accept-Language``, and a language switch that never loses a draft."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from surveys.campaigns.invitations import issue_invitation
from tests.builders import make_campaign, make_centre, make_published_form
from web import i18n

ROOT = Path(__file__).resolve().parents[2]
PARTNER_LANGUAGES = ("es", "it", "el", "sl", "da", "no")
# What every partner language has from the start: the navigation, the form's buttons, the save
# status and the error summary's heading.
CORE_STRINGS = (
    "Skip to content",
    "Overview",
    "Centres",
    "Sign in",
    "Sign out",
    "Save draft",
    "Review answers",
    "Submit",
    "Add a row",
    "Remove row %(number)s",
    "Language:",
    "Saved at %(time)s UTC",
    "Saving…",
    "Unsaved changes…",
    "Not saved yet. Your answers are still on this page; we will try again.",
    "There is a problem",
    "Error:",
    "(required)",
)
FORM = """
| survey |
|        | type              | name  | label::en      | label::fr         | required | constraint | constraint_message::en | constraint_message::fr |
|        | select_one yes_no | has   | Any PET/CT?    | Une TEP/TDM ?     | yes      |            |                        |                        |
|        | integer           | units | How many?      | Combien ?         |          | . >= 0     | Enter 0 or more.       | Saisissez 0 ou plus.   |
|        | text              | notes | Notes          | Remarques         |          |            |                        |                        |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
| settings |
|          | form_id | version | title::en   | title::fr    | domain           |
|          | langs   | 1       | PET survey  | Enquête TEP  | nuclear_medicine |
"""


def catalogue(language: str):  # type: ignore[no-untyped-def]  # babel ships no annotations
    path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=language)


def template_ids() -> set[str | tuple[str, ...]]:
    with (i18n.LOCALES_DIR / "messages.pot").open("rb") as pot:
        return {message.id for message in read_po(pot) if message.id}


class TestCatalogues:
    def test_the_template_holds_every_string_of_the_pages(self) -> None:
        with (ROOT / "babel.cfg").open() as cfg:
            method_map, options_map = parse_mapping_cfg(cfg)
        found = {
            message[2] if isinstance(message[2], str) else tuple(message[2])
            for message in extract_from_dir(str(ROOT), method_map, options_map)
        }
        missing = found - template_ids()
        assert not missing, (
            f"run the extract command in web/i18n.py; missing: {sorted(map(str, missing))}"
        )

    @pytest.mark.parametrize("language", ["en", "fr"])
    def test_english_and_french_are_complete(self, language: str) -> None:
        messages = {m.id: m for m in catalogue(language) if m.id}
        for msgid in template_ids():
            message = messages.get(msgid)
            assert message is not None, f"{language}: {msgid!r} is missing"
            strings = [message.string] if isinstance(message.string, str) else message.string
            assert all(strings), f"{language}: {msgid!r} is not translated"

    @pytest.mark.parametrize("language", PARTNER_LANGUAGES)
    def test_partner_languages_have_begun(self, language: str) -> None:
        messages = catalogue(language)
        untranslated = [
            text for text in CORE_STRINGS if messages.get(text) is None or not messages[text].string
        ]
        assert not untranslated, f"{language}: {untranslated}"

    @pytest.mark.parametrize("language", ["en", "fr", *PARTNER_LANGUAGES])
    def test_translations_keep_their_placeholders(self, language: str) -> None:
        problems = [
            f"{message.id!r}: {errors}" for message, errors in catalogue(language).check() if errors
        ]
        assert not problems, problems

    def test_a_partial_catalogue_falls_back_to_english(self) -> None:
        assert i18n.gettext("sl", "Save draft") == "Shrani osnutek"
        assert i18n.gettext("sl", "Thank you: your answers are submitted") == (
            "Thank you: your answers are submitted"
        )
        assert i18n.gettext("de", "Save draft") == "Save draft"  # no German catalogue


class TestNegotiation:
    def test_accept_language_is_read_by_quality(self) -> None:
        header = "de-CH;q=0.9, fr;q=0.7, it-IT, *;q=0.1, en;q=0"
        assert i18n.accepted_languages(header) == ["it", "de", "fr"]

    def test_norwegian_variants_share_one_catalogue(self) -> None:
        assert i18n.normalise("nb-NO") == "no"
        assert i18n.negotiate(accept_language="nn;q=0.8, en;q=0.5") == "no"

    @pytest.mark.parametrize(
        ("requested", "stored", "accept", "expected"),
        [
            ("es", "fr", "it", "es"),  # ?lang= first
            (None, "fr", "it", "fr"),  # then the respondent's choice
            ("xx", None, "el-GR,en;q=0.5", "el"),  # then the browser
            (None, None, "de", "en"),  # then English
        ],
    )
    def test_query_then_session_then_browser(
        self, requested: str | None, stored: str | None, accept: str, expected: str
    ) -> None:
        assert (
            i18n.negotiate(requested=requested, stored=stored, accept_language=accept) == expected
        )

    def test_the_form_content_falls_back_to_its_default_language(self) -> None:
        assert (
            i18n.negotiate(
                requested="sl", available=["en", "fr"], default="en", accept_language="fr"
            )
            == "fr"
        )
        assert i18n.negotiate(requested="sl", available=["en", "fr"], default="en") == "en"


@pytest.fixture
def token(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        centre = make_centre(session, name="Institut Curie", country="FR")
        version = make_published_form(session, FORM)
        campaign = make_campaign(session, slug="wave-langs", centres=[centre], versions=[version])
        return issue_invitation(session, campaign, centre).token


def form_controls(html: str) -> dict[str, str]:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    version = re.search(r'name="expected_version" value="(\d+)"', html)
    assert csrf
    assert version
    return {"csrf_token": csrf.group(1), "expected_version": version.group(1)}


def test_the_landing_page_follows_the_browser(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page.text
    assert "Aller au contenu" in page.text
    assert 'aria-label="Navigation principale"' in page.text
    english = client.get("/", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in english.text
    assert "Skip to content" in english.text


def test_accept_language_sets_the_interface_and_the_form_content(
    client: TestClient, token: str
) -> None:
    client.get(f"/i/{token}")
    page = client.get("/r/forms/langs", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in page.text
    assert "Enquête TEP" in page.text
    assert "Une TEP/TDM ?" in page.text
    assert "Enregistrer le brouillon" in page.text
    messages = re.search(
        r'<script type="application/json" id="form-messages"[^>]*>(.*?)</script>', page.text, re.S
    )
    assert messages
    texts = json.loads(messages.group(1))
    assert texts["saved_at"] == "Enregistré à {time} UTC"
    assert texts["unsaved"] == "Modifications non enregistrées…"


def test_a_partial_language_keeps_the_form_in_a_language_it_has(
    client: TestClient, token: str
) -> None:
    client.get(f"/i/{token}")
    page = client.get("/r/forms/langs?lang=sl")
    assert '<html lang="sl">' in page.text
    assert "Shrani osnutek" in page.text  # the interface in Slovenian
    assert '<div class="form-fields" lang="en">' in page.text  # the questions in English
    assert "Any PET/CT?" in page.text


def test_the_choice_is_kept_in_the_session(client: TestClient, token: str) -> None:
    client.get(f"/i/{token}?lang=es")
    overview = client.get("/r/", headers={"Accept-Language": "fr"})
    assert '<html lang="es">' in overview.text
    assert "Sus cuestionarios" in overview.text
    client.get("/r/?lang=it")
    assert "I suoi questionari" in client.get("/r/", headers={"Accept-Language": "fr"}).text


def test_errors_and_messages_in_french(client: TestClient, token: str) -> None:
    client.get(f"/i/{token}?lang=fr")
    page = client.get("/r/forms/langs")
    refused = client.post(
        "/r/forms/langs",
        data={**form_controls(page.text), "action": "submit", "units": "-1"},
    )
    assert refused.status_code == 422
    assert "Il y a un problème" in refused.text
    assert "<title>Erreur : Enquête TEP" in refused.text
    assert "Saisissez 0 ou plus." in refused.text
    assert "Certaines réponses sont à revoir avant de pouvoir envoyer." in refused.text


def test_a_language_switch_saves_the_draft_first(client: TestClient, token: str) -> None:
    """Without JavaScript: the switch is a submit button; what was typed is saved, then shown
    again in the other language."""
    client.get(f"/i/{token}")
    page = client.get("/r/forms/langs")
    switched = client.post(
        "/r/forms/langs",
        follow_redirects=False,
        data={
            **form_controls(page.text),
            "action": "lang:fr",
            "has": "yes",
            "units": "3",
            "notes": "Écrit juste avant",
        },
    )
    assert switched.status_code == 303
    again = client.get(switched.headers["location"])
    assert "Vos réponses sont enregistrées." in again.text
    assert 'value="3"' in again.text
    assert "Écrit juste avant" in again.text
    assert re.search(r'value="yes"\s+checked', again.text)
    assert '<html lang="fr">' in again.text
    assert "Enregistré à" in again.text
