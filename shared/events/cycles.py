"""Events of the cycles service. None of them carries the planned date of an unannounced
assessment to a factory or a buyer: a planned (not yet held) assessment is an event for
advisors only, and so are the assessment milestone's alerts, whose timing alone would
point at the date (services/cycles/events.py decides the audiences)."""

from __future__ import annotations

import datetime as dt

from shared.events import EventData, event


@event("cycle.opened", "cycles", "A factory's service cycle started, with its schedule.")
class CycleOpened(EventData):
    cycle_id: str
    factory_id: str
    number: int
    start_date: dt.date
    end_date: dt.date


@event(
    "milestone.due_soon",
    "cycles",
    "A cycle milestone is due within 7 days (sent once, on its day). Seen by the advisors, "
    "the factory and the buyers holding an approved TPA at that moment, each only for a "
    "milestone it reads as open in GET /cycles/{id}; the unannounced assessment's: advisors "
    "only.",
)
class MilestoneDueSoon(EventData):
    cycle_id: str
    factory_id: str
    milestone: str
    due: dt.date | None = None


@event(
    "milestone.overdue",
    "cycles",
    "A cycle milestone passed its due date undone (sent once). Seen like milestone.due_soon: "
    "advisors, the factory and approved TPA holders that read it as open; the unannounced "
    "assessment's: advisors only.",
)
class MilestoneOverdue(EventData):
    cycle_id: str
    factory_id: str
    milestone: str
    due: dt.date | None = None


@event("visit.scheduled", "cycles", "A visit was scheduled (or a buyer's request accepted).")
class VisitScheduled(EventData):
    visit_id: str
    cycle_id: str
    factory_id: str
    type: str
    date: dt.date | None = None


@event(
    "visit.requested",
    "cycles",
    "A buyer asked for a joint advisory visit or to shadow a visit (its own request).",
)
class VisitRequested(EventData):
    visit_id: str
    cycle_id: str
    factory_id: str
    type: str
    date: dt.date


@event("visit.completed", "cycles", "A visit was recorded as done.")
class VisitCompleted(EventData):
    visit_id: str
    cycle_id: str
    factory_id: str
    type: str


@event("visit.cancelled", "cycles", "A visit was cancelled.")
class VisitCancelled(EventData):
    visit_id: str
    cycle_id: str
    factory_id: str
    type: str


@event("classification.changed", "cycles", "A factory's differentiation changed.")
class ClassificationChanged(EventData):
    factory_id: str
    high_performing: bool
