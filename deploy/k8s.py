"""Render the Kubernetes manifests in deploy/k8s/ from one table of components.

`python -m deploy.k8s` rewrites them; CI checks that the committed files are what this
renders and that probes, ports and environment match the code. Each component: a
Deployment (one uvicorn process per container; readiness = /readyz, liveness = /healthz),
a Service, a HorizontalPodAutoscaler, a PodDisruptionBudget and a NetworkPolicy (only our
own pods, i.e. the gateway and the services calling each other's /internal endpoints, and
Prometheus reach a service; anyone reaches the gateway). Containers run as a non-root user
on a read-only root filesystem (an emptyDir at /tmp), with no capabilities. Secrets (JWT
keys, database URLs) come from the Secret `betterwork-secrets`, which is created outside
this repository.

PostgreSQL is reached through PgBouncer (pgbouncer.yaml: transaction pooling, so hundreds
of service connections share a few server connections): the services' database URLs in the
Secret name `pgbouncer:6432`, and `BW_DB_PGBOUNCER=1` turns asyncpg's prepared-statement
caches off (shared/db.py). PgBouncer's own settings (the server's address, its auth file)
come from the Secret `pgbouncer-secrets`.

Client addresses: uvicorn runs with `--no-proxy-headers` and the gateway believes
`X-Forwarded-For` only from `BW_TRUSTED_PROXIES` (IPs/CIDRs, none by default). Behind an
ingress controller, set it on the gateway to the controller pods' addresses (for example
the cluster's pod CIDR, `10.244.0.0/16`) so the per-IP limit of unauthenticated calls
applies to clients rather than to the controller; never to a range clients can reach
directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared.settings import DEFAULT_PORTS, SERVICES
from shared.stack import uvicorn_command

OUT = Path(__file__).resolve().parent / "k8s"
IMAGE = "betterwork/api:latest"
COMPONENTS: dict[str, dict[str, Any]] = {
    **{
        s: {
            "module": f"services.{s}.app:create_app",
            "port": DEFAULT_PORTS[s],
            "replicas": 2,
            "max_replicas": 10,
        }
        for s in SERVICES
    },
    "gateway": {
        "module": "gateway.app:create_app",
        "port": 8000,
        "replicas": 2,
        "max_replicas": 20,
    },
}


PART_OF = {"app.kubernetes.io/part-of": "betterwork"}
# Prometheus scrapes from its own namespace (labelled so by the monitoring stack).
PROMETHEUS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
NON_ROOT = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}
PGBOUNCER_PORT = 6432

# Drain (5 s) + in-flight requests + background rounds (up to 20 s), then SIGKILL.
TERMINATION_GRACE_S = 30


def _scrape(port: int) -> dict[str, str]:
    """For a Prometheus that discovers pods by annotation (deploy/prometheus.yml)."""
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }


def _env(name: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "BW_ENV", "value": "production"},
        # SIGTERM: fail readiness and keep serving while the endpoints update, then finish
        # in-flight work (shared/shutdown.py); within TERMINATION_GRACE_S.
        {"name": "BW_SHUTDOWN_DRAIN_SECONDS", "value": "5"},
        {"name": "BW_SHUTDOWN_GRACE_SECONDS", "value": "20"},
    ]
    env += [
        {"name": f"{s.upper()}_URL", "value": f"http://{s}:{DEFAULT_PORTS[s]}"} for s in SERVICES
    ]
    secrets = ["BW_JWT_SECRET", "BW_SERVICE_TOKEN_SECRET"]
    if name == "gateway":
        secrets.append("BW_REDIS_URL")  # rate limits shared by all gateway replicas
        env.append({"name": "BW_TRUSTED_PROXIES", "value": ""})  # see the module docstring
    else:
        secrets.append(f"{name.upper()}_DATABASE_URL")  # postgresql+asyncpg://…@pgbouncer:6432/…
        env.append({"name": "BW_DB_PGBOUNCER", "value": "1"})
    env += [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": "betterwork-secrets", "key": key}}}
        for key in secrets
    ]
    return env


def manifests(name: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "betterwork"}
    port = spec["port"]
    probe = {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 10}
    container = {
        "name": name,
        "image": IMAGE,
        # A container listens on its pod address.
        "command": uvicorn_command(spec["module"], host="0.0.0.0", port=port),  # noqa: S104
        "ports": [{"containerPort": port, "name": "http"}],
        "env": _env(name),
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": port}, "periodSeconds": 5},
        "livenessProbe": probe,
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir
    }
    callers: list[dict[str, Any]] = [PROMETHEUS]
    callers.insert(0, {} if name == "gateway" else {"podSelector": {"matchLabels": PART_OF}})
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": spec["replicas"],
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels, "annotations": _scrape(port)},
                    "spec": {
                        "securityContext": NON_ROOT,
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                        "terminationGracePeriodSeconds": TERMINATION_GRACE_S,
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": labels,
                "ports": [{"port": port, "targetPort": "http", "name": "http"}],
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": spec["replicas"],
                "maxReplicas": spec["max_replicas"],
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}},
        },
        _network_policy(name, labels, port, callers),
    ]


def _network_policy(
    name: str, labels: dict[str, str], port: int, callers: list[dict[str, Any]]
) -> dict[str, Any]:
    """Ingress to `port` from `callers` only ({} is anyone: the gateway's clients)."""
    sources = [c for c in callers if c]
    rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": port}]}
    if len(sources) == len(callers):
        rule["from"] = sources
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": {
            "podSelector": {"matchLabels": labels},
            "policyTypes": ["Ingress"],
            "ingress": [rule],
        },
    }


