"""POST /checks and /checks/bulk: decisions over the API, with registry matching."""

from __future__ import annotations

from typing import Any

import pytest

from tests.eligibility.world import create_factory, enrol, problem
from tests.inprocess import Api

BD_ELIGIBLE: dict[str, Any] = {
    "country": "BD",
    "products": ["garments"],
    "region": "Narayangonj",
    "in_export_processing_zone": False,
    "worker_count": 251,
    "nominated_by_partner": True,
    "as_of": "2025-03-01",
}


class TestCheck:
    @pytest.mark.parametrize("role", ["partner", "participant", "factory", "advisor"])
    async def test_any_role_gets_a_decision_with_reasons(self, api: Api, role: str) -> None:
        reply = await api.client("eligibility", role=role).post("/checks", json=BD_ELIGIBLE)
        assert reply.status_code == 200, reply.text
        decision = reply.json()
        assert decision["status"] == "eligible"
        assert decision["participation"] == "voluntary"
        assert decision["services"]["assessment"] == {
            "available": True,
            "participation": "voluntary",
        }
        assert decision["priority"] is False
        assert decision["missing_fields"] == []
        assert decision["notes"] == []
        for reason in decision["reasons"]:
            assert set(reason) >= {"code", "passed", "message", "rule"}
        assert decision["match"] is None

    @pytest.mark.parametrize(
        ("changes", "status"),
        [
            ({"worker_count": 250}, "not_eligible"),
            ({"nominated_by_partner": False}, "needs_nomination"),
            ({"worker_count": None}, "insufficient_data"),
            ({"country": "MG"}, "contact_programme"),
            ({"country": "fr"}, "out_of_scope"),
        ],
    )
    async def test_statuses(self, api: Api, changes: dict[str, Any], status: str) -> None:
        body = {k: v for k, v in {**BD_ELIGIBLE, **changes}.items() if v is not None}
        reply = await api.client("eligibility", role="partner").post("/checks", json=body)
        assert reply.json()["status"] == status

    async def test_missing_facts_are_named(self, api: Api) -> None:
        reply = await api.client("eligibility", role="partner").post(
            "/checks", json={"country": "ET", "products": ["garments"]}
        )
        decision = reply.json()
        assert decision["status"] == "insufficient_data"
        assert decision["missing_fields"] == ["worker_count", "female_worker_share"]

    async def test_waitlist_note_and_cambodia_participation(self, api: Api) -> None:
        client = api.client("eligibility", role="partner")
        bd = (await client.post("/checks", json={**BD_ELIGIBLE, "as_of": "2024-12-31"})).json()
        assert [n["code"] for n in bd["notes"]] == ["waitlist"]
        assert bd["waitlist"]["status"] == "waitlisted"
        assert bd["waitlist"]["until"] == "2024-12-31"
        kh = await client.post(
            "/checks",
            json={
                "country": "KH",
                "products": ["garments"],
                "has_export_license": True,
                "wants_advisory": False,
            },
        )
        assert kh.json()["participation"] == {"assessment": "mandatory", "advisory": "voluntary"}

    @pytest.mark.parametrize(
        "changes",
        [
            {"worker_count": -1},
            {"worker_count": "300"},
            {"worker_count": 3.5},
            {"female_worker_share": 1.5},
            {"products": ["spaceships"]},
            {"nominated_by_partner": "yes"},
            {"in_export_processing_zone": 0},
            {"operating_since": "01/02/2020"},
            {"operating_since": 0},
            {"as_of": "2023-06-01"},
            {"country": "Bangladesh"},
            {"country": "ZZ"},
            {"export_markets": ["USA"]},
            {"workers": 300},
            {"name": "bad\u0000name"},
            {"name": "   "},
        ],
    )
    async def test_bad_input_is_a_422_problem(self, api: Api, changes: dict[str, Any]) -> None:
        reply = await api.client("eligibility", role="partner").post(
            "/checks", json={**BD_ELIGIBLE, **changes}
        )
        problem(reply, 422)

    async def test_body_must_be_json(self, api: Api) -> None:
        reply = await api.client("eligibility", role="partner").post(
            "/checks", content=b"{not json", headers={"content-type": "application/json"}
        )
        problem(reply, 422)

    async def test_enrolled_factory_and_facts_from_the_registry(self, api: Api) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(advisor)
        buyer = api.client("eligibility", role="partner", org="brand-1")
        body = {"country": "BD", "name": "GOLDEN STAR APPARELS", "nominated_by_partner": True}
        decision = (await buyer.post("/checks", json=body)).json()
        assert decision["match"]["factory_id"] == factory["id"]
        assert decision["status"] == "eligible"  # registered, not enrolled yet
        assert set(decision["facts_from_registry"]) >= {"worker_count", "region", "products"}
        await enrol(advisor, factory["id"])
        decision = (await buyer.post("/checks", json=body)).json()
        assert decision["status"] == "enrolled"
        assert decision["match"]["enrolment_status"] == "enrolled"

    async def test_facts_sent_win_over_the_registry(self, api: Api) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        await create_factory(advisor)
        body = {
            "country": "BD",
            "name": "Golden Star Apparels",
            "worker_count": 100,
            "nominated_by_partner": True,
        }
        decision = (
            await api.client("eligibility", role="partner").post("/checks", json=body)
        ).json()
        assert decision["status"] == "not_eligible"
        assert "worker_count" not in decision["facts_from_registry"]

    async def test_a_factory_in_another_country_is_not_matched(self, api: Api) -> None:
        await create_factory(api.client("eligibility", role="advisor", org="bw"))
        body = {"country": "KH", "name": "Golden Star Apparels Ltd"}
        decision = (
            await api.client("eligibility", role="partner").post("/checks", json=body)
        ).json()
        assert decision["match"]["status"] == "none"
        assert decision["match"]["factory_id"] is None


