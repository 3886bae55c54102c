"""Every string a client sends (path, query, JSON body) is bounded and refuses NUL bytes and
other control characters, as each service's OpenAPI document says: the rule of
shared/types.py, checked on the documents so a new field cannot forget it (issue 9)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from shared.settings import Settings
from shared.types import ID_MAX_LENGTH, ID_PATTERN

# A string no input should take, whatever else its pattern allows.
PROBES = ["\x00", "a\x00", "a\x00b", "AB\x00", "1\x00", "a\x00@b.c", "a@b.c\x00", "a\x1bb", "a\x85"]
# Raw rows of a factory list are read one by one and a bad one is reported on its row
# (tests/eligibility/test_hostile_input.py), so their schema documents them loosely.
LOOSE = {("eligibility", "POST /factory-lists", "body(application/json).factories[]")}
LOOSE_MEDIA = {"text/csv"}
COUNTRY = "^[A-Za-z]{2}$"


def apps() -> dict[str, Callable[..., FastAPI]]:
    from services.billing.app import create_app as billing
    from services.cycles.app import create_app as cycles
    from services.eligibility.app import create_app as eligibility
    from services.reports.app import create_app as reports

    return {"billing": billing, "cycles": cycles, "eligibility": eligibility, "reports": reports}


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def strings(
    doc: dict[str, Any], node: dict[str, Any], where: str, seen: set[int]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every free-form string schema under `node` (enums, formats and constants are not)."""
    node = _resolve(doc, node)
    for sub in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", []):
        yield from strings(doc, sub, where, seen)
    kind = node.get("type")
    if kind == "string" and not {"enum", "format", "const"} & node.keys():
        yield where, node
    if kind == "array" and "items" in node:
        yield from strings(doc, node["items"], where + "[]", seen)
    if "properties" in node and id(node) not in seen:
        seen.add(id(node))
        for name, prop in node["properties"].items():
            yield from strings(doc, prop, f"{where}.{name}", seen)


def inputs() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    settings = Settings(BW_ENV="test")
    for service, create_app in apps().items():
        doc = create_app(settings).openapi()
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                name = f"{method.upper()} {path}"
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "header":  # HTTP refuses control characters there
                        continue
                    where = f"{parameter['in']}:{parameter['name']}"
                    for found in strings(doc, parameter["schema"], where, set()):
                        yield service, name, *found
                content = operation.get("requestBody", {}).get("content", {})
                for media, body in content.items():
                    if media in LOOSE_MEDIA:
                        continue
                    for where, schema in strings(doc, body["schema"], f"body({media})", set()):
                        if not any((service, name) == loose[:2] and where.startswith(loose[2])
                                   for loose in LOOSE):  # fmt: skip
                            yield service, name, where, schema


INPUTS = list(inputs())


def test_the_walk_finds_the_inputs_of_every_service() -> None:
    assert {service for service, *_ in INPUTS} == set(apps())
    assert len(INPUTS) > 100


@pytest.mark.parametrize(
    ("service", "operation", "where", "schema"),
    INPUTS,
    ids=[f"{s}:{o}:{w}" for s, o, w, _ in INPUTS],
)
def test_every_string_input_is_bounded_and_refuses_control_characters(
    service: str, operation: str, where: str, schema: dict[str, Any]
) -> None:
    pattern = schema.get("pattern")
    assert pattern, "no pattern: NUL and control characters would reach the database"
    # A pattern without `*`, `+` or `{n,}` bounds the length itself (a country code).
    assert schema.get("maxLength") or not re.search(r"[*+]|\{\d+,\}", pattern), "unbounded"
    for probe in PROBES:
        assert not re.fullmatch(pattern, probe), f"{pattern!r} takes {probe!r}"


def test_every_id_in_a_path_is_the_shared_id() -> None:
    """One identifier type, one maximum length, in every service (they were 40 and 128)."""
    paths = [(s, o, w, schema) for s, o, w, schema in INPUTS if w.startswith("path:")]
    assert len(paths) > 40
    for service, operation, where, schema in paths:
        if schema["pattern"] == COUNTRY:
            continue
        found = (schema["pattern"], schema["maxLength"])
        assert found == (ID_PATTERN, ID_MAX_LENGTH), (service, operation, where)
