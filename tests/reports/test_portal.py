"""The public transparency portal: no token; name, country, date and public compliance of
the latest released assessment; never a buyer, never a non-public finding."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import ok
from tests.reports.world import FINDINGS, World

PUBLIC_ONLY = [
    {"cluster": "Child Labour", "question": "Child labourers present?", "compliant": True},
    {"cluster": "Occupational Safety and Health", "question": "Emergency exits unobstructed?",
     "compliant": False},
]  # fmt: skip


class TestPublicPortal:
    async def test_shows_the_latest_released_assessment_publicly(self, world: World) -> None:
        factory_id, report = await world.readable_factory("partner", "secret-brand-name")
        anonymous = world.api.client("reports")
        page = ok(await anonymous.get(f"/public/factories/{factory_id}"))
        assert page["factory_id"] == factory_id
        assert page["country"] == "BD"
        assert page["name"]
        assert page["cycle"] == 1
        assert page["latest_assessment_released_at"] == report["released_at"]
        assert page["issues"] == PUBLIC_ONLY
        assert (page["publicly_reported_issues"], page["non_compliant_issues"]) == (2, 1)
        text = json.dumps(page)
        for secret in ("secret-brand-name", "Overtime paid correctly?", "Confidential", "Exit B"):
            assert secret not in text, secret

        listing = ok(await anonymous.get("/public/factories"))
        [summary] = listing["items"]
        assert summary["factory_id"] == factory_id
        assert "issues" not in summary
        assert "secret-brand-name" not in json.dumps(listing)

    async def test_drafts_and_unassessed_factories_are_not_shown(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.draft(factory_id)
        anonymous = world.api.client("reports")
        assert (await anonymous.get(f"/public/factories/{factory_id}")).status_code == 404
        assert ok(await anonymous.get("/public/factories"))["items"] == []

    async def test_a_newer_assessment_replaces_the_page(self, world: World) -> None:
        factory_id = await world.factory()
        for cycle in (1, 2):
            await world.open_cycle(factory_id, cycle)
        all_compliant = [{**f, "compliant": True} for f in FINDINGS]
        await world.released_assessment(factory_id, 1)
        newer = await world.released_assessment(factory_id, 2, findings=all_compliant)
        anonymous = world.api.client("reports")
        page = ok(await anonymous.get(f"/public/factories/{factory_id}"))
        assert (page["cycle"], page["non_compliant_issues"]) == (2, 0)
        assert page["latest_assessment_released_at"] == newer["released_at"]

    async def test_an_older_cycle_released_late_does_not_replace_it(self, world: World) -> None:
        factory_id = await world.factory()
        for cycle in (1, 2):
            await world.open_cycle(factory_id, cycle)
        late = await world.draft(factory_id, 1)
        await world.released_assessment(factory_id, 2)
        await world.release(late["id"])
        page = ok(await world.api.client("reports").get(f"/public/factories/{factory_id}"))
        assert page["cycle"] == 2

    async def test_country_filter_and_pages(self, world: World) -> None:
        for country in ("BD", "BD", "KH"):
            factory_id = await world.factory(country=country)
            await world.open_cycle(factory_id)
            await world.released_assessment(factory_id)
        anonymous = world.api.client("reports")
        assert (
            len(ok(await anonymous.get("/public/factories", params={"country": "bd"}))["items"])
            == 2
        )
        first = ok(await anonymous.get("/public/factories", params={"limit": 2}))
        rest = ok(await anonymous.get("/public/factories", params={"cursor": first["next_cursor"]}))
        assert len(first["items"]) + len(rest["items"]) == 3
        assert (
            await anonymous.get("/public/factories", params={"country": "BDX"})
        ).status_code == 422


class TestProgressDocuments:
    async def test_factory_attaches_and_removes_documents(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.released_assessment(factory_id)
        factory = world.reports("factory", factory_id)
        body: dict[str, Any] = {
            "title": "New fire exits",
            "note": "Installed in March",
            "link": "https://example.org/photos/exits",
        }
        created = ok(
            await factory.post(f"/factories/{factory_id}/progress-documents", json=body), 201
        )
        page = ok(await world.api.client("reports").get(f"/public/factories/{factory_id}"))
        assert [
            (d["id"], d["title"], d["note"], d["link"]) for d in page["progress_documents"]
        ] == [
            (
                created["id"],
                "New fire exits",
                "Installed in March",
                "https://example.org/photos/exits",
            )
        ]
        assert (await factory.delete(f"/progress-documents/{created['id']}")).status_code == 204
        page = ok(await world.api.client("reports").get(f"/public/factories/{factory_id}"))
        assert page["progress_documents"] == []

    async def test_only_the_factory_itself(self, world: World) -> None:
        factory_id = await world.factory()
        other = world.reports("factory", await world.factory())
        body = {"title": "x", "link": "https://example.org"}
        path = f"/factories/{factory_id}/progress-documents"
        assert (await other.post(path, json=body)).status_code == 403
        for role in ("advisor", "partner"):
            assert (await world.reports(role, "x").post(path, json=body)).status_code == 403
        created = ok(await world.reports("factory", factory_id).post(path, json=body), 201)
        assert (await other.delete(f"/progress-documents/{created['id']}")).status_code == 404

    async def test_validation(self, world: World) -> None:
        factory_id = await world.factory()
        factory = world.reports("factory", factory_id)
        path = f"/factories/{factory_id}/progress-documents"
        for body in (
            {"title": "x"},
            {"title": "x", "link": "not a url"},
            {"title": "x", "link": "ftp://example.org/file"},
            {"title": "", "link": "https://example.org"},
        ):
            assert (await factory.post(path, json=body)).status_code == 422, body
