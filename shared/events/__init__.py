"""The event catalogue: every event type any service records, with the typed payload its
`data` carries. One module per source service (`shared/events/<service>.py`) so each owns
its types; integrations publishes them all in its OpenAPI (the top-level `webhooks`
section and the feed's discriminated union), so generated clients get typed events.

A payload is a pydantic model declared with `@event("invoice.paid", "billing", "…")`;
`shared.outbox.record(session, payload, …)` takes the model, so no service can record an
event the catalogue does not describe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = ["CATALOGUE", "EventData", "EventType", "event"]


class EventData(BaseModel):
    """Base of every payload: its event type is a class attribute, not a field."""

    model_config = ConfigDict(extra="forbid")
    event_type: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    source: str
    summary: str
    data: type[EventData]


CATALOGUE: dict[str, EventType] = {}
DataT = TypeVar("DataT", bound=type[EventData])


def event(name: str, source: str, summary: str) -> Callable[[DataT], DataT]:
    def register(model: DataT) -> DataT:
        if name in CATALOGUE:
            raise RuntimeError(f"event type {name!r} is declared twice")
        model.event_type = name
        CATALOGUE[name] = EventType(name, source, summary, model)
        return model

    return register


def _load_all() -> None:
    # Every source's module registers its types on import.
    from shared.events import billing, cycles, eligibility, integrations, reports  # noqa: F401


_load_all()
