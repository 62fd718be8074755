"""``accessgap users ...`` and ``accessgap privacy ...``: accounts and personal-data requests.

``accessgap users create --role admin --email ...`` makes the first administrator. The password
is read from ``ACCESSGAP_NEW_PASSWORD`` or asked for (hidden, twice); it is never an argument,
so it stays out of shell history and process lists.

Every command calls the same use case as the admin pages, as the operator's system actor
(``system:cli``), so its audit event says it came from the command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from api.deps import throttle_guard
from api.settings import Settings
from surveys import privacy
from surveys.accounts import service as accounts
from surveys.accounts import signin, totp
from surveys.accounts.errors import UserNotFound
from surveys.accounts.schemas import UserCreate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.policy import Role, system_actor

users_app = typer.Typer(help="Staff accounts.")
privacy_app = typer.Typer(help="Personal data: erasure and access requests (GDPR).")
console = Console()
errors = Console(stderr=True)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The person's e-mail address (their sign-in).")],
    role: Annotated[Role, typer.Option(help="admin, coordinator, domain_lead or researcher.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")] = None,
    domain: Annotated[
        list[str] | None, typer.Option(help="A domain of a domain lead (repeat for several).")
    ] = None,
    country: Annotated[
        list[str] | None, typer.Option(help="A country (ISO alpha-2) to scope a domain lead.")
    ] = None,
    with_totp: Annotated[
        bool, typer.Option("--totp/--no-totp", help="Set up the authenticator now.")
    ] = True,
) -> None:
    """Create a staff account; prints the authenticator (TOTP) link to add to an app."""
    password = os.environ.get("ACCESSGAP_NEW_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        data = UserCreate(
            email=email,
            display_name=name or email,
            password=password,
            role=role,
            domains=domain or [],
            countries=country or [],
        )
    except ValidationError as exc:
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"]) or "account"
            errors.print(f"[red]{loc}: {error['msg']}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    engine = make_engine(Settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user = accounts.create_user(
                session, system_actor(), data, with_totp=with_totp, request_id=None
            )
            user_id, secret, address = user.id, user.totp_secret, user.email
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"User {user_id} created with the role {role.value}.")
    if secret is not None:
        console.print("Add this account to an authenticator app (the link or the key):")
        console.print(totp.provisioning_uri(secret, account=address), highlight=False)
        console.print(f"key: {secret}", highlight=False)


@users_app.command("unlock")
def users_unlock(
    email: Annotated[str, typer.Argument(help="The e-mail address of the locked account.")],
) -> None:
    """Lift every sign-in block of an account, from every address (audited as user.unlock)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user = accounts.find_user_by_email(session, email)
            if user is None:
                raise UserNotFound(f"No account signs in as {email!r}; check the address.")
            signin.unlock_user(
                session, system_actor(), user.id, guard=throttle_guard(settings), request_id=None
            )
            user_id = user.id
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"User {user_id} unlocked: every address may try again.")


@users_app.command("unblock-address")
def users_unblock_address(
    address: Annotated[str, typer.Argument(help="The IP address blocked from signing in.")],
) -> None:
    """Lift the sign-in block of a source address over every account (audited)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            source = signin.unblock_address(
                session, system_actor(), address, guard=throttle_guard(settings), request_id=None
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"Address {source} may sign in again.")


@privacy_app.command("erase-contact")
def privacy_erase_contact(
    contact_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)],
) -> None:
    """Blank a contact's personal fields (the erasure is audited without the values)."""
    engine = make_engine(Settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            _, blanked = privacy.erase_contact(session, system_actor(), contact_id, request_id=None)
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"Contact {contact_id} erased ({', '.join(blanked) or 'nothing left to blank'}).")


@privacy_app.command("access-request")
def privacy_access_request(
    email: Annotated[str, typer.Argument(help="The e-mail address the request is about.")],
    out: Annotated[Path, typer.Option(dir_okay=False, writable=True, help="JSON file to write.")],
) -> None:
    """Write everything held about one e-mail address to a JSON file (GDPR Art. 15)."""
    engine = make_engine(Settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            document = privacy.answer_access_request(
                session, system_actor(), email, request_id=None
            )
    finally:
        engine.dispose()
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str), "utf-8")
    console.print(f"Access-request export written to {out.name}.")
