"""deploy/k8s checked against Kubernetes itself and against what a reviewer asks of a
deployment (issue 13). The API schemas are the ones the `kubernetes-validate` package
carries (offline, strict: an unknown or misspelt field fails); the version is pinned so a
new package release never changes what passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.k8s import COMPONENTS, OUT, PGBOUNCER_PORT
from shared.db import make_engine
from shared.settings import SERVICES, Settings
from tests.databases import _pg_url

KUBERNETES = "1.31.0"
MANIFESTS = sorted(p for p in OUT.glob("*.yaml") if p.name != "kustomization.yaml")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all() -> list[dict[str, Any]]:
    return [d for path in MANIFESTS for d in _documents(path)]


def _of(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in _all() if d["kind"] == kind and d["metadata"]["name"] == name)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_is_valid_for_the_kubernetes_api(path: Path) -> None:
    for document in _documents(path):
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((OUT / "kustomization.yaml").read_text())
    assert kustomization["resources"] == [p.name for p in MANIFESTS]


@pytest.mark.parametrize("name", [*COMPONENTS, "pgbouncer"])
def test_every_deployment_is_bounded_probed_unprivileged_and_kept_available(name: str) -> None:
    pod = _of("Deployment", name)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    for container in pod["containers"]:
        resources = container["resources"]
        assert set(resources["requests"]) == {"cpu", "memory"}
        assert set(resources["limits"]) == {"cpu", "memory"}
        assert container["readinessProbe"] and container["livenessProbe"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        for variable in container["env"]:  # secrets only by reference, never inline
            assert "SECRET" not in variable["name"] or "valueFrom" in variable
            assert "DATABASE_URL" not in variable["name"] or "valueFrom" in variable
            assert "PASSWORD" not in variable["name"] or "valueFrom" in variable
    budget = _of("PodDisruptionBudget", name)["spec"]
    assert budget["minAvailable"] >= 1
    assert _of("Deployment", name)["spec"]["replicas"] > budget["minAvailable"]


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_every_component_scales_on_cpu(name: str) -> None:
    autoscaler = _of("HorizontalPodAutoscaler", name)["spec"]
    assert autoscaler["scaleTargetRef"]["name"] == name
    assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]


def _sources(name: str) -> list[dict[str, Any]] | None:
    policy = _of("NetworkPolicy", name)["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == name
    (rule,) = policy["ingress"]
    sources: list[dict[str, Any]] | None = rule.get("from")
    return sources


@pytest.mark.parametrize("name", SERVICES)
def test_only_our_pods_and_prometheus_reach_a_service(name: str) -> None:
    sources = _sources(name)
    assert sources is not None, "a service must not be open to every pod"
    selectors = [s["podSelector"]["matchLabels"] for s in sources]
    assert {"app.kubernetes.io/part-of": "betterwork"} in selectors
    assert {"app.kubernetes.io/name": "prometheus"} in selectors
    assert len(sources) == 2


def test_the_gateway_is_open_and_pgbouncer_only_to_our_pods() -> None:
    assert _sources("gateway") is None
    assert _sources("pgbouncer") == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "betterwork"}}}
    ]


def test_postgresql_is_reached_through_pgbouncer_in_transaction_pooling() -> None:
    container = _of("Deployment", "pgbouncer")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PGBOUNCER_POOL_MODE"] == "transaction"
    assert int(env["PGBOUNCER_MAX_PREPARED_STATEMENTS"]) > 0
    image = container["image"].rpartition(":")[2]
    assert tuple(int(p) for p in image.split(".")[:2]) >= (1, 21), image
    assert _of("Service", "pgbouncer")["spec"]["ports"][0]["port"] == PGBOUNCER_PORT
    for service in SERVICES:
        pod = _of("Deployment", service)["spec"]["template"]["spec"]
        service_env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert service_env["BW_DB_PGBOUNCER"] == "1"


def test_the_schemas_catch_a_misspelt_field() -> None:
    service = _of("Service", "billing")
    service["spec"]["prots"] = service["spec"].pop("ports")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBERNETES, strict=True)


def test_pgbouncer_mode_is_a_setting() -> None:
    assert Settings(BW_DB_PGBOUNCER="1").db_pgbouncer is True
    assert Settings().db_pgbouncer is False


@pytest.mark.postgres
async def test_pgbouncer_mode_turns_asyncpgs_statement_caches_off() -> None:
    url = _pg_url("postgres")
    for pgbouncer, statements, prepared in ((True, 0, None), (False, 100, 100)):
        engine = make_engine(url, pgbouncer=pgbouncer)
        try:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                assert raw.driver_connection is not None
                assert raw.driver_connection._stmt_cache.get_max_size() == statements
                cache = raw.dbapi_connection._prepared_statement_cache  # type: ignore[union-attr]
                assert (cache if cache is None else cache.capacity) == prepared
        finally:
            await engine.dispose()
