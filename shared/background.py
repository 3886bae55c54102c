"""Background work that repeats for as long as a process runs (the unlock recovery sweep,
event pulling, webhook delivery, milestone alerts). The durable state is always in the
database (leased rows, cursors): a loop only decides when to look again, so losing it with
the process loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

__all__ = ["start_repeating", "stop_repeating"]

log = logging.getLogger("betterwork.background")

Step = Callable[[], Awaitable[int | None]]


async def _repeat(step: Step, interval: float, name: str) -> None:
    while True:
        try:
            if not await step():  # nothing done: wait; work done: there may be more
                await asyncio.sleep(interval)
        except Exception:  # the rows are the state: the next round resumes
            log.exception("background %s failed", name)
            await asyncio.sleep(interval)


def start_repeating(app: FastAPI, name: str, step: Step, *, interval: float) -> None:
    """Run `step` again at once while it reports work done (a positive count), else after
    `interval` seconds; `interval` 0 starts nothing (tests call the step themselves). The
    task is `app.state.<name>`."""
    task = asyncio.create_task(_repeat(step, interval, name)) if interval > 0 else None
    setattr(app.state, name, task)


async def stop_repeating(app: FastAPI, name: str) -> None:
    task: asyncio.Task[None] | None = getattr(app.state, name, None)
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
