"""Accounts: creation, roles, deactivation, one's own password and second factor; each use case
checks the actor's permission and records its audit event."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.accounts import service, sessions, totp
from surveys.accounts.errors import EmailTaken, LastAdmin, WeakPassword, WrongPassword
from surveys.accounts.models import StaffSession
from surveys.accounts.passwords import verify_password
from surveys.accounts.schemas import UserCreate, UserRoleChange
from surveys.db import utcnow
from surveys.policy import PermissionDenied, staff_actor, system_actor
from tests.accounts_fixtures import STAFF_PASSWORD, make_user
from tests.audit_events import events, last_event

ADMIN = staff_actor(user_id=999_001, role="admin")
COORDINATOR = staff_actor(user_id=999_002, role="coordinator")


def new_user_data(**fields: object) -> UserCreate:
    data = {
        "email": "Ana.Silva@Example.PT ",
        "display_name": "Ana Silva",
        "password": "violet harbour lantern 93",
        "role": "coordinator",
        **fields,
    }
    return UserCreate.model_validate(data)


class TestCreateUser:
    def test_stores_a_normalised_email_and_an_argon2_hash(self, session: Session) -> None:
        user = service.create_user(
            session, ADMIN, new_user_data(), with_totp=True, request_id="r-1"
        )
        assert user.email == "ana.silva@example.pt"
        assert user.password_hash.startswith("$argon2id$")
        assert user.totp_secret is not None
        assert len(user.totp_secret) == 32

    def test_refuses_a_weak_password_naming_the_field(self, session: Session) -> None:
        with pytest.raises(WeakPassword) as caught:
            service.create_user(
                session, ADMIN, new_user_data(password="anasilva2026"), request_id=None
            )
        assert caught.value.errors[0].loc == ("password",)

    def test_refuses_a_second_account_with_the_same_email(self, session: Session) -> None:
        service.create_user(session, ADMIN, new_user_data(), request_id=None)
        with pytest.raises(EmailTaken):
            service.create_user(
                session, ADMIN, new_user_data(email="ana.silva@example.pt"), request_id=None
            )

    @pytest.mark.parametrize(
        "fields",
        [
            {"role": "domain_lead"},  # a lead needs a domain
            {"role": "coordinator", "domains": ["radiomics"]},  # only leads are scoped
            {"role": "domain_lead", "domains": ["astrology"]},
            {"role": "domain_lead", "domains": ["radiomics"], "countries": ["France"]},
            {"role": "superuser"},
            {"email": "not an address"},
        ],
    )
    def test_role_and_scope_must_fit(self, fields: dict[str, object]) -> None:
        with pytest.raises(ValueError, match=r"."):
            new_user_data(**fields)


class TestRolesAndActivity:
    def test_role_change_ends_sessions_and_returns_the_previous_role(
        self, session: Session
    ) -> None:
        user = make_user(session, role="researcher")
        sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        changed = service.change_role(
            session,
            ADMIN,
            user.id,
            UserRoleChange(role="domain_lead", domains=["surgery"], countries=["fr"]),
            request_id=None,
        )
        assert last_event(session, "user.role_change").details["from"] == "researcher"
        assert (changed.role, changed.domains, changed.countries) == (
            "domain_lead",
            ["surgery"],
            ["FR"],
        )
        assert session.scalar(select(func.count(StaffSession.id))) == 0

    def test_the_last_admin_cannot_be_demoted_or_deactivated(self, session: Session) -> None:
        for other in session.scalars(select(service.User).where(service.User.role == "admin")):
            other.role = "coordinator"  # the admin made below is then the last one
        session.flush()
        admin = make_user(session, role="admin")
        with pytest.raises(LastAdmin):
            service.change_role(
                session, ADMIN, admin.id, UserRoleChange(role="researcher"), request_id=None
            )
        with pytest.raises(LastAdmin):
            service.set_active(session, ADMIN, admin.id, active=False, request_id=None)
        make_user(session, role="admin")
        service.set_active(session, ADMIN, admin.id, active=False, request_id=None)

    def test_deactivation_ends_sessions(self, session: Session) -> None:
        user = make_user(session, role="coordinator")
        raw, _ = sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        service.set_active(session, ADMIN, user.id, active=False, request_id=None)
        assert sessions.find_session(session, raw, idle=dt.timedelta(minutes=30)) is None


class TestAuditedUseCases:
    def test_create_records_role_and_scope_never_the_address(self, session: Session) -> None:
        data = new_user_data(role="domain_lead", domains=["surgery"], countries=["PT"])
        user = service.create_user(session, ADMIN, data, request_id="req-7")
        event = last_event(session, "user.create")
        assert (event.actor, event.object_type, event.object_id) == (
            "user:999001",
            "user",
            str(user.id),
        )
        assert event.request_id == "req-7"
        assert event.details == {"role": "domain_lead", "domains": ["surgery"], "countries": ["PT"]}
        assert "ana.silva" not in str(event.details)

    def test_a_command_line_actor_is_named_with_its_channel(self, session: Session) -> None:
        service.create_user(session, system_actor(), new_user_data(), request_id=None)
        event = last_event(session, "user.create")
        assert (event.actor, event.details["via"]) == ("system:cli", "cli")

    def test_role_change_and_deactivation_are_recorded(self, session: Session) -> None:
        user = make_user(session, role="researcher")
        change = UserRoleChange(role="coordinator")
        service.change_role(session, ADMIN, user.id, change, request_id="r-2")
        service.set_active(session, ADMIN, user.id, active=False, request_id="r-3")
        service.set_active(session, ADMIN, user.id, active=True, request_id="r-4")
        recorded = [(e.action, e.object_id) for e in events(session)[-3:]]
        assert recorded == [
            ("user.role_change", str(user.id)),
            ("user.deactivate", str(user.id)),
            ("user.activate", str(user.id)),
        ]
        assert last_event(session, "user.role_change").details == {
            "from": "researcher",
            "to": "coordinator",
            "domains": [],
            "countries": [],
        }

    def test_an_actor_without_users_manage_is_refused_and_nothing_changes(
        self, session: Session
    ) -> None:
        user = make_user(session, role="researcher")
        before = len(events(session))
        with pytest.raises(PermissionDenied):
            service.create_user(session, COORDINATOR, new_user_data(), request_id=None)
        with pytest.raises(PermissionDenied):
            service.change_role(
                session, COORDINATOR, user.id, UserRoleChange(role="admin"), request_id=None
            )
        with pytest.raises(PermissionDenied):
            service.set_active(session, COORDINATOR, user.id, active=False, request_id=None)
        assert user.role == "researcher"
        assert user.active
        assert len(events(session)) == before


class TestChangePassword:
    def test_other_sessions_end_and_the_change_is_recorded(self, session: Session) -> None:
        user = make_user(session, role="researcher")
        _, kept = sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        actor = staff_actor(user_id=user.id, role=user.role)
        service.change_password(
            session,
            actor,
            current_password=STAFF_PASSWORD,
            new_password="amber meadow kettle 47",
            keep_session=kept.id,
            request_id="r-9",
        )
        assert verify_password(user.password_hash, "amber meadow kettle 47")
        event = last_event(session, "user.password_change")
        assert (event.actor, event.object_id, event.details) == (
            f"user:{user.id}",
            str(user.id),
            {"sessions_ended": 1},
        )
        assert "amber" not in str(event.details)

    def test_a_wrong_current_password_names_its_field_and_changes_nothing(
        self, session: Session
    ) -> None:
        user = make_user(session, role="researcher")
        actor = staff_actor(user_id=user.id, role=user.role)
        with pytest.raises(WrongPassword) as caught:
            service.change_password(
                session,
                actor,
                current_password="not it",
                new_password="amber meadow kettle 47",
                keep_session=None,
                request_id=None,
            )
        assert caught.value.errors[0].loc == ("current_password",)
        assert verify_password(user.password_hash, STAFF_PASSWORD)
        assert events(session, "user.password_change") == []


class TestTotpSetup:
    def test_a_confirmed_code_turns_the_factor_on_once(self, session: Session) -> None:
        user = make_user(session, role="coordinator")
        _, row = sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        actor = staff_actor(user_id=user.id, role=user.role)
        assert service.start_totp_setup(session, actor, row)
        secret = row.pending_totp_secret
        assert secret is not None
        assert not service.confirm_totp_setup(session, actor, row, "000000", request_id=None)
        code = totp.current_code(secret, at=utcnow())
        assert service.confirm_totp_setup(session, actor, row, code, request_id="r-5")
        assert (user.totp_secret, row.pending_totp_secret) == (secret, None)
        event = last_event(session, "user.totp_enable")
        assert (event.actor, event.object_id) == (f"user:{user.id}", str(user.id))
        assert not service.start_totp_setup(session, actor, row)
