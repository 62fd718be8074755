"""The seven hi-tech domains of the network: the one place their codes and names are written.

Questionnaires declare their domain with these codes (plus ``profile``, the centre profile every
centre answers once); domain leads are scoped to them; pages and maps show the names.
"""

from __future__ import annotations

from typing import Final

# Code -> English name, in the order the network lists them.
DOMAIN_NAMES: Final[dict[str, str]] = {
    "nuclear_medicine": "Nuclear medicine",
    "radiomics": "Radiomics",
    "radiotherapy": "Innovative radiotherapy",
    "surgery": "Innovative surgery",
    "ablation": "Physical methods of ablation",
    "cell_therapy": "Cell therapies",
    "ex_vivo": "Ex-vivo testing of agents",
}
DOMAINS: Final[tuple[str, ...]] = tuple(DOMAIN_NAMES)

# The centre profile is a questionnaire of its own, outside the seven domains.
PROFILE: Final = "profile"
QUESTIONNAIRE_DOMAINS: Final[frozenset[str]] = frozenset({PROFILE, *DOMAINS})


def domain_name(code: str) -> str:
    """The English name of a domain code (the centre profile included); the code if unknown.

    >>> domain_name("ex_vivo")
    'Ex-vivo testing of agents'
    >>> domain_name("profile")
    'Centre profile'
    """
    if code == PROFILE:
        return "Centre profile"
    return DOMAIN_NAMES.get(code, code)
