"""The outcome of validating a definition: coded problems that say where and how to fix them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
SHEET_ORDER = {"settings": 0, "survey": 1, "choices": 2, "indicators": 3}


@dataclass(frozen=True)
class Problem:
    code: str
    sheet: str
    row: int | None
    column: str | None
    message: str
    fix: str
    severity: Severity = "error"

    def sort_key(self) -> tuple[int, int, str, str]:
        return (SHEET_ORDER.get(self.sheet, 9), self.row or 0, self.column or "", self.code)

    def describe(self) -> str:
        place = f"{self.sheet} sheet"
        if self.row is not None:
            place += f", row {self.row}"
        if self.column:
            place += f", column {self.column}"
        return f"[{self.code}] {place}: {self.message} {self.fix}".strip()


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}
