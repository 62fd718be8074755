"""The import direction is mechanical: the domain packages never import the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"fastapi", "starlette", "jinja2", "api", "web", "uvicorn"}
DOMAIN_PACKAGES = ("surveys", "mapping")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_domain_packages_import_nothing_from_the_web_layer() -> None:
    offences = []
    files = [p for package in DOMAIN_PACKAGES for p in (ROOT / package).rglob("*.py")]
    assert len(files) > 10
    for path in files:
        for module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN:
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []


def test_mapping_does_not_import_settings() -> None:
    for path in (ROOT / "mapping").rglob("*.py"):
        assert "api.settings" not in imported_modules(path), path


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from fastapi import APIRouter\nimport web.pages\n")
    assert {"fastapi", "web.pages"} <= imported_modules(sample)
