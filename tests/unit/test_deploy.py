"""deploy/ stays true to the code: the manifests are what deploy/k8s.py renders, and every
component's command, port, probes and environment match what the code serves and reads."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from deploy.k8s import COMPONENTS, OUT, render
from shared.settings import DEFAULT_PORTS, SERVICES, Settings
from shared.stack import APPS, Stack, uvicorn_command

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_committed_manifests_are_rendered() -> None:
    rendered = render()
    committed = {p.name: p.read_text() for p in OUT.glob("*.yaml")}
    assert committed == rendered, "run `python -m deploy.k8s` and commit deploy/k8s/"


def test_every_component_is_deployed_with_probes_and_its_settings() -> None:
    known_env = {field.validation_alias for field in Settings.model_fields.values()}
    for name in APPS:
        documents = list(yaml.safe_load_all((OUT / f"{name}.yaml").read_text()))
        kinds = {d["kind"] for d in documents}
        assert kinds == {
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "NetworkPolicy",
        }
        deployment = next(d for d in documents if d["kind"] == "Deployment")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert APPS[name] in container["command"]
        port = COMPONENTS[name]["port"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        env = {e["name"] for e in container["env"]}
        assert env <= known_env, env - known_env
        if name != "gateway":
            assert f"{name.upper()}_DATABASE_URL" in env
        for service in SERVICES:
            url = next(
                e["value"] for e in container["env"] if e["name"] == f"{service.upper()}_URL"
            )
            assert url == f"http://{service}:{DEFAULT_PORTS[service]}"


def test_compose_and_procfile_run_every_component() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    procfile = dict(
        line.split(": ", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line
    )
    for name, module in APPS.items():
        assert module in compose["services"][name]["command"]
        assert module in procfile[name]
    environment = compose["x-app"]["environment"]
    for service in SERVICES:
        assert environment[f"{service.upper()}_DATABASE_URL"].startswith("postgresql+asyncpg://")


def _commands() -> dict[str, list[str]]:
    """Every command line that starts a component, by where it is written."""
    commands: dict[str, list[str]] = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if line:
            name, command = line.split(": ", 1)
            commands[f"Procfile {name}"] = command.split()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in APPS:
        commands[f"compose {name}"] = compose["services"][name]["command"]
        documents = yaml.safe_load_all((OUT / f"{name}.yaml").read_text())
        deployment = next(d for d in documents if d["kind"] == "Deployment")
        commands[f"k8s {name}"] = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
        commands[f"stack {name}"] = Stack({**DEFAULT_PORTS, "gateway": 8000}).command(name)
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    commands["Dockerfile CMD"] = json.loads(dockerfile.split("\nCMD ", 1)[1].splitlines()[0])
    return commands


def test_uvicorn_never_trusts_forwarded_headers_by_itself() -> None:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to, which let any
    # client behind a local proxy (or on the host) pick its own rate-limit bucket. The
    # gateway applies BW_TRUSTED_PROXIES itself instead.
    for where, command in _commands().items():
        assert "--no-proxy-headers" in command, where
        assert "--forwarded-allow-ips" not in command, where


def test_every_command_line_is_the_one_from_shared_stack() -> None:
    for where, command in _commands().items():
        name = where.split()[-1] if not where.startswith("Dockerfile") else "gateway"
        port = COMPONENTS[name]["port"]
        host = "127.0.0.1" if where.startswith(("Procfile", "stack")) else "0.0.0.0"  # noqa: S104
        expected = uvicorn_command(APPS[name], host=host, port=port)
        if where.startswith("stack"):  # `python -m uvicorn ...`, plus its own options after
            assert command[1:3] == ["-m", "uvicorn"], where
            assert command[2 : 2 + len(expected)] == expected, where
        else:
            assert command == expected, where


def test_trusted_proxies_are_configurable_where_the_gateway_runs() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert "BW_TRUSTED_PROXIES" in compose["x-app"]["environment"]
    documents = yaml.safe_load_all((OUT / "gateway.yaml").read_text())
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "BW_TRUSTED_PROXIES", "value": ""} in env  # none by default, visible
