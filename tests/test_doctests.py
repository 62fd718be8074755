"""The examples in the docstrings of ``api``, ``surveys``, ``mapping`` and ``web`` run.

Every module of the four packages is imported and each docstring with ``>>>`` examples is one
test (its id is the object's dotted name), checked by :mod:`doctest` with no option flags. A
module that cannot be imported without side effects is left out below, with the reason.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ("api", "surveys", "mapping", "web")
# Modules that do something when imported, so the doctest walk must not import them.
NOT_IMPORTED = {
    # Builds the app from the environment's settings (``Settings()``) at import, the entry point
    # of ``uvicorn api.asgi:app`` and gunicorn; the app factory it calls is imported anyway.
    "api.asgi": "builds an app from environment settings at import",
}
# Fewer examples than this means the walk lost some (a module that stopped importing, say).
AT_LEAST = 28


def modules() -> list[ModuleType]:
    found = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name not in NOT_IMPORTED:
                found.append(importlib.import_module(info.name))
    return found


def docstring_examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [test for module in modules() for test in finder.find(module) if test.examples]
    return sorted(tests, key=lambda test: test.name)


EXAMPLES = docstring_examples()


def test_every_package_module_is_walked_and_enough_examples_are_found() -> None:
    names = {module.__name__ for module in modules()}
    assert {"api.app", "surveys.domains", "mapping.equity", "web.pages"} <= names
    assert not names & NOT_IMPORTED.keys()
    assert len(EXAMPLES) >= AT_LEAST, [test.name for test in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=[test.name for test in EXAMPLES])
def test_docstring_example(example: doctest.DocTest) -> None:
    report: list[str] = []
    # The examples of one module share the globals the finder copied: each runs on its own copy.
    own = doctest.DocTest(
        example.examples,
        dict(example.globs),
        example.name,
        example.filename,
        example.lineno,
        example.docstring,
    )
    result = doctest.DocTestRunner(verbose=False).run(own, out=report.append)
    assert result.failed == 0, "".join(report)
