"""The service call graph stays acyclic (/work/shared/ARCHITECTURE.md, services/INTERNAL_API.md):
integrations calls the four, reports and cycles call eligibility and billing (cycles also
reports), eligibility and billing call nobody. A cycle would let two services wait on each
other, and a change to one could no longer be deployed before the other.

Read from the source with `ast`, so a new call fails before anything runs: only a service's
`clients.py` may build a service client (`shared.http.ServiceClient`), and the services it
targets are the service names written there as strings (`target="billing"`, a tuple of
sources, `_client(request, ReportsClient, "reports")`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())
CLIENT_NAMES = {"ServiceClient", "make_http_client"}


def _strings(tree: ast.AST) -> set[str]:
    """String constants outside docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    }  # fmt: skip


def calls() -> dict[str, set[str]]:
    """Each service and the services its clients target."""
    graph: dict[str, set[str]] = {}
    for service in SERVICES:
        path = ROOT / "services" / service / "clients.py"
        if not path.exists():
            graph[service] = set()
            continue
        named = _strings(ast.parse(path.read_text(), str(path)))
        graph[service] = {other for other in SERVICES if other != service and other in named}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of calls (its services in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_call_graph_has_no_cycle() -> None:
    graph = calls()
    assert _cycle(graph) is None, "services call each other in a cycle: " + " → ".join(
        _cycle(graph) or []
    )


def test_the_call_graph_is_the_documented_one() -> None:
    assert calls() == {
        "billing": set(),
        "cycles": {"eligibility", "reports"},
        "eligibility": set(),
        "integrations": {"billing", "cycles", "eligibility", "reports"},
        "reports": {"billing", "eligibility"},
    }


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("service", SERVICES)
def test_only_clients_py_builds_service_clients(service: str) -> None:
    """Otherwise a call made elsewhere would escape the graph above."""
    found = []
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        if path.name == "clients.py" and path.parent.name == service:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "shared.http":
                names = {alias.name for alias in node.names} & CLIENT_NAMES
                found += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(names)]
    assert not found, "service clients live in services/<svc>/clients.py:\n" + "\n".join(found)
