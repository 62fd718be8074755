"""Keyed, stable pseudonyms: what researchers see instead of centre ids and submission UUIDs.

``HMAC-SHA256(secret, public id)`` in hex, cut to 16 characters (64 bits): the same centre gets the
same pseudonym in every export made with one secret, a deployment with another secret gives other
pseudonyms, and without the secret a pseudonym cannot be turned back into the id (a plain hash of
a UUID could be matched against the registry by anyone who has it).
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_LENGTH = 16


class Pseudonymiser:
    """Pseudonyms of centres and responses under one secret (``settings.pseudonym_secret``)."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not key:
            raise ValueError("the pseudonym secret is empty")
        self._key = key

    def _digest(self, message: str) -> str:
        mac = hmac.new(self._key, message.encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()[:PSEUDONYM_LENGTH]

    def centre(self, public_id: str) -> str:
        """The centre's pseudonym: HMAC-SHA256(secret, public id) in hex, first 16 characters."""
        return self._digest(public_id)

    def response(self, submission_uuid: str) -> str:
        """A response's key in pseudonymised tables (domain-separated from centre pseudonyms)."""
        return self._digest("response:" + submission_uuid)
