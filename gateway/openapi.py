"""The merged OpenAPI document: every service's public operations under `/v1/<service>`.

Component schemas keep their names when they are unique or identical across services and
are prefixed with the service (`BillingInvoice`) when two services mean different things
by one name; every `$ref` is rewritten to match. Internal and health paths of the services
are left out; the gateway's own health paths are in.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from shared.app import ERROR_DESCRIPTIONS, PROBLEM_SCHEMA

__all__ = ["merge"]

REF = "#/components/schemas/"
HIDDEN_PREFIXES = ("/internal", "/healthz", "/readyz")
# The gateway's rate-limit fields (shared/ratelimit.py), on every reply that counted.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": (
            'The quota (draft-ietf-httpapi-ratelimit-headers): `"default";q=<requests>;w=60;'
            "bw-burst=<at once>`, per organisation (per client IP without a token)."
        ),
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": (
            'What is left: `"default";r=<requests>;t=<seconds>`; no more than `r` requests '
            "in the next `t` seconds. On a 429, `t` equals `Retry-After`."
        ),
        "schema": {"type": "string"},
    },
}


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (REF + renames.get(v[len(REF) :], v[len(REF) :]))
            if k == "$ref" and isinstance(v, str) and v.startswith(REF)
            else _rewrite_refs(v, renames)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True)


def merge(documents: dict[str, dict[str, Any]], gateway_paths: dict[str, Any]) -> dict[str, Any]:
    # First pass: decide each service's component names.
    owners: dict[str, dict[str, str]] = {}  # name -> {service: canonical}
    for service, document in documents.items():
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            owners.setdefault(name, {})[service] = _canonical(schema)
    renames: dict[str, dict[str, str]] = {service: {} for service in documents}
    for name, by_service in owners.items():
        if len(set(by_service.values())) > 1:
            for service in by_service:
                renames[service][name] = service.capitalize() + name

    paths: dict[str, Any] = dict(gateway_paths)
    # OpenAPI 3.1 `webhooks` (integrations documents one per event type): kept by name, with
    # their `$ref`s renamed like the service's paths so they name the merged components.
    webhooks: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    tags: list[dict[str, str]] = []
    for service, document in sorted(documents.items()):
        rename = renames[service]
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[rename.get(name, name)] = _rewrite_refs(schema, rename)
        for template, methods in document.get("paths", {}).items():
            if template.startswith(HIDDEN_PREFIXES):
                continue
            merged_methods = {}
            for method, operation in _rewrite_refs(copy.deepcopy(methods), rename).items():
                operation["tags"] = [service] + [
                    t for t in operation.get("tags", []) if t != service
                ]
                responses = operation.setdefault("responses", {})
                for code in ("502", "504"):
                    responses.setdefault(
                        code,
                        {
                            "description": ERROR_DESCRIPTIONS.get(
                                code, "The service did not answer."
                            ),
                            "content": {
                                "application/problem+json": {"schema": {"$ref": REF + "Problem"}}
                            },
                        },
                    )
                for response in responses.values():
                    if isinstance(response, dict):
                        response.setdefault("headers", {}).update(
                            {
                                name: {"$ref": f"#/components/headers/{name}"}
                                for name in RATE_LIMIT_HEADERS
                            }
                        )
                merged_methods[method] = operation
            paths[f"/v1/{service}{template}"] = merged_methods
        for name, entry in document.get("webhooks", {}).items():
            webhooks[name] = _rewrite_refs(copy.deepcopy(entry), rename)
        tags.append(
            {"name": service, "description": document.get("info", {}).get("description", "")}
        )

    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Better Work buyer-engagement API",
            "version": "1.0.0",
            "description": (
                "The public API of the Better Work portal for brands, retailers and their "
                "supplier factories. Authenticate with a bearer JWT (roles: partner, "
                "participant, factory, advisor); the roles allowed are listed per operation "
                "(`x-roles`). Errors are RFC 9457 problem details. Every response carries "
                "`X-Request-ID`. Lists take `limit` (1..500) and `cursor` and return "
                "`{items, next_cursor}`. Replies that count against the rate limit carry "
                "`RateLimit-Policy` and `RateLimit` (IETF draft) so clients can pace "
                "themselves before a 429."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "headers": copy.deepcopy(RATE_LIMIT_HEADERS),
            "securitySchemes": {
                "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    if webhooks:
        merged["webhooks"] = dict(sorted(webhooks.items()))
    return merged
