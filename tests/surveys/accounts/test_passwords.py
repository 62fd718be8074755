"""The password policy of scenario 41 and argon2id hashing."""

from __future__ import annotations

import pytest

from surveys.accounts import passwords


class TestPasswordProblems:
    @pytest.mark.parametrize(
        "password",
        [
            "violet harbour lantern 93",
            "Tr0ub4dor&3-but-longer",
            "x" * 11 + "y",
            "ünïcödé pässwörd ✓ ok",
            "a" * 63 + "b",  # 64 characters are allowed, as ASVS asks
            "correct horse battery staples on a tuesday",
            ("zebra " * 21)[:128],
        ],
    )
    def test_accepts_long_uncommon_passwords_without_composition_rules(self, password: str) -> None:
        assert passwords.password_problems(password) == []

    @pytest.mark.parametrize(
        ("password", "reason"),
        [
            ("short", "at least 12"),
            ("elevenchars", "at least 12"),
            ("x" * 129, "at most 128"),
            ("password1234", "most common"),
            ("Password1234!", "most common"),
            ("qwertyuiop123", "most common"),
            ("Sunshine2026!", "most common"),
            ("iloveyou1234", "most common"),
            ("1q2w3e4r5t6y", "most common"),
            ("correct horse battery staple", "most common"),
            ("accessgap2026!", "name of this service"),
            ("Radiotherapy!!", "name of this service"),
            ("cell therapies", "name of this service"),
            ("aaaaaaaaaaaaaa", "repeated or sequential"),
            ("abcabcabcabcabc", "repeated or sequential"),
            ("123456789012", "repeated or sequential"),
            ("abcdefghijklmn", "repeated or sequential"),
            ("pass\x00word-long-enough", "NUL"),
        ],
    )
    def test_refuses_weak_passwords_with_a_reason(self, password: str, reason: str) -> None:
        problems = passwords.password_problems(password)
        assert problems, password
        assert reason in problems[0]

    def test_refuses_the_accounts_own_name_and_email(self) -> None:
        personal = ("marie.curie@institut.fr", "marie.curie", "Marie Curie Sklodowska")
        assert passwords.password_problems("Marie Curie Sklodowska", personal=personal)
        assert passwords.password_problems("marie.curie@institut.fr", personal=personal)

    def test_the_list_is_large_and_lower_case(self) -> None:
        common = passwords.common_passwords()
        assert len(common) >= 500
        assert all(p == p.lower() for p in common)


class TestHashing:
    def test_argon2id_with_salt_and_verification(self) -> None:
        first = passwords.hash_password("violet harbour lantern 93")
        second = passwords.hash_password("violet harbour lantern 93")
        assert first.startswith("$argon2id$")
        assert first != second
        assert passwords.verify_password(first, "violet harbour lantern 93")
        assert not passwords.verify_password(first, "violet harbour lantern 94")
        assert not passwords.verify_password("not a hash", "anything")
        assert not passwords.needs_rehash(first)

    def test_long_passwords_are_not_truncated(self) -> None:
        long = "w" * 100 + "1"
        hashed = passwords.hash_password(long)
        assert not passwords.verify_password(hashed, "w" * 100 + "2")
