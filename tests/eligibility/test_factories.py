"""The registry: advisors add factories and mark enrolment within their countries; a
factory user reads its own entry; other services read it through /internal."""

from __future__ import annotations

import pytest

from tests.eligibility.world import BD_FACTORY, create_factory, enrol, problem
from tests.inprocess import Api


class TestCreateFactory:
    async def test_advisor_adds_a_registered_factory(self, api: Api) -> None:
        factory = await create_factory(api.client("eligibility", role="advisor", org="bw"))
        assert factory["id"].startswith("fac_")
        assert factory["enrolment_status"] == "registered"
        assert factory["os_id"] == BD_FACTORY["os_id"]
        assert factory["products"] == ["garments"]
        assert factory["operating_since"] == "2015-03-01"

    @pytest.mark.parametrize("role", ["partner", "participant", "factory"])
    async def test_only_advisors(self, api: Api, role: str) -> None:
        reply = await api.client("eligibility", role=role).post("/factories", json=BD_FACTORY)
        problem(reply, 403)

    async def test_only_within_the_advisors_countries(self, api: Api) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw", countries=["KH"])
        problem(await advisor.post("/factories", json=BD_FACTORY), 403)

    @pytest.mark.parametrize(
        "changes",
        [
            {"name": "golden-star apparels limited", "os_id": None},  # same name, other form
            {"name": "Another Name", "os_id": BD_FACTORY["os_id"]},  # same OS ID
        ],
    )
    async def test_duplicates_are_409_naming_the_entry(
        self, api: Api, changes: dict[str, object]
    ) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        first = await create_factory(advisor)
        body = {k: v for k, v in {**BD_FACTORY, **changes}.items() if v is not None}
        conflict = problem(await advisor.post("/factories", json=body), 409)
        assert first["id"] in conflict["detail"]

    async def test_the_same_name_in_another_country_is_another_factory(self, api: Api) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        await create_factory(advisor)
        await create_factory(advisor, country="KH", region=None, os_id=None)

    @pytest.mark.parametrize(
        "changes",
        [
            {"name": ""},
            {"name": "..."},
            {"worker_count": -1},
            {"country": "XX"},
            {"products": ["x"]},
        ],
    )
    async def test_bad_input_is_422(self, api: Api, changes: dict[str, object]) -> None:
        advisor = api.client("eligibility", role="advisor", org="bw")
        problem(await advisor.post("/factories", json={**BD_FACTORY, **changes}), 422)


