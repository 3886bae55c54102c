"""The event feed: what changed for the caller's organisation (or an advisor's
programmes), oldest first, kept 30 days."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.integrations import store
from services.integrations.schemas import AnyEvent, EventPage, event_types
from shared.app import problem_responses
from shared.auth import AnyRole
from shared.db import SessionDep
from shared.errors import BadRequest, NotFound, Unprocessable

router = APIRouter(tags=["events"])

EventId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^evt_[0-9A-Za-z]+$")]


def _types(raw: list[str] | None) -> list[str]:
    wanted = [t.strip() for value in raw or [] for t in value.split(",") if t.strip()]
    unknown = sorted(set(wanted) - set(event_types()))
    if unknown:
        raise Unprocessable(
            f"Unknown event type(s): {', '.join(unknown)}. The types are: "
            f"{', '.join(event_types())}.",
            errors=[{"loc": ["query", "types"], "field": "types", "msg": "unknown event type"}],
        )
    return wanted


@router.get(
    "/events",
    response_model=EventPage,
    responses=problem_responses(400, 422),
)
async def list_events(
    caller: AnyRole,
    session: SessionDep,
    after: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^evt_[0-9A-Za-z]+$",
            description="The id of the last event you have (`next_cursor`); none: the oldest "
            "kept (30 days).",
        ),
    ] = None,
    types: Annotated[
        list[str] | None,
        Query(description="Only these event types (repeat it, or separate with commas)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Events per page (1..500).")] = 50,
) -> Response:
    """Your organisation's events, oldest first (advisors: their programmes').

    Page with `after` = the `next_cursor` of the previous page; when a page is empty, poll
    again later with the same cursor. Every event has a stable `id` (de-duplicate on it)
    and its source's gap-free `sequence`. The body of a webhook is the same event.
    """
    wanted = _types(types)
    position = 0
    if after is not None:
        found = await store.position_of(session=session, event_id=after)
        if found is None:
            raise BadRequest(
                f"The cursor 'after' names no event that is kept ({after!r}): pass the id of an "
                "event from the feed, or leave it out to start from the oldest kept (30 days).",
                errors=[{"loc": ["query", "after"], "field": "after", "msg": "unknown event"}],
            )
        position = found
    rows = await store.feed_page(
        session=session, principal=caller, after=position, types=wanted, limit=limit
    )
    cursor = f'"{rows[-1][1]}"' if rows else "null"
    body = '{"items":[' + ",".join(row[2] for row in rows) + '],"next_cursor":' + cursor + "}"
    return Response(body, media_type="application/json")


@router.get("/events/{event_id}", response_model=AnyEvent, responses=problem_responses(404))
async def get_event(caller: AnyRole, session: SessionDep, event_id: EventId) -> Response:
    """One event of your feed (404 for any other)."""
    body = await store.event_by_id(session=session, principal=caller, event_id=event_id)
    if body is None:
        raise NotFound(f"There is no event {event_id!r} in your feed.")
    return Response(body, media_type="application/json")
