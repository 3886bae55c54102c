"""Generated clients from the gateway's merged `/openapi.json`, as an integrator makes them:
a Python client (openapi-python-client, pinned in the dev extra) generated with no warning,
type-checked with the usage module and driven through the real stack, and TypeScript types
(openapi-typescript, pinned in tests/contract/typescript/package-lock.json) that a usage file
type-checks against with `tsc`. No hand edits to either: a contract change that breaks
generation or the typed flow fails here."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.world import RunningStack

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
SMOKE = HERE / "client_smoke"
TYPESCRIPT = HERE / "typescript"
BIN = Path(sys.executable).parent
PACKAGE = "bw_client"


def run(command: list[str], *, cwd: Path | None = None, timeout: int = 180) -> str:
    """Runs a tool; its whole output, which the caller may inspect."""
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output[-8000:]}"
    return output


@pytest.fixture(scope="module")
def merged_openapi(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The gateway fetches each service's document on first use (5 s timeout, retried after
    # 2 s); on a loaded machine a service may miss the first round, so ask until all are in.
    deadline = time.monotonic() + 90
    with stack.client() as client:
        while True:
            reply = client.get("/openapi.json")
            assert reply.status_code == 200
            document = reply.json()
            missing = "Not included" in document["info"]["description"]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(2.5)
    assert not missing, document["info"]["description"]
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def python_client(merged_openapi: Path, tmp_path: Path) -> Iterator[Path]:
    """The generated package in a scratch directory, importable while the test runs."""
    output = run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(merged_openapi),
            "--config",
            str(SMOKE / "openapi-python-client.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ]
    )
    assert "warning" not in output.lower(), f"the generator warned:\n{output}"
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE or "client_smoke" in n]:
            del sys.modules[name]


def test_generated_python_client_type_checks_and_runs_the_buyer_flow(
    stack: RunningStack, python_client: Path
) -> None:
    # mypy --strict on the usage module against the generated package (whose own code is the
    # generator's business, hence ignore_errors for it), alongside the live run.
    config = python_client / "mypy.ini"
    config.write_text(f"[mypy]\nstrict = True\n\n[mypy-{PACKAGE}.*]\nignore_errors = True\n")
    mypy = subprocess.Popen(
        [
            str(BIN / "mypy"),
            "--config-file",
            str(config),
            "--cache-dir",
            str(python_client / ".mypy_cache"),
            str(SMOKE / "flow.py"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MYPYPATH": str(python_client)},
    )
    try:
        flow = importlib.import_module("tests.contract.client_smoke.flow")
        flow.run(stack.url("gateway"), stack.token)
    finally:
        checked, _ = mypy.communicate(timeout=180)
    assert mypy.returncode == 0, f"the typed flow does not type-check:\n{checked}"


def test_generated_typescript_types_type_check_a_usage_file(
    merged_openapi: Path, tmp_path: Path
) -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed (deploy/system-packages.txt lists it)"
    installed = TYPESCRIPT / "node_modules" / ".package-lock.json"
    lock = TYPESCRIPT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        run([npm, "ci", "--no-audit", "--no-fund"], cwd=TYPESCRIPT, timeout=300)
    tools = TYPESCRIPT / "node_modules" / ".bin"
    output = run(
        [str(tools / "openapi-typescript"), str(merged_openapi), "-o", str(tmp_path / "api.ts")]
    )
    assert "warn" not in output.lower(), f"openapi-typescript warned:\n{output}"
    for name in ("usage.ts", "tsconfig.json"):
        shutil.copy(TYPESCRIPT / name, tmp_path / name)
    run([str(tools / "tsc"), "-p", str(tmp_path / "tsconfig.json")])
