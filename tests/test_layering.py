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


def test_the_json_api_and_the_pages_do_not_import_each_other() -> None:
    """Both are adapters over the same services: what they share lives in the domain or in
    ``api/deps.py``, never in the other adapter (the app factory wires them together)."""
    offences = []
    for folder, forbidden in (("web", "api.v1"), ("api/v1", "web")):
        for path in (ROOT / folder).rglob("*.py"):
            for module in imported_modules(path):
                if module == forbidden or module.startswith(f"{forbidden}."):
                    offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []


CAMPAIGN_ADAPTERS = (
    "api/v1/campaigns.py",
    "api/v1/responses.py",
    "web/coordinator",
    "web/respondent/pages.py",
)


def test_campaign_and_response_adapters_leave_the_audit_to_the_use_cases() -> None:
    """The use cases record their own audit events; an adapter that records one is recording
    a change it should not be making itself."""
    offences = []
    for name in CAMPAIGN_ADAPTERS:
        target = ROOT / name
        for path in [target] if target.is_file() else sorted(target.rglob("*.py")):
            if any(m.startswith("surveys.audit") for m in imported_modules(path)):
                offences.append(str(path.relative_to(ROOT)))
    assert offences == []


def test_responses_depend_on_campaigns_and_never_the_reverse() -> None:
    """One direction, at module level: no import hidden inside a function to dodge a cycle."""
    offences = []
    for package in ("surveys/campaigns", "surveys/responses"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    inner = [
                        n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)
                    ]
                    if inner:
                        offences.append(f"{path.relative_to(ROOT)}: import inside {node.name}()")
    for path in (ROOT / "surveys/campaigns").rglob("*.py"):
        for module in imported_modules(path):
            if module.startswith("surveys.responses"):
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []
