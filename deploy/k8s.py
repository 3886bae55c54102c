"""Render the Kubernetes manifests in deploy/k8s/ from one table of components.

`python -m deploy.k8s` rewrites them; CI checks that the committed files are what this
renders and that probes, ports and environment match the code. Each component: a
Deployment (one uvicorn process per container; readiness = /readyz, liveness = /healthz),
a Service, a HorizontalPodAutoscaler and a PodDisruptionBudget. Secrets (JWT keys, database
URLs) come from the Secret `betterwork-secrets`, which is created outside this repository.

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
        secrets.append(f"{name.upper()}_DATABASE_URL")
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
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
        },
    }
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
                        "containers": [container],
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
