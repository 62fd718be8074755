"""The base schema every Pydantic schema of the domain derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# What the NUL-refusing validators accept, said in the JSON schema (they give the message).
NO_NUL_PATTERN = r"^[^\x00]*$"


def no_nul_in_schema() -> object:
    """Annotated metadata: the field's JSON schema says it takes no NUL character."""
    return Field(json_schema_extra={"pattern": NO_NUL_PATTERN})


class Schema(BaseModel):
    """Reads from ORM objects; forbids unknown fields so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
