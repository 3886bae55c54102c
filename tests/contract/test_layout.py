"""One layout for every service (issue 14, README "Service layout"): a service's top level
holds only the agreed roles, under the same names everywhere, so a reader who knows one
service knows where everything is in all five. What a role may import is checked in
`test_import_contracts.py` (a domain does no I/O) and `test_call_graph.py` (only
`clients.py` calls other services).

Read from the file tree and with `ast`, so a stray module fails before anything runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())

# Each role and what it holds (the README's "Service layout" table says the same in prose).
# A module role may grow into a package of the same name, never both at once.
MODULE_OR_PACKAGE = {
    "domain": "the rules: pure, no I/O",
    "schemas": "request and response shapes",
    "models": "the tables",
    "store": "database queries (and in-process caches of what they read)",
    "jobs": "background and operator work",
}
MODULE_ONLY = {
    "__init__": "the package marker",
    "app": "create_app",
    "clients": "typed clients of the other services",
    "events": "the events the service records",
    "exports": "replies as files (PDF, CSV)",
    "cli": "the service's command line",
}
PACKAGE_ONLY = {
    "api": "the handlers, one module per resource; __init__ gathers `router`",
    "rules": "rule data files",
    "migrations": "Alembic environment and versions",
}
REQUIRED = ("__init__.py", "app.py", "api", "models", "migrations")


def violations(service_dir: Path) -> list[str]:
    """What is wrong with the top level of one service's package (empty when it conforms)."""
    found = []
    names: dict[str, set[str]] = {}
    for entry in sorted(service_dir.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__" or _leftover(entry):
            continue
        if entry.is_dir():
            role, kind = entry.name, "package"
            if not (entry / "__init__.py").exists():
                found.append(f"{entry.name}/ is not a package (no __init__.py)")
        elif entry.suffix == ".py":
            role, kind = entry.stem, "module"
        else:
            found.append(f"{entry.name}: only Python modules and packages at the top level")
            continue
        allowed = (
            {"module", "package"}
            if role in MODULE_OR_PACKAGE
            else {"module"}
            if role in MODULE_ONLY
            else {"package"}
            if role in PACKAGE_ONLY
            else set()
        )
        if kind not in allowed:
            where = f"{role}.py" if kind == "module" else f"{role}/"
            found.append(
                f"{where} is not one of the agreed roles"
                if not allowed
                else f"{where}: {role} is a {' or '.join(sorted(allowed))} here"
            )
        names.setdefault(role, set()).add(kind)
    found += [
        f"{role}.py and {role}/ both exist" for role, kinds in names.items() if len(kinds) > 1
    ]
    for required in REQUIRED:
        role = required.removesuffix(".py")
        if role not in names:
            found.append(f"{required} is missing")
    api = service_dir / "api" / "__init__.py"
    if api.exists() and "router" not in _assigned(api):
        found.append("api/__init__.py does not assemble `router`")
    return found


def _leftover(entry: Path) -> bool:
    """A directory holding only bytecode caches: what a moved package leaves in a working
    copy (git does not track it, so a fresh clone has none)."""
    return entry.is_dir() and all(
        path.name == "__pycache__" or path.suffix == ".pyc" for path in entry.rglob("*")
    )


def _assigned(path: Path) -> set[str]:
    """The names a module assigns at its top level."""
    return {
        target.id
        for node in ast.parse(path.read_text(), str(path)).body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_has_the_agreed_layout(service: str) -> None:
    found = violations(ROOT / "services" / service)
    assert not found, f"services/{service} (README, 'Service layout'):\n" + "\n".join(found)


def test_the_roles_are_the_readmes() -> None:
    """The README lists every role, so the table and this test cannot drift apart."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Service layout", 1)[1].split("\n## ", 1)[0]
    roles = {*MODULE_OR_PACKAGE, *MODULE_ONLY, *PACKAGE_ONLY} - {"__init__"}
    missing = sorted(role for role in roles if f"`{role}" not in section)
    assert not missing, f"roles missing from the README's 'Service layout': {missing}"


def _tree(root: Path, *paths: str) -> Path:
    for path in paths:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("router = None\n" if path == "api/__init__.py" else "")
    return root


def test_a_conforming_service_passes(tmp_path: Path) -> None:
    service = _tree(
        tmp_path,
        "__init__.py",
        "app.py",
        "api/__init__.py",
        "api/things.py",
        "domain/__init__.py",
        "domain/rules_of_things.py",
        "models.py",
        "store.py",
        "rules/__init__.py",
        "migrations/__init__.py",
    )
    assert violations(service) == []


def test_strays_are_found(tmp_path: Path) -> None:
    service = _tree(
        tmp_path,
        "__init__.py",
        "app.py",
        "api/__init__.py",
        "models.py",
        "migrations/__init__.py",
        "store.py",
        "store/__init__.py",
        "store_access.py",
        "routes/__init__.py",
        "clients/__init__.py",
    )
    (service / "api" / "__init__.py").write_text("ROUTERS = []\n")
    (service / "old_routes" / "__pycache__").mkdir(parents=True)  # a moved package's cache
    assert violations(service) == [
        "clients/: clients is a module here",
        "routes/ is not one of the agreed roles",
        "store_access.py is not one of the agreed roles",
        "store.py and store/ both exist",
        "api/__init__.py does not assemble `router`",
    ]
