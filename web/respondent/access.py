"""Respondent access: the invitation session cookie, checked on every ``/r/`` request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import ByInvitation, SubmittedCsrf
from api.cookies import CookieChange, schedule_cookie
from api.deps import AppSettings, DbSession
from api.settings import Settings
from surveys.campaigns import respondents
from surveys.campaigns.models import RespondentSession
from surveys.db import utcnow
from surveys.policy import Actor

COOKIE = "accessgap_respondent"


def cookie_name(settings: Settings) -> str:
    return f"__Host-{COOKIE}" if settings.secure_cookies else COOKIE


class Respondent(ByInvitation):
    """A ``/r/`` route: the respondent session (if any) is loaded and CSRF is bound to it."""

    def __call__(
        self,
        request: Request,
        session: DbSession,
        settings: AppSettings,
        submitted: SubmittedCsrf,
    ) -> Actor:
        raw = request.cookies.get(cookie_name(settings), "")
        row = respondents.find_session(session, raw, now=utcnow()) if raw else None
        if raw and row is None:
            schedule_cookie(request, CookieChange(cookie_name(settings), None))
        request.state.respondent = row
        if row is not None:
            request.state.csrf_token = row.csrf_token
        return super().__call__(request, session, settings, submitted)


RespondentActor = Annotated[Actor, Depends(Respondent())]


def current(request: Request) -> RespondentSession | None:
    row: RespondentSession | None = getattr(request.state, "respondent", None)
    return row
