"""Who may call what: every cycles endpoint against every role (401 without a token,
403 for a role the endpoint is not for), directly and through the gateway."""

from __future__ import annotations

import pytest

from tests.inprocess import Api

ROLES = ("advisor", "factory", "partner", "participant")
ALL = frozenset(ROLES)
BUYERS_AND_ADVISOR = frozenset({"advisor", "partner", "participant"})
ADVISOR = frozenset({"advisor"})
ADVISOR_AND_FACTORY = frozenset({"advisor", "factory"})

# (method, path, body, the roles it is for)
ENDPOINTS = [
    ("POST", "/factories/f-1/cycles", {"start_date": "2025-01-15"}, ADVISOR),
    ("GET", "/factories/f-1/cycles", None, ALL),
    ("GET", "/cycles/cyc_1", None, ALL),
    (
        "POST",
        "/cycles/cyc_1/visits",
        {"type": "advisory", "date": "2025-02-01"},
        BUYERS_AND_ADVISOR,
    ),
    ("GET", "/cycles/cyc_1/visits", None, ALL),
    ("POST", "/cycles/cyc_1/visits/vis_1/complete", {}, ADVISOR),
    ("POST", "/cycles/cyc_1/visits/vis_1/cancel", None, BUYERS_AND_ADVISOR),
    (
        "POST",
        "/cycles/cyc_1/training",
        {"course": "c", "participants": 1, "days": 1},
        ADVISOR_AND_FACTORY,
    ),
    ("GET", "/cycles/cyc_1/training", None, ADVISOR_AND_FACTORY),
    ("POST", "/cycles/cyc_1/training/purchases", {"participant_days": 1}, ADVISOR_AND_FACTORY),
    (
        "POST",
        "/seminars",
        {
            "title": "t",
            "date": "2026-01-01",
            "country": "BD",
            "duration": "half_day",
            "capacity": 10,
        },
        ADVISOR,
    ),
    ("GET", "/seminars", None, ALL),
    ("GET", "/seminars/sem_1", None, ALL),
    (
        "POST",
        "/seminars/sem_1/registrations",
        {"factory_id": "f-1", "participants": 1},
        ADVISOR_AND_FACTORY,
    ),
    (
        "POST",
        "/seminars/sem_1/registrations/reg_1/action-plan",
        {"items": [{"title": "t"}]},
        ADVISOR_AND_FACTORY,
    ),
    ("POST", "/factories/f-1/classification", {}, ADVISOR),
    ("GET", "/factories/f-1/classification", None, ADVISOR_AND_FACTORY),
    ("GET", "/factories/f-1/calendar.ics", None, ALL),
]
CASES = [
    pytest.param(method, path, body, role, role in allowed, id=f"{role} {method} {path}")
    for method, path, body, allowed in ENDPOINTS
    for role in ROLES
]


@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), CASES)
async def test_role_gate(
    api: Api, method: str, path: str, body: object, role: str, allowed: bool
) -> None:
    client = api.client("cycles", role=role, org="f-1" if role == "factory" else "org-1")
    reply = await client.request(method, path, json=body)
    if allowed:
        assert reply.status_code != 403 or "role" not in reply.json()["detail"], reply.text
    else:
        assert reply.status_code == 403, reply.text
        assert reply.json()["detail"].startswith("This endpoint is for the role(s)")


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
async def test_a_token_is_needed(
    api: Api, method: str, path: str, body: object, allowed: frozenset[str]
) -> None:
    reply = await api.client("cycles").request(method, path, json=body)
    assert reply.status_code == 401
    assert reply.headers["content-type"] == "application/problem+json"


async def test_the_openapi_document_lists_roles_per_operation(api: Api) -> None:
    document = (await api.client("cycles").get("/openapi.json")).json()
    for method, path, _, allowed in ENDPOINTS:
        template = path.replace("f-1", "{factory_id}").replace("cyc_1", "{cycle_id}")
        template = template.replace("vis_1", "{visit_id}").replace("sem_1", "{seminar_id}")
        template = template.replace("reg_1", "{registration_id}")
        operation = document["paths"][template][method.lower()]
        assert operation["operationId"].startswith("cycles-")
        assert set(operation["x-roles"]) == allowed


@pytest.mark.parametrize("role", ["factory", "partner", "participant"])
async def test_gateway_refuses_advisor_operations(gateway_api: Api, role: str) -> None:
    client = gateway_api.client("gateway", role=role, org="f-1")
    reply = await client.post("/v1/cycles/factories/f-1/cycles", json={"start_date": "2025-01-15"})
    assert reply.status_code == 403
