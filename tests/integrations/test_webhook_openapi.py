"""The OpenAPI 3.1 `webhooks` section: one typed entry per event type, in the service's
document and in the gateway's merged one (issue 10)."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from gateway.openapi import merge
from shared.events import CATALOGUE
from tests.inprocess import Api

REF = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _check(document: dict[str, Any]) -> None:
    validate(document)
    webhooks = document["webhooks"]
    assert set(webhooks) == set(CATALOGUE)
    schemas = document["components"]["schemas"]
    for refs in (_refs(webhooks), _refs(document["paths"])):
        for ref in refs:
            if ref.startswith(REF):
                assert ref[len(REF) :] in schemas, ref
    for name, entry in webhooks.items():
        operation = entry["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        model = schemas[body[len(REF) :]]
        assert model["properties"]["type"]["const"] == name
        assert "data" in model["properties"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    # The webhook bodies are the very components the feed's union names.
    feed = document["paths"]
    page = next(p for t, p in feed.items() if t.endswith("/events"))["get"]
    page_ref = page["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    union = _refs(schemas[page_ref[len(REF) :]])
    bodies = {
        e["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for e in webhooks.values()
    }
    assert bodies == union


async def test_the_service_document_has_a_typed_webhook_per_event_type(api: Api) -> None:
    async with api.client("integrations") as client:
        _check((await client.get("/openapi.json")).json())


async def test_the_merged_document_keeps_them(gateway_api: Api) -> None:
    async with gateway_api.client("gateway") as client:
        document = (await client.get("/openapi.json")).json()
    _check(document)
    assert document["openapi"].startswith("3.1")


def test_merging_renames_clashing_schemas_in_webhooks_too() -> None:
    def doc(field: str, with_webhook: bool) -> dict[str, Any]:
        ref = {"$ref": REF + "Thing"}
        document: dict[str, Any] = {
            "paths": {},
            "components": {"schemas": {"Thing": {"properties": {field: {"type": "string"}}}}},
        }
        if with_webhook:
            body = {"content": {"application/json": {"schema": ref}}}
            document["webhooks"] = {"thing.done": {"post": {"requestBody": body}}}
        return document

    merged = merge({"integrations": doc("a", True), "billing": doc("b", False)}, {})
    schema = merged["webhooks"]["thing.done"]["post"]["requestBody"]["content"]
    assert schema["application/json"]["schema"] == {"$ref": REF + "IntegrationsThing"}
    assert "IntegrationsThing" in merged["components"]["schemas"]
    assert "webhooks" not in merge({"billing": doc("b", False)}, {})
