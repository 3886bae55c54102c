"""Where test helpers live (issue 14): a conftest holds only pytest fixtures and hooks; the
helpers they use are plain modules (`tests/helpers.py`, `tests/inprocess.py`,
`tests/databases.py`, `tests/<area>/world.py`), and nothing imports from a conftest.

Read with `ast` from every .py under tests/ and bench/, so a stray import fails before
anything runs."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "bench")


def python_files() -> Iterator[Path]:
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path


def _is_conftest(dotted: str) -> bool:
    return dotted == "conftest" or dotted.endswith(".conftest")


def conftest_imports(source: str) -> list[str]:
    """Every import of a conftest module in `source`, as `line N: the import`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            hits = [alias.name for alias in node.names if _is_conftest(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.module and _is_conftest(node.module):
                hits = [module]
            else:  # `from tests import conftest`, `from . import conftest`
                hits = [f"{module}.conftest" for a in node.names if a.name == "conftest"]
        else:
            continue
        found += [f"line {node.lineno}: imports {hit}" for hit in hits]
    return found


def _is_fixture(decorator: ast.expr) -> bool:
    """`@pytest.fixture`, `@pytest.fixture(...)`, `@fixture` (any module's `fixture`)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr == "fixture"
    return isinstance(target, ast.Name) and target.id == "fixture"


def conftest_helpers(source: str) -> list[str]:
    """What a conftest defines at its top level besides fixtures and `pytest_*` hooks: a
    public function or a public class, each belongs in a plain module."""
    found = []
    for node in ast.parse(source).body:
        if getattr(node, "name", "").startswith("_"):
            continue
        if isinstance(node, ast.ClassDef):
            found.append(f"line {node.lineno}: class {node.name}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("pytest_") or any(map(_is_fixture, node.decorator_list)):
                continue
            found.append(f"line {node.lineno}: function {node.name}")
    return found


def test_nothing_imports_from_a_conftest() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} {hit}"
        for path in python_files()
        for hit in conftest_imports(path.read_text())
    ]
    assert not wrong, (
        "import helpers from a plain module (tests/helpers.py, tests/inprocess.py, "
        "tests/<area>/world.py), never from a conftest:\n" + "\n".join(wrong)
    )


def test_conftests_hold_only_fixtures_and_hooks() -> None:
    conftests = [path for path in python_files() if path.name == "conftest.py"]
    assert len(conftests) > 5, conftests  # the scan finds them
    wrong = [
        f"{path.relative_to(ROOT)} {hit}"
        for path in conftests
        for hit in conftest_helpers(path.read_text())
    ]
    assert not wrong, (
        "a conftest holds fixtures and pytest_* hooks only; move these to a plain module "
        "(tests/helpers.py, tests/inprocess.py, tests/<area>/world.py):\n" + "\n".join(wrong)
    )


@pytest.mark.parametrize(
    "source",
    [
        "from tests.conftest import Api",
        "from tests.billing.conftest import pay",
        "from .conftest import World",
        "from tests import conftest as suite",
        "from . import conftest",
        "import tests.e2e.conftest",
        "def f():\n    from tests.conftest import TEST_SECRET",
    ],
)
def test_the_import_check_sees(source: str) -> None:
    assert conftest_imports(source)


@pytest.mark.parametrize(
    "source",
    ["from tests import helpers", "from tests.cycles.world import World", "import conftests"],
)
def test_the_import_check_lets_pass(source: str) -> None:
    assert not conftest_imports(source)


def test_the_conftest_check_tells_fixtures_and_hooks_from_helpers() -> None:
    source = """
import pytest
from pytest import fixture

LIMIT = 3
collect_ignore: list[str] = []

def pytest_configure(config): ...

@pytest.fixture
def plain(): ...

@pytest.fixture(scope="session")
async def scoped(): ...

@fixture
def bare(): ...

def _private(): ...

class _Private: ...

def token_for(): ...

async def take_in(): ...

class World: ...
"""
    assert [hit.split(": ", 1)[1] for hit in conftest_helpers(source)] == [
        "function token_for",
        "function take_in",
        "class World",
    ]
