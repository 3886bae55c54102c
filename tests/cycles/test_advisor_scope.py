"""The advisor country scope in cycles: an advisor reads and acts on a factory's cycles,
visits, training, classification, calendar and seminar registrations only when the country is
in its token's `countries` claim (["*"]: every country; no claim, or an empty one: none).
Anything of another country is a 403 naming it, as the factory-keyed routes always answered.

Table-driven: every advisor token below against every cycles endpoint that reads or changes
a BD factory's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from tests.cycles.test_classification import EVIDENCE
from tests.cycles.world import World, days_ago, today
from tests.helpers import ADVISOR_ORG, key, ok

# name → the token's `countries` claim (None: the token carries no claim at all)
CLAIMS: dict[str, list[str] | None] = {
    "KH": ["KH"],
    "BD": ["BD"],
    "*": ["*"],
    "KH+bd": ["KH", "bd"],
    "none": [],
    "no claim": None,
}
COVERS_BD = {"BD", "*", "KH+bd"}


def advisor(world: World, claim: str) -> httpx.AsyncClient:
    countries = CLAIMS[claim]
    client = world.cycles("advisor", ADVISOR_ORG, countries=countries)
    if countries is None:  # the shared helper gives advisors ["*"] unless told otherwise
        token = mint_token(
            world.api.settings, sub="advisor-user@bw", org=ADVISOR_ORG, role="advisor"
        )
        client.headers["Authorization"] = f"Bearer {token}"
    return client


@dataclass(frozen=True)
class Scene:
    """A BD factory in its first cycle (opened 30 days ago) with a past and a planned
    advisory visit; a BD seminar next month where another BD factory is registered."""

    factory: str
    cycle: str
    next_start: date
    past_visit: str
    planned_visit: str
    seminar: str
    registration: str

    def fill(self, template: str) -> str:
        return template.format(
            bd=self.factory,
            cycle=self.cycle,
            past=self.past_visit,
            planned=self.planned_visit,
            seminar=self.seminar,
            registration=self.registration,
        )


async def scene(world: World) -> Scene:
    factory_id = await world.factory(country="BD")
    cycle = await world.open_cycle(factory_id, days_ago(30))
    past = await world.visit(cycle["id"], "advisory", days_ago(20))
    planned = await world.visit(cycle["id"], "advisory", today() + timedelta(days=10))
    seminar = ok(
        await world.advisor.post(
            "/seminars",
            json={
                "title": "Fire safety",
                "date": (today() + timedelta(days=30)).isoformat(),
                "country": "BD",
                "duration": "half_day",
                "capacity": 60,
            },
        ),
        201,
    )
    other = await world.factory(country="BD")
    registration = ok(
        await world.advisor.post(
            f"/seminars/{seminar['id']}/registrations",
            json={"factory_id": other, "participants": 2},
        ),
        201,
    )
    return Scene(
        factory=factory_id,
        cycle=cycle["id"],
        next_start=date.fromisoformat(cycle["end_date"]) + timedelta(days=1),
        past_visit=past["id"],
        planned_visit=planned["id"],
        seminar=seminar["id"],
        registration=registration["id"],
    )


# (method, path on the BD factory's data, body, status when the advisor covers BD)
SINGLE: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/factories/{bd}/cycles", None, 200),
    ("GET", "/factories/{bd}/calendar.ics", None, 200),
    ("GET", "/cycles/{cycle}", None, 200),
    ("GET", "/cycles/{cycle}/visits", None, 200),
    ("GET", "/cycles/{cycle}/training", None, 200),
    ("GET", "/factories/{bd}/classification", None, 404),  # not classified yet
    ("POST", "/factories/{bd}/cycles", {"start_date": "next"}, 201),
    ("POST", "/cycles/{cycle}/visits", {"type": "advisory", "date": "in 20 days"}, 201),
    ("POST", "/cycles/{cycle}/visits/{past}/complete", {}, 200),
    ("POST", "/cycles/{cycle}/visits/{planned}/cancel", None, 200),
    ("POST", "/cycles/{cycle}/training", {"course": "OSH", "participants": 2, "days": 1}, 201),
    ("POST", "/cycles/{cycle}/training/purchases", {"participant_days": 5}, 201),
    ("POST", "/factories/{bd}/classification", EVIDENCE, 409),  # no two assessments yet
    ("POST", "/seminars/{seminar}/registrations", {"factory_id": "{bd}", "participants": 3}, 201),
    # The action plan is written once the seminar has taken place (it is next month).
    (
        "POST",
        "/seminars/{seminar}/registrations/{registration}/action-plan",
        {"items": [{"title": "Unlock exit B"}]},
        409,
    ),
]


def _body(the: Scene, body: dict[str, Any] | None) -> dict[str, Any] | None:
    """The row's body with the scene's ids and dates in its string fields."""
    if body is None:
        return None
    dates = {"next": the.next_start, "in 20 days": today() + timedelta(days=20)}
    return {
        name: (
            (dates[value].isoformat() if value in dates else the.fill(value))
            if isinstance(value, str)
            else value
        )
        for name, value in body.items()
    }


@pytest.mark.parametrize("claim", list(CLAIMS))
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [pytest.param(*row, id=f"{row[0]} {row[1]}") for row in SINGLE],
)
async def test_a_bd_factory_s_data(
    world: World,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: int,
    claim: str,
) -> None:
    the = await scene(world)
    reply = await advisor(world, claim).request(
        method, the.fill(path), json=_body(the, body), headers=key()
    )
    if claim in COVERS_BD:
        assert reply.status_code == allowed, reply.text
        return
    assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert "BD" in reply.json()["detail"]


@pytest.mark.parametrize("claim", list(CLAIMS))
async def test_seminars_are_created_in_the_advisor_s_programmes(world: World, claim: str) -> None:
    body = {
        "title": "Wages",
        "date": (today() + timedelta(days=40)).isoformat(),
        "country": "BD",
        "duration": "full_day",
        "capacity": 30,
    }
    reply = await advisor(world, claim).post("/seminars", json=body)
    assert reply.status_code == (201 if claim in COVERS_BD else 403), reply.text
