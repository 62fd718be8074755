"""Invitation e-mail and the mail-merge CSV, and sending through a local SMTP sink (aiosmtpd)."""

from __future__ import annotations

import csv
import datetime as dt
import email
import io
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from surveys.campaigns.mail import (
    InvitationLink,
    SmtpConfig,
    compose,
    deadline_text,
    invitation_link,
    language_for,
    links_csv,
    send_all,
)
from surveys.campaigns.models import Invitation
from surveys.registry.models import Contact
from tests.accounts_fixtures import sign_in
from tests.builders import make_campaign, make_centre, make_published_form

DEADLINE = dt.datetime(2027, 7, 1, tzinfo=dt.UTC)  # answers until the end of 30 June 2027
FAR_DEADLINE = dt.datetime(2099, 7, 1, tzinfo=dt.UTC)


def line(**fields: Any) -> InvitationLink:
    values: dict[str, Any] = {
        "invitation_id": 1,
        "centre_id": "c-1",
        "centre_name": "Institut Curie",
        "country": "FR",
        "link": "https://survey.example/i/abc",
        "expires_at": DEADLINE,
        "contact_email": "contact@curie.example",
        **fields,
    }
    return InvitationLink(**values)


class Sink:
    """An SMTP server that keeps what it receives and refuses one address."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    # A generous readiness wait (aiosmtpd's default is 5 s): a loaded machine starts it late.
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=120)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


class TestCompose:
    def test_english_invitation(self) -> None:
        message = compose(
            line(country="DE"),
            campaign="Wave 2027",
            deadline=DEADLINE,
            sender="survey@network.example",
            language="en",
        )
        assert message["To"] == "contact@curie.example"
        assert message["From"] == "survey@network.example"
        assert message["Subject"] == "Wave 2027: your invitation to the survey"
        body = message.get_content()
        assert "https://survey.example/i/abc" in body
        assert "Please answer by the end of 30 June 2027 (UTC)." in body
        assert message.get_content_type() == "text/plain"

    def test_french_reminder(self) -> None:
        message = compose(
            line(),
            campaign="Vague 2027",
            deadline=DEADLINE,
            sender="survey@network.example",
            language="fr",
            reminder=True,
        )
        assert message["Subject"] == "Rappel : Vague 2027 - votre lien vers l'enquête"
        body = message.get_content()
        assert "Merci de répondre au plus tard le 30 juin 2027 (fin de journée, UTC)." in body
        assert "Ceci est un rappel" in body
        assert "https://survey.example/i/abc" in body

    def test_a_line_break_in_a_name_adds_no_header(self) -> None:
        message = compose(
            line(),
            campaign="Wave\r\nBcc: victim@evil.example",
            deadline=None,
            sender="s@x.example",
            language="en",
        )
        assert message["Bcc"] is None
        assert "\n" not in str(message["Subject"])
        assert "There is no deadline set yet." in message.get_content()

    def test_a_centre_without_address_cannot_be_mailed(self) -> None:
        with pytest.raises(ValueError, match="no contact"):
            compose(
                line(contact_email=None), campaign="W", deadline=None, sender="s@x", language="en"
            )


@pytest.mark.parametrize(
    ("deadline", "language", "expected"),
    [
        (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), "en", "by the end of 31 December 2026 (UTC)"),
        (dt.datetime(2027, 3, 5, 17, 30, tzinfo=dt.UTC), "en", "by 5 March 2027, 17:30 UTC"),
        (dt.datetime(2027, 3, 5, 17, 30, tzinfo=dt.UTC), "fr", "le 5 mars 2027 à 17:30 UTC"),
    ],
)
def test_deadline_text(deadline: dt.datetime, language: str, expected: str) -> None:
    assert expected in deadline_text(deadline, language)


def test_language_follows_the_country_unless_chosen() -> None:
    assert language_for("BE") == "fr"
    assert language_for("de") == "en"
    assert language_for("FR", "en") == "en"
    assert language_for("FR", "xx") == "fr"


def test_link_and_csv() -> None:
    assert invitation_link("https://s.example/", "tok") == "https://s.example/i/tok"
    text = links_csv([line(centre_name='=HYPERLINK("x")', contact_email=None)])
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["centre_name"] == '\'=HYPERLINK("x")'
    assert row["contact_email"] == ""
    assert row["link"] == "https://survey.example/i/abc"
    assert row["expires_at"] == "2027-07-01T00:00:00+00:00"


class TestSendAll:
    def test_every_message_is_handed_over_and_one_refusal_stops_no_other(
        self, sink: tuple[Sink, int]
    ) -> None:
        handler, port = sink
        config = SmtpConfig(host="127.0.0.1", port=port, sender="s@x.example")
        messages = [
            compose(
                line(contact_email=address),
                campaign="W",
                deadline=None,
                sender="s@x.example",
                language="en",
            )
            for address in ("a@x.example", "refused@x.example", "b@x.example")
        ]
        report = send_all(config, messages)
        assert report.sent == [0, 2]
        assert list(report.failed) == [1]
        assert handler.recipients == [["a@x.example"], ["b@x.example"]]

    def test_an_unreachable_server_fails_every_message(self) -> None:
        config = SmtpConfig(host="127.0.0.1", port=free_port(), sender="s@x", timeout=2)
        message = compose(line(), campaign="W", deadline=None, sender="s@x", language="en")
        report = send_all(config, [message, message])
        assert report.sent == []
        assert set(report.failed) == {0, 1}
        assert "could not be reached" in report.failed[0]


@pytest.fixture
def settings(settings: Settings, sink: tuple[Sink, int]) -> Settings:
    """The app's settings with the SMTP sink as its relay."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": sink[1], "smtp_from": "survey@net.example"}
    )


