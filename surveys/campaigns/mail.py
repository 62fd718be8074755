"""Getting invitation links to centres: the mail-merge CSV and plain-text e-mail over SMTP.

Tokens are never stored (only their SHA-256), so the links exist only in the answer of the
request that issued them: the CSV returned then, and the e-mails sent then. A reminder that
carries a link therefore re-issues it.

The e-mail is plain text, in English or French (French for centres in French-speaking countries
unless the coordinator chooses), and says the link and the deadline. Nothing here logs an address
or a link.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from surveys.errors import FieldError, InvalidInput
from surveys.tabular import neutralise_formula

MAIL_LANGUAGES = ("en", "fr")
FRENCH_SPEAKING = frozenset({"FR", "BE", "LU", "MC"})
CSV_COLUMNS = ("centre_id", "centre_name", "country", "contact_email", "link", "expires_at")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

SUBJECTS = {
    ("en", False): "{campaign}: your invitation to the survey",
    ("en", True): "Reminder: {campaign} - your survey link",
    ("fr", False): "{campaign} : votre invitation à l'enquête",
    ("fr", True): "Rappel : {campaign} - votre lien vers l'enquête",
}

BODIES = {
    "en": """\
Dear colleague at {centre},

{opening}

Open this personal link to fill in the questionnaire(s) for your centre:

    {link}

{deadline}

You can save a draft and come back later with the same link. The link is for
your centre only: please do not forward it outside your team. If it has expired
or does not work, reply to this message and your coordinator will send a new one.

With thanks,
The {campaign} coordination team
""",
    "fr": """\
Chère collègue, cher collègue de {centre},

{opening}

Ouvrez ce lien personnel pour remplir le ou les questionnaires de votre centre :

    {link}

{deadline}

Vous pouvez enregistrer un brouillon et revenir plus tard avec le même lien. Ce
lien est réservé à votre centre : merci de ne pas le transmettre en dehors de
votre équipe. S'il a expiré ou ne fonctionne pas, répondez à ce message et votre
coordinateur vous en enverra un nouveau.

Avec nos remerciements,
L'équipe de coordination de {campaign}
""",
}

OPENINGS = {
    ("en", False): (
        "Your centre is invited to take part in {campaign}, a survey of access to\n"
        "hi-tech cancer care across Europe."
    ),
    ("en", True): (
        "This is a reminder: we have not yet received all of your centre's answers to\n"
        "{campaign}. Your earlier link no longer works; please use the new one below.\n"
        "Anything you saved as a draft is kept."
    ),
    ("fr", False): (
        "Votre centre est invité à participer à {campaign}, une enquête sur l'accès\n"
        "aux soins de haute technologie en cancérologie en Europe."
    ),
    ("fr", True): (
        "Ceci est un rappel : nous n'avons pas encore reçu toutes les réponses de votre\n"
        "centre à {campaign}. Votre lien précédent ne fonctionne plus ; utilisez le\n"
        "nouveau lien ci-dessous. Tout brouillon enregistré est conservé."
    ),
}


@dataclass(frozen=True)
class SmtpConfig:
    """Where to hand messages over (built by the adapter from the deployment's settings)."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    timeout: float = 10.0


def smtp_config(*, host: str | None, port: int, sender: str, starttls: bool) -> SmtpConfig | None:
    """The deployment's SMTP relay, from its plain settings; None when it has none."""
    if not host:
        return None
    return SmtpConfig(host=host, port=port, sender=sender, starttls=starttls)


@dataclass(frozen=True)
class Outbox:
    """Where just-issued links go: the deployment's address (links are built on it) and its
    SMTP relay, when it has one (without one, links go out only as the mail-merge CSV)."""

    base_url: str
    smtp: SmtpConfig | None = None

    def check(self, *, send: bool) -> None:
        """Refuse, before anything is issued, to send e-mail without a relay."""
        if send:
            self.relay()

    def relay(self) -> SmtpConfig:
        """The relay to send through; without one, the same refusal as :meth:`check`."""
        if self.smtp is None:
            raise InvalidInput(
                "E-mail is not set up on this server (ACCESSGAP_SMTP_HOST); nothing was issued. "
                "Issue the links without sending and use the CSV for a mail merge.",
                errors=[FieldError(("send",), "e-mail sending is not configured")],
            )
        return self.smtp


@dataclass(frozen=True)
class InvitationLink:
    """One line of the mail merge: a centre and its (just issued) link."""

    invitation_id: int
    centre_id: str
    centre_name: str
    country: str
    link: str
    expires_at: dt.datetime | None
    contact_email: str | None = None


def invitation_link(base_url: str, token: str) -> str:
    """The address a respondent opens: the deployment's base URL, ``/i/`` and the token."""
    return f"{base_url.rstrip('/')}/i/{token}"


def language_for(country: str, chosen: str | None = None) -> str:
    """The coordinator's choice, else French for French-speaking countries, else English."""
    if chosen in MAIL_LANGUAGES:
        return chosen
    return "fr" if country.upper() in FRENCH_SPEAKING else "en"


def deadline_text(deadline: dt.datetime | None, language: str) -> str:
    """The sentence that gives the deadline (a midnight deadline is "the end of" the day before)."""
    if deadline is None:
        return (
            "Il n'y a pas de date limite fixée pour l'instant."
            if language == "fr"
            else "There is no deadline set yet."
        )
    moment = deadline.astimezone(dt.UTC)
    end_of_day = moment.time() == dt.time(0, 0)
    day = (moment - dt.timedelta(days=1)).date() if end_of_day else moment.date()
    if language == "fr":
        when = f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}"
        if end_of_day:
            return f"Merci de répondre au plus tard le {when} (fin de journée, UTC)."
        return f"Merci de répondre au plus tard le {when} à {moment:%H:%M} UTC."
    when = f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    if end_of_day:
        return f"Please answer by the end of {when} (UTC)."
    return f"Please answer by {when}, {moment:%H:%M} UTC."


