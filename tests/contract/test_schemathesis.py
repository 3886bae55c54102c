"""Schemathesis against each service's own OpenAPI and the gateway's merged one, on the
real processes: any 5xx, undocumented status, wrong content type or response that breaks
its schema fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import SERVICES
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "missing_required_header",
        "unsupported_method",
    ]
)
EXAMPLES = os.environ.get("BW_SCHEMATHESIS_EXAMPLES", "25")
# role -> org: the advisor reaches every operation; buyers and factories their own.
# One worker: with two threads, Hypothesis's lambda descriptions hit CPython 3.11's
# thread-unsafe ast.parse ("AST constructor recursion depth mismatch") and crash the run.
ROLES = {"advisor": "bw", "partner": "brand-1", "participant": "buyer-1", "factory": "factory-1"}


def run_schemathesis(stack: RunningStack, target: str, role: str, tmp_path: Path) -> None:
    token = stack.token(role, ROLES[role])
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{stack.url(target)}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--seed",
        "20261122",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--no-shrink",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    output = result.stdout[-20000:] + result.stderr[-5000:]
    assert result.returncode == 0, f"schemathesis found problems in {target} as {role}:\n{output}"


@pytest.mark.parametrize("target", [*SERVICES, "gateway"])
def test_openapi_conformance_as_advisor(stack: RunningStack, target: str, tmp_path: Path) -> None:
    run_schemathesis(stack, target, "advisor", tmp_path)


@pytest.mark.parametrize("role", ["partner", "participant", "factory"])
def test_gateway_conformance_for_each_role(stack: RunningStack, role: str, tmp_path: Path) -> None:
    run_schemathesis(stack, "gateway", role, tmp_path)
