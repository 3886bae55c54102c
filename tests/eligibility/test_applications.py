"""Partnership applications: commitments, ILO and IFC due diligence, the signed agreement."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.eligibility.domain.partnership import COMMITMENTS
from tests.eligibility.world import problem
from tests.inprocess import Api

APPLICATION: dict[str, Any] = {
    "registration": {
        "legal_name": "Brand One Holdings plc",
        "headquarters_country": "GB",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@brand-one.example",
        "brands": ["Brand One"],
    },
    "logo_reference": "https://cdn.brand-one.example/logo.svg",
    "commitments": {c.code: True for c in COMMITMENTS},
}


async def apply(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await client.post("/partnership-applications", json={**APPLICATION, **changes})


def advisor(api: Api) -> httpx.AsyncClient:
    return api.client("eligibility", role="advisor", org="bw")


async def record(
    client: httpx.AsyncClient, application_id: str, body: str, outcome: str
) -> httpx.Response:
    return await client.post(
        f"/partnership-applications/{application_id}/due-diligence",
        json={"body": body, "outcome": outcome, "note": "reviewed"},
    )


class TestApply:
    @pytest.mark.parametrize("role", ["partner", "participant"])
    async def test_buyers_apply(self, api: Api, role: str) -> None:
        reply = await apply(api.client("eligibility", role=role, org="brand-1"))
        assert reply.status_code == 201, reply.text
        application = reply.json()
        assert application["status"] == "submitted"
        assert application["org"] == "brand-1"
        assert application["declined_commitments"] == []
        assert application["due_diligence"]["ILO"]["outcome"] == "pending"
        assert application["registration"]["legal_name"] == "Brand One Holdings plc"

    @pytest.mark.parametrize("role", ["factory", "advisor"])
    async def test_others_do_not(self, api: Api, role: str) -> None:
        problem(await apply(api.client("eligibility", role=role)), 403)

    async def test_declining_a_commitment_rejects_at_once(self, api: Api) -> None:
        commitments = {**APPLICATION["commitments"], "no_fee_charge_back": False}
        reply = await apply(api.client("eligibility", role="partner"), commitments=commitments)
        application = reply.json()
        assert application["status"] == "rejected"
        assert application["rejection_reason"] == "engage as participant"
        assert application["declined_commitments"] == ["no_fee_charge_back"]

    async def test_commitments_by_numeral(self, api: Api) -> None:
        numerals = {c.numeral: c.code != "engage_in_governance" for c in COMMITMENTS}
        reply = await apply(api.client("eligibility", role="partner"), commitments=numerals)
        assert reply.status_code == 201, reply.text
        assert reply.json()["declined_commitments"] == ["engage_in_governance"]

    @pytest.mark.parametrize(
        "changes",
        [
            {"commitments": {c.code: True for c in COMMITMENTS[:10]}},  # one unanswered
            {"commitments": {**APPLICATION["commitments"], "stop_duplicate_audits": "yes"}},
            {"logo_reference": ""},
            {"registration": {**APPLICATION["registration"], "contact_email": "nope"}},
            {"registration": {**APPLICATION["registration"], "headquarters_country": "UK"}},
            {"factory_list_id": "fls_not_mine"},
        ],
    )
    async def test_bad_applications_are_422(self, api: Api, changes: dict[str, Any]) -> None:
        problem(await apply(api.client("eligibility", role="partner"), **changes), 422)

    async def test_with_its_own_factory_list(self, api: Api) -> None:
        client = api.client("eligibility", role="partner", org="brand-1")
        listed = await client.post("/factory-lists", json={"factories": [{"country": "BD"}]})
        reply = await apply(client, factory_list_id=listed.json()["id"])
        assert reply.status_code == 201
        other = api.client("eligibility", role="partner", org="brand-2")
        problem(await apply(other, factory_list_id=listed.json()["id"]), 422)

    async def test_the_commitments_are_listed(self, api: Api) -> None:
        reply = await api.client("eligibility", role="partner").get("/partnership-commitments")
        assert [c["numeral"] for c in reply.json()][-1] == "xi"


class TestDueDiligenceAndAgreement:
    async def test_submitted_to_agreement_signed(self, api: Api) -> None:
        application = (await apply(api.client("eligibility", role="partner"))).json()
        staff = advisor(api)
        step = (await record(staff, application["id"], "ILO", "cleared")).json()
        assert step["status"] == "due_diligence"
        assert step["due_diligence"]["ILO"]["recorded_by"] == "advisor-user@bw"
        problem(
            await staff.post(f"/partnership-applications/{application['id']}/agreement", json={}),
            409,
        )
        step = (await record(staff, application["id"], "IFC", "cleared")).json()
        assert step["status"] == "approved" and step["approved_at"]
        signed = await staff.post(
            f"/partnership-applications/{application['id']}/agreement",
            json={"signed_on": "2025-04-01"},
        )
        assert signed.json()["status"] == "agreement_signed"
        assert signed.json()["agreement_signed_on"] == "2025-04-01"

    async def test_refused_due_diligence_rejects(self, api: Api) -> None:
        application = (await apply(api.client("eligibility", role="partner"))).json()
        staff = advisor(api)
        await record(staff, application["id"], "IFC", "pending")
        refused = (await record(staff, application["id"], "IFC", "refused")).json()
        assert refused["status"] == "rejected"
        assert refused["rejection_reason"] == "IFC due diligence refused"
        problem(await record(staff, application["id"], "ILO", "cleared"), 409)

    async def test_a_final_outcome_is_final(self, api: Api) -> None:
        application = (await apply(api.client("eligibility", role="partner"))).json()
        staff = advisor(api)
        await record(staff, application["id"], "ILO", "cleared")
        again = await record(staff, application["id"], "ILO", "cleared")
        assert again.status_code == 200
        problem(await record(staff, application["id"], "ILO", "refused"), 409)

    async def test_rejected_at_once_has_no_due_diligence(self, api: Api) -> None:
        commitments = {**APPLICATION["commitments"], "engage_in_governance": False}
        client = api.client("eligibility", role="partner")
        application = (await apply(client, commitments=commitments)).json()
        problem(await record(advisor(api), application["id"], "ILO", "cleared"), 409)

    @pytest.mark.parametrize(
        "body", [{"body": "WTO", "outcome": "cleared"}, {"body": "ILO", "outcome": "maybe"}, {}]
    )
    async def test_bad_records_are_422(self, api: Api, body: dict[str, str]) -> None:
        application = (await apply(api.client("eligibility", role="partner"))).json()
        reply = await advisor(api).post(
            f"/partnership-applications/{application['id']}/due-diligence", json=body
        )
        problem(reply, 422)

    async def test_only_advisors_record(self, api: Api) -> None:
        client = api.client("eligibility", role="partner", org="brand-1")
        application = (await apply(client)).json()
        problem(await record(client, application["id"], "ILO", "cleared"), 403)


class TestReadApplications:
    async def test_owner_and_advisors_read_others_get_404(self, api: Api) -> None:
        owner = api.client("eligibility", role="partner", org="brand-1")
        application = (await apply(owner)).json()
        url = f"/partnership-applications/{application['id']}"
        assert (await owner.get(url)).json()["id"] == application["id"]
        assert (await advisor(api).get(url)).status_code == 200
        problem(await api.client("eligibility", role="partner", org="brand-2").get(url), 404)
        problem(await api.client("eligibility", role="factory").get(url), 403)
        problem(await owner.get("/partnership-applications/app_nope"), 404)

    async def test_lists(self, api: Api) -> None:
        owner = api.client("eligibility", role="partner", org="brand-1")
        await apply(owner)
        await apply(api.client("eligibility", role="participant", org="brand-2"))
        assert len((await owner.get("/partnership-applications")).json()["items"]) == 1
        assert len((await advisor(api).get("/partnership-applications")).json()["items"]) == 2
