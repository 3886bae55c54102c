"""Billing on the real processes: a participant buys credits and the reports service spends
them; a partner pays its partnership and fills its footprint (through the gateway, and
/internal straight to billing with a service token, as the reports service calls it)."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.world import RunningStack

pytestmark = pytest.mark.e2e


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_credits_are_bought_then_spent_once(stack: RunningStack) -> None:
    org = f"e2e-buyer-{uuid.uuid4().hex[:8]}"
    with (
        stack.client("participant", org) as participant,
        stack.client("advisor", "bw") as advisor,
        stack.client("service", "betterwork", name="billing") as reports,
    ):
        quote = participant.post(
            "/v1/billing/quotes/participant", json={"year": 2025, "report_cycles": 2}
        ).json()
        invoice = participant.post(
            "/v1/billing/invoices",
            json={"kind": "credits", "year": 2025, "report_cycles": 2},
            headers=_key(),
        ).json()
        assert invoice["total"] == quote["total"] == "3300.00"
        paid = advisor.post(
            f"/v1/billing/invoices/{invoice['id']}/payments",
            json={"amount": invoice["total"]},
            headers=_key(),
        )
        assert paid.status_code == 201, paid.text

        spends = [
            reports.post(
                "/internal/charges",
                json={"org": org, "reference": reference, "kind": "credit", "factory_id": "f"},
            )
            for reference in ("unl_a.1", "unl_a.1", "unl_b.1", "unl_c.1")
        ]
        assert [reply.status_code for reply in spends] == [201, 201, 201, 402]
        assert spends[0].json() == spends[1].json()  # a retried charge is a replay

        credits = participant.get("/v1/billing/credits").json()
        assert credits["balance"] == 0
        assert [entry["kind"] for entry in credits["entries"]] == ["spend", "spend", "purchase"]


def test_partnership_sets_the_footprint(stack: RunningStack) -> None:
    org = f"e2e-brand-{uuid.uuid4().hex[:8]}"
    with (
        stack.client("partner", org) as partner,
        stack.client("advisor", "bw") as advisor,
        stack.client("service", "betterwork", name="billing") as reports,
    ):
        invoice = partner.post(
            "/v1/billing/invoices",
            json={
                "kind": "partnership",
                "year": 2025,
                "apparel_revenue_usd": "999999999.99",
                "factory_count": 1,
            },
            headers=_key(),
        ).json()
        assert (invoice["revenue_tier"], invoice["total"]) == ("A", "21560.00")
        advisor.post(
            f"/v1/billing/invoices/{invoice['id']}/payments",
            json={"amount": invoice["total"]},
            headers=_key(),
        ).raise_for_status()

        def claim(factory: str) -> int:
            body = {"org": org, "kind": "footprint", "year": 2025, "factory_id": factory}
            reference = f"unl_{uuid.uuid4().hex}.1"
            return reports.post(
                "/internal/charges", json={**body, "reference": reference}
            ).status_code

        assert [claim("fac-1"), claim("fac-1"), claim("fac-2")] == [201, 201, 403]
        footprint = partner.get("/v1/billing/footprint?year=2025").json()
        assert (footprint["footprint"], footprint["used"]) == (1, 1)
