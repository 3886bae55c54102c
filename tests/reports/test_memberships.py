"""Portal memberships: the first user of an organisation is its super-user; later users are
pending (403 on every report endpoint) until the super-user approves them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import key, ok
from tests.reports.world import World

FIRST, SECOND = "first@brand-1", "second@brand-1"


def endpoints(factory_id: str, report_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every report endpoint a buyer may call, with a body where it takes one."""
    cycle = f"/factories/{factory_id}/cycles/1"
    return [
        ("GET", f"/factories/{factory_id}/cycles", None),
        ("GET", f"{cycle}/reports", None),
        ("GET", f"/reports/{report_id}", None),
        ("GET", f"{cycle}/improvement-plan", None),
        ("POST", "/access-requests", {"factory_id": factory_id}),
        ("GET", "/access-requests", None),
        ("GET", "/access-requests/tpa_X", None),
        ("POST", "/unlocks", {"factory_id": factory_id, "cycle": 1}),
        ("GET", "/unlocks", None),
        ("POST", "/shares", {"factory_id": factory_id, "cycle": 1, "with_org": "brand-2"}),
        ("GET", "/shares", None),
        ("GET", "/memberships", None),
        ("POST", f"/memberships/{FIRST}/approve", None),
        ("GET", "/notifications", None),
    ]


async def call(client: httpx.AsyncClient, method: str, path: str, body: Any) -> httpx.Response:
    return await client.request(method, path, json=body, headers=key())


class TestMemberships:
    async def test_pending_user_is_refused_everywhere_until_approved(self, world: World) -> None:
        factory_id, report = await world.readable_factory(
            "partner",
            "brand-1",
        )
        # readable_factory acted as the default user, who became the super-user.
        first = world.reports("partner", "brand-1")
        second = world.reports("partner", "brand-1", sub=SECOND)
        for method, path, body in endpoints(factory_id, report["id"]):
            reply = await call(second, method, path, body)
            assert reply.status_code == 403, (method, path)
            assert "pending" in reply.json()["detail"], (method, path)

        members = ok(await first.get("/memberships"))["items"]
        by_user = {m["user"]: m for m in members}
        assert by_user[SECOND]["status"] == "pending"
        assert not by_user[SECOND]["super_user"]
        [super_user] = [m for m in members if m["super_user"]]
        assert super_user["status"] == "active"

        approved = ok(await first.post(f"/memberships/{SECOND}/approve"))
        assert approved["status"] == "active"
        assert approved["approved_by"] == super_user["user"]
        assert ok(await first.post(f"/memberships/{SECOND}/approve"))["status"] == "active"
        assert ok(await second.get(f"/reports/{report['id']}"))["id"] == report["id"]
        # An approved member who is not the super-user does not manage members.
        assert (await second.get("/memberships")).status_code == 403

    async def test_super_user_is_told_of_new_users(self, world: World) -> None:
        first = world.reports("participant", "buyer-1", sub=FIRST)
        ok(await first.get("/notifications"))
        second = world.reports("participant", "buyer-1", sub=SECOND)
        assert (await second.get("/notifications")).status_code == 403
        notes = ok(await first.get("/notifications"))["items"]
        assert [(n["kind"], SECOND in n["message"]) for n in notes] == [
            ("membership_requested", True)
        ]

    async def test_factories_have_members_too(self, world: World) -> None:
        factory_id = await world.factory()
        ok(await world.reports("factory", factory_id, sub="manager").get("/access-requests"))
        clerk = world.reports("factory", factory_id, sub="clerk")
        assert (await clerk.get("/access-requests")).status_code == 403
        manager = world.reports("factory", factory_id, sub="manager")
        ok(await manager.post("/memberships/clerk/approve"))
        ok(await clerk.get("/access-requests"))

    async def test_organisations_are_separate(self, world: World) -> None:
        ok(await world.reports("partner", "brand-1", sub=FIRST).get("/unlocks"))
        ok(await world.reports("partner", "brand-2", sub=SECOND).get("/unlocks"))  # its first
        first = world.reports("partner", "brand-1", sub=FIRST)
        reply = await first.post(f"/memberships/{SECOND}/approve")
        assert reply.status_code == 404
        assert [m["user"] for m in ok(await first.get("/memberships"))["items"]] == [FIRST]

    async def test_advisors_need_no_membership(self, world: World) -> None:
        assert (await world.advisor.get("/notifications")).status_code == 200
        assert (await world.advisor.get("/memberships")).status_code == 403  # not an org role

    @pytest.mark.postgres
    async def test_concurrent_first_users_make_one_super_user(self, world: World) -> None:
        import asyncio

        clients = [world.reports("partner", "brand-x", sub=f"user-{n}") for n in range(10)]
        replies = await asyncio.gather(*(c.get("/unlocks") for c in clients))
        assert sorted(r.status_code for r in replies) == [200] + [403] * 9
        winner = clients[[r.status_code for r in replies].index(200)]
        members = ok(await winner.get("/memberships"))["items"]
        assert len(members) == 10
        assert sum(m["super_user"] for m in members) == 1
