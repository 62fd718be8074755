from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from surveys.exports.pseudonyms import Pseudonymiser

PUBLIC_ID = "5f0c4c1e-8a7e-4c55-9d3e-0f4a4e2b9c11"


class TestCentre:
    def test_is_the_hmac_sha256_of_the_public_id_cut_to_16_hex(self) -> None:
        expected = hmac.new(b"k" * 32, PUBLIC_ID.encode(), hashlib.sha256).hexdigest()[:16]
        assert Pseudonymiser("k" * 32).centre(PUBLIC_ID) == expected
        assert re.fullmatch(r"[0-9a-f]{16}", expected)

    def test_is_stable_under_one_secret_and_differs_under_another(self) -> None:
        first, again = Pseudonymiser("one" * 11), Pseudonymiser("one" * 11)
        other = Pseudonymiser("two" * 11)
        assert first.centre(PUBLIC_ID) == again.centre(PUBLIC_ID)
        assert first.centre(PUBLIC_ID) != other.centre(PUBLIC_ID)
        assert first.centre(PUBLIC_ID) not in PUBLIC_ID

    def test_response_keys_are_separate_from_centre_pseudonyms(self) -> None:
        pseudo = Pseudonymiser("k" * 32)
        assert pseudo.response(PUBLIC_ID) != pseudo.centre(PUBLIC_ID)

    def test_an_empty_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            Pseudonymiser("")
