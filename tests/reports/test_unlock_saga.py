"""The unlock saga (reserve → pay in billing → activate; compensate on failure) with billing
failing at each step: a scripted billing behind httpx.MockTransport, and the real one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from services.reports import store_access
from services.reports.clients import BillingClient
from services.reports.models import Unlock
from tests.reports.conftest import World, ok

Reply = Callable[[dict[str, Any]], httpx.Response]


def problem(status: int, detail: str = "scripted failure", **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": "x", "status": status, "detail": detail, **extra}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


@dataclass
class ScriptedBilling:
    """Billing's internal API as the contract describes it, with failures on demand: each
    `fail[path]` entry is used once per call, in order (a status, "down", or "lost": the
    work is done but the reply never arrives)."""

    balance: int = 1
    spends: dict[str, int] = field(default_factory=dict)  # reference -> balance after
    refunded: set[str] = field(default_factory=set)
    claims: dict[str, str] = field(default_factory=dict)  # reference -> factory
    footprint: int = 5
    calls: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    fail: dict[str, list[int | str]] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [path.removeprefix("/internal/") for path, _, _ in self.calls]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path, body = request.url.path, json.loads(request.content)
        self.calls.append((path, request.headers.get("idempotency-key"), body))
        planned = self.fail.get(path, [])
        failure = planned.pop(0) if planned else None
        if failure == "down":
            raise httpx.ConnectError("billing is down", request=request)
        if isinstance(failure, int):
            return problem(failure)
        reply = self._serve(path, body)
        if failure == "lost":
            raise httpx.ReadTimeout("reply lost", request=request)
        return reply

    def _serve(self, path: str, body: dict[str, Any]) -> httpx.Response:
        reference = body["reference"]
        if path == "/internal/credits/spend":
            if reference not in self.spends:
                if self.balance == 0:
                    return problem(402, "No report credits left.", balance=0)
                self.balance -= 1
                self.spends[reference] = self.balance
            return self._entry(201, body, self.spends[reference])
        if path == "/internal/credits/refund":
            if reference not in self.spends:
                return problem(404, "No spend with that reference.")
            if reference not in self.refunded:
                self.refunded.add(reference)
                self.balance += 1
            return self._entry(201, body, self.balance)
        if path == "/internal/footprint/claims":
            factories = set(self.claims.values())
            new = body["factory_id"] not in factories
            if new and len(factories) >= self.footprint:
                return problem(
                    403, "Footprint full.", footprint=self.footprint, used=len(factories)
                )
            if new:
                self.claims[reference] = body["factory_id"]
            return httpx.Response(200, json={**body, "footprint": self.footprint,
                                             "used": len(set(self.claims.values())),
                                             "new_claim": new})  # fmt: skip
        if path == "/internal/footprint/claims/release":
            self.claims.pop(reference, None)
            return httpx.Response(200, json={**body, "footprint": self.footprint, "used": 0})
        return problem(404, "no such path")

    def _entry(self, status: int, body: dict[str, Any], balance: int) -> httpx.Response:
        return httpx.Response(
            status,
            json={"entry_id": f"ent-{len(self.calls)}", "org": body["org"], "balance": balance,
                  "reference": body["reference"]},
        )  # fmt: skip


@pytest.fixture
async def billing(world: World) -> AsyncIterator[ScriptedBilling]:
    scripted = ScriptedBilling()
    app = world.api.apps["reports"]
    original = app.state.billing
    http = httpx.AsyncClient(transport=httpx.MockTransport(scripted.handler))
    app.state.billing = BillingClient(http, app.state.settings)
    try:
        yield scripted
    finally:
        app.state.billing = original
        await http.aclose()


async def unlock_rows(world: World) -> list[Unlock]:
    async with world.api.apps["reports"].state.sessionmaker() as session:
        return list((await session.execute(select(Unlock))).scalars().all())


async def ready(world: World, role: str = "participant", org: str = "buyer-1") -> str:
    factory_id = await world.factory()
    await world.open_cycle(factory_id)
    await world.grant_tpa(role, org, factory_id)
    return factory_id


def break_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(store_access, "activate_unlock", fails)


class TestParticipantSaga:
    async def test_happy_path_spends_with_the_unlock_id_as_key(
        self, world: World, billing: ScriptedBilling
    ) -> None:
        factory_id = await ready(world)
        unlock = ok(await world.unlock("participant", "buyer-1", factory_id), 201)
        [(path, key, body)] = billing.calls
        assert path == "/internal/credits/spend"
        assert key == body["reference"] == unlock["id"]
        assert body["org"] == "buyer-1"
        assert billing.balance == 0

    async def test_no_credit_leaves_nothing_behind(
        self, world: World, billing: ScriptedBilling
    ) -> None:
        billing.balance = 0
        factory_id = await ready(world)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 402
        assert reply.json()["balance"] == 0
        assert billing.paths() == ["credits/spend"]
        assert await unlock_rows(world) == []

    @pytest.mark.parametrize("failure", [503, "down"])
    async def test_spend_fails_refund_checks_nothing_was_spent(
        self, world: World, billing: ScriptedBilling, failure: int | str
    ) -> None:
        billing.fail["/internal/credits/spend"] = [failure, failure]  # both attempts
        factory_id = await ready(world)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 503
        assert billing.paths() == ["credits/spend", "credits/spend", "credits/refund"]
        assert billing.balance == 1
        assert await unlock_rows(world) == []

    async def test_spend_done_but_reply_lost_is_refunded(
        self, world: World, billing: ScriptedBilling
    ) -> None:
        billing.fail["/internal/credits/spend"] = ["lost", "lost"]
        factory_id = await ready(world)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 503
        # The retry of the spend replayed (same key: one spend); the refund gave it back.
        assert billing.paths() == ["credits/spend", "credits/spend", "credits/refund"]
        assert len(billing.spends) == 1
        assert billing.balance == 1
        assert await unlock_rows(world) == []

    async def test_failure_after_the_spend_refunds_it(
        self, world: World, billing: ScriptedBilling, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        factory_id = await ready(world)
        break_activation(monkeypatch)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 500
        (_, spend_key, _), (path, refund_key, body) = billing.calls
        assert path == "/internal/credits/refund"
        assert body["reference"] == spend_key
        assert refund_key == f"refund-{spend_key}"
        assert billing.balance == 1
        assert await unlock_rows(world) == []

    async def test_refund_failing_too_keeps_the_id_for_the_retry(
        self, world: World, billing: ScriptedBilling, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        factory_id = await ready(world)
        break_activation(monkeypatch)
        billing.fail["/internal/credits/refund"] = [503, 503]
        assert (await world.unlock("participant", "buyer-1", factory_id)).status_code == 500
        [pending] = await unlock_rows(world)
        assert pending.status == "pending"
        assert billing.balance == 0  # spent, and the refund did not get through

        monkeypatch.undo()  # the database is back
        retry = await world.unlock("participant", "buyer-1", factory_id)
        unlock = ok(retry, 201)
        assert unlock["id"] == pending.id
        assert unlock["charged_credits"] == 1
        spend_keys = [key for path, key, _ in billing.calls if path.endswith("/spend")]
        assert spend_keys == [pending.id, pending.id]  # the retry replayed the first spend
        assert len(billing.spends) == 1
        assert billing.balance == 0

    async def test_an_abandoned_pending_unlock_is_picked_up(
        self, world: World, billing: ScriptedBilling, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A crash between the spend and the activation (nothing compensated): the next
        attempt, even with a new Idempotency-Key, finds the same id and pays once."""
        factory_id = await ready(world)

        async def crash(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("crashed")

        monkeypatch.setattr(store_access, "activate_unlock", crash)
        monkeypatch.setattr("services.reports.unlocking._compensate", crash)
        assert (await world.unlock("participant", "buyer-1", factory_id)).status_code == 500
        monkeypatch.undo()
        # While the crashed attempt's lease runs, another attempt waits (409) and pays nothing.
        busy = await world.unlock("participant", "buyer-1", factory_id)
        assert busy.status_code == 409
        assert busy.headers["retry-after"] == "1"
        assert billing.paths() == ["credits/spend"]
        monkeypatch.setattr("services.reports.unlocking.ATTEMPT_LEASE", timedelta(0))
        unlock = ok(await world.unlock("participant", "buyer-1", factory_id), 201)
        assert [r.id for r in await unlock_rows(world)] == [unlock["id"]]
        assert billing.balance == 0
        assert len(billing.spends) == 1

    async def test_billing_busy_with_the_same_spend_is_409_and_nothing_is_undone(
        self, world: World, billing: ScriptedBilling
    ) -> None:
        billing.fail["/internal/credits/spend"] = [409]
        factory_id = await ready(world)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 409
        assert billing.paths() == ["credits/spend"]  # no refund of someone else's payment


class TestPartnerSaga:
    async def test_claim_uses_the_unlock_id_and_the_year(
        self, world: World, billing: ScriptedBilling
    ) -> None:
        factory_id = await ready(world, "partner", "brand-1")
        unlock = ok(await world.unlock("partner", "brand-1", factory_id), 201)
        [(path, _, body)] = billing.calls
        assert path == "/internal/footprint/claims"
        assert body == {
            "org": "brand-1",
            "year": unlock["footprint_year"],
            "factory_id": factory_id,
            "reference": unlock["id"],
        }

    async def test_full_footprint_leaves_nothing_behind(
        self, world: World, billing: ScriptedBilling
    ) -> None:
        billing.footprint = 0
        factory_id = await ready(world, "partner", "brand-1")
        reply = await world.unlock("partner", "brand-1", factory_id)
        assert reply.status_code == 403
        assert (reply.json()["footprint"], reply.json()["used"]) == (0, 0)
        assert "0 of 0" in reply.json()["detail"]
        assert await unlock_rows(world) == []

    async def test_failure_after_a_new_claim_releases_it(
        self, world: World, billing: ScriptedBilling, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        factory_id = await ready(world, "partner", "brand-1")
        break_activation(monkeypatch)
        assert (await world.unlock("partner", "brand-1", factory_id)).status_code == 500
        assert billing.paths() == ["footprint/claims", "footprint/claims/release"]
        assert billing.claims == {}
        assert await unlock_rows(world) == []

    async def test_failure_after_a_free_claim_releases_nothing(
        self, world: World, billing: ScriptedBilling, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        factory_id = await ready(world, "partner", "brand-1")
        await world.open_cycle(factory_id, 2)
        ok(await world.unlock("partner", "brand-1", factory_id, 1), 201)
        break_activation(monkeypatch)
        assert (await world.unlock("partner", "brand-1", factory_id, 2)).status_code == 500
        assert billing.paths() == ["footprint/claims", "footprint/claims"]
        assert len(billing.claims) == 1

    async def test_claim_failing_is_undone(self, world: World, billing: ScriptedBilling) -> None:
        billing.fail["/internal/footprint/claims"] = ["lost"]
        factory_id = await ready(world, "partner", "brand-1")
        assert (await world.unlock("partner", "brand-1", factory_id)).status_code == 503
        assert billing.paths() == ["footprint/claims", "footprint/claims/release"]
        assert billing.claims == {}
        assert await unlock_rows(world) == []


class TestWithRealBilling:
    async def test_failure_after_the_spend_gives_the_credit_back(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        factory_id = await ready(world)
        await world.buy_credits("buyer-1", 1)
        break_activation(monkeypatch)
        assert (await world.unlock("participant", "buyer-1", factory_id)).status_code == 500
        assert await world.balance("buyer-1") == 1
        credits = ok(await world.api.client("billing", role="participant", org="buyer-1").get(
            "/credits"
        ))  # fmt: skip
        assert sorted(e["kind"] for e in credits["entries"]) == ["purchase", "refund", "spend"]
        monkeypatch.undo()
        ok(await world.unlock("participant", "buyer-1", factory_id), 201)
        assert await world.balance("buyer-1") == 0

    async def test_refund_failing_then_retry_spends_once(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        factory_id = await ready(world)
        await world.buy_credits("buyer-1", 2)
        break_activation(monkeypatch)
        real = world.api.apps["reports"].state.billing

        async def refund_fails(**kwargs: Any) -> None:
            raise httpx.ConnectError("billing unreachable")

        monkeypatch.setattr(real, "refund_credit", refund_fails)
        assert (await world.unlock("participant", "buyer-1", factory_id)).status_code == 500
        assert await world.balance("buyer-1") == 1
        monkeypatch.undo()
        ok(await world.unlock("participant", "buyer-1", factory_id), 201)
        assert await world.balance("buyer-1") == 1  # the retry replayed the first spend