def _one_line(text: str) -> str:
    """Header text on one line: a name with a line break must not add headers."""
    return " ".join(text.split())


def compose(
    line: InvitationLink,
    *,
    campaign: str,
    deadline: dt.datetime | None,
    sender: str,
    language: str,
    reminder: bool = False,
) -> EmailMessage:
    """The plain-text invitation (or reminder) for one centre, addressed to its contact."""
    if not line.contact_email:
        raise ValueError("the centre has no contact e-mail address")
    language = language if language in MAIL_LANGUAGES else "en"
    names = {"campaign": _one_line(campaign), "centre": _one_line(line.centre_name)}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = line.contact_email
    message["Subject"] = SUBJECTS[(language, reminder)].format(**names)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Content-Language"] = language
    message["Auto-Submitted"] = "auto-generated"
    body = BODIES[language].format(
        opening=OPENINGS[(language, reminder)].format(**names),
        link=line.link,
        deadline=deadline_text(deadline, language),
        **names,
    )
    message.set_content(body)
    return message


@dataclass
class SendReport:
    """What happened to each message: indexes of those handed over, and why the others failed."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def send_all(config: SmtpConfig, messages: Sequence[EmailMessage]) -> SendReport:
    """Hand the messages to the SMTP relay over one connection; one refusal stops no other."""
    report = SendReport()
    if not messages:
        return report
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            for index, message in enumerate(messages):
                try:
                    smtp.send_message(message)
                except smtplib.SMTPServerDisconnected:
                    raise
                except smtplib.SMTPException as exc:
                    report.failed[index] = type(exc).__name__
                else:
                    report.sent.append(index)
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"the mail server could not be reached ({type(exc).__name__})"
        for index in range(len(messages)):
            if index not in report.sent:
                report.failed.setdefault(index, reason)
    return report


def links_csv_filename(campaign_slug: str, kind: str, now: dt.datetime) -> str:
    """``<campaign>-<invitations|invitation|reminders>-<UTC stamp>.csv``."""
    return f"{campaign_slug}-{kind}-{now.strftime('%Y%m%dT%H%M%SZ')}.csv"


def links_csv(lines: Sequence[InvitationLink]) -> str:
    """The mail-merge file: one row per centre, cells neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(
            [
                line.centre_id,
                neutralise_formula(line.centre_name),
                line.country,
                neutralise_formula(line.contact_email or ""),
                line.link,
                line.expires_at.isoformat() if line.expires_at else "",
            ]
        )
    return out.getvalue()
