"""Notifications per organisation, each delivered to whom it concerns and no one else."""

from __future__ import annotations

from typing import Any

from tests.helpers import ADVISOR_ORG, ok
from tests.reports.world import World


async def notes(world: World, role: str, org: str, **params: Any) -> list[dict[str, Any]]:
    page = ok(await world.reports(role, org).get("/notifications", params=params))
    return list(page["items"])


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return [n["kind"] for n in items]


class TestNotifications:
    async def test_tpa_lifecycle(self, world: World) -> None:
        factory_id = await world.factory()
        request = await world.request_tpa("partner", "brand-1", factory_id)
        [incoming] = await notes(world, "factory", factory_id)
        assert (incoming["kind"], incoming["subject_id"]) == ("tpa_requested", request["id"])
        assert "brand-1" in incoming["message"]
        for action, kind in (("approve", "tpa_approved"), ("revoke", "tpa_revoked")):
            await world.decide_tpa(factory_id, request["id"], action)
            assert kinds(await notes(world, "partner", "brand-1"))[-1] == kind
        await world.request_tpa("partner", "brand-1", factory_id)
        await world.decide_tpa(factory_id, request["id"], "decline")
        assert kinds(await notes(world, "partner", "brand-1")) == [
            "tpa_approved",
            "tpa_revoked",
            "tpa_declined",
        ]
        assert kinds(await notes(world, "factory", factory_id)) == ["tpa_requested"] * 2
        # Another buyer hears nothing of brand-1's access.
        assert await notes(world, "participant", "brand-2") == []

    async def test_document_released_goes_to_buyers_with_the_cycle_unlocked(
        self, world: World
    ) -> None:
        factory_id, _ = await world.readable_factory("participant", "reader")
        await world.grant_tpa("participant", "locked-out", factory_id)
        await world.grant_tpa("partner", "shared-with", factory_id)
        ok(
            await world.reports("participant", "reader").post(
                "/shares", json={"factory_id": factory_id, "cycle": 1, "with_org": "shared-with"}
            ),
            201,
        )
        report = await world.draft(factory_id, kind="progress_report_2")
        await world.release(report["id"])
        for role, org in (("participant", "reader"), ("partner", "shared-with")):
            released = [
                n for n in await notes(world, role, org) if n["kind"] == "document_released"
            ]
            assert [(n["subject_id"], n["cycle"]) for n in released] == [(report["id"], 1)], org
        locked = await notes(world, "participant", "locked-out")
        assert "document_released" not in kinds(locked)

    async def test_report_shared_notice_names_no_buyer(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("partner", "sharer-org")
        await world.grant_tpa("participant", "recipient", factory_id)
        ok(
            await world.reports("partner", "sharer-org").post(
                "/shares", json={"factory_id": factory_id, "cycle": 1, "with_org": "recipient"}
            ),
            201,
        )
        [shared] = [n for n in await notes(world, "participant", "recipient")
                    if n["kind"] == "report_shared"]  # fmt: skip
        assert "sharer-org" not in shared["message"]

    async def test_zero_tolerance_alert_reaches_partners_with_tpa_only(self, world: World) -> None:
        factory_id = await world.factory(name="Sunrise Garments")
        await world.grant_tpa("partner", "partner-approved", factory_id)
        await world.grant_tpa("participant", "participant-approved", factory_id)
        await world.request_tpa("partner", "partner-pending", factory_id)
        revoked = await world.grant_tpa("partner", "partner-revoked", factory_id)
        await world.decide_tpa(factory_id, revoked["id"], "revoke")

        reply = await world.advisor.post(
            f"/factories/{factory_id}/zero-tolerance-alerts",
            json={"summary": "Locked emergency exits found during the visit."},
        )
        alert = ok(reply, 201)
        assert alert["notified_partners"] == 1
        [received] = [n for n in await notes(world, "partner", "partner-approved")
                      if n["kind"] == "zero_tolerance_alert"]  # fmt: skip
        assert received["subject_id"] == alert["id"]
        assert "Sunrise Garments" in received["message"]
        for role, org in (
            ("participant", "participant-approved"),
            ("partner", "partner-pending"),
            ("partner", "partner-revoked"),
        ):
            assert "zero_tolerance_alert" not in kinds(await notes(world, role, org)), org

    async def test_alert_rules(self, world: World) -> None:
        factory_id = await world.factory(country="BD")
        path = f"/factories/{factory_id}/zero-tolerance-alerts"
        body = {"summary": "x"}
        for role in ("partner", "participant", "factory"):
            assert (await world.reports(role, factory_id).post(path, json=body)).status_code == 403
        kh_advisor = world.reports("advisor", ADVISOR_ORG, countries=["KH"])
        assert (await kh_advisor.post(path, json=body)).status_code == 403
        missing = "/factories/no-such/zero-tolerance-alerts"
        assert (await world.advisor.post(missing, json=body)).status_code == 404
        assert (await world.advisor.post(path, json={"summary": ""})).status_code == 422

    async def test_pages_and_kind_filter(self, world: World) -> None:
        factory_id = await world.factory()
        for n in range(7):
            await world.request_tpa("partner", f"brand-{n}", factory_id)
        factory = world.reports("factory", factory_id)
        first = ok(await factory.get("/notifications", params={"limit": 4}))
        second = ok(await factory.get("/notifications", params={"cursor": first["next_cursor"]}))
        assert len(first["items"]) == 4
        assert len(second["items"]) == 3
        assert second["next_cursor"] is None
        assert {n["id"] for n in first["items"]}.isdisjoint({n["id"] for n in second["items"]})
        only = await notes(world, "factory", factory_id, kind="tpa_approved")
        assert only == []
        bad = await factory.get("/notifications", params={"kind": "gossip"})
        assert bad.status_code == 422
