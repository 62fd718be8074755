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


ADAPTERS = ("api", "web")
AUDIT_MODULE = "surveys.audit.service"


def audit_writes(path: Path) -> list[int]:
    """Line numbers where a module calls the audit log's ``record`` (by any import spelling)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module_names: set[str] = set()
    function_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == AUDIT_MODULE:
            function_names.update(a.asname or a.name for a in node.names if a.name == "record")
        elif isinstance(node, ast.ImportFrom) and node.module == "surveys.audit":
            module_names.update(a.asname or a.name for a in node.names if a.name == "service")
        elif isinstance(node, ast.Import):
            module_names.update(a.asname or a.name for a in node.names if a.name == AUDIT_MODULE)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Name) and func.id in function_names) or (
            isinstance(func, ast.Attribute)
            and func.attr == "record"
            and ast.unparse(func.value) in module_names
        ):
            lines.append(node.lineno)
    return lines


def test_adapters_never_write_the_audit_log() -> None:
    """A use case records its own audit event; routes, pages and commands only translate."""
    offences = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in ADAPTERS
        for path in (ROOT / package).rglob("*.py")
        for line in audit_writes(path)
    ]
    assert offences == []


def test_the_audit_checker_sees_every_spelling(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from surveys.audit import service as audit\n"
        "from surveys.audit.service import record as write\n"
        "import surveys.audit.service\n"
        "audit.record(s)\nwrite(s)\nsurveys.audit.service.record(s)\naudit.list_events(s)\n"
    )
    assert audit_writes(sample) == [4, 5, 6]


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
