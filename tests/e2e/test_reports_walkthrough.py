"""A buyer's way to a factory report over the real stack (gateway and services as
processes, HTTP between them): factory in the registry → enrolled → report cycle opened →
assessment released → participant requests TPA → factory approves → participant buys one
credit → advisor records the payment → unlock → read the report → factory revokes →
the next cycle cannot be unlocked (the unlocked one stays readable)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from tests.e2e.world import RunningStack
from tests.helpers import key, ok

pytestmark = pytest.mark.e2e

FINDINGS = [
    {"cluster": "Occupational Safety and Health", "question": "Emergency exits unobstructed?",
     "publicly_reported": True, "compliant": False, "detail": "Exit B locked during shifts"},
    {"cluster": "Compensation", "question": "Overtime paid correctly?",
     "publicly_reported": False, "compliant": True},
]  # fmt: skip


@pytest.fixture
def clients() -> Iterator[ExitStack]:
    """Closes every client the test opens."""
    with ExitStack() as opened:
        yield opened


def test_participant_unlocks_and_reads_a_report_until_access_is_revoked(
    stack: RunningStack, clients: ExitStack
) -> None:
    run = uuid.uuid4().hex[:8]
    buyer_org = f"buyer-{run}"
    year = datetime.now(UTC).year
    advisor = clients.enter_context(stack.client("advisor", "bw"))
    participant = clients.enter_context(stack.client("participant", buyer_org))
    anonymous = clients.enter_context(stack.client())

    # The factory in the registry, enrolled; its id is its users' org.
    factory = ok(
        advisor.post(
            "/v1/eligibility/factories",
            json={
                "name": f"Walkthrough Garments {run}",
                "address": "12 Export Road",
                "country": "BD",
                "region": "Gazipur",
                "products": ["garments"],
                "worker_count": 1200,
            },
        ),
        201,
    )
    factory_id = factory["id"]
    enrolled = ok(
        advisor.post(
            f"/v1/eligibility/factories/{factory_id}/enrolment", json={"status": "enrolled"}
        )
    )
    assert enrolled["enrolment_status"] == "enrolled"
    factory_user = clients.enter_context(stack.client("factory", factory_id))

    # Report cycle 1 opened; the assessment drafted and released.
    cycle = ok(advisor.post(f"/v1/reports/factories/{factory_id}/cycles", json={"cycle": 1}), 201)
    assert (cycle["factory_id"], cycle["cycle"]) == (factory_id, 1)
    draft = ok(
        advisor.post(
            f"/v1/reports/factories/{factory_id}/cycles/1/reports",
            json={
                "kind": "assessment",
                "title": "Assessment report, cycle 1",
                "findings": FINDINGS,
            },
        ),
        201,
    )
    report = ok(advisor.post(f"/v1/reports/reports/{draft['id']}/release"))
    assert report["status"] == "released"

    # Without TPA the report does not exist for the buyer.
    assert participant.get(f"/v1/reports/reports/{report['id']}").status_code == 404

    # The participant asks for TPA; the factory sees the request and approves it.
    request = ok(
        participant.post("/v1/reports/access-requests", json={"factory_id": factory_id}), 201
    )
    assert request["status"] == "pending"
    incoming = ok(factory_user.get("/v1/reports/access-requests"))["items"]
    assert [r["id"] for r in incoming] == [request["id"]]
    approved = ok(factory_user.post(f"/v1/reports/access-requests/{request['id']}/approve"))
    assert approved["status"] == "approved"

    # No credit yet: 402 with a clear message.
    refused = participant.post(
        "/v1/reports/unlocks", json={"factory_id": factory_id, "cycle": 1}, headers=key()
    )
    assert refused.status_code == 402
    assert "credits" in refused.json()["detail"]

    # The participant buys one credit; the advisor records the payment.
    invoice = ok(
        participant.post(
            "/v1/billing/invoices",
            json={"kind": "credits", "year": year, "report_cycles": 1},
            headers=key(),
        ),
        201,
    )
    ok(
        advisor.post(
            f"/v1/billing/invoices/{invoice['id']}/payments",
            json={"amount": invoice["total"]},
            headers=key(),
        ),
        201,
    )
    assert ok(participant.get("/v1/billing/credits"))["balance"] == 1

    # Unlock (one credit); unlocking again is free and returns the same unlock.
    unlock = ok(
        participant.post(
            "/v1/reports/unlocks", json={"factory_id": factory_id, "cycle": 1}, headers=key()
        ),
        201,
    )
    assert (unlock["buyer_org"], unlock["charged_credits"]) == (buyer_org, 1)
    again = ok(
        participant.post(
            "/v1/reports/unlocks", json={"factory_id": factory_id, "cycle": 1}, headers=key()
        )
    )
    assert again["id"] == unlock["id"]
    assert ok(participant.get("/v1/billing/credits"))["balance"] == 0

    # Read the report, its cycle's documents and the live improvement plan.
    read = ok(participant.get(f"/v1/reports/reports/{report['id']}"))
    assert [f["question"] for f in read["findings"]] == [f["question"] for f in FINDINGS]
    listed = ok(participant.get(f"/v1/reports/factories/{factory_id}/cycles/1/reports"))
    assert [d["id"] for d in listed["items"]] == [report["id"]]
    plan = ok(participant.get(f"/v1/reports/factories/{factory_id}/cycles/1/improvement-plan"))
    assert [i["source"] for i in plan["items"]] == ["assessment"]

    # The transparency portal shows the public issue only, and no buyer.
    page = ok(anonymous.get(f"/v1/reports/public/factories/{factory_id}"))
    assert page["name"] == factory["name"]
    assert [i["question"] for i in page["issues"]] == ["Emergency exits unobstructed?"]
    assert buyer_org not in json.dumps(page)

    # The factory revokes; the next cycle cannot be unlocked, even with a credit in hand.
    ok(factory_user.post(f"/v1/reports/access-requests/{request['id']}/revoke"))
    ok(advisor.post(f"/v1/reports/factories/{factory_id}/cycles", json={"cycle": 2}), 201)
    invoice = ok(
        participant.post(
            "/v1/billing/invoices",
            json={"kind": "credits", "year": year, "report_cycles": 1},
            headers=key(),
        ),
        201,
    )
    ok(
        advisor.post(
            f"/v1/billing/invoices/{invoice['id']}/payments",
            json={"amount": invoice["total"]},
            headers=key(),
        ),
        201,
    )
    blocked = participant.post(
        "/v1/reports/unlocks", json={"factory_id": factory_id, "cycle": 2}, headers=key()
    )
    assert blocked.status_code == 403
    assert "revoked" in blocked.json()["detail"]
    assert ok(participant.get("/v1/billing/credits"))["balance"] == 1  # nothing spent
    assert ok(participant.get(f"/v1/reports/reports/{report['id']}"))["id"] == report["id"]

    kinds = [n["kind"] for n in ok(participant.get("/v1/reports/notifications"))["items"]]
    assert kinds == ["tpa_approved", "tpa_revoked"]