def test_invitations_and_reminders_reach_the_sink_and_their_links_work(
    client: TestClient, session_factory: sessionmaker[Session], sink: tuple[Sink, int]
) -> None:
    handler, _ = sink
    with session_factory() as session, session.begin():
        paris = make_centre(session, name="Institut Curie", country="FR")
        berlin = make_centre(session, name="Charité", country="DE")
        silent = make_centre(session, name="No Address", country="IT")
        session.add(Contact(centre_id=paris.id, name="Dr P", email="p@curie.example"))
        session.add(Contact(centre_id=berlin.id, name="Dr B", email="b@charite.example"))
        campaign = make_campaign(
            session,
            slug="mailed",
            centres=[paris, berlin, silent],
            versions=[make_published_form(session)],
        )
        campaign.name = "Wave 2027"
        campaign.closes_at = FAR_DEADLINE
    sign_in(client, session_factory, role="coordinator")

    issued = client.post("/api/v1/campaigns/mailed/invitations", json={"send": True})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["sent"], body["failed"], body["without_address"]) == (2, 0, 1)
    by_address = {m["To"]: m for m in handler.messages}
    assert set(by_address) == {"p@curie.example", "b@charite.example"}
    assert by_address["p@curie.example"]["Subject"] == "Wave 2027 : votre invitation à l'enquête"
    assert by_address["b@charite.example"]["Subject"] == "Wave 2027: your invitation to the survey"
    text = by_address["b@charite.example"].get_content()
    assert "Please answer by the end of 30 June 2099 (UTC)." in text
    [link] = re.findall(r"http\S+/i/\S+", text)
    respondent = TestClient(client.app, raise_server_exceptions=False)
    try:
        opened = respondent.get(link.replace("http://127.0.0.1:8000", ""), follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == "/r/"
    finally:
        respondent.close()
    with session_factory() as session:
        sent = session.scalars(select(Invitation).where(Invitation.sent_at.is_not(None))).all()
        assert len(sent) == 2

    handler.messages.clear()
    reminded = client.post(
        "/api/v1/campaigns/mailed/reminders", json={"send": True, "language": "en"}
    )
    assert reminded.status_code == 201
    assert reminded.json()["sent"] == 2
    subjects = sorted(str(m["Subject"]) for m in handler.messages)
    assert subjects == ["Reminder: Wave 2027 - your survey link"] * 2
    new_link = re.findall(r"http\S+/i/\S+", handler.messages[0].get_content())[0]
    assert new_link != link
