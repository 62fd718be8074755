"""Errors of accounts and tokens, each with a stable code."""

from __future__ import annotations

from surveys.errors import Conflict, InvalidInput, NotFound


class UserNotFound(NotFound):
    code = "user_not_found"


class TokenNotFound(NotFound):
    code = "token_not_found"


class EmailTaken(Conflict):
    code = "email_taken"


class WeakPassword(InvalidInput):
    code = "weak_password"


class ScopeNotAllowed(InvalidInput):
    code = "scope_not_allowed"


class LastAdmin(Conflict):
    code = "last_admin"


class WrongPassword(InvalidInput):
    code = "wrong_password"
