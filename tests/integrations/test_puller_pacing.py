"""The background puller's pacing (jobs/ingest.py `pull_due`): a source that had nothing
is pulled less often, up to IDLE_MAX_S, and at the poll interval again once it brings
events; so an idle stack costs little and an event still reaches the feed within a second."""

from __future__ import annotations

import asyncio

from services.integrations.jobs import ingest
from tests.billing.world import buy_credits
from tests.inprocess import Api

POLL_S = 0.2


async def test_an_idle_source_waits_longer_and_a_busy_one_is_pulled_again(api: Api) -> None:
    app = api.apps["integrations"]
    # As in production: the suite's settings turn the loop off (a poll interval of 0).
    # Put back by hand: pytest's monkeypatch cannot restore an attribute of Starlette's
    # State (its undo left the app without settings for the tests after this one).
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"events_poll_s": POLL_S})
    try:
        await _pace(api)
    finally:
        app.state.settings = settings


async def _pace(api: Api) -> None:
    app = api.apps["integrations"]
    backoffs: dict[str, ingest._Backoff] = {}

    async def pull_billing_now() -> float:
        for name, backoff in backoffs.items():  # only billing is due
            backoff.due = 0.0 if name == "billing" else float("inf")
        assert await ingest.pull_due(app, backoffs) == 0  # no full batch
        return backoffs["billing"].wait

    waits = [await pull_billing_now() for _ in range(4)]
    assert waits == [0.4, 0.6, 0.6, 0.6]  # doubled from the poll interval, then capped

    # A source not yet due is not asked at all.
    backoffs["billing"].due = float("inf")
    await buy_credits(api, "buyer-1", 1)
    assert await ingest.pull_due(app, backoffs) == 0
    assert backoffs["billing"].wait == ingest.IDLE_MAX_S

    # Once it brings events, it is due again at once, at the poll interval.
    assert await pull_billing_now() == POLL_S
    assert backoffs["billing"].due <= asyncio.get_running_loop().time()
    assert ingest.IDLE_MAX_S + POLL_S < 1.0  # the feed's one-second freshness target
