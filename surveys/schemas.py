"""The base schema every Pydantic schema of the domain derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Reads from ORM objects; forbids unknown fields so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
