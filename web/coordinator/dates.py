"""Dates typed into the coordinator's forms (``YYYY-MM-DD``), as the UTC instants the services
take."""

from __future__ import annotations

import datetime as dt

from web.forms import FormErrors


def form_day(
    text: str, field: str, errors: FormErrors, *, end_of_day: bool = False
) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` date as a UTC instant: its start, or (a deadline) the end of the day;
    a malformed date adds its message to ``errors`` under ``field``."""
    value = text.strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors.setdefault(field, []).append("not a date; use YYYY-MM-DD")
        return None
    if end_of_day and day.year < 9999:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
