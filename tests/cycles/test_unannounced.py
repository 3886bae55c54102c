"""Unannounced means unannounced: nothing a factory or a buyer can call reveals the planned
assessment date before the assessment has been held.

Two checks over every endpoint they can call, through the gateway: (1) the raw reply
(body and headers) never contains the date in any usual spelling; (2) the replies are
the same whether or not an assessment (and another buyer's shadow assessment) has been
scheduled, so nothing derived from it leaks either — not a count, an order, an ETag.
Finally, once the assessment is recorded, the date does appear: the search can see it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from tests.cycles.world import World, days_ago, milestones, today
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import Receiver, deliver_all, take_in

BUYERS = {"brand-1": "partner", "buyer-1": "participant"}


def spellings(day: date) -> set[str]:
    """The date as ISO, iCalendar, European and US numeric forms, and in words."""
    d, m, y = day.day, day.month, day.year
    long_month, short_month = day.strftime("%B"), day.strftime("%b")
    return {
        day.isoformat(),
        day.strftime("%Y%m%d"),
        day.strftime("%Y/%m/%d"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%m/%d/%Y"),
        day.strftime("%d.%m.%Y"),
        day.strftime("%d-%m-%Y"),
        day.strftime("%m-%d-%Y"),
        f"{d}/{m}/{y}",
        f"{m}/{d}/{y}",
        f"{d}.{m}.{y}",
        f"{d} {long_month} {y}",
        f"{d} {short_month} {y}",
        f"{long_month} {d}",
        f"{short_month} {d}",
        f"{d} {long_month}",
        f"{d} {short_month}",
        f"{long_month} {d:02d}",
        day.strftime("%d/%m"),
        day.strftime("%m/%d"),
    }


def raw(reply: httpx.Response) -> str:
    headers = "\n".join(
        f"{k}: {v}" for k, v in reply.headers.items() if k not in ("date", "x-request-id")
    )
    return f"{reply.status_code}\n{headers}\n{reply.text}"


def assert_hidden(day: date, replies: dict[str, httpx.Response]) -> None:
    for name, reply in replies.items():
        text = raw(reply).lower()
        for spelling in spellings(day):
            assert spelling.lower() not in text, f"{name} reveals {day} as {spelling!r}:\n{text}"


def comparable(reply: httpx.Response) -> tuple[int, str | None, str]:
    # DTSTAMP is when the feed was made, request_id names the request: the rest must match.
    body = re.sub(r"DTSTAMP:\d{8}T\d{6}Z", "DTSTAMP", reply.text)
    body = re.sub(r'"request_id":"[^"]*"', '"request_id"', body)
    return reply.status_code, reply.headers.get("etag"), body


class Setting:
    """A factory in the assessment window of its first cycle, with two buyers that hold
    an approved TPA and an unlocked cycle, and the factory's seminar."""

    def __init__(self, world: World, gateway_api: Api) -> None:
        self.world = world
        self.gateway_api = gateway_api

    async def build(self) -> None:
        world = self.world
        self.factory_id = await world.factory()
        self.start = days_ago(95)
        self.cycle = await world.open_cycle(self.factory_id, self.start)
        self.cycle_id = self.cycle["id"]
        # The planned date: inside the window, distinct from every date they may see.
        self.planned = self.start + timedelta(days=97)
        await world.visit(self.cycle_id, "advisory", self.start + timedelta(days=10), complete=True)
        await world.visit(self.cycle_id, "advisory", self.start + timedelta(days=40), complete=True)
        await world.visit(self.cycle_id, "advisory", self.start + timedelta(days=130))
        for org, role in BUYERS.items():
            await world.approve_tpa(self.factory_id, buyer=org, role=role)
            await world.unlock(self.factory_id, 1, buyer=org, role=role)
        await world.approve_tpa(self.factory_id, buyer="brand-2", role="partner")
        await world.unlock(self.factory_id, 1, buyer="brand-2", role="partner")
        seminar = ok(
            await world.advisor.post(
                "/seminars",
                json={
                    "title": "Social dialogue",
                    "date": (today() + timedelta(days=20)).isoformat(),
                    "country": "BD",
                    "duration": "half_day",
                    "capacity": 60,
                },
            ),
            201,
        )
        self.seminar_id = seminar["id"]
        held_today = ok(
            await world.advisor.post(
                "/seminars",
                json={
                    "title": "Grievance handling",
                    "date": today().isoformat(),
                    "country": "BD",
                    "duration": "full_day",
                    "capacity": 40,
                },
            ),
            201,
        )
        self.seminar_today_id = held_today["id"]

    def client(self, role: str, org: str) -> httpx.AsyncClient:
        return self.gateway_api.client("gateway", role=role, org=org)

    def readers(self) -> dict[str, tuple[str, str]]:
        return {"factory": ("factory", self.factory_id)} | {
            f"{role} {org}": (role, org) for org, role in BUYERS.items()
        }

    async def read_everything(self) -> dict[str, httpx.Response]:
        """Every cycles endpoint a factory or a buyer may GET, plus what reports tells them
        and their event feed (with every event recorded so far taken in)."""
        await take_in(self.gateway_api)
        f, c = self.factory_id, self.cycle_id
        paths = [
            f"/v1/cycles/factories/{f}/cycles",
            f"/v1/cycles/cycles/{c}",
            f"/v1/cycles/cycles/{c}/visits",
            f"/v1/cycles/factories/{f}/calendar.ics",
            "/v1/cycles/seminars",
            f"/v1/cycles/seminars/{self.seminar_id}",
            "/v1/reports/notifications",
            f"/v1/reports/factories/{f}/cycles",
            "/v1/integrations/events?limit=500",
        ]
        factory_only = [
            f"/v1/cycles/cycles/{c}/training",
            f"/v1/cycles/factories/{f}/classification",
        ]
        # The brand portfolio (issue 11): its rows, CSV and summary, and the dashboard page.
        buyer_only = [
            "/v1/integrations/portfolio/factories",
            "/v1/integrations/portfolio/factories/export.csv",
            "/v1/integrations/portfolio/summary",
            "/v1/integrations/dashboard",
        ]
        replies = {}
        for name, (role, org) in self.readers().items():
            client = self.client(role, org)
            only = factory_only if role == "factory" else buyer_only
            for path in paths + only:
                replies[f"{name} GET {path}"] = await client.get(path)
        return replies


