"""The identifier catalogue, erasure of a contact and the access-request export (scenario 49)."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from surveys import privacy
from surveys.registry.models import Contact
from tests.accounts_fixtures import make_user
from tests.builders import make_centre

CATALOGUE = Path(privacy.__file__).parent / "questionnaires" / "catalogue"


def test_the_catalogue_lists_the_tagged_columns() -> None:
    fields = {(f.table, f.name) for f in privacy.identifier_columns()}
    assert {
        ("contact", "name"),
        ("contact", "email"),
        ("contact", "phone"),
        ("contact", "notes"),
    } <= fields
    assert {("user_account", "email"), ("user_account", "display_name")} <= fields
    assert ("centre", "name") not in fields


def test_the_declared_questions_are_exactly_the_identifier_rows_of_the_built_in_forms() -> None:
    found: set[str] = set()
    for path in CATALOGUE.glob("*.yaml"):
        found |= privacy.questionnaire_identifiers(yaml.safe_load(path.read_text("utf-8")))
    assert found == set(privacy.QUESTIONNAIRE_IDENTIFIERS)


def add_contact(session: Session, email: str = "Jane.Doe@hospital.example") -> Contact:
    centre = make_centre(session, name="Privacy centre", country="BE")
    contact = Contact(
        centre_id=centre.id,
        name="Jane Doe",
        email=email,
        phone="+32 2 555 0100",
        role_title="Head of radiotherapy",
        notes="prefers mornings",
    )
    session.add(contact)
    session.flush()
    return contact


def test_erasure_blanks_every_identifier_field_and_keeps_the_row(session: Session) -> None:
    contact = add_contact(session)
    erased, blanked = privacy.erase_contact(session, contact.id)
    assert sorted(blanked) == ["email", "name", "notes", "phone"]
    assert (erased.name, erased.email, erased.phone, erased.notes) == ("", None, None, None)
    assert erased.role_title == "Head of radiotherapy"  # not personal data: kept
    assert erased.erased_at is not None
    again, nothing = privacy.erase_contact(session, contact.id)
    assert nothing == []
    assert again.erased_at == erased.erased_at


def test_access_request_finds_contacts_and_staff_accounts_without_secrets(session: Session) -> None:
    add_contact(session, email="jane.doe@hospital.example")
    make_user(session, email="jane.doe@hospital.example", role="researcher")
    document = privacy.access_request(session, "JANE.DOE@hospital.example ")
    assert document["subject"] == "jane.doe@hospital.example"
    [contact] = document["tables"]["contact"]
    assert contact["phone"] == "+32 2 555 0100"
    [account] = document["tables"]["user_account"]
    assert "password_hash" not in account
    assert "totp_secret" not in account
    assert document["centres_of_contacts"][0]["name"] == "Privacy centre"
    assert document["api_tokens"] == []
    nobody = privacy.access_request(session, "nobody@example.org")
    assert all(rows == [] for rows in nobody["tables"].values())
