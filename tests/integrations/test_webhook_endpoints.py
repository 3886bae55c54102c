"""Webhook endpoints: CRUD and who may touch which (issue 10)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from services.integrations.api.webhook_endpoints import MAX_ENDPOINTS
from tests.inprocess import Api

URL = "http://127.0.0.1:9/hook"


def hooks(api: Api, role: str, org: str, **kw: Any) -> httpx.AsyncClient:
    return api.client("integrations", role=role, org=org, **kw)


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    reply = await client.post("/webhook-endpoints", json={"url": URL, **body})
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


ROLES = [
    ("partner", "buyer-1", {}),
    ("participant", "buyer-2", {}),
    ("factory", "fac-1", {}),
    ("advisor", "bw", {"countries": ["KH"]}),
]


class TestCrud:
    @pytest.mark.parametrize(("role", "org", "kw"), ROLES)
    async def test_create_read_update_delete(
        self, api: Api, role: str, org: str, kw: dict[str, Any]
    ) -> None:
        client = hooks(api, role, org, **kw)
        made = await create(client, event_types=["invoice.paid"], description="ERP")
        assert made["secret"].startswith("whsec_")
        assert made["enabled"] is True and made["event_types"] == ["invoice.paid"]
        endpoint = f"/webhook-endpoints/{made['id']}"
        read = (await client.get(endpoint)).json()
        assert "secret" not in read and read["description"] == "ERP"
        listed = (await client.get("/webhook-endpoints")).json()
        assert [e["id"] for e in listed["items"]] == [made["id"]]
        assert "secret" not in listed["items"][0]
        patched = await client.patch(endpoint, json={"enabled": False, "event_types": []})
        assert patched.status_code == 200, patched.text
        assert patched.json()["enabled"] is False and patched.json()["event_types"] == []
        moved = "http://127.0.0.1:9/hooks/v2"
        changed = await client.patch(endpoint, json={"url": moved, "description": "ERP v2"})
        assert changed.status_code == 200, changed.text
        read = (await client.get(endpoint)).json()
        assert (read["url"], read["description"]) == (moved, "ERP v2")
        assert read["enabled"] is False and read["event_types"] == []  # the rest unchanged
        assert (await client.delete(endpoint)).status_code == 204
        assert (await client.get(endpoint)).status_code == 404

    async def test_others_get_404_on_every_route(self, api: Api) -> None:
        owner = hooks(api, "participant", "buyer-1")
        made = await create(owner)
        path = f"/webhook-endpoints/{made['id']}"
        strangers = [
            hooks(api, "participant", "buyer-2"),
            hooks(api, "partner", "buyer-3"),
            hooks(api, "factory", "fac-1"),
            hooks(api, "advisor", "bw"),
            # An advisor of one country may not take over an all-countries endpoint.
        ]
        calls = [
            ("GET", path, None),
            ("PATCH", path, {"description": "mine"}),
            ("DELETE", path, None),
            ("POST", path + "/rotate-secret", None),
            ("POST", path + "/test", None),
            ("POST", path + "/redeliver", {"since": "2020-01-01T00:00:00Z"}),
            ("GET", path + "/attempts", None),
        ]
        for stranger in strangers:
            assert (await stranger.get("/webhook-endpoints")).json()["items"] == []
            for method, url, body in calls:
                reply = await stranger.request(method, url, json=body)
                assert reply.status_code == 404, (method, url, reply.text)
                assert reply.headers["content-type"] == "application/problem+json"
        assert (await owner.get(path)).json()["description"] == ""

    async def test_a_narrow_advisor_may_not_manage_a_wide_one(self, api: Api) -> None:
        wide = hooks(api, "advisor", "bw")  # every country
        made = await create(wide)
        narrow = hooks(api, "advisor", "bw", countries=["KH"])
        assert (await narrow.get(f"/webhook-endpoints/{made['id']}")).status_code == 404
        own = await create(narrow)
        assert (await wide.get(f"/webhook-endpoints/{own['id']}")).status_code == 200

    async def test_colleagues_share_the_organisations_endpoints(self, api: Api) -> None:
        made = await create(hooks(api, "participant", "buyer-1", sub="a@buyer-1"))
        other = hooks(api, "participant", "buyer-1", sub="b@buyer-1")
        assert (await other.get(f"/webhook-endpoints/{made['id']}")).status_code == 200

    async def test_endpoints_are_capped_per_organisation(self, api: Api) -> None:
        client = hooks(api, "partner", "buyer-1")
        for _ in range(MAX_ENDPOINTS):
            await create(client)
        refused = await client.post("/webhook-endpoints", json={"url": URL})
        assert refused.status_code == 422
        assert str(MAX_ENDPOINTS) in refused.json()["detail"]
        await create(hooks(api, "partner", "buyer-2"))  # another organisation is not counted

    @pytest.mark.postgres
    async def test_the_cap_holds_under_concurrent_registrations(self, api: Api) -> None:
        client = hooks(api, "partner", "buyer-1")
        for _ in range(MAX_ENDPOINTS - 3):
            await create(client)
        replies = await asyncio.gather(
            *(client.post("/webhook-endpoints", json={"url": URL}) for _ in range(8))
        )
        assert sorted(r.status_code for r in replies) == [201] * 3 + [422] * 5
        listed = (await client.get("/webhook-endpoints", params={"limit": 100})).json()
        assert len(listed["items"]) == MAX_ENDPOINTS

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"url": "ftp://127.0.0.1/x"}, "url"),
            ({"url": "http://user:pw@127.0.0.1/x"}, "url"),
            ({"url": "http://127.0.0.1/x#frag"}, "url"),
            ({"url": "http://example.com/x"}, "url"),  # plain http off this machine
            ({"url": URL, "event_types": ["no.such"]}, "event_types"),
            ({"url": URL, "description": "bad\x00"}, "description"),
            ({}, "url"),
        ],
    )
    async def test_bad_input_is_a_422(self, api: Api, body: dict[str, Any], field: str) -> None:
        reply = await hooks(api, "participant", "buyer-1").post("/webhook-endpoints", json=body)
        assert reply.status_code == 422, reply.text
        assert reply.headers["content-type"] == "application/problem+json"
        assert field in reply.text

    async def test_rotation_returns_a_new_secret_once(self, api: Api) -> None:
        client = hooks(api, "participant", "buyer-1")
        made = await create(client)
        rotated = (await client.post(f"/webhook-endpoints/{made['id']}/rotate-secret")).json()
        assert rotated["secret"] != made["secret"] and rotated["secret"].startswith("whsec_")
        assert rotated["previous_secret_expires_at"] is not None

    async def test_redeliver_needs_one_of_event_id_and_since(self, api: Api) -> None:
        client = hooks(api, "participant", "buyer-1")
        made = await create(client)
        path = f"/webhook-endpoints/{made['id']}/redeliver"
        assert (await client.post(path, json={})).status_code == 422
        both = {"event_id": "evt_1", "since": "2020-01-01T00:00:00Z"}
        assert (await client.post(path, json=both)).status_code == 422
        assert (await client.post(path, json={"event_id": "evt_NOPE"})).status_code == 404
