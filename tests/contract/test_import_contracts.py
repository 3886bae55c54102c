"""Import contracts (issue 14): services never import each other (they talk over HTTP), and
each service's domain — `domain.py` or every module of `domain/`, and every project module
they pull in — imports no I/O (no database, HTTP client, cache or web framework routing):
rules stay pure and testable without a server. Read from the source with `ast`, so a
violation fails before anything runs. Imports under `if TYPE_CHECKING:` are annotations
only (never run), so they do not count; nor do the few pure names in `PURE_NAMES` (the
caller's `Principal`, the advisor-scope rule) that live in modules that also do I/O. The
layout itself is checked in `test_layout.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())
# Packages that do I/O (or are the place where it is wired): a domain module must reach none.
IO = {"sqlalchemy", "sqlmodel", "asyncpg", "aiosqlite", "httpx", "aiohttp", "redis", "uvicorn"}
IO_PROJECT = {"shared.db", "shared.http", "shared.transport", "shared.outbox", "shared.app"}
IO_ROLES = {"store", "clients", "models", "app", "api", "jobs", "cli"}
# Pure names a rule may take from modules that also hold I/O: who the caller is, and the
# advisor-scope rule every service applies. Importing only these does not follow the module.
PURE_NAMES = {
    "shared.auth": {"ALL_COUNTRIES", "Principal"},
    "shared.scope": {"ensure_in_scope", "in_scope", "out_of_scope", "scope_countries"},
}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes inside `if TYPE_CHECKING:` blocks."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name | ast.Attribute)
        and (node.test.id if isinstance(node.test, ast.Name) else node.test.attr) == "TYPE_CHECKING"
        for stmt in node.body
        for inner in ast.walk(stmt)
    }


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not {alias.name for alias in node.names} <= PURE_NAMES.get(node.module, set()):
                names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_services_never_import_each_other(service: str) -> None:
    found = []
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            other = parts[1] if parts[0] == "services" and len(parts) > 1 else service
            if other != service and other in SERVICES:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not found, "services talk over HTTP only:\n" + "\n".join(found)


def _domain_modules(service: str) -> list[str]:
    """`services.<service>.domain`, and each module of the package when it is one."""
    package = ROOT / "services" / service / "domain"
    modules = [f"services.{service}.domain"]
    if package.is_dir():
        modules += [
            f"services.{service}.domain."
            + ".".join(path.relative_to(package).with_suffix("").parts)
            for path in sorted(package.rglob("*.py"))
            if path.name != "__init__.py"
        ]
    return modules


@pytest.mark.parametrize("service", [s for s in SERVICES if _module_path(f"services.{s}.domain")])
def test_domain_imports_no_io(service: str) -> None:
    """Follow every module of `domain` through the project modules it imports (transitively)."""
    start = f"services.{service}.domain"
    seen: set[str] = set()
    todo = _domain_modules(service)
    found = []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_path(module)
        if path is None:
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            role = (
                name.split(".")[2] if name.startswith("services.") and name.count(".") >= 2 else ""
            )
            if top in IO or any(name == p or name.startswith(p + ".") for p in IO_PROJECT):
                found.append(f"{module} imports {name}")
            elif role in IO_ROLES:
                found.append(f"{module} imports {name} (a module that does I/O)")
            elif top in ("services", "shared") and _module_path(name):
                todo.append(name)
    assert not found, f"{start} must stay pure:\n" + "\n".join(sorted(set(found)))
