"""The eligibility OpenAPI document: what integrators generate clients from."""

from __future__ import annotations

from typing import Any

from tests.inprocess import Api


async def document(api: Api) -> dict[str, Any]:
    reply = await api.client("eligibility").get("/openapi.json")
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    return body


async def test_operation_ids_and_roles(api: Api) -> None:
    paths = (await document(api))["paths"]
    operations = {
        (method.upper(), path): op for path, item in paths.items() for method, op in item.items()
    }
    assert operations["POST", "/checks"]["operationId"] == "eligibility-create_check"
    assert operations["POST", "/checks/bulk"]["x-roles"] == ["partner", "participant", "advisor"]
    assert operations["POST", "/factory-lists"]["x-roles"] == ["partner", "participant"]
    assert operations["POST", "/factories"]["x-roles"] == ["advisor"]
    assert operations["GET", "/factories"]["x-roles"] == ["advisor", "factory"]
    assert set(operations["GET", "/programmes"]["x-roles"]) == {
        "partner",
        "participant",
        "factory",
        "advisor",
    }
    assert "202" in operations["POST", "/factory-lists"]["responses"]


async def test_bodies_read_by_the_routes_are_documented(api: Api) -> None:
    doc = await document(api)
    schemas = doc["components"]["schemas"]
    lists = doc["paths"]["/factory-lists"]["post"]["requestBody"]["content"]
    # text/csv is accepted as a whole body but only described: generators cannot type it.
    assert set(lists) == {"application/json", "multipart/form-data"}
    assert "text/csv" in lists["multipart/form-data"]["encoding"]["file"]["contentType"]
    assert (
        "Content-Type: text/csv"
        in doc["paths"]["/factory-lists"]["post"]["requestBody"]["description"]
    )
    assert lists["application/json"]["schema"]["$ref"].endswith("/FactoryListUpload")
    bulk = doc["paths"]["/checks/bulk"]["post"]["requestBody"]["content"]
    assert bulk["application/json"]["schema"]["$ref"].endswith("/BulkCheckRequest")
    for name in ("FactoryListUpload", "FactoryListRow", "BulkCheckRequest", "FactoryQuery"):
        assert name in schemas


async def test_product_codes_are_an_enum(api: Api) -> None:
    schemas = (await document(api))["components"]["schemas"]
    products = schemas["FactoryQuery"]["properties"]["products"]["anyOf"][0]["items"]
    assert set(products["enum"]) == {
        "garments",
        "footwear",
        "textiles",
        "travel_goods",
        "bags",
        "leather",
        "accessories",
        "supporting_processing",
        "chemical",
        "engineering",
        "plastic",
    }
