"""deploy/ stays true to the code: the manifests are what deploy/k8s.py renders, and every
component's command, port, probes and environment match what the code serves and reads."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploy.k8s import COMPONENTS, OUT, render
from shared.settings import DEFAULT_PORTS, SERVICES, Settings
from shared.stack import APPS

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
        assert kinds == {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
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
