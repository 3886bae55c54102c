"""The iCalendar feed: GET /factories/{id}/calendar.ics, the milestones the caller may see."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import icalendar

from tests.cycles.world import World, days_ago


def events(text: str) -> dict[str, date]:
    calendar = icalendar.Calendar.from_ical(text)
    found = {}
    for event in calendar.walk("VEVENT"):
        code = str(event["uid"]).split("-", 1)[1].split("@")[0]
        found[code] = event.decoded("dtstart")
    return found


async def test_advisor_feed_has_every_milestone(world: World) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, date(2025, 1, 15))
    reply = await world.advisor.get(f"/factories/{factory_id}/calendar.ics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/calendar")
    found = events(reply.text)
    assert found == {
        "initial_advisory": date(2025, 4, 14),
        "assessment": date(2025, 4, 25),
        "assessment_report_release": date(2025, 5, 25),
        "progress_report_1": date(2025, 6, 14),
        "post_assessment_advisory": date(2026, 1, 14),
        "progress_report_2": date(2025, 12, 14),
    }


async def test_factory_and_buyer_feeds_leave_out_the_assessment(world: World) -> None:
    factory_id = await world.factory()
    start = days_ago(95)
    cycle = await world.open_cycle(factory_id, start)
    await world.visit(cycle["id"], "assessment", start + timedelta(days=97))
    await world.approve_tpa(factory_id, buyer="brand-1", role="partner")
    for client in (world.cycles("factory", factory_id), world.cycles("partner", "brand-1")):
        reply = await client.get(f"/factories/{factory_id}/calendar.ics")
        found = events(ok_text(reply))
        assert "assessment" not in found
        assert "progress_report_1" in found
        assert "unannounced assessment in this cycle" in reply.text


async def test_feed_needs_access(world: World) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, days_ago(10))
    stranger = world.cycles("participant", "buyer-1")
    assert (await stranger.get(f"/factories/{factory_id}/calendar.ics")).status_code == 403
    other = world.cycles("factory", "someone-else")
    assert (await other.get(f"/factories/{factory_id}/calendar.ics")).status_code == 403


async def test_empty_feed_for_a_factory_without_cycles(world: World) -> None:
    factory_id = await world.factory()
    reply = await world.advisor.get(f"/factories/{factory_id}/calendar.ics")
    assert events(ok_text(reply)) == {}


def ok_text(reply: httpx.Response) -> str:
    assert reply.status_code == 200, reply.text
    return reply.text