async def test_nothing_reveals_the_planned_assessment(
    world: World, gateway_api: Api, receiver: Receiver
) -> None:
    setting = Setting(world, gateway_api)
    await setting.build()
    for role, org in setting.readers().values():  # their webhooks carry the events too
        registered = await setting.client(role, org).post(
            "/v1/integrations/webhook-endpoints", json={"url": receiver.url}
        )
        assert registered.status_code == 201, registered.text
    before = await setting.read_everything()
    for name, reply in before.items():
        assert reply.status_code in (200, 404), f"{name}: {reply.status_code} {reply.text}"

    # Better Work plans the assessment, and another buyer arranges to shadow it.
    assessment = await world.visit(setting.cycle_id, "assessment", setting.planned)
    shadow = world.cycles("partner", "brand-2")
    ok(
        await shadow.post(
            f"/cycles/{setting.cycle_id}/visits",
            json={"type": "shadow_assessment", "date": setting.planned.isoformat()},
        ),
        201,
    )
    after = await setting.read_everything()
    assert_hidden(setting.planned, after)
    for name in before:
        assert comparable(after[name]) == comparable(before[name]), f"{name} changed"

    portfolio = ok(after["participant buyer-1 GET /v1/integrations/portfolio/factories"])
    [row] = portfolio["items"]  # the portfolio was read, with the cycle in it
    assert (row["factory_id"], row["current_cycle"]) == (setting.factory_id, 1)
    cycle = ok(after[f"factory GET /v1/cycles/cycles/{setting.cycle_id}"])
    shown = milestones(cycle)["assessment"]
    assert (shown["due"], shown["window_start"], shown["window_end"], shown["date"]) == (
        None,
        None,
        None,
        None,
    )
    assert shown["notice"] == cycle["notice"] == "unannounced assessment in this cycle"

    # What they can write does not reveal it either.
    f, c = setting.factory_id, setting.cycle_id
    factory = setting.client("factory", f)
    writes = {
        "book training": await factory.post(
            f"/v1/cycles/cycles/{c}/training",
            json={"course": "OSH basics", "participants": 5, "days": 1},
        ),
        "buy training days": await factory.post(
            f"/v1/cycles/cycles/{c}/training/purchases",
            json={"participant_days": 5},
            headers={"Idempotency-Key": "k-1"},
        ),
        "register for a seminar": await factory.post(
            f"/v1/cycles/seminars/{setting.seminar_id}/registrations",
            json={"factory_id": f, "participants": 3},
        ),
    }
    today_seminar = f"/v1/cycles/seminars/{setting.seminar_today_id}/registrations"
    registration = await factory.post(today_seminar, json={"factory_id": f, "participants": 2})
    writes["register for today's seminar"] = registration
    writes["record the seminar's action plan"] = await factory.post(
        f"{today_seminar}/{registration.json()['id']}/action-plan",
        json={"items": [{"title": "Set up a grievance box", "owner": "HR"}]},
    )
    other_day = today() + timedelta(days=10)
    for org, role in BUYERS.items():
        buyer = setting.client(role, org)
        request = await buyer.post(
            f"/v1/cycles/cycles/{c}/visits",
            json={"type": "shadow_advisory", "date": other_day.isoformat()},
        )
        writes[f"{org} asks to shadow an advisory visit"] = request
        writes[f"{org} withdraws it"] = await buyer.post(
            f"/v1/cycles/cycles/{c}/visits/{request.json()['id']}/cancel"
        )
    joint = await setting.client("partner", "brand-1").post(
        f"/v1/cycles/cycles/{c}/visits",
        json={"type": "joint_advisory", "date": other_day.isoformat(), "note": "Roles agreed"},
    )
    writes["brand-1 asks for a joint advisory visit"] = joint
    for name, reply in writes.items():
        assert reply.status_code in (200, 201), f"{name}: {reply.text}"
    assert_hidden(setting.planned, writes)
    await take_in(gateway_api)
    feeds = {
        f"{name} feed": await setting.client(role, org).get("/v1/integrations/events?limit=500")
        for name, (role, org) in setting.readers().items()
    }
    for name, reply in feeds.items():
        assert reply.status_code == 200 and reply.json()["items"], name
    assert "cycles" in {e["source"] for e in feeds["factory feed"].json()["items"]}
    assert_hidden(setting.planned, feeds)
    await deliver_all(gateway_api.apps["integrations"])
    delivered = {
        f"webhook {n}": httpx.Response(200, headers=headers, content=body)
        for n, (headers, body) in enumerate(receiver.received)
    }
    assert len(delivered) >= len(setting.readers())
    assert_hidden(setting.planned, delivered)

    # Asking to shadow the assessment on the planned day or on another day: same answer.
    buyer = setting.client("participant", "buyer-1")
    answers = []
    for day in (setting.planned, setting.planned + timedelta(days=1)):
        reply = await buyer.post(
            f"/v1/cycles/cycles/{c}/visits",
            json={"type": "shadow_assessment", "date": day.isoformat()},
        )
        answers.append(reply.status_code)
        if reply.status_code == 201:
            ok(await buyer.post(f"/v1/cycles/cycles/{c}/visits/{reply.json()['id']}/cancel"))
    assert answers == [201, 201]

    # Once the assessment has been held, its date is shown: the search above would see it.
    ok(
        await world.advisor.post(
            f"/cycles/{c}/visits/{assessment['id']}/complete",
            json={"date": (today() - timedelta(days=1)).isoformat()},
        )
    )
    held = await factory.get(f"/v1/cycles/cycles/{c}")
    assert (today() - timedelta(days=1)).isoformat() in held.text
    m = milestones(ok(held))
    assert m["assessment"]["status"] == "done"
    assert ok(held)["notice"] is None
    visits = ok(await factory.get(f"/v1/cycles/cycles/{c}/visits"))["items"]
    assert "assessment" in {v["type"] for v in visits}
    assert "shadow_assessment" in {v["type"] for v in visits}
    # Other buyers' requests stay private to buyers.
    partner_view = ok(
        await setting.client("partner", "brand-1").get(f"/v1/cycles/cycles/{c}/visits")
    )
    assert all(v["buyer_org"] in (None, "brand-1") for v in partner_view["items"])


async def test_advisors_see_the_plan(world: World) -> None:
    factory_id = await world.factory()
    start = days_ago(95)
    cycle = await world.open_cycle(factory_id, start)
    planned = start + timedelta(days=97)
    await world.visit(cycle["id"], "assessment", planned)
    seen = ok(await world.advisor.get(f"/cycles/{cycle['id']}"))
    m = milestones(seen)["assessment"]
    assert m["date"] == planned.isoformat()
    assert m["due"] == (start + timedelta(days=100)).isoformat()
    assert seen["notice"] is None
    feed = await world.advisor.get(f"/factories/{factory_id}/calendar.ics")
    assert (start + timedelta(days=100)).strftime("%Y%m%d") in feed.text
