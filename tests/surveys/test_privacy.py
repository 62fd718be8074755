"""The identifier catalogue, erasure of a contact and the access-request export (scenario 49)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from surveys import privacy
from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.registry.models import Contact
from tests.accounts_fixtures import make_user
from tests.audit_events import events, last_event
from tests.builders import make_centre

CATALOGUE = Path(privacy.__file__).parent / "questionnaires" / "catalogue"
OFFICER = staff_actor(user_id=999_001, role="admin")


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
    erased, blanked = privacy.erase_contact(session, OFFICER, contact.id, request_id=None)
    assert sorted(blanked) == ["email", "name", "notes", "phone"]
    assert (erased.name, erased.email, erased.phone, erased.notes) == ("", None, None, None)
    assert erased.role_title == "Head of radiotherapy"  # not personal data: kept
    assert erased.erased_at is not None
    again, nothing = privacy.erase_contact(session, OFFICER, contact.id, request_id=None)
    assert nothing == []
    assert again.erased_at == erased.erased_at


def test_erasure_is_audited_with_the_fields_never_the_values(session: Session) -> None:
    contact = add_contact(session)
    privacy.erase_contact(session, OFFICER, contact.id, request_id="r-1")
    event = last_event(session, "contact.erase")
    assert (event.actor, event.object_type, event.object_id) == (
        "user:999001",
        "contact",
        str(contact.id),
    )
    assert event.details == {
        "fields": ["name", "email", "phone", "notes"],
        "centre_id": contact.centre_id,
    }
    assert "Jane" not in str(event.details)


def test_privacy_use_cases_refuse_an_actor_without_privacy_manage(session: Session) -> None:
    contact = add_contact(session)
    coordinator = staff_actor(user_id=999_002, role="coordinator")
    with pytest.raises(PermissionDenied):
        privacy.erase_contact(session, coordinator, contact.id, request_id=None)
    with pytest.raises(PermissionDenied):
        privacy.answer_access_request(session, coordinator, "x@example.org", request_id=None)
    assert contact.erased_at is None
    assert events(session, "contact.erase") == []


def test_an_access_request_from_the_command_line_is_audited_with_counts(session: Session) -> None:
    add_contact(session, email="jane.doe@hospital.example")
    document = privacy.answer_access_request(
        session, system_actor(), "jane.doe@hospital.example", request_id=None
    )
    event = last_event(session, "privacy.access_export")
    assert event.actor == "system:cli"
    assert event.details["via"] == "cli"
    assert event.details["rows"]["contact"] == len(document["tables"]["contact"]) == 1
    assert "jane" not in str(event.details)


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
