"""The one place that decides what each caller may see of a factory's cycles. Pure.

Unannounced means unannounced: until the assessment has been held, a factory and its
buyers learn nothing that reveals its planned date. So for them the planned assessment
visit (and the shadow assessment that would sit on the same day) is removed *before*
anything is derived from the visits — milestone status and dates, counts, ordering,
ETags and calendar entries are all computed from the filtered list — and the assessment
milestone carries no dates, only the notice "unannounced assessment in this cycle".
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final, Protocol, TypeVar

from services.cycles.domain import MilestoneState
from services.cycles.domain.schedule import ASSESSMENT, ASSESSMENT_REPORT_RELEASE, MILESTONE_TITLES
from services.cycles.schemas import MilestonePublic
from shared.auth import Principal
from shared.scope import in_scope

__all__ = [
    "UNANNOUNCED_NOTICE",
    "Audience",
    "audience_of",
    "cycle_notice",
    "hides_unannounced",
    "shape_milestones",
    "shown_buyer_org",
    "shows_open_milestone",
    "visible_visits",
]

UNANNOUNCED_NOTICE: Final = "unannounced assessment in this cycle"


class Audience(StrEnum):
    STAFF = "staff"  # an advisor whose programmes cover the factory's country
    FACTORY = "factory"  # the factory itself
    BUYER = "buyer"  # a partner or participant with an approved TPA for the factory


class VisitLike(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def buyer_org(self) -> str | None: ...


V = TypeVar("V", bound=VisitLike)


def audience_of(
    principal: Principal, *, factory_id: str, country: str, tpa_approved: bool
) -> Audience | None:
    """Who the caller is to this factory, or None when it may see nothing of it."""
    if principal.role == "advisor":
        return Audience.STAFF if in_scope(principal, country) else None
    if principal.role == "factory":
        return Audience.FACTORY if principal.org == factory_id else None
    if principal.is_buyer:
        return Audience.BUYER if tpa_approved else None
    return None


def hides_unannounced(audience: Audience) -> bool:
    return audience is not Audience.STAFF


def _assessment_held(visits: Sequence[VisitLike]) -> bool:
    return any(v.type == ASSESSMENT and v.status == "completed" for v in visits)


def _visible(audience: Audience, org: str, visit: VisitLike, *, held: bool) -> bool:
    if audience is Audience.STAFF:
        return True
    if visit.type == ASSESSMENT:
        return visit.status == "completed"
    if audience is Audience.FACTORY:
        # A shadow assessment sits on the assessment's day: shown once that has passed.
        return held if visit.type == "shadow_assessment" else True
    # Buyers: the factory's advisory visits, and their own shadow requests only.
    if visit.type in ("shadow_assessment", "shadow_advisory"):
        return visit.buyer_org == org
    return True


def visible_visits(audience: Audience, org: str, visits: Sequence[V]) -> list[V]:
    """The visits the caller may see, in the order given."""
    held = _assessment_held(visits)
    return [v for v in visits if _visible(audience, org, v, held=held)]


def shown_buyer_org(audience: Audience, org: str, visit: VisitLike) -> str | None:
    """Buyers never learn which other buyers work with the factory."""
    if audience is Audience.BUYER and visit.buyer_org != org:
        return None
    return visit.buyer_org


def _assessment_done(states: Sequence[MilestoneState]) -> bool:
    return any(s.code == ASSESSMENT and s.status in ("done", "skipped") for s in states)


def cycle_notice(audience: Audience, states: Sequence[MilestoneState]) -> str | None:
    if hides_unannounced(audience) and not _assessment_done(states):
        return UNANNOUNCED_NOTICE
    return None


def shape_milestones(audience: Audience, states: Sequence[MilestoneState]) -> list[MilestonePublic]:
    """Milestones as the caller sees them. `states` must come from visible_visits."""
    hide = hides_unannounced(audience) and not _assessment_done(states)
    shaped = []
    for s in states:
        milestone = MilestonePublic(
            code=s.code,
            title=MILESTONE_TITLES[s.code],
            due=s.due,
            window_start=s.window_start,
            window_end=s.window_end,
            status=s.status,
            visits_min=s.visits_min,
            visits_max=s.visits_max,
            visits_completed=s.visits_completed,
            date=s.date,
            unannounced=s.code == ASSESSMENT and s.status != "skipped",
        )
        if hide and s.code == ASSESSMENT:
            milestone = milestone.model_copy(
                update={
                    "due": None,
                    "window_start": None,
                    "window_end": None,
                    "date": None,
                    "notice": UNANNOUNCED_NOTICE,
                }
            )
        elif hide and s.code == ASSESSMENT_REPORT_RELEASE:
            # Only the rule's outer bound: "by the end of month 5 at the latest".
            milestone = milestone.model_copy(update={"due": s.window_end, "window_start": None})
        shaped.append(milestone)
    return shaped


def shows_open_milestone(audience: Audience, states: Sequence[MilestoneState], code: str) -> bool:
    """Whether the caller reads milestone `code` as open and dated (not done or skipped, its
    dates not withheld): the milestones an alert may be about for this caller. `states`
    must come from visible_visits, as for shape_milestones."""
    shown = next((m for m in shape_milestones(audience, states) if m.code == code), None)
    if shown is None or shown.notice is not None:
        return False
    dated = shown.due is not None or shown.window_end is not None
    return dated and shown.status not in ("done", "skipped")
