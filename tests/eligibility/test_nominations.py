"""Nominations as records (issue 12, item 5): partners nominate registry factories, list and
withdraw their nominations; decisions without `nominated_by_partner` use the records and
name the one that counted, decisions with it say "assumed by the caller"."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.eligibility.world import BD_FACTORY, create_factory, enrol, problem
from tests.inprocess import Api

ROLES = ("partner", "participant", "factory", "advisor")
# The registry factory's facts make it eligible in Bangladesh but for the nomination.
CHECK: dict[str, Any] = {"country": "BD", "as_of": "2025-03-01"}


def advisor(api: Api, countries: list[str] | None = None) -> httpx.AsyncClient:
    return api.client("eligibility", role="advisor", org="bw", countries=countries)


def partner(api: Api, org: str = "brand-1") -> httpx.AsyncClient:
    return api.client("eligibility", role="partner", org=org)


async def registry_factory(api: Api, **changes: Any) -> dict[str, Any]:
    return await create_factory(advisor(api), **changes)


async def nominate(client: httpx.AsyncClient, factory_id: str, status: int = 201) -> Any:
    reply = await client.post("/nominations", json={"factory_id": factory_id})
    assert reply.status_code == status, reply.text
    return reply.json()


def nomination_reason(decision: dict[str, Any]) -> dict[str, Any]:
    reason: dict[str, Any] = next(r for r in decision["reasons"] if r["code"] == "nomination")
    return reason


class TestCreate:
    async def test_a_partner_nominates_a_registry_factory(self, api: Api) -> None:
        factory = await registry_factory(api)
        nomination = await nominate(partner(api), factory["id"])
        assert nomination["id"].startswith("nom_")
        assert nomination["factory_id"] == factory["id"]
        assert nomination["country"] == "BD"
        assert nomination["partner_org"] == "brand-1"
        assert nomination["status"] == "active"
        assert nomination["nominated_by"] == "partner-user@brand-1"
        assert nomination["withdrawn_at"] is None

    async def test_nominating_again_is_the_same_nomination(self, api: Api) -> None:
        factory = await registry_factory(api)
        first = await nominate(partner(api), factory["id"])
        again = await nominate(partner(api), factory["id"], status=200)
        assert again["id"] == first["id"]
        other = await nominate(partner(api, "brand-2"), factory["id"])
        assert other["id"] != first["id"]

    @pytest.mark.parametrize(
        ("role", "status", "says"),
        [
            ("partner", 201, None),
            ("participant", 403, "partner brand"),
            ("factory", 403, "partner brand"),
            ("advisor", 403, "partner brand"),
        ],
    )
    async def test_only_partners_nominate(
        self, api: Api, role: str, status: int, says: str | None
    ) -> None:
        factory = await registry_factory(api)
        client = api.client("eligibility", role=role, org=factory["id"])
        reply = await client.post("/nominations", json={"factory_id": factory["id"]})
        assert reply.status_code == status, reply.text
        if says is not None:
            body = problem(reply, 403)
            assert says in body["detail"] and "nominated by a BW partner brand" in body["detail"]

    async def test_an_unknown_factory_is_404(self, api: Api) -> None:
        problem(await partner(api).post("/nominations", json={"factory_id": "fac_nope"}), 404)

    @pytest.mark.parametrize(
        ("country", "region", "status"),
        [
            ("BD", "Gazipur", 201),
            ("KH", None, 201),
            ("PK", "Punjab", 201),
            ("VN", "Binh Duong", 201),
            ("ET", None, 422),
            ("EG", None, 422),
            ("MG", None, 422),  # coverage not published
        ],
    )
    async def test_only_programmes_that_ask_for_one(
        self, api: Api, country: str, region: str | None, status: int
    ) -> None:
        factory = await registry_factory(
            api, name=f"Factory {country}", country=country, region=region, os_id=None
        )
        reply = await partner(api).post("/nominations", json={"factory_id": factory["id"]})
        assert reply.status_code == status, reply.text
        if status == 422:
            assert "BD, KH, PK, VN" in problem(reply, 422)["detail"]

    @pytest.mark.parametrize("body", [{}, {"factory_id": ""}, {"factory_id": "x" * 129}, {"x": 1}])
    async def test_bad_bodies_are_422(self, api: Api, body: dict[str, Any]) -> None:
        problem(await partner(api).post("/nominations", json=body), 422)


class TestListAndRead:
    async def test_a_partner_lists_its_own(self, api: Api) -> None:
        factory = await registry_factory(api)
        mine = await nominate(partner(api), factory["id"])
        await nominate(partner(api, "brand-2"), factory["id"])
        reply = await partner(api).get("/nominations")
        assert reply.status_code == 200, reply.text
        assert [n["id"] for n in reply.json()["items"]] == [mine["id"]]

    async def test_advisors_list_their_programmes(self, api: Api) -> None:
        bd = await registry_factory(api)
        pk = await registry_factory(
            api, name="Lahore Knits", country="PK", region="Punjab", os_id=None
        )
        on_bd = await nominate(partner(api), bd["id"])
        on_pk = await nominate(partner(api, "brand-2"), pk["id"])
        every = (await advisor(api).get("/nominations")).json()["items"]
        assert [n["id"] for n in every] == [on_bd["id"], on_pk["id"]]
        scoped = (await advisor(api, ["PK"]).get("/nominations")).json()["items"]
        assert [n["id"] for n in scoped] == [on_pk["id"]]
        assert (await advisor(api, ["PK"]).get(f"/nominations/{on_bd['id']}")).status_code == 404

    async def test_cursor_pages_and_filters(self, api: Api) -> None:
        ids = []
        for i in range(5):
            factory = await registry_factory(api, name=f"Factory {i}", os_id=None)
            ids.append((await nominate(partner(api), factory["id"]))["id"])
        client = partner(api)
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            page = (await client.get("/nominations", params=params)).json()
            seen += [n["id"] for n in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ids
        await client.post(f"/nominations/{ids[1]}/withdraw")
        withdrawn = (await client.get("/nominations", params={"status": "withdrawn"})).json()
        assert [n["id"] for n in withdrawn["items"]] == [ids[1]]
        first = (await client.get(f"/nominations/{ids[0]}")).json()
        for_factory = await client.get("/nominations", params={"factory_id": first["factory_id"]})
        assert [n["id"] for n in for_factory.json()["items"]] == [ids[0]]
        assert (await client.get("/nominations", params={"country": "KH"})).json()["items"] == []

    async def test_updated_since(self, api: Api) -> None:
        factory = await registry_factory(api)
        nomination = await nominate(partner(api), factory["id"])
        client = partner(api)
        since = {"updated_since": nomination["updated_at"]}
        assert len((await client.get("/nominations", params=since)).json()["items"]) == 1
        later = {"updated_since": "2999-01-01T00:00:00Z"}
        assert (await client.get("/nominations", params=later)).json()["items"] == []
        withdrawn = (await client.post(f"/nominations/{nomination['id']}/withdraw")).json()
        after = {"updated_since": withdrawn["withdrawn_at"]}
        found = (await client.get("/nominations", params=after)).json()["items"]
        assert [n["status"] for n in found] == ["withdrawn"]
        for bad in ("yesterday", "0.5", "1700000000", "2026-11-29", "2026-11-29T08:00:00"):
            problem(await client.get("/nominations", params={"updated_since": bad}), 422)
        offset = {"updated_since": "2999-01-01T08:00:00+08:00"}
        assert (await client.get("/nominations", params=offset)).json()["items"] == []

    @pytest.mark.parametrize(
        ("role", "org", "list_status", "read_status"),
        [
            ("partner", "brand-1", 200, 200),  # the nominating partner
            ("partner", "brand-2", 200, 404),  # another partner: not its business
            ("participant", "brand-1", 403, 403),
            ("factory", "FACTORY", 403, 403),
            ("advisor", "bw", 200, 200),
        ],
    )
    async def test_who_may_read(
        self, api: Api, role: str, org: str, list_status: int, read_status: int
    ) -> None:
        factory = await registry_factory(api)
        nomination = await nominate(partner(api), factory["id"])
        client = api.client(
            "eligibility", role=role, org=factory["id"] if org == "FACTORY" else org
        )
        listed = await client.get("/nominations")
        assert listed.status_code == list_status, listed.text
        if role == "partner" and org == "brand-2":
            assert listed.json()["items"] == []
        read = await client.get(f"/nominations/{nomination['id']}")
        assert read.status_code == read_status, read.text


class TestWithdraw:
    @pytest.mark.parametrize(
        ("role", "org", "status"),
        [
            ("partner", "brand-1", 200),
            ("partner", "brand-2", 404),
            ("participant", "brand-1", 403),
            ("factory", "brand-1", 403),
            ("advisor", "bw", 403),
        ],
    )
    async def test_only_the_nominating_partner_withdraws(
        self, api: Api, role: str, org: str, status: int
    ) -> None:
        factory = await registry_factory(api)
        nomination = await nominate(partner(api), factory["id"])
        client = api.client("eligibility", role=role, org=org)
        reply = await client.post(f"/nominations/{nomination['id']}/withdraw")
        assert reply.status_code == status, reply.text
        if status == 200:
            body = reply.json()
            assert body["status"] == "withdrawn"
            assert body["withdrawn_by"] == "partner-user@brand-1"
            assert body["withdrawn_at"] is not None

    async def test_withdrawing_twice_changes_nothing_and_a_new_one_can_follow(
        self, api: Api
    ) -> None:
        factory = await registry_factory(api)
        client = partner(api)
        nomination = await nominate(client, factory["id"])
        first = (await client.post(f"/nominations/{nomination['id']}/withdraw")).json()
        second = (await client.post(f"/nominations/{nomination['id']}/withdraw")).json()
        assert first == second
        renewed = await nominate(client, factory["id"])
        assert renewed["id"] != nomination["id"] and renewed["status"] == "active"

    async def test_unknown_is_404(self, api: Api) -> None:
        problem(await partner(api).post("/nominations/nom_nope/withdraw"), 404)


class TestDecisions:
    async def test_records_decide_when_the_boolean_is_absent(self, api: Api) -> None:
        factory = await registry_factory(api)
        buyer = api.client("eligibility", role="participant", org="buyer-1")
        body = {**CHECK, "factory_id": factory["id"]}

        before = (await buyer.post("/checks", json=body)).json()
        assert before["status"] == "needs_nomination"
        assert factory["id"] in nomination_reason(before)["message"]

        nomination = await nominate(partner(api), factory["id"])
        after = (await buyer.post("/checks", json=body)).json()
        assert after["status"] == "eligible"
        reason = nomination_reason(after)
        assert reason["passed"] is True
        assert nomination["id"] in reason["message"]
        assert "brand-1" not in reason["message"]  # another buyer's name is not shown

        await partner(api).post(f"/nominations/{nomination['id']}/withdraw")
        withdrawn = (await buyer.post("/checks", json=body)).json()
        assert withdrawn["status"] == "needs_nomination"

    @pytest.mark.parametrize(
        ("role", "org", "countries", "named"),
        [
            ("partner", "brand-1", None, "your organisation (brand-1)"),
            ("partner", "brand-2", None, None),
            ("participant", "buyer-1", None, None),
            ("factory", "fac_x", None, None),
            ("advisor", "bw", ["BD"], "partner brand-1"),
            ("advisor", "bw", ["KH"], None),  # not its programme
        ],
    )
    async def test_who_is_named(
        self, api: Api, role: str, org: str, countries: list[str] | None, named: str | None
    ) -> None:
        factory = await registry_factory(api)
        nomination = await nominate(partner(api), factory["id"])
        client = api.client("eligibility", role=role, org=org, countries=countries)
        body = {**CHECK, "factory_id": factory["id"]}
        decision = (await client.post("/checks", json=body)).json()
        message = nomination_reason(decision)["message"]
        assert nomination["id"] in message
        if named is None:
            assert "brand-1" not in message
        else:
            assert named in message

    @pytest.mark.parametrize(
        ("sent", "recorded", "status"),
        [(True, False, "eligible"), (False, True, "needs_nomination")],
    )
    async def test_the_boolean_is_the_callers_what_if(
        self, api: Api, sent: bool, recorded: bool, status: str
    ) -> None:
        factory = await registry_factory(api)
        if recorded:
            await nominate(partner(api), factory["id"])
        body = {**CHECK, "factory_id": factory["id"], "nominated_by_partner": sent}
        decision = (await partner(api).post("/checks", json=body)).json()
        assert decision["status"] == status
        assert "assumed by the caller" in nomination_reason(decision)["message"]

    async def test_an_unknown_factory_stays_insufficient_data(self, api: Api) -> None:
        facts = {k: v for k, v in BD_FACTORY.items() if k not in ("name", "address", "os_id")}
        body = {**CHECK, **facts, "name": "Nobody Knows Ltd"}
        decision = (await partner(api).post("/checks", json=body)).json()
        assert decision["match"]["status"] == "none"
        assert decision["status"] == "insufficient_data"
        assert decision["missing_fields"] == ["nominated_by_partner"]

    async def test_bulk_and_list_rows_matched_to_the_registry(self, api: Api) -> None:
        nominated = await registry_factory(api)
        other = await registry_factory(api, name="Silver Moon Knits", os_id=None)
        await nominate(partner(api), nominated["id"])
        rows = [
            {"client_ref": "A", "country": "BD", "factory_id": nominated["id"]},
            {"client_ref": "B", "country": "BD", "name": "Silver Moon Knits Ltd"},
            {
                "client_ref": "C",
                "country": "BD",
                "name": "Silver Moon Knits",
                "nominated_by_partner": True,
            },
        ]
        client = partner(api)
        bulk = await client.post("/checks/bulk", json={"factories": rows, "as_of": "2025-03-01"})
        assert bulk.status_code == 200, bulk.text
        statuses = [r["status"] for r in bulk.json()["results"]]
        assert statuses == ["eligible", "needs_nomination", "eligible"]
        assert other["id"] in nomination_reason(bulk.json()["results"][1])["message"]

        listed = await client.post(
            "/factory-lists", json={"factories": rows, "as_of": "2025-03-01"}
        )
        assert listed.status_code == 201, listed.text
        assert [r["status"] for r in listed.json()["results"]] == statuses
        reason = nomination_reason(listed.json()["results"][0])
        assert "your organisation (brand-1)" in reason["message"]

    async def test_an_enrolled_factory_is_still_enrolled(self, api: Api) -> None:
        factory = await registry_factory(api)
        await enrol(advisor(api), factory["id"])
        decision = (
            await partner(api).post("/checks", json={**CHECK, "factory_id": factory["id"]})
        ).json()
        assert decision["status"] == "enrolled"
        assert decision["waitlist"] is None


async def test_programmes_say_which_ask_for_a_nomination(api: Api) -> None:
    reply = await partner(api).get("/programmes", params={"as_of": "2025-01-01"})
    asking = [p["country"] for p in reply.json()["items"] if p["requires_nomination"]]
    assert asking == ["BD", "KH", "PK", "VN"]


async def test_through_the_gateway_a_participant_is_refused_naming_the_partner_role(
    gateway_api: Api,
) -> None:
    factory = await create_factory(gateway_api.client("eligibility", role="advisor", org="bw"))
    for role in ROLES:
        client = gateway_api.client("gateway", role=role, org="org-x")
        reply = await client.post("/v1/eligibility/nominations", json={"factory_id": factory["id"]})
        assert reply.status_code == (201 if role == "partner" else 403), reply.text
        if role != "partner":
            assert "partner" in problem(reply, 403)["detail"]
