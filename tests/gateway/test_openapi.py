"""The gateway's merged OpenAPI document: valid, unique operationIds, `/v1/...` paths only,
no internal routes, bearer security, every error documented as problem+json."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from gateway.openapi import merge
from shared.settings import SERVICES
from tests.inprocess import Api


async def test_merged_document_is_valid(gateway_api: Api) -> None:
    async with gateway_api.client("gateway") as client:
        document: dict[str, Any] = (await client.get("/openapi.json")).json()
    validate(document)
    operation_ids = [
        op["operationId"] for methods in document["paths"].values() for op in methods.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    for path in document["paths"]:
        assert path in ("/healthz", "/readyz") or path.startswith("/v1/"), path
        assert "/internal" not in path
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, methods in document["paths"].items():
        for operation in methods.values():
            if path.startswith("/v1/"):
                assert "application/problem+json" in operation["responses"]["422"]["content"]
                for code in ("429", next(c for c in operation["responses"] if c < "300")):
                    headers = operation["responses"][code]["headers"]
                    assert headers["RateLimit"] == {"$ref": "#/components/headers/RateLimit"}
                    assert "RateLimit-Policy" in headers
    assert set(document["components"]["headers"]) == {"RateLimit", "RateLimit-Policy"}
    assert set(SERVICES) <= {t["name"] for t in document["tags"]}


async def test_each_service_document_is_valid(api: Api) -> None:
    for service in SERVICES:
        async with api.client(service) as client:
            validate((await client.get("/openapi.json")).json())


def test_clashing_schema_names_are_prefixed_and_refs_rewritten() -> None:
    def doc(field: str) -> dict[str, Any]:
        return {
            "paths": {
                "/things": {
                    "get": {
                        "operationId": "x",
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Thing"}
                                    }
                                }
                            }
                        },
                    }
                }
            },
            "components": {
                "schemas": {
                    "Thing": {"type": "object", "properties": {field: {"type": "string"}}},
                    "Same": {"type": "string"},
                }
            },
        }

    merged = merge({"billing": doc("a"), "reports": doc("b")}, {})
    schemas = merged["components"]["schemas"]
    assert "BillingThing" in schemas and "ReportsThing" in schemas and "Same" in schemas
    ref = merged["paths"]["/v1/reports/things"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]
    assert ref["schema"]["$ref"] == "#/components/schemas/ReportsThing"
