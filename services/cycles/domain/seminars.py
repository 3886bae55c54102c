"""Industry seminars: who may register, how many places, and which cycle's improvement
plan takes a seminar's action plan. Pure: the caller brings the facts and `today`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol

from services.cycles.domain import RuleBroken
from shared.enrolment import ensure_enrolled
from shared.errors import Conflict

__all__ = [
    "CycleSpan",
    "PlanItem",
    "action_plan_cycle",
    "action_plan_items",
    "check_action_plan_day",
    "check_registration",
]


class PlanItem(Protocol):
    title: str
    owner: str | None
    due_date: date | None


class CycleSpan(NamedTuple):
    number: int
    start_date: date
    end_date: date


def check_registration(
    *,
    seminar_day: date,
    seminar_country: str,
    capacity: int,
    taken: int,
    factory_id: str,
    factory_country: str,
    enrolment_status: str,
    participants: int,
    today: date,
) -> int:
    """The places left after this registration, or the first rule it breaks: the seminar
    is still ahead, for enrolled factories of its country, within its capacity."""
    if seminar_day < today:
        raise Conflict(f"The seminar took place on {seminar_day}; registration is closed.")
    ensure_enrolled(factory_id, enrolment_status, service="seminars are open to it")
    if factory_country.upper() != seminar_country:
        raise RuleBroken(
            "seminar_country",
            f"This seminar is for factories in {seminar_country}; factory {factory_id} "
            f"is in {factory_country}.",
        )
    left = capacity - taken
    if participants > left:
        raise Conflict(
            f"The seminar is full for {participants} more: {taken} of {capacity} "
            f"places are taken, {left} left.",
            rule="seminar_capacity",
            capacity=capacity,
            places_left=left,
        )
    return left - participants


def check_action_plan_day(seminar_day: date, today: date) -> None:
    if seminar_day > today:
        raise Conflict(f"The action plan is completed at the end of the seminar ({seminar_day}).")


def action_plan_cycle(cycles: Sequence[CycleSpan], seminar_day: date, factory_id: str) -> int:
    """The cycle whose improvement plan takes the action plan: the one running on the
    seminar's day, else the latest that started before it, else the factory's latest."""
    running = [c for c in cycles if c.start_date <= seminar_day <= c.end_date]
    started = [c for c in cycles if c.start_date <= seminar_day]
    chosen = (running or started or list(cycles))[-1:]
    if not chosen:
        raise Conflict(
            f"Factory {factory_id} has no service cycle whose improvement plan could take "
            "the action plan."
        )
    return chosen[0].number


def action_plan_items(
    items: Sequence[PlanItem], *, title: str, day: date, seminar_id: str
) -> list[dict[str, Any]]:
    """The improvement-plan items an action plan becomes (source `seminar`)."""
    return [
        {
            "source": "seminar",
            "title": item.title,
            "detail": f"Action plan from the industry seminar {title!r} of {day} ({seminar_id}).",
            "owner": item.owner,
            "due_date": item.due_date,
        }
        for item in items
    ]
