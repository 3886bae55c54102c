"""Input no client should send still gets a clear problem, never a 500 (issue 9): forged
cursors on every list, NUL bytes in every id, query and text."""

from __future__ import annotations

import pytest

from tests.helpers import key
from tests.hostile import FORGED_CURSORS, assert_cursor_refused, problem
from tests.inprocess import Api

LISTS = [("advisor", "/invoices"), ("participant", "/credits")]


@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
@pytest.mark.parametrize(("role", "path"), LISTS)
async def test_forged_cursors_are_400(api: Api, role: str, path: str, cursor: str) -> None:
    client = api.client("billing", role=role, org="buyer-1")
    assert_cursor_refused(await client.get(path, params={"cursor": cursor}))


async def test_a_cursor_of_one_list_is_refused_by_another(api: Api) -> None:
    advisor = api.client("billing", role="advisor")
    participant = api.client("billing", role="participant", org="buyer-1")
    for _ in range(2):
        adjustment = {"org": "buyer-1", "delta": 1, "reason": "goodwill"}
        await advisor.post("/credit-adjustments", json=adjustment, headers=key())
        invoice = {"kind": "credits", "year": 2025, "report_cycles": 1}
        await participant.post("/invoices", json=invoice, headers=key())
    credits = (await participant.get("/credits", params={"limit": 1})).json()
    invoices = (await participant.get("/invoices", params={"limit": 1})).json()
    assert credits["next_cursor"] and invoices["next_cursor"]
    # Both key on an id (a string): only the signature's scope tells the lists apart.
    assert_cursor_refused(
        await participant.get("/invoices", params={"cursor": credits["next_cursor"]})
    )
    assert_cursor_refused(
        await participant.get("/credits", params={"cursor": invoices["next_cursor"]})
    )
    assert_cursor_refused(
        await advisor.get("/credits", params={"org": "buyer-1", "cursor": invoices["next_cursor"]})
    )


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("advisor", "/invoices/inv%00x"),
        ("participant", "/invoices/inv%00x"),
        ("advisor", "/invoices?org=a%00b"),
        ("advisor", "/credits?org=a%00b"),
        ("advisor", "/footprint?org=a%00b"),
        ("partner", "/footprint?org=a%00b"),
        ("advisor", "/invoices/inv%01x"),
        ("advisor", "/credits?org=a%1Fb"),
        ("advisor", "/credits?org=a%20b"),
        ("advisor", "/credits?org=" + "a" * 129),
    ],
)
async def test_control_characters_in_ids_are_422(api: Api, role: str, path: str) -> None:
    reply = await api.client("billing", role=role, org="buyer-1").get(path)
    problem(reply, 422)


@pytest.mark.parametrize("path", ["/invoices/inv%00x/payments", "/invoices/inv%00x/void"])
async def test_control_characters_in_posted_ids_are_422(api: Api, path: str) -> None:
    reply = await api.client("billing", role="advisor").post(
        path, json={"amount": "1.00"}, headers=key()
    )
    problem(reply, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"org": "a\u0000b", "delta": 1, "reason": "goodwill"},
        {"org": "buyer-1", "delta": 1, "reason": "good\u0000will"},
        {"org": "buyer-1", "delta": 1, "reason": "goodwill", "reference": "T\u0000-7"},
        {"org": "buyer-1", "delta": 1, "reason": "line\nbreak\u001b[31m"},
    ],
)
async def test_nul_in_an_adjustment_is_422(api: Api, body: dict[str, object]) -> None:
    advisor = api.client("billing", role="advisor")
    reply = await advisor.post("/credit-adjustments", json=body, headers=key())
    found = problem(reply, 422)
    assert "control character" in found["detail"]
    assert (await advisor.get("/credits?org=buyer-1")).json()["balance"] == 0


async def test_nul_in_a_payment_reference_or_void_reason_is_422(api: Api) -> None:
    participant = api.client("billing", role="participant", org="buyer-1")
    invoice = (
        await participant.post(
            "/invoices", json={"kind": "credits", "year": 2025, "report_cycles": 1}, headers=key()
        )
    ).json()
    advisor = api.client("billing", role="advisor")
    path = f"/invoices/{invoice['id']}"
    body = {"amount": invoice["total"], "reference": "BANK\u0000REF"}
    problem(await advisor.post(f"{path}/payments", json=body, headers=key()), 422)
    problem(await advisor.post(f"{path}/void", json={"reason": "x\u0000"}, headers=key()), 422)
