"""Report cycles: opened by advisors (and by the cycles service, see test_internal.py),
listed to whoever may know of them."""

from __future__ import annotations

from tests.helpers import ADVISOR_ORG, ok
from tests.reports.world import World


class TestOpenReportCycle:
    async def test_advisor_opens_and_opening_again_returns_it(self, world: World) -> None:
        factory_id = await world.factory(country="KH")
        first = await world.open_cycle(factory_id, 1)
        assert first["factory_id"] == factory_id
        assert first["cycle"] == 1
        assert first["country"] == "KH"
        again = await world.advisor.post(f"/factories/{factory_id}/cycles", json={"cycle": 1})
        assert ok(again)["id"] == first["id"]

    async def test_unknown_factory_is_404(self, world: World) -> None:
        reply = await world.advisor.post("/factories/no-such-factory/cycles", json={"cycle": 1})
        assert reply.status_code == 404
        assert reply.headers["content-type"] == "application/problem+json"

    async def test_factory_must_be_enrolled(self, world: World) -> None:
        factory_id = await world.factory(enrolled=False)
        reply = await world.advisor.post(f"/factories/{factory_id}/cycles", json={"cycle": 1})
        assert reply.status_code == 409
        assert "enrolled" in reply.json()["detail"]

    async def test_advisor_of_another_programme_is_refused(self, world: World) -> None:
        factory_id = await world.factory(country="BD")
        advisor = world.reports("advisor", ADVISOR_ORG, countries=["KH"])
        reply = await advisor.post(f"/factories/{factory_id}/cycles", json={"cycle": 1})
        assert reply.status_code == 403
        assert "BD" in reply.json()["detail"]

    async def test_other_roles_cannot_open(self, world: World) -> None:
        factory_id = await world.factory()
        for role, org in (("factory", factory_id), ("partner", "b1"), ("participant", "b2")):
            reply = await world.reports(role, org).post(
                f"/factories/{factory_id}/cycles", json={"cycle": 1}
            )
            assert reply.status_code == 403, role

    async def test_cycle_number_is_validated(self, world: World) -> None:
        factory_id = await world.factory()
        for bad in (0, -1, 1001, "one"):
            reply = await world.advisor.post(f"/factories/{factory_id}/cycles", json={"cycle": bad})
            assert reply.status_code == 422

    async def test_needs_a_token(self, world: World) -> None:
        anonymous = world.api.client("reports")
        reply = await anonymous.post("/factories/f/cycles", json={"cycle": 1})
        assert reply.status_code == 401


class TestListReportCycles:
    async def test_what_each_caller_sees(self, world: World) -> None:
        factory_id = await world.factory()
        other_factory = await world.factory()
        for number in (1, 2):
            await world.open_cycle(factory_id, number)

        def numbers(page: dict[str, object]) -> list[tuple[int, bool]]:
            return [(c["cycle"], c["readable"]) for c in page["items"]]  # type: ignore[attr-defined]

        path = f"/factories/{factory_id}/cycles"
        assert numbers(ok(await world.advisor.get(path))) == [(1, True), (2, True)]
        assert numbers(ok(await world.reports("factory", factory_id).get(path))) == [
            (1, True),
            (2, True),
        ]
        # Another factory and a buyer without TPA learn nothing (not even that cycles exist).
        assert numbers(ok(await world.reports("factory", other_factory).get(path))) == []
        buyer = world.reports("participant", "buyer-1")
        assert numbers(ok(await buyer.get(path))) == []
        # With an approved TPA the buyer sees the cycles, locked until unlocked.
        await world.grant_tpa("participant", "buyer-1", factory_id)
        assert numbers(ok(await buyer.get(path))) == [(1, False), (2, False)]
        await world.buy_credits("buyer-1", 1)
        ok(await world.unlock("participant", "buyer-1", factory_id, 2), 201)
        assert numbers(ok(await buyer.get(path))) == [(1, False), (2, True)]

    async def test_pages(self, world: World) -> None:
        factory_id = await world.factory()
        for number in range(1, 13):
            await world.open_cycle(factory_id, number)
        path = f"/factories/{factory_id}/cycles"
        first = ok(await world.advisor.get(path, params={"limit": 5}))
        assert [c["cycle"] for c in first["items"]] == [1, 2, 3, 4, 5]
        seen = [c["cycle"] for c in first["items"]]
        cursor = first["next_cursor"]
        while cursor:
            page = ok(await world.advisor.get(path, params={"limit": 5, "cursor": cursor}))
            seen += [c["cycle"] for c in page["items"]]
            cursor = page["next_cursor"]
        assert seen == list(range(1, 13))

    async def test_bad_cursor_is_400_and_unknown_query_422(self, world: World) -> None:
        path = "/factories/f/cycles"
        assert (await world.advisor.get(path, params={"cursor": "!!"})).status_code == 400
        assert (await world.advisor.get(path, params={"limt": 3})).status_code == 422
