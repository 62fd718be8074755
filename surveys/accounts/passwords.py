"""Password hashing (argon2id) and the password policy of RELIABILITY.md scenario 41.

The policy follows NIST SP 800-63B and OWASP ASVS 5.0: a minimum length (12), a generous maximum
(128, so pass phrases fit), no composition rules, and a refusal of passwords that are common or
built from words an attacker would try first against this service (its name, "survey", the
domains). argon2id has no 72-byte truncation, so long passwords are hashed whole.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 128

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# Words an attacker tries first against this service: checked as the whole password, and as
# the password without leading or trailing digits and symbols ("accessgap2026!").
CONTEXT_WORDS = (
    "accessgap",
    "access gap",
    "survey",
    "surveys",
    "questionnaire",
    "cancer",
    "cancercentre",
    "cancercenter",
    "oncology",
    "hospital",
    "europe",
    "nuclearmedicine",
    "nuclear medicine",
    "radiomics",
    "radiotherapy",
    "surgery",
    "ablation",
    "celltherapy",
    "cell therapy",
    "cell therapies",
    "exvivo",
    "ex vivo",
    "ex-vivo",
    "coordinator",
    "researcher",
    "domainlead",
    "administrator",
    "admin",
    "password",
)

# OWASP's argon2id configuration (m=19 MiB, t=2, p=1): about 25 ms on the 2-core server, so a
# burst of sign-ins cannot starve it of memory or CPU, and a stable cost for the timing guard of
# scenario 40. Hashes made with other parameters are upgraded at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """The argon2id hash of a password, with its own random salt and parameters."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches; never raises for a wrong password or a damaged hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash uses weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so both paths cost the same."""
    return _hasher.hash("no account has this password: the comparison only costs time")


@cache
def common_passwords() -> frozenset[str]:
    """The built-in list of frequent passwords, lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def _core(password: str) -> str:
    """The password without leading and trailing digits and symbols, lower-cased."""
    return _EDGES.sub("", password.lower())


def _is_repetitive(password: str) -> bool:
    """One character or one short block repeated ("aaaaaaaaaaaa", "abcabcabcabc")."""
    for size in range(1, 5):
        block = password[:size]
        if block * (len(password) // size) + block[: len(password) % size] == password:
            return True
    return False


def _is_sequence(password: str) -> bool:
    """A run of consecutive characters, up or down ("123456789012", "abcdefghijkl")."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return steps in ({1}, {-1}) or (password.isdigit() and steps <= {1, -9})


def password_problems(password: str, *, personal: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a new password, as sentences that say how to fix it; empty when fine.

    ``personal`` holds words of the account itself (the e-mail's local part, the name) that the
    password must not be.
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters; a few unrelated words make a good one."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    if "\x00" in password:
        return ["The password contains a NUL character; remove it."]
    lowered = password.lower()
    core = _core(password)
    squashed = re.sub(r"[\W_]+", "", lowered)
    common = common_passwords()
    if lowered in common or core in common or squashed in common:
        return ["This password is on the list of the most common passwords; choose another."]
    context = {w.replace(" ", "") for w in CONTEXT_WORDS} | set(CONTEXT_WORDS)
    context |= {p.lower() for p in personal if len(p) >= 3}
    if (
        lowered in context
        or core in context
        or squashed in context
        or core.replace(" ", "") in context
    ):
        return ["The password is too close to the name of this service, your name or your e-mail."]
    if _is_repetitive(password) or _is_sequence(password):
        return ["The password is a repeated or sequential pattern; choose something less regular."]
    return []
