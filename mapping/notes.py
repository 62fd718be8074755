"""The words of a map's title and note: how the areas are named, and sentences joined.

The denominators' sentence comes from :meth:`mapping.denominators.DenominatorSummary.note`.
"""

from __future__ import annotations

LEVEL_LABELS = {"country": "by country", "nuts2": "by NUTS-2 region"}
"""The areas of a map, as its title says them."""


def sentences(*parts: str) -> str:
    """The non-empty parts, one after the other.

    Examples
    --------
    >>> sentences("Survey: 2026.", "", "Boundaries: GISCO.")
    'Survey: 2026. Boundaries: GISCO.'
    """
    return " ".join(part.strip() for part in parts if part.strip())