class TestBulkCheck:
    async def test_results_in_input_order_with_refs_and_summary(self, api: Api) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(advisor)
        await enrol(advisor, factory["id"])
        rows = [
            {**{k: v for k, v in BD_ELIGIBLE.items() if k != "as_of"}, "client_ref": "a"},
            {"country": "FR", "client_ref": "b"},
            {"country": "BD", "name": "Golden-Star Apparels Limited", "client_ref": "c"},
            {"country": "LK", "client_ref": "d"},
        ]
        reply = await api.client("eligibility", role="participant").post(
            "/checks/bulk", json={"factories": rows, "as_of": "2025-03-01"}
        )
        assert reply.status_code == 200, reply.text
        results = reply.json()["results"]
        assert [r["client_ref"] for r in results] == ["a", "b", "c", "d"]
        assert [r["row"] for r in results] == [1, 2, 3, 4]
        assert [r["status"] for r in results] == [
            "eligible",
            "out_of_scope",
            "enrolled",
            "contact_programme",
        ]
        assert results[2]["match"]["factory_id"] == factory["id"]
        summary = reply.json()["summary"]
        assert summary["total"] == 4
        assert summary["by_status"]["enrolled"] == 1
        assert summary["by_country"] == {"BD": 2, "FR": 1, "LK": 1}
        assert summary["matched"] == 1

    async def test_factories_may_not_bulk_check(self, api: Api) -> None:
        reply = await api.client("eligibility", role="factory").post(
            "/checks/bulk", json={"factories": [{"country": "BD"}]}
        )
        problem(reply, 403)

    @pytest.mark.parametrize(
        "body",
        [
            {"factories": []},
            {"factories": [{"country": "BD"}] * 10_001},
            {"factories": [{"country": "BD"}, {"country": "BD", "worker_count": -5}]},
            {"factories": "BD"},
            {},
        ],
    )
    async def test_bad_bodies_are_422(self, api: Api, body: dict[str, Any]) -> None:
        reply = await api.client("eligibility", role="partner").post("/checks/bulk", json=body)
        problem(reply, 422)

    async def test_lookups_are_logged_for_matched_factories(self, api: Api) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(advisor)
        buyer = api.client("eligibility", role="partner", org="brand-7", sub="alice")
        await buyer.post(
            "/checks/bulk", json={"factories": [{"country": "BD", "name": "Golden Star"}]}
        )
        lookups = (await advisor.get(f"/factories/{factory['id']}/lookups")).json()["items"]
        assert [(x["org"], x["user"], x["source"]) for x in lookups] == [
            ("brand-7", "alice", "bulk_check")
        ]
