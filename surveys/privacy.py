"""Personal data: the identifier catalogue, erasure of a contact, and the access-request export.

One source of truth (RELIABILITY.md 3.5): a column is personal data when its model declares
``info={"identifier": True}``; a questionnaire question is personal data when its row says
``identifier: yes`` (the built-in ones are declared in :data:`QUESTIONNAIRE_IDENTIFIERS`, and a
test checks the catalogue against the questionnaire files). The export filter, the erasure, the
access-request export and the audit redaction all read this catalogue.

The two use cases, :func:`erase_contact` and :func:`answer_access_request`, check the actor's
``privacy:manage`` and record their own audit event; the admin page and the CLI call them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause, Table, func, select
from sqlalchemy.orm import Session

from surveys.accounts.models import ApiToken, StaffSession, User
from surveys.audit.channel import channel
from surveys.audit.models import AuditEvent
from surveys.audit.service import record
from surveys.db import Base, utcnow
from surveys.errors import NotFound
from surveys.policy import Actor, Permission, authorize
from surveys.registry.models import Centre, Contact
from surveys.responses.models import Response

# Questions of the built-in catalogue marked `identifier: yes` (the survey contact).
QUESTIONNAIRE_IDENTIFIERS: tuple[str, ...] = ("contact_name", "contact_role", "contact_email")

# Metadata rows of a form that name who or what submitted (the account, the session's device,
# ODK's phone and SIM fields): personal data, left out of pseudonymised exports.
IDENTIFYING_METADATA = frozenset(
    {"username", "deviceid", "email", "phonenumber", "simserial", "subscriberid"}
)

# Columns never shown, even to the person they describe: they are credentials, not data about them.
SECRET_COLUMNS = frozenset({"password_hash", "totp_secret", "token_hash", "csrf_token"})


@dataclass(frozen=True)
class IdentifierField:
    """One place personal data is held: a table column, or a questionnaire question."""

    source: str  # "column" | "question"
    table: str
    name: str


def identifier_columns() -> list[IdentifierField]:
    """Every model column tagged ``info={"identifier": True}``."""
    found: list[IdentifierField] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get("identifier"):
                found.append(IdentifierField("column", table.name, column.name))
    return found


def identifier_catalogue() -> list[IdentifierField]:
    """The whole catalogue: tagged columns and identifier questions (answers of ``response``)."""
    questions = [IdentifierField("question", "response", q) for q in QUESTIONNAIRE_IDENTIFIERS]
    return identifier_columns() + questions


def questionnaire_identifiers(definition: Any) -> set[str]:
    """Names of the questions marked as identifiers anywhere in a questionnaire definition."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            flag = node.get("identifier")
            if flag is True or (isinstance(flag, str) and flag.strip().lower() in {"yes", "true"}):
                name = node.get("name")
                if isinstance(name, str):
                    found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    return found


def _tables_with_identifiers() -> Iterator[Table]:
    names = {f.table for f in identifier_columns()}
    for table in Base.metadata.sorted_tables:
        if table.name in names:
            yield table


class ContactNotFound(NotFound):
    code = "contact_not_found"


def erase_contact(
    session: Session,
    actor: Actor,
    contact_id: int,
    *,
    request_id: str | None,
    now: dt.datetime | None = None,
) -> tuple[Contact, list[str]]:
    """Blank every identifier field of a contact and mark it erased (GDPR Art. 17).

    The contact row stays (so the centre's answers keep their attribution to the centre, not to
    a person); its personal fields are emptied. Returns the contact and the names of the fields
    that were blanked, never their values; the ``contact.erase`` event names the same fields.
    Erasing twice is harmless.
    """
    authorize(actor, Permission.PRIVACY_MANAGE)
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise ContactNotFound("No contact has this id.")
    blanked: list[str] = []
    for column in Contact.__table__.columns:
        if not column.info.get("identifier"):
            continue
        current = getattr(contact, column.key)
        empty = None if column.nullable else ""
        if current not in (None, ""):
            blanked.append(column.key)
        setattr(contact, column.key, empty)
    if contact.erased_at is None:
        contact.erased_at = now or utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="contact.erase",
        object_type="contact",
        object_id=contact.id,
        details={"fields": blanked, "centre_id": contact.centre_id, **channel(actor)},
        request_id=request_id,
    )
    return contact, blanked


