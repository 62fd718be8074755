"""``accessgap grants ...``: which campaigns a researcher may read and export.

The same use cases as the admin page and the JSON API, as the operator's system actor
(``system:cli``), so the audit events say they came from the command line.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from api.settings import Settings
from surveys.accounts import service as accounts
from surveys.accounts.errors import UserNotFound
from surveys.campaigns import grants
from surveys.campaigns.errors import GrantNotFound
from surveys.campaigns.schemas import GrantCreate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.policy import system_actor

grants_app = typer.Typer(help="Researcher grants: the campaigns a researcher may export.")
console = Console()
errors = Console(stderr=True)

Email = Annotated[str, typer.Argument(help="The researcher's e-mail address.")]
Slug = Annotated[str, typer.Argument(help="The campaign's slug, e.g. demo-2026.")]


def _user_id(session: Session, email: str) -> int:
    user = accounts.find_user_by_email(session, email)
    if user is None:
        raise UserNotFound(f"No account signs in as {email!r}; check the address.")
    return user.id


@grants_app.command("add")
def grants_add(email: Email, campaign: Slug) -> None:
    """Grant a researcher a campaign (audited as campaign.grant)."""
    engine = make_engine(Settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            data = GrantCreate(user_id=_user_id(session, email), campaign=campaign)
            _, created = grants.grant_campaign(session, system_actor(), data, request_id=None)
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"{campaign} {'granted' if created else 'was already granted'}.")


@grants_app.command("revoke")
def grants_revoke(email: Email, campaign: Slug) -> None:
    """Take a researcher's grant of a campaign back (audited as campaign.grant_revoke)."""
    engine = make_engine(Settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            grant_id = grants.find_grant(
                session, user_id=_user_id(session, email), campaign=campaign
            )
            if grant_id is None:
                raise GrantNotFound(f"This researcher holds no grant of {campaign!r}.")
            grants.revoke_grant(session, system_actor(), grant_id, request_id=None)
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"{campaign} revoked.")


@grants_app.command("list")
def grants_list() -> None:
    """Every grant: researcher id, campaign, when and by whom."""
    engine = make_engine(Settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            found = grants.list_grants(session, system_actor())
    finally:
        engine.dispose()
    for grant in found:
        console.print(
            f"user {grant.user_id}\t{grant.campaign}\t{grant.granted_at:%Y-%m-%d}\t"
            f"{grant.granted_by}",
            highlight=False,
        )
