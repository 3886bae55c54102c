"""What each role may see (services/cycles/domain/visibility.py), as tables over every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from services.cycles.domain import VisitFact, milestone_states
from services.cycles.domain.schedule import plan_cycle
from services.cycles.domain.visibility import (
    UNANNOUNCED_NOTICE,
    Audience,
    audience_of,
    cycle_notice,
    shape_milestones,
    shown_buyer_org,
    visible_visits,
)
from services.cycles.rules import country_rules
from shared.auth import Principal

D = date.fromisoformat
FACTORY = "fac-1"
STAFF, OWN, BUYER = Audience.STAFF, Audience.FACTORY, Audience.BUYER

PRINCIPALS = {
    "advisor for all programmes": Principal("u", "bw", "advisor", ("*",)),
    "advisor for BD": Principal("u", "bw", "advisor", ("BD",)),
    "advisor for KH only": Principal("u", "bw", "advisor", ("KH",)),
    "the factory": Principal("u", FACTORY, "factory"),
    "another factory": Principal("u", "fac-2", "factory"),
    "partner with TPA": Principal("u", "brand-1", "partner"),
    "partner without TPA": Principal("u", "brand-2", "partner"),
    "participant with TPA": Principal("u", "buyer-1", "participant"),
    "participant without TPA": Principal("u", "buyer-2", "participant"),
    "service token": Principal("u", "betterwork", "service"),
}
WITH_TPA = {"brand-1", "buyer-1"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("advisor for all programmes", STAFF),
        ("advisor for BD", STAFF),
        ("advisor for KH only", None),
        ("the factory", OWN),
        ("another factory", None),
        ("partner with TPA", BUYER),
        ("partner without TPA", None),
        ("participant with TPA", BUYER),
        ("participant without TPA", None),
        ("service token", None),
    ],
)
def test_audience_by_role(who: str, expected: Audience | None) -> None:
    principal = PRINCIPALS[who]
    found = audience_of(
        principal, factory_id=FACTORY, country="BD", tpa_approved=principal.org in WITH_TPA
    )
    assert found is expected


@dataclass(frozen=True)
class V:
    name: str
    type: str
    status: str
    buyer_org: str | None = None


PLANNED = [
    V("advisory", "advisory", "completed"),
    V("advisory planned", "advisory", "scheduled"),
    V("joint, own", "joint_advisory", "requested", "brand-1"),
    V("joint, other buyer", "joint_advisory", "scheduled", "brand-9"),
    V("shadow advisory, own", "shadow_advisory", "requested", "brand-1"),
    V("shadow advisory, other", "shadow_advisory", "requested", "brand-9"),
    V("shadow assessment, own", "shadow_assessment", "requested", "brand-1"),
    V("shadow assessment, other", "shadow_assessment", "requested", "brand-9"),
    V("assessment cancelled", "assessment", "cancelled"),
    V("assessment", "assessment", "scheduled"),
]
HELD = [
    v if v.type != "assessment" or v.status == "cancelled" else V(v.name, v.type, "completed")
    for v in PLANNED
]

# name -> (staff, factory, buyer "brand-1") before the assessment is held, then after.
TABLE = {
    "advisory": ("yyy", "yyy"),
    "advisory planned": ("yyy", "yyy"),
    "joint, own": ("yyy", "yyy"),
    "joint, other buyer": ("yyy", "yyy"),
    "shadow advisory, own": ("yyy", "yyy"),
    "shadow advisory, other": ("yyn", "yyn"),
    "shadow assessment, own": ("yny", "yyy"),
    "shadow assessment, other": ("ynn", "yyn"),
    "assessment cancelled": ("ynn", "ynn"),
    "assessment": ("ynn", "yyy"),
}


@pytest.mark.parametrize("held", [False, True], ids=["before the assessment", "after it"])
@pytest.mark.parametrize("audience", [STAFF, OWN, BUYER])
def test_visits_each_audience_sees(held: bool, audience: Audience) -> None:
    column = {STAFF: 0, OWN: 1, BUYER: 2}[audience]
    seen = {v.name for v in visible_visits(audience, "brand-1", HELD if held else PLANNED)}
    expected = {name for name, rows in TABLE.items() if rows[int(held)][column] == "y"}
    assert seen == expected


def test_buyers_never_learn_other_buyers() -> None:
    other = V("joint", "joint_advisory", "scheduled", "brand-9")
    own = V("joint", "joint_advisory", "scheduled", "brand-1")
    assert shown_buyer_org(BUYER, "brand-1", other) is None
    assert shown_buyer_org(BUYER, "brand-1", own) == "brand-1"
    assert shown_buyer_org(OWN, FACTORY, other) == "brand-9"
    assert shown_buyer_org(STAFF, "bw", other) == "brand-9"


PLAN = plan_cycle(
    start=D("2025-01-15"), number=1, rules=country_rules("BD", training_participant_days=20)
)


def _facts(held: bool) -> list[VisitFact]:
    status = "completed" if held else "scheduled"
    return [VisitFact("vis_a", "assessment", status, D("2025-04-22"))]


@pytest.mark.parametrize("audience", [OWN, BUYER])
def test_milestones_hide_the_unannounced_assessment(audience: Audience) -> None:
    visits = visible_visits(audience, "brand-1", _facts(held=False))
    states = milestone_states(PLAN, visits=visits, released=(), today=D("2025-04-20"))
    shaped = {m.code: m for m in shape_milestones(audience, states)}
    assessment = shaped["assessment"]
    assert (assessment.due, assessment.window_start, assessment.window_end) == (None, None, None)
    assert assessment.date is None
    assert assessment.unannounced
    assert assessment.notice == UNANNOUNCED_NOTICE
    release = shaped["assessment_report_release"]
    assert (release.window_start, release.due, release.window_end) == (
        None,
        D("2025-06-14"),
        D("2025-06-14"),
    )
    assert cycle_notice(audience, states) == UNANNOUNCED_NOTICE
    assert "2025-04-22" not in str([m.model_dump() for m in shaped.values()])


def test_staff_see_the_planned_date() -> None:
    states = milestone_states(PLAN, visits=_facts(held=False), released=(), today=D("2025-04-20"))
    shaped = {m.code: m for m in shape_milestones(STAFF, states)}
    assert shaped["assessment"].date == D("2025-04-22")
    assert shaped["assessment"].due == D("2025-04-25")
    assert shaped["assessment"].notice is None
    assert shaped["assessment_report_release"].due == D("2025-05-22")
    assert cycle_notice(STAFF, states) is None


@pytest.mark.parametrize("audience", [STAFF, OWN, BUYER])
def test_once_held_everyone_sees_the_dates(audience: Audience) -> None:
    visits = visible_visits(audience, "brand-1", _facts(held=True))
    states = milestone_states(PLAN, visits=visits, released=(), today=D("2025-05-01"))
    shaped = {m.code: m for m in shape_milestones(audience, states)}
    assert shaped["assessment"].status == "done"
    assert shaped["assessment"].date == D("2025-04-22")
    assert shaped["assessment"].notice is None
    assert shaped["assessment_report_release"].due == D("2025-05-22")
    assert cycle_notice(audience, states) is None
