"""Time-based one-time passwords (RFC 6238) for staff: 6 digits, 30 s, one step of clock drift.

A code is accepted once: the time step of the last accepted code is kept on the user row, so a
code seen over someone's shoulder cannot be replayed within its validity window.
"""

from __future__ import annotations

import datetime as dt

import pyotp

ISSUER = "accessgap"
DIGITS = 6
INTERVAL = 30
VALID_WINDOW = 1


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (typed in or shown as a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def current_code(secret: str, *, at: dt.datetime) -> str:
    """The code for a moment (used by tests and by nothing else)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(at)


def matching_step(secret: str, code: str, *, at: dt.datetime, after: int | None) -> int | None:
    """The time step the code belongs to, when it is valid and newer than step ``after``."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now_step = int(at.timestamp()) // INTERVAL
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        moment = dt.datetime.fromtimestamp(step * INTERVAL, tz=dt.UTC)
        if pyotp.utils.strings_equal(totp.at(moment), code):
            return step
    return None
