"""Which columns of a factory each viewer reads: the owning services' decisions as the
events carried them, applied to the facts. Pure functions, no I/O.

What a buyer organisation (partner or participant) reads of a factory it has a relation
with (advisors read every column of every factory in their programmes):

- name, country, OS ID, enrolment, latest assessment release: yes;
- TPA state, unlocked cycles, its relations: its own;
- current cycle and milestone states: while its TPA is approved (cycles' buyer rule), and
  never a milestone whose events go to advisors only (the unannounced assessment);
- findings per cluster: the latest assessment's, if it may read that cycle (unlocked,
  which stays after a revocation as in reports; or shared with it while its TPA is
  approved); otherwise the publicly reported ones;
- high-performing: only if the classification event named it (today: factories and
  advisors only, as cycles' reads);
- eligibility status: its own latest decision for the factory (a check or a list);
- open improvement plan items' due dates: those of the cycles whose reports it may read
  (the findings' rule, per item's cycle); none at all otherwise.

A relation exists while the TPA is pending or approved, or a cycle was unlocked by it or
shared with it, or it nominates the factory, or one of its factory lists matched it;
without one, the viewer has no row at all.
No date of a milestone is kept, so the unannounced assessment date cannot be served.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.integrations.models.portfolio import ADVISORS
from services.integrations.store.portfolio.facts import FactoryFacts, RelationFacts, ViewerRow

__all__ = ["RELATIONS", "relations_of", "row_for", "rows_of"]

LIVE_TPA = frozenset({"pending", "approved"})
RELATIONS = ("tpa_requested", "tpa_approved", "unlocked", "shared", "nominated", "listed")


def relations_of(relation: RelationFacts) -> list[str]:
    found = {
        "tpa_requested": relation.tpa_state == "pending",
        "tpa_approved": relation.tpa_state == "approved",
        "unlocked": bool(relation.unlocked),
        "shared": bool(relation.shared),
        "nominated": relation.nominated,
        "listed": bool(relation.lists),
    }
    return [name for name in RELATIONS if found[name]]


# Report kinds whose release completes a milestone of the cycle (as cycles counts them).
RELEASE_MILESTONES = {
    "assessment": "assessment_report_release",
    "progress_report_1": "progress_report_1",
    "progress_report_2": "progress_report_2",
}


def _milestones(factory: FactoryFacts, *, advisor: bool) -> dict[str, str]:
    """Due and overdue from cycles' alerts, done from reports' releases; a buyer never sees
    a milestone whose alerts go to advisors only (the unannounced assessment)."""
    states = {
        code: str(m["state"])
        for code, m in factory.milestones.items()
        if advisor or not m.get("advisors_only", True)
    }
    released = factory.released.get(str(factory.cycle), []) if factory.cycle is not None else []
    for kind in released:
        if kind in RELEASE_MILESTONES:
            states[RELEASE_MILESTONES[kind]] = "done"
    return dict(sorted(states.items()))


def _base(factory: FactoryFacts, viewer: str) -> ViewerRow:
    return ViewerRow(
        viewer=viewer,
        factory_id=factory.factory_id,
        name_key=(factory.name or factory.factory_id).lower()[:300],
        name=factory.name,
        country=factory.country or "",
        os_id=factory.os_id,
        enrolment_status=factory.enrolment_status,
        latest_assessment_at=factory.assessment_released_at,
        as_of=factory.as_of,
    )


def row_for(factory: FactoryFacts, relation: RelationFacts | None) -> ViewerRow | None:
    """The row of `relation`'s organisation (None: advisors); None when it has no relation."""
    if relation is None:
        row = _base(factory, ADVISORS)
        row.as_of = factory.advisors_as_of
        row.cycle = factory.cycle
        row.milestones = _milestones(factory, advisor=True)
        row.findings, row.findings_basis = _findings(factory, readable=True)
        row.high_performing = factory.high_performing
        row.plan_due = _plan_due(factory, lambda _cycle: True)
    else:
        relations = relations_of(relation)
        if not relations:
            return None
        row = _base(factory, relation.org)
        row.relations = relations
        row.listed = "listed" in relations
        row.tpa_state = relation.tpa_state
        row.unlocked_cycles = sorted(relation.unlocked)
        approved = relation.tpa_state == "approved"
        if approved:
            row.cycle = factory.cycle
            row.milestones = _milestones(factory, advisor=False)
        readable = _reads_cycle(relation, factory.assessment_cycle, approved=approved)
        row.findings, row.findings_basis = _findings(factory, readable=readable)
        if relation.org in factory.classification_orgs:
            row.high_performing = factory.high_performing
        row.eligibility_status = relation.eligibility_status
        if relation.unlocked or (approved and relation.shared):  # it reads some cycle
            row.plan_due = _plan_due(
                factory, lambda cycle: _reads_cycle(relation, cycle, approved=approved)
            )
        row.as_of = max(factory.as_of, relation.as_of)
    row.overdue = "overdue" in (row.milestones or {}).values()
    return row


def _reads_cycle(relation: RelationFacts, cycle: int | None, *, approved: bool) -> bool:
    if cycle is None:
        return False
    return cycle in relation.unlocked or (approved and cycle in relation.shared)


def _plan_due(factory: FactoryFacts, reads: Callable[[int], bool]) -> list[str]:
    """The due dates of the open items of the cycles `reads` allows (undated ones are
    never overdue)."""
    return sorted(
        str(item["due_date"])
        for item in factory.plan_items.values()
        if item["open"] and item.get("due_date") and reads(int(item["cycle"]))
    )


def _findings(factory: FactoryFacts, *, readable: bool) -> tuple[dict[str, int] | None, str | None]:
    if factory.assessment_cycle is None:
        return None, None
    if readable:
        return dict(factory.findings_all or {}), "report"
    return dict(factory.findings_public or {}), "public"


def rows_of(factory: FactoryFacts, relations: Sequence[RelationFacts]) -> list[ViewerRow]:
    """Every viewer's row of the factory: advisors' and each related organisation's."""
    rows = [row_for(factory, None)]
    rows.extend(row_for(factory, relation) for relation in relations)
    return [row for row in rows if row is not None]