class TestListFactories:
    async def test_advisors_see_their_countries_a_page_at_a_time(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        for i in range(3):
            await create_factory(admin, name=f"Factory {i}", os_id=None)
        await create_factory(admin, name="Angkor Garments", country="KH", region=None, os_id=None)
        bd_advisor = api.client("eligibility", role="advisor", org="bw", countries=["BD"])
        page = (await bd_advisor.get("/factories", params={"limit": 2})).json()
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = (await bd_advisor.get("/factories", params={"cursor": page["next_cursor"]})).json()
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None
        assert {f["country"] for f in page["items"] + rest["items"]} == {"BD"}
        everyone = (await admin.get("/factories", params={"country": "KH"})).json()["items"]
        assert [f["name"] for f in everyone] == ["Angkor Garments"]

    async def test_a_factory_user_sees_only_its_own_entry(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        own = await create_factory(admin)
        other = await create_factory(admin, name="Other Mill", os_id=None)
        factory = api.client("eligibility", role="factory", org=own["id"])
        items = (await factory.get("/factories")).json()["items"]
        assert [f["id"] for f in items] == [own["id"]]
        assert (await factory.get(f"/factories/{own['id']}")).status_code == 200
        problem(await factory.get(f"/factories/{other['id']}"), 404)

    async def test_buyers_do_not_read_the_registry(self, api: Api) -> None:
        problem(await api.client("eligibility", role="partner").get("/factories"), 403)

    async def test_enrolment_filter(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        await create_factory(admin, name="Other Mill", os_id=None)
        await enrol(admin, factory["id"])
        reply = await admin.get("/factories", params={"enrolment_status": "enrolled"})
        assert [f["id"] for f in reply.json()["items"]] == [factory["id"]]


class TestGetFactory:
    async def test_advisor_outside_its_countries_gets_404(self, api: Api) -> None:
        factory = await create_factory(api.client("eligibility", role="advisor", org="bw"))
        kh_advisor = api.client("eligibility", role="advisor", org="bw", countries=["KH"])
        problem(await kh_advisor.get(f"/factories/{factory['id']}"), 404)

    async def test_unknown_factory(self, api: Api) -> None:
        problem(await api.client("eligibility", role="advisor").get("/factories/fac_nope"), 404)


class TestUpdateFactory:
    async def test_advisor_changes_facts(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        reply = await admin.patch(
            f"/factories/{factory['id']}", json={"worker_count": 240, "region": None}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["worker_count"] == 240
        assert reply.json()["region"] is None
        assert reply.json()["name"] == factory["name"]

    async def test_renaming_onto_another_entry_is_409(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        await create_factory(admin)
        other = await create_factory(admin, name="Other Mill", os_id=None)
        reply = await admin.patch(
            f"/factories/{other['id']}", json={"name": "Golden Star Apparels"}
        )
        problem(reply, 409)


class TestEnrolment:
    async def test_enrol_withdraw_and_enrol_again(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        url = f"/factories/{factory['id']}/enrolment"
        problem(await admin.post(url, json={"status": "withdrawn"}), 409)
        enrolled = (await admin.post(url, json={"status": "enrolled"})).json()
        assert enrolled["enrolment_status"] == "enrolled" and enrolled["enrolled_at"]
        again = (await admin.post(url, json={"status": "enrolled"})).json()
        assert again["enrolled_at"] == enrolled["enrolled_at"]  # nothing changed
        withdrawn = (await admin.post(url, json={"status": "withdrawn"})).json()
        assert withdrawn["enrolment_status"] == "withdrawn" and withdrawn["withdrawn_at"]
        back = (await admin.post(url, json={"status": "enrolled"})).json()
        assert back["enrolment_status"] == "enrolled"

    @pytest.mark.parametrize("status", ["registered", "paid", None])
    async def test_bad_status_is_422(self, api: Api, status: str | None) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        reply = await admin.post(f"/factories/{factory['id']}/enrolment", json={"status": status})
        problem(reply, 422)

    async def test_only_advisors_of_the_country(self, api: Api) -> None:
        factory = await create_factory(api.client("eligibility", role="advisor", org="bw"))
        url = f"/factories/{factory['id']}/enrolment"
        own = api.client("eligibility", role="factory", org=factory["id"])
        problem(await own.post(url, json={"status": "enrolled"}), 403)
        kh_advisor = api.client("eligibility", role="advisor", org="bw", countries=["KH"])
        problem(await kh_advisor.post(url, json={"status": "enrolled"}), 404)


class TestLookups:
    async def test_who_looked_a_factory_up(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        buyer = api.client("eligibility", role="participant", org="buyer-9", sub="bob")
        await buyer.post("/checks", json={"country": "BD", "os_id": BD_FACTORY["os_id"]})
        await buyer.post("/checks", json={"country": "BD", "name": "Nobody Knit"})
        items = (await admin.get(f"/factories/{factory['id']}/lookups")).json()["items"]
        assert [(i["org"], i["user"], i["role"], i["source"]) for i in items] == [
            ("buyer-9", "bob", "participant", "check")
        ]
        assert items[0]["reference"]

    async def test_advisors_only(self, api: Api) -> None:
        factory = await create_factory(api.client("eligibility", role="advisor", org="bw"))
        own = api.client("eligibility", role="factory", org=factory["id"])
        problem(await own.get(f"/factories/{factory['id']}/lookups"), 403)


class TestInternalFactory:
    async def test_other_services_see_registry_changes_at_once(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        service = api.client("eligibility", role="service")
        record = (await service.get(f"/internal/factories/{factory['id']}")).json()
        assert record["enrolment_status"] == "registered"
        assert record["training_participant_days"] == 20
        assert record["os_id"] == BD_FACTORY["os_id"]
        await enrol(admin, factory["id"])
        record = (await service.get(f"/internal/factories/{factory['id']}")).json()
        assert record["enrolment_status"] == "enrolled"

    async def test_unknown_is_404_and_users_are_refused(self, api: Api) -> None:
        problem(await api.client("eligibility", role="service").get("/internal/factories/x"), 404)
        reply = await api.client("eligibility", role="advisor").get("/internal/factories/x")
        assert reply.status_code in (401, 403)
