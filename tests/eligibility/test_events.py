"""Eligibility's events on the integrations feed: each state change once, seen by exactly
the callers that may read the thing it is about (access.py), table-driven per role."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.eligibility.domain.partnership import COMMITMENTS
from services.eligibility.store import lists as store_lists
from tests.eligibility.test_applications import advisor, apply, record
from tests.eligibility.test_factory_lists import upload_csv
from tests.eligibility.world import create_factory, enrol
from tests.inprocess import Api
from tests.integrations.world import feed, take_in

# (role, org, countries): who asks the feed. `{factory}` is the factory the test made.
READERS: dict[str, tuple[str, str, list[str] | None]] = {
    "factory own": ("factory", "{factory}", None),
    "factory other": ("factory", "fac_other", None),
    "buyer owner": ("partner", "brand-1", None),
    "buyer other": ("participant", "buyer-2", None),
    "advisor BD": ("advisor", "bw", ["BD"]),
    "advisor KH": ("advisor", "bw", ["KH"]),
    "advisor *": ("advisor", "bw", ["*"]),
}

# Who sees each event type: the rest of READERS must not.
SEEN_BY: dict[str, set[str]] = {
    "factory.registered": {"factory own", "advisor BD", "advisor *"},
    "factory.enrolment_changed": {"factory own", "advisor BD", "advisor *"},
    # The list touches BD and KH (its CSV has rows of both).
    "factory_list.completed": {"buyer owner", "advisor BD", "advisor KH", "advisor *"},
    "partnership_application.decided": {"buyer owner", "advisor BD", "advisor KH", "advisor *"},
}


async def _types_seen(api: Api, who: str, factory_id: str) -> list[str]:
    role, org, countries = READERS[who]
    client = api.client(
        "integrations", role=role, org=org.format(factory=factory_id), countries=countries
    )
    return [e["type"] for e in (await feed(client, limit=500))["items"]]


async def _everything(api: Api) -> str:
    bw = advisor(api)
    factory = await create_factory(bw)
    await enrol(bw, factory["id"])
    await enrol(bw, factory["id"])  # again: no change, no event
    brand = api.client("eligibility", role="partner", org="brand-1")
    csv = "name,country,region,products,worker_count\nA Mill,BD,Gazipur,garments,900\nB,KH,,bags,\n"
    assert (await upload_csv(brand, csv)).status_code == 201
    application = (await apply(brand)).json()
    for body in ("ILO", "IFC"):
        assert (await record(bw, application["id"], body, "pending")).status_code == 200
        assert (await record(bw, application["id"], body, "cleared")).status_code == 200
    signed = await bw.post(f"/partnership-applications/{application['id']}/agreement", json={})
    assert signed.status_code == 200, signed.text
    await take_in(api)
    return str(factory["id"])


async def test_each_event_reaches_exactly_its_audience(api: Api) -> None:
    factory_id = await _everything(api)
    everything = await _types_seen(api, "advisor *", factory_id)
    assert everything == [
        "factory.registered",
        "factory.enrolment_changed",
        "factory_list.completed",
        "partnership_application.decided",  # approved
        "partnership_application.decided",  # agreement signed
    ]
    for who in READERS:
        seen = await _types_seen(api, who, factory_id)
        expected = [t for t in everything if who in SEEN_BY[t]]
        assert seen == expected, who


async def test_payloads(api: Api) -> None:
    factory_id = await _everything(api)
    client = api.client("integrations", role="advisor", org="bw")
    items: list[dict[str, Any]] = (await feed(client))["items"]
    by_type = {e["type"]: e for e in items}
    assert by_type["factory.enrolment_changed"]["data"] == {
        "factory_id": factory_id,
        "country": "BD",
        "enrolment_status": "enrolled",
    }
    assert by_type["factory.registered"]["subject"] == {"type": "factory", "id": factory_id}
    completed = by_type["factory_list.completed"]["data"]
    assert (completed["rows"], completed["status"]) == (2, "done")
    statuses = [e["data"]["status"] for e in items if e["type"].startswith("partnership")]
    assert statuses == ["approved", "agreement_signed"]


async def test_declining_a_commitment_is_decided_at_once(api: Api) -> None:
    commitments = {c.code: True for c in COMMITMENTS}
    commitments[next(iter(commitments))] = False
    brand = api.client("eligibility", role="participant", org="buyer-9")
    reply = await apply(brand, commitments=commitments)
    assert reply.json()["status"] == "rejected"
    await take_in(api)
    mine = (await feed(api.client("integrations", role="participant", org="buyer-9")))["items"]
    assert [(e["type"], e["data"]["status"]) for e in mine] == [
        ("partnership_application.decided", "rejected")
    ]


async def test_a_failed_list_is_an_event_for_its_owner_once(api: Api) -> None:
    apps = api.apps["eligibility"]
    async with apps.state.sessionmaker() as session:
        factory_list = await store_lists.create_list(
            session=session,
            owner_org="brand-3",
            created_by="u",
            name=None,
            status="queued",
            source_format="csv",
            row_count=3000,
            as_of=date(2025, 1, 1),
            countries=["VN"],
            warnings=[],
        )
        await session.commit()
    async with apps.state.sessionmaker() as session:
        await store_lists.mark_failed(session=session, list_id=factory_list.id, error="boom")
        await store_lists.mark_failed(session=session, list_id=factory_list.id, error="again")
        await session.commit()
    await take_in(api)
    mine = (await feed(api.client("integrations", role="partner", org="brand-3")))["items"]
    assert [e["data"]["status"] for e in mine] == ["failed"]


async def test_updated_since_lists_the_factories_changed_from_then(api: Api) -> None:
    bw = advisor(api)
    old = await create_factory(bw)
    new = await create_factory(bw, name="Silver Moon Knit", os_id=None)
    since = new["updated_at"]
    await enrol(bw, old["id"])
    reply = await bw.get("/factories", params={"updated_since": since})
    assert reply.status_code == 200, reply.text
    assert {f["id"] for f in reply.json()["items"]} == {old["id"], new["id"]}
    later = await bw.get("/factories", params={"updated_since": "2999-01-01T00:00:00Z"})
    assert later.json()["items"] == []
    own = api.client("eligibility", role="factory", org=new["id"])
    mine = await own.get("/factories", params={"updated_since": "2000-01-01T00:00:00+02:00"})
    assert [f["id"] for f in mine.json()["items"]] == [new["id"]]
    for bad in ("2025-01-01T00:00:00", "yesterday", "2025-13-01T00:00:00Z"):
        refused = await bw.get("/factories", params={"updated_since": bad})
        assert refused.status_code == 422, bad
