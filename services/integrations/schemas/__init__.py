"""Request and response shapes of the integrations service, and the typed event models
generated from the catalogue (`shared.events`): one model per event type with `type` as
the discriminator, so generated clients get a typed `data` for each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from shared.events import CATALOGUE

__all__ = ["EVENT_MODELS", "AnyEvent", "EventPage", "Subject", "event_types"]


class Subject(BaseModel):
    type: str = Field(description="What the event is about, e.g. invoice, unlock, cycle.")
    id: str


class _EventBase(BaseModel):
    id: str = Field(description="Stable: receivers de-duplicate on it (= webhook-id).")
    source: Literal["eligibility", "billing", "reports", "cycles", "integrations"]
    sequence: int = Field(
        description="For an organisation (buyer or factory token): the event's number in its "
        "own feed, 1, 2, 3, ... without gaps across every source, so a jump means an event was "
        "missed (never the source's number, whose gaps would count events it may not see). "
        "For advisors: the event's number in its source's stream (`source`), which has gaps "
        "wherever an event they may not see falls between and does not order events across "
        "sources: advisors must not use it to detect missed events. To be sure of having "
        "everything, page `GET /events` with `after` (the feed's order never skips an event "
        "that commits late) and de-duplicate on `id`; a webhook receiver does the same from "
        "its last cursor after an outage. 0 on a webhook test event, which is not in the feed."
    )
    occurred_at: datetime
    subject: Subject


def _model_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace("_", ".").split(".")) + "Event"


def _event_model(name: str) -> type[BaseModel]:
    kind = CATALOGUE[name]
    fields: dict[str, Any] = {"type": (Literal[name], ...), "data": (kind.data, ...)}
    model: type[BaseModel] = create_model(
        _model_name(name), __base__=_EventBase, __doc__=kind.summary, **fields
    )
    return model


EVENT_MODELS: dict[str, type[BaseModel]] = {name: _event_model(name) for name in CATALOGUE}

# The union is built from the catalogue at import time: a type to pydantic, not to mypy.
AnyEvent: Any = Annotated[
    Union[tuple(EVENT_MODELS.values())],  # noqa: UP007
    Field(discriminator="type"),
]


class EventPage(BaseModel):
    items: list[AnyEvent]
    next_cursor: str | None = Field(
        description="The id of the last event of the page: pass it as `after` to go on. "
        "The feed never ends; it is null only when the page is empty (keep your cursor)."
    )


def event_types() -> list[str]:
    return sorted(CATALOGUE)