def pgbouncer() -> list[dict[str, Any]]:
    """PgBouncer in transaction pooling between the services and PostgreSQL."""
    name = "pgbouncer"
    labels = {"app.kubernetes.io/name": name, **PART_OF}
    probe = {"tcpSocket": {"port": PGBOUNCER_PORT}, "periodSeconds": 10}
    container = {
        "name": name,
        "image": "bitnami/pgbouncer:1.23.1",
        "ports": [{"containerPort": PGBOUNCER_PORT, "name": "postgres"}],
        "env": [
            {"name": "PGBOUNCER_POOL_MODE", "value": "transaction"},
            # asyncpg prepares every query: PgBouncer >= 1.21 keeps a prepared statement with
            # the server connection it runs on (tests/e2e/test_pgbouncer.py).
            {"name": "PGBOUNCER_MAX_PREPARED_STATEMENTS", "value": "200"},
            {"name": "PGBOUNCER_PORT", "value": str(PGBOUNCER_PORT)},
            {"name": "PGBOUNCER_MAX_CLIENT_CONN", "value": "2000"},
            {"name": "PGBOUNCER_DEFAULT_POOL_SIZE", "value": "20"},
            *[
                {
                    "name": key,
                    "valueFrom": {"secretKeyRef": {"name": "pgbouncer-secrets", "key": key}},
                }
                for key in ("POSTGRESQL_HOST", "POSTGRESQL_USERNAME", "POSTGRESQL_PASSWORD")
            ],
        ],
        "readinessProbe": probe,
        "livenessProbe": probe,
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir
    }
    services_only = [{"podSelector": {"matchLabels": PART_OF}}]
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "securityContext": NON_ROOT,
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": labels,
                "ports": [{"port": PGBOUNCER_PORT, "targetPort": "postgres", "name": "postgres"}],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}},
        },
        _network_policy(name, labels, PGBOUNCER_PORT, services_only),
    ]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # plain YAML, no &anchors
        return True


def _dump(document: dict[str, Any]) -> str:
    return str(yaml.dump(document, Dumper=_Dumper, sort_keys=False))


def render() -> dict[str, str]:
    files = {
        f"{name}.yaml": "---\n".join(_dump(m) for m in manifests(name, spec))
        for name, spec in COMPONENTS.items()
    }
    files["pgbouncer.yaml"] = "---\n".join(_dump(m) for m in pgbouncer())
    files["kustomization.yaml"] = _dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": "betterwork",
            "resources": sorted(f for f in files),
        }
    )
    header = "# Generated by `python -m deploy.k8s` from deploy/k8s.py; do not edit by hand.\n"
    return {name: header + text for name, text in files.items()}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for filename, text in render().items():
        (OUT / filename).write_text(text)
        print(f"wrote deploy/k8s/{filename}")
