"""The unlock saga under faults, against the real billing service (issue 9, defect 1).

Between reports and billing sits `FaultyLink`, an httpx transport that can refuse a call
(billing down), answer 503, let billing commit and lose the reply, hold a request back and
deliver it after the caller gave up (a late arrival), or deliver it twice. Reports' own
database steps fail on demand too, and a "crash" stops an attempt between two steps with
no compensation at all (what kill -9 leaves; the real-process version is in
tests/e2e/test_unlock_faults.py).

For each fault at each step: the first unlock, then a normal retry with the same and with a
new Idempotency-Key, the recovery sweep, the late requests delivered, and then the rule:
**an unlock is active only if exactly one held charge stands behind it, and every held
charge has exactly one active unlock** — checked by the reconciliation audit, the balance
and the footprint.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from services.reports.clients import BillingClient
from services.reports.jobs import unlocking
from services.reports.models import Unlock
from services.reports.store import access as store_access
from shared import outbox
from tests.helpers import ok
from tests.reports.world import World

CHARGE, CANCEL = "/internal/charges", "/internal/charges/cancel"


class FaultyLink(httpx.AsyncBaseTransport):
    """Reports' line to the real billing app, with the faults planned per path (one per
    call, in order; the service client retries, so a fault for both tries is planned twice)."""

    def __init__(self, billing: httpx.AsyncBaseTransport) -> None:
        self.billing = billing
        self.plan: dict[str, list[str]] = {}
        self.calls: list[str] = []
        self.held_back: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(path)
        planned = self.plan.get(path, [])
        fault = planned.pop(0) if planned else None
        if fault == "down":
            raise httpx.ConnectError("billing is down", request=request)
        if fault == "503":
            return httpx.Response(503, json={"type": "about:blank", "status": 503, "detail": "x"})
        if fault == "late":
            self.held_back.append(request)
            raise httpx.ReadTimeout("no reply in time", request=request)
        reply = await self.billing.handle_async_request(request)
        await reply.aread()
        if fault == "lost":
            raise httpx.ReadTimeout("billing committed, the reply was lost", request=request)
        if fault == "twice":
            reply = await self.billing.handle_async_request(request)
            await reply.aread()
        return reply

    async def deliver_late(self) -> None:
        """The held-back requests finally reach billing (whatever it answers, nobody hears)."""
        for request in self.held_back:
            await (await self.billing.handle_async_request(request)).aread()
        self.held_back.clear()


@pytest.fixture
async def link(world: World) -> AsyncIterator[FaultyLink]:
    apps = world.api.apps
    reports = apps["reports"]
    faulty = FaultyLink(httpx.ASGITransport(app=apps["billing"]))
    original = reports.state.billing
    http = httpx.AsyncClient(transport=faulty)
    reports.state.billing = BillingClient(http, reports.state.settings)
    try:
        yield faulty
    finally:
        reports.state.billing = original
        await http.aclose()


class Crash(Exception):
    """The attempt stops here and runs no compensation: what kill -9 leaves behind."""


@dataclass(frozen=True)
class Fault:
    name: str
    charge: tuple[str, ...] = ()
    cancel: tuple[str, ...] = ()
    break_step: str | None = None  # a reports step that fails (or crashes) once
    first_status: int = 503
    notes: list[str] = field(default_factory=list)


# Steps by faults. `first_status`: what the first unlock answers.
MATRIX = [
    Fault("charge: billing down", charge=("down", "down")),
    Fault("charge: 503", charge=("503", "503")),
    Fault("charge: committed, reply lost", charge=("lost", "lost")),
    Fault("charge: reply lost once, retried", charge=("lost",), first_status=201),
    Fault("charge: late, retried", charge=("late",), first_status=201),
    Fault("charge: late twice, arrives after the give-up", charge=("late", "late")),
    Fault("charge: delivered twice", charge=("twice",), first_status=201),
    Fault("charge lost, cancel down", charge=("lost", "lost"), cancel=("down", "down")),
    Fault("charge lost, cancel lost", charge=("lost", "lost"), cancel=("lost", "lost")),
    Fault("charge lost, cancel late", charge=("lost", "lost"), cancel=("late", "late")),
    Fault("charge late, cancel late", charge=("late", "late"), cancel=("late", "late")),
    Fault("activation fails", break_step="activate", first_status=500),
    Fault("activation commits, then fails", break_step="activate_after", first_status=500),
    Fault("its event fails: no activation", break_step="event", first_status=500),
    Fault(
        "activation fails, cancel down",
        break_step="activate",
        cancel=("down", "down"),
        first_status=500,
    ),
    Fault("drop after cancel fails", charge=("lost", "lost"), break_step="forget"),
    Fault("crash after reserve", break_step="crash_pay", first_status=500),
    Fault("crash after charge", break_step="crash_activate", first_status=500),
]


def break_step(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """Make one reports step fail the next time it runs (then behave again)."""
    fired: list[bool] = []

    def once(real: Any, *, after: bool = False, exc: type[Exception] = RuntimeError) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if fired:
                return await real(*args, **kwargs)
            fired.append(True)
            if after:
                await real(*args, **kwargs)
            raise exc(f"{step} failed")

        return wrapper

    if step == "activate":
        monkeypatch.setattr(store_access, "activate_unlock", once(store_access.activate_unlock))
    elif step == "activate_after":
        # The activation, its event and its reply commit; the commit then fails only as far
        # as the caller can tell.
        real_activate = store_access.activate_unlock

        async def activate_then_fail(*args: Any, session: Any, **kwargs: Any) -> bool:
            activated = await real_activate(*args, session=session, **kwargs)
            if not fired:
                fired.append(True)
                await session.commit()
                raise RuntimeError("connection lost after the commit")
            return activated

        monkeypatch.setattr(store_access, "activate_unlock", activate_then_fail)
    elif step == "event":
        # The database refuses the event (an event row without an id): the activation it
        # belongs to is rolled back with it (on PostgreSQL they are one statement).
        real_row = outbox._row

        def row_without_id(event: outbox.Pending, **kwargs: Any) -> Any:
            row = real_row(event, **kwargs)
            if not fired and row.type == "unlock.created":  # not billing's events
                fired.append(True)
                row.id = None  # type: ignore[assignment]  # what the database must refuse
            return row

        monkeypatch.setattr(outbox, "_row", row_without_id)
    elif step == "forget":
        monkeypatch.setattr(store_access, "forget_unlock", once(store_access.forget_unlock))
    elif step == "crash_pay":
        monkeypatch.setattr(unlocking, "_pay", once(unlocking._pay, exc=Crash))
    elif step == "crash_activate":
        monkeypatch.setattr(unlocking, "_activate", once(unlocking._activate, exc=Crash))
    else:  # pragma: no cover - a typo in the matrix
        raise AssertionError(step)


async def ready(world: World, role: str, org: str) -> str:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, 1)
    await world.open_cycle(factory_id, 2)
    await world.grant_tpa(role, org, factory_id)
    if role == "participant":
        await world.buy_credits(org, 3)
    else:
        await world.become_partner(org, 1)
    return factory_id


async def recover(world: World) -> int:
    reports = world.api.apps["reports"]
    return await unlocking.recover(
        sessionmaker=reports.state.autocommit,
        billing=reports.state.billing,
        lease=timedelta(0),
    )


async def assert_one_event_per_unlock(world: World) -> None:
    """Each active unlock has exactly one `unlock.created` event, and no other unlock (a
    pending one, one given up and dropped) has any."""
    async with world.api.apps["reports"].state.engine.connect() as connection:
        active = (
            await connection.execute(
                sa.select(col(Unlock.id)).where(col(Unlock.status) == "active")
            )
        ).scalars()
        evented = (
            await connection.execute(
                sa.text("SELECT subject_id FROM outbox_event WHERE type = 'unlock.created'")
            )
        ).scalars()
        assert sorted(evented) == sorted(active)


async def audit(world: World) -> dict[str, Any]:
    reply = await world.reports("advisor", "bw").get("/audit/unlock-payments")
    return dict(ok(reply))


async def assert_consistent(
    world: World, role: str, org: str, active: int, *, bought: int = 3
) -> None:
    report = await audit(world)
    assert report["discrepancies"] == [], report
    assert report["in_flight"] == 0
    await assert_one_event_per_unlock(world)
    unlocks = ok(await world.reports(role, org).get("/unlocks"))["items"]
    assert len(unlocks) == active
    if role == "participant":
        assert await world.balance(org) == bought - active
    else:
        footprint = ok(await world.api.client("billing", role="partner", org=org).get("/footprint"))
        assert footprint["used"] == (1 if active else 0)


def unlock_body(factory_id: str, cycle: int = 1) -> dict[str, Any]:
    return {"factory_id": factory_id, "cycle": cycle}


@pytest.mark.parametrize("role", ["participant", "partner"])
@pytest.mark.parametrize("fault", MATRIX, ids=[f.name for f in MATRIX])
async def test_fault_then_retry_keeps_the_rule(
    world: World,
    link: FaultyLink,
    monkeypatch: pytest.MonkeyPatch,
    fault: Fault,
    role: str,
) -> None:
    org = f"{role}-org"
    factory_id = await ready(world, role, org)
    link.plan = {CHARGE: list(fault.charge), CANCEL: list(fault.cancel)}
    if fault.break_step:
        break_step(monkeypatch, fault.break_step)
    buyer = world.reports(role, org)
    same_key = {"Idempotency-Key": str(uuid.uuid4())}

    first = await buyer.post("/unlocks", json=unlock_body(factory_id), headers=same_key)
    assert first.status_code == fault.first_status, first.text
    assert first.headers["content-type"].startswith(
        "application/json" if first.status_code < 400 else "application/problem+json"
    )

    # The normal retries: the same key (replays a 2xx; a 5xx was not stored), a new key.
    again = await buyer.post("/unlocks", json=unlock_body(factory_id), headers=same_key)
    if again.status_code == 409:  # a crashed attempt still holds its lease: settle it
        assert await recover(world) == 1
        again = await buyer.post("/unlocks", json=unlock_body(factory_id), headers=same_key)
    assert again.status_code in (200, 201), again.text
    fresh = ok(
        await buyer.post(
            "/unlocks", json=unlock_body(factory_id), headers={"Idempotency-Key": "new"}
        )
    )
    assert fresh["id"] == again.json()["id"]
    assert fresh["charged_credits"] == (1 if role == "participant" else 0)

    await recover(world)
    await link.deliver_late()
    await assert_consistent(world, role, org, active=1)

    # The unlock stays paid once: a second cycle costs one more credit (or nothing more
    # for a partner: the same factory, already counted).
    second = await buyer.post(
        "/unlocks", json=unlock_body(factory_id, 2), headers={"Idempotency-Key": "second"}
    )
    assert second.status_code == 201, second.text
    report = await audit(world)
    assert report["discrepancies"] == []
    await assert_one_event_per_unlock(world)
    if role == "participant":
        assert await world.balance(org) == 1


async def test_issue_9_one_credit_never_buys_two_unlocks(world: World, link: FaultyLink) -> None:
    """The reproduction from issue 9: spend and refund committed with their replies lost,
    then a retry with a new Idempotency-Key and an unlock of another cycle."""
    org = "buyer-1"
    factory_id = await world.factory()
    await world.open_cycle(factory_id, 1)
    await world.open_cycle(factory_id, 2)
    await world.grant_tpa("participant", org, factory_id)
    await world.buy_credits(org, 1)
    link.plan = {CHARGE: ["lost", "lost"], CANCEL: ["lost", "lost"]}
    assert (await world.unlock("participant", org, factory_id, 1)).status_code == 503
    assert await world.balance(org) == 1  # the cancel got through; only its reply was lost
    ok(await world.unlock("participant", org, factory_id, 1), 201)
    assert await world.balance(org) == 0
    third = await world.unlock("participant", org, factory_id, 2)
    assert third.status_code == 402
    await assert_consistent(world, "participant", org, active=1, bought=1)


async def test_no_credit_refuses_and_blocks_a_late_duplicate(
    world: World, link: FaultyLink
) -> None:
    """A 402 cancels its reference too, so a duplicate of that charge arriving after credits
    were bought charges nothing."""
    org = "buyer-1"
    factory_id = await world.factory()
    await world.open_cycle(factory_id, 1)
    await world.grant_tpa("participant", org, factory_id)
    link.plan = {CHARGE: ["twice"]}
    reply = await world.unlock("participant", org, factory_id)
    assert reply.status_code == 402
    assert reply.json()["balance"] == 0
    assert ok(await world.reports("participant", org).get("/unlocks"))["items"] == []
    await assert_one_event_per_unlock(world)  # none: a refused unlock records nothing
    await world.buy_credits(org, 1)
    report = await audit(world)
    assert (report["discrepancies"], report["charges_checked"]) == ([], 0)


async def test_a_slow_attempt_overtaken_gives_its_payment_back(
    world: World, link: FaultyLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attempt 1 pays, then stalls past its lease; attempt 2 takes over (cancelling attempt
    1's charge) and pays; attempt 1 wakes up and cannot activate: one credit, one unlock."""
    org = "buyer-1"
    factory_id = await world.factory()
    await world.open_cycle(factory_id, 1)
    await world.grant_tpa("participant", org, factory_id)
    await world.buy_credits(org, 3)
    reports = world.api.apps["reports"]
    overtaken: list[int] = []
    real_activate = unlocking._activate

    async def stall_then_activate(attempt: Any, year: int | None) -> Any:
        if not overtaken:
            overtaken.append(attempt.number)
            async with reports.state.engine.begin() as connection:  # the lease runs out
                await connection.execute(
                    sa.update(Unlock).values(attempt_started_at=datetime(2020, 1, 1, tzinfo=UTC))
                )
            second = await world.unlock("participant", org, factory_id)
            assert second.status_code == 201, second.text
        return await real_activate(attempt, year)

    monkeypatch.setattr(unlocking, "_activate", stall_then_activate)
    first = await world.unlock("participant", org, factory_id)
    assert first.status_code == 409
    monkeypatch.undo()
    await assert_consistent(world, "participant", org, active=1)


async def test_the_audit_is_for_all_programme_advisors(world: World) -> None:
    reply = await world.reports("advisor", "bw", countries=["BD"]).get("/audit/unlock-payments")
    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/problem+json"
    for role in ("participant", "partner", "factory"):
        assert (await world.reports(role, "x").get("/audit/unlock-payments")).status_code == 403


async def test_the_audit_names_an_unpaid_unlock(world: World) -> None:
    org = "buyer-1"
    factory_id = await world.factory()
    await world.open_cycle(factory_id, 1)
    await world.grant_tpa("participant", org, factory_id)
    await world.buy_credits(org, 1)
    unlock = ok(await world.unlock("participant", org, factory_id), 201)
    billing = world.api.client("billing", role="service")
    body = {
        "org": org,
        "kind": "credit",
        "factory_id": factory_id,
        "references": [f"{unlock['id']}.1"],
    }
    ok(await billing.post("/internal/charges/cancel", json=body))
    report = await audit(world)
    assert report["consistent"] is False
    [found] = report["discrepancies"]
    assert (found["code"], found["unlock_id"], found["source"]) == (
        "unlock_without_payment",
        unlock["id"],
        "reports",
    )
