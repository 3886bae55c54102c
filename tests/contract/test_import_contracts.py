"""Import contracts (issue 14): services never import each other (they talk over HTTP), and
each service's domain — `domain.py` and every project module it pulls in — imports no I/O
(no database, HTTP client, cache or web framework routing): rules stay pure and testable
without a server. Read from the source with `ast`, so a violation fails before anything runs.
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
IO_ROLES = {"store", "clients", "models", "app", "api", "routes", "routers", "jobs"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
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


@pytest.mark.parametrize("service", [s for s in SERVICES if _module_path(f"services.{s}.domain")])
def test_domain_imports_no_io(service: str) -> None:
    """Follow `domain` through the project modules it imports (transitively)."""
    start = f"services.{service}.domain"
    seen: set[str] = set()
    todo = [start]
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
