"""A factory's first two service cycles over the real stack (gateway and services as
processes, HTTP between them): enrolment, cycle, visits, the unannounced assessment,
report release, PR1, PR2, classification after two cycles, and the third cycle skipping
its assessment under the high-performing option."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.world import RunningStack
from tests.helpers import ok

pytestmark = pytest.mark.e2e

ASSESSORS = ["Assessor A", "Assessor B"]
CLEAN_FINDINGS = [
    {
        "cluster": "OSH",
        "question": "Are emergency exits unlocked during working hours?",
        "publicly_reported": True,
        "compliant": True,
    },
    {
        "cluster": "Compensation",
        "question": "Are overtime wages paid correctly?",
        "publicly_reported": False,
        "compliant": False,
        "detail": "Overtime paid at 1.5x instead of 2x on holidays.",
    },
]
EVIDENCE = {
    "management_systems": {
        "osh_management_system": True,
        "hr_management_system": True,
        "evidence": "OSH and HR system checklists complete in both cycles.",
    },
    "social_dialogue": {
        "active_bipartite_committee": True,
        "management_decision_authority": True,
        "freely_chosen_worker_members": True,
        "open_union_communication": True,
        "effective_grievance_handling": True,
        "evidence": "Committee minutes; elections observed; grievance log reviewed.",
    },
    "learning": {
        "needs_based_learning_plan": True,
        "learning_plan_implemented": True,
        "evidence": "Learning plan agreed with worker representatives and delivered.",
    },
}


def milestones(cycle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in cycle["milestones"]}


class Walk:
    def __init__(self, stack: RunningStack, factory_id: str) -> None:
        self.factory_id = factory_id
        self.advisor = stack.client("advisor", "bw")
        self.factory = stack.client("factory", factory_id)

    def visit(self, cycle_id: str, type: str, day: date, **extra: Any) -> dict[str, Any]:
        body = {"type": type, "date": day.isoformat(), **extra}
        return dict(ok(self.advisor.post(f"/v1/cycles/cycles/{cycle_id}/visits", json=body), 201))

    def complete(self, cycle_id: str, visit_id: str) -> dict[str, Any]:
        return dict(
            ok(self.advisor.post(f"/v1/cycles/cycles/{cycle_id}/visits/{visit_id}/complete"))
        )

    def advisory(self, cycle_id: str, *days: date) -> None:
        for day in days:
            self.complete(cycle_id, self.visit(cycle_id, "advisory", day)["id"])

    def release(self, number: int, kind: str, author: httpx.Client, **extra: Any) -> None:
        draft = ok(
            author.post(
                f"/v1/reports/factories/{self.factory_id}/cycles/{number}/reports",
                json={"kind": kind, "title": f"{kind} cycle {number}", **extra},
            ),
            201,
        )
        if kind == "progress_report_1":
            ok(author.post(f"/v1/reports/reports/{draft['id']}/submit"))
        ok(self.advisor.post(f"/v1/reports/reports/{draft['id']}/release"))

    def cycle(self, cycle_id: str, client: httpx.Client | None = None) -> dict[str, Any]:
        return dict(ok((client or self.advisor).get(f"/v1/cycles/cycles/{cycle_id}")))

    def run_cycle(self, start: date, *, first: bool) -> dict[str, Any]:
        """One whole cycle, its milestones checked as they are met."""
        cycle: dict[str, Any] = ok(
            self.advisor.post(
                f"/v1/cycles/factories/{self.factory_id}/cycles",
                json={"start_date": start.isoformat()},
            ),
            201,
        )
        cid, number = cycle["id"], cycle["number"]
        m = milestones(cycle)
        assert m["initial_advisory"]["visits_min"] == (2 if first else 1)

        # Months 1-3: first visits, committee, self-diagnosis.
        initial = [start + timedelta(days=12), start + timedelta(days=45)][: 2 if first else 1]
        self.advisory(cid, *initial)
        assert milestones(self.cycle(cid))["initial_advisory"]["status"] == "done"

        # The unannounced assessment: planned, invisible to the factory until held.
        assessed_on = start + timedelta(days=100)
        planned = self.visit(cid, "assessment", assessed_on, assessors=ASSESSORS)
        seen = self.cycle(cid, self.factory)
        assert seen["notice"] == "unannounced assessment in this cycle"
        assert assessed_on.isoformat() not in str(seen)
        visits = ok(self.factory.get(f"/v1/cycles/cycles/{cid}/visits"))["items"]
        assert "assessment" not in {v["type"] for v in visits}
        self.complete(cid, planned["id"])
        seen = self.cycle(cid, self.factory)
        assert milestones(seen)["assessment"]["date"] == assessed_on.isoformat()
        assert seen["notice"] is None

        # Report release about 30 days later, PR1 by the factory, visits, PR2.
        self.release(number, "assessment", self.advisor, findings=CLEAN_FINDINGS)
        self.release(number, "progress_report_1", self.factory, body="Progress on the plan.")
        self.advisory(cid, *(start + timedelta(days=d) for d in (130, 190, 250, 310)))
        self.release(number, "progress_report_2", self.advisor, body="Progress verified.")
        if not first:  # later cycles: 1 initial + 4 after = 5; a sixth makes the year's 6
            self.advisory(cid, start + timedelta(days=330))
        done = milestones(self.cycle(cid))
        assert {code: m["status"] for code, m in done.items()} == dict.fromkeys(done, "done")
        assert (
            done["assessment_report_release"]["due"]
            == (assessed_on + timedelta(days=30)).isoformat()
        )
        return cycle


def test_two_cycles_to_high_performing(stack: RunningStack) -> None:
    eligibility = stack.client("advisor", "bw")
    factory = ok(
        eligibility.post(
            "/v1/eligibility/factories",
            json={
                "name": "Walkthrough Garments Ltd",
                "address": "Plot 7, Gazipur",
                "country": "BD",
                "region": "Gazipur",
                "products": ["garments"],
                "worker_count": 1200,
            },
        ),
        201,
    )
    factory_id = factory["id"]
    walk = Walk(stack, factory_id)
    refused = walk.advisor.post(
        f"/v1/cycles/factories/{factory_id}/cycles", json={"start_date": "2024-01-15"}
    )
    assert refused.status_code == 409  # registered, not yet enrolled
    ok(
        eligibility.post(
            f"/v1/eligibility/factories/{factory_id}/enrolment", json={"status": "enrolled"}
        )
    )

    today = datetime.now(UTC).date()
    first = walk.run_cycle(today - timedelta(days=800), first=True)
    early = walk.advisor.post(f"/v1/cycles/factories/{factory_id}/classification", json=EVIDENCE)
    assert early.status_code == 409  # no fast track: one assessment so far
    second_start = date.fromisoformat(first["end_date"]) + timedelta(days=1)
    walk.run_cycle(second_start, first=False)

    result = ok(
        walk.advisor.post(f"/v1/cycles/factories/{factory_id}/classification", json=EVIDENCE), 201
    )
    assert result["high_performing"] is True
    assert result["cycles"] == [1, 2]
    assert result["failed_criteria"] == []

    # High-performing: the third cycle may skip its assessment (every other year).
    third_start = second_start + timedelta(days=400)
    third = ok(
        walk.advisor.post(
            f"/v1/cycles/factories/{factory_id}/cycles",
            json={"start_date": third_start.isoformat(), "skip_assessment": True},
        ),
        201,
    )
    assert milestones(third)["assessment"]["status"] == "skipped"
    feed = walk.factory.get(f"/v1/cycles/factories/{factory_id}/calendar.ics")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.text.count("BEGIN:VEVENT") == 6 + 6 + 4  # cycle 3: no assessment, no release