def _row(table: FromClause, row: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column in table.columns:
        if column.name in SECRET_COLUMNS:
            continue
        value = row._mapping[column]
        data[column.name] = value.isoformat() if isinstance(value, dt.date) else value
    return data


def answer_access_request(
    session: Session, actor: Actor, email: str, *, request_id: str | None
) -> dict[str, Any]:
    """The access-request document (:func:`access_request`), its export audited.

    The ``privacy.access_export`` event counts the rows per table, never their values.
    """
    authorize(actor, Permission.PRIVACY_MANAGE)
    document = access_request(session, email)
    record(
        session,
        actor=actor,
        action="privacy.access_export",
        object_type="data_subject",
        details={
            "rows": {name: len(rows) for name, rows in document["tables"].items()},
            "responses": len(document["responses"]),
            **channel(actor),
        },
        request_id=request_id,
    )
    return document


def access_request(session: Session, email: str) -> dict[str, Any]:
    """Everything held about one e-mail address (GDPR Art. 15), as a JSON-ready document.

    Every table with an identifier column named ``email`` is searched (the list comes from the
    catalogue, so a new table of personal data is included without touching this function),
    plus what hangs off a staff account (tokens, sessions, the audit events of its actions) and
    the questionnaire answers whose identifier questions hold the address.
    """
    subject = email.strip().lower()
    document: dict[str, Any] = {
        "subject": subject,
        "generated_at": utcnow().isoformat(),
        "catalogue": [f.__dict__ for f in identifier_catalogue()],
        "tables": {},
    }
    tables: dict[str, list[dict[str, Any]]] = document["tables"]
    for table in _tables_with_identifiers():
        if "email" not in table.columns:
            continue
        rows = session.execute(select(table).where(func.lower(table.c.email) == subject))
        tables[table.name] = [_row(table, r) for r in rows]

    contact_centres = select(Contact.centre_id).where(func.lower(Contact.email) == subject)
    document["centres_of_contacts"] = [
        {"id": c.public_id, "name": c.name}
        for c in session.scalars(select(Centre).where(Centre.id.in_(contact_centres)))
    ]
    user = session.scalar(select(User).where(func.lower(User.email) == subject))
    if user is not None:
        document["api_tokens"] = [
            _row(ApiToken.__table__, r)
            for r in session.execute(select(ApiToken.__table__).where(ApiToken.user_id == user.id))
        ]
        document["sessions"] = [
            {"created_at": s.created_at.isoformat(), "last_seen_at": s.last_seen_at.isoformat()}
            for s in session.scalars(select(StaffSession).where(StaffSession.user_id == user.id))
        ]
        label = f"user:{user.id}"
        document["audit_events"] = [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
            }
            for e in session.scalars(
                select(AuditEvent)
                .where((AuditEvent.actor == label) | AuditEvent.actor.startswith(label + "/"))
                .order_by(AuditEvent.at)
            )
        ]
    document["responses"] = _responses_naming(session, subject)
    return document


def _responses_naming(session: Session, subject: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query = select(Response).order_by(Response.id).execution_options(yield_per=500)
    for response in session.scalars(query):
        answers = response.answers or {}
        held = {
            name: answers[name]
            for name in QUESTIONNAIRE_IDENTIFIERS
            if isinstance(answers.get(name), str)
        }
        if any(isinstance(v, str) and v.strip().lower() == subject for v in held.values()):
            found.append(
                {"response_id": response.id, "submission_uuid": response.submission_uuid, **held}
            )
    return found
