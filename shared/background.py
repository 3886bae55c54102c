"""Background work that repeats for as long as a process runs (the unlock recovery sweep,
event pulling, webhook delivery, milestone alerts). The durable state is always in the
database (leased rows, cursors): a loop only decides when to look again, so losing it with
the process loses nothing. At shutdown a loop finishes the round it is in (within the
shutdown grace period) rather than being cut off mid-round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from shared.metrics import BACKGROUND_FAILURES, BACKGROUND_RUNNING, BACKGROUND_RUNS

__all__ = ["start_repeating", "stop_repeating"]

log = logging.getLogger("betterwork.background")

Step = Callable[[], Awaitable[int | None]]


class _Loop:
    """One repeating job: its task and the flag that asks it to stop between rounds."""

    def __init__(self, step: Step, interval: float, name: str) -> None:
        self.step = step
        self.interval = interval
        self.name = name
        self.stopping = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _pause(self) -> None:
        # A stop request ends the wait at once; a round in progress is never cut short by it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), self.interval)

    async def _run(self) -> None:
        runs, failures = BACKGROUND_RUNS.labels(self.name), BACKGROUND_FAILURES.labels(self.name)
        running = BACKGROUND_RUNNING.labels(self.name)
        while not self.stopping.is_set():
            runs.inc()
            running.set(1)
            try:
                done = await self.step()
            except Exception:  # the rows are the state: the next round resumes
                failures.inc()
                log.exception("background %s failed", self.name)
                done = None
            finally:
                running.set(0)
            if not done:  # nothing done: wait; work done: there may be more
                await self._pause()

    async def stop(self, grace: float) -> None:
        """Let the round in progress finish (up to `grace` seconds), then end the loop; a
        round still running after that is cancelled (its rows' leases run out and another
        process takes them over)."""
        self.stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), grace)
        except TimeoutError:
            log.warning("background %s still running after %.0f s; cancelled", self.name, grace)
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def start_repeating(app: FastAPI, name: str, step: Step, *, interval: float) -> None:
    """Run `step` again at once while it reports work done (a positive count), else after
    `interval` seconds; `interval` 0 starts nothing (tests call the step themselves). The
    loop is `app.state.<name>`."""
    setattr(app.state, name, _Loop(step, interval, name) if interval > 0 else None)


async def stop_repeating(app: FastAPI, name: str) -> None:
    """At shutdown: the round in progress finishes within the shutdown grace period."""
    loop: _Loop | None = getattr(app.state, name, None)
    if loop is None:
        return
    settings = getattr(app.state, "settings", None)
    await loop.stop(settings.shutdown_grace_s if settings is not None else 20.0)
