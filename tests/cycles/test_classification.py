"""Differentiation: classification after two consecutive completed assessments, criterion
1 read from the released assessment reports, the others from advisor evidence; the
high-performing option (an assessment every other year)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.cycles.world import World, days_ago, milestones, today
from tests.helpers import ADVISOR_ORG, ok

EVIDENCE: dict[str, Any] = {
    "management_systems": {
        "osh_management_system": True,
        "hr_management_system": True,
        "evidence": "OSH and HR system checklists complete (advisory log, visits 4 and 6).",
    },
    "social_dialogue": {
        "active_bipartite_committee": True,
        "management_decision_authority": True,
        "freely_chosen_worker_members": True,
        "open_union_communication": True,
        "effective_grievance_handling": True,
        "evidence": "Committee meets monthly; elections observed 2025-03.",
    },
    "learning": {
        "needs_based_learning_plan": True,
        "learning_plan_implemented": True,
        "evidence": "Learning plan agreed with worker representatives; 80 % delivered.",
    },
}
PUBLIC_NON_COMPLIANCE = {
    "cluster": "Child labour",
    "question": "Does the employer verify workers' ages?",
    "publicly_reported": True,
    "compliant": False,
}


async def assessed_cycle(
    world: World, factory_id: str, start_days_ago: int, findings: list[dict[str, Any]] | None
) -> dict[str, Any]:
    start = days_ago(start_days_ago)
    cycle = await world.open_cycle(factory_id, start)
    await world.visit(cycle["id"], "assessment", start + timedelta(days=100), complete=True)
    await world.release(factory_id, cycle["number"], "assessment", findings=findings)
    return cycle


async def classify(world: World, factory_id: str, evidence: dict[str, Any] = EVIDENCE) -> Any:
    return await world.advisor.post(f"/factories/{factory_id}/classification", json=evidence)


async def test_no_fast_track(world: World) -> None:
    factory_id = await world.factory()
    assert (await classify(world, factory_id)).status_code == 409
    await assessed_cycle(world, factory_id, 400, None)
    reply = await classify(world, factory_id)
    assert reply.status_code == 409
    assert "two consecutive completed assessments" in reply.json()["detail"]


async def test_high_performing_after_two_clean_assessments(world: World) -> None:
    factory_id = await world.factory()
    await assessed_cycle(world, factory_id, 800, None)
    await assessed_cycle(world, factory_id, 400, None)
    result = ok(await classify(world, factory_id), 201)
    assert result["high_performing"] is True
    assert result["cycles"] == [1, 2]
    assert result["failed_criteria"] == []
    criteria = {c["code"]: c for c in result["criteria"]}
    assert set(criteria) == {
        "public_compliance",
        "management_systems",
        "social_dialogue",
        "learning",
    }
    assert all(c["passed"] for c in criteria.values())
    assert any(
        "Cycle 2 assessment report" in line for line in criteria["public_compliance"]["evidence"]
    )
    latest = ok(await world.advisor.get(f"/factories/{factory_id}/classification"))
    assert latest["id"] == result["id"]
    factory = world.cycles("factory", factory_id)
    assert ok(await factory.get(f"/factories/{factory_id}/classification"))["high_performing"]

    # Every other year: the next cycle may skip its assessment, the one after may not.
    skipping = await world.open_cycle(factory_id, days_ago(30), skip_assessment=True)
    m = milestones(skipping)
    assert skipping["assessment_skipped"] is True
    assert (m["assessment"]["status"], m["assessment"]["due"]) == ("skipped", None)
    assert m["assessment_report_release"]["status"] == "skipped"
    refused = await world.advisor.post(
        f"/cycles/{skipping['id']}/visits",
        json={"type": "assessment", "date": (days_ago(30) + timedelta(days=100)).isoformat()},
    )
    assert refused.json()["rule"] == "assessment_skipped"
    next_year = await world.advisor.post(
        f"/factories/{factory_id}/cycles",
        json={"start_date": (today() + timedelta(days=340)).isoformat(), "skip_assessment": True},
    )
    assert next_year.status_code == 422
    assert next_year.json()["rule"] == "assessment_every_other_year"


async def test_a_public_non_compliance_fails_criterion_1(world: World) -> None:
    factory_id = await world.factory()
    await assessed_cycle(world, factory_id, 800, None)
    await assessed_cycle(world, factory_id, 400, [PUBLIC_NON_COMPLIANCE])
    result = ok(await classify(world, factory_id), 201)
    assert result["high_performing"] is False
    assert result["failed_criteria"] == ["public_compliance"]
    failed = result["criteria"][0]
    assert failed["failed_elements"] == [
        "cycle_2:Child labour:Does the employer verify workers' ages?"
    ]
    skip = await world.advisor.post(
        f"/factories/{factory_id}/cycles",
        json={"start_date": days_ago(30).isoformat(), "skip_assessment": True},
    )
    assert skip.json()["rule"] == "high_performing_option"


@pytest.mark.parametrize(
    ("section", "element"),
    [
        ("management_systems", "osh_management_system"),
        ("social_dialogue", "freely_chosen_worker_members"),
        ("learning", "needs_based_learning_plan"),
    ],
)
async def test_the_failing_criterion_is_named(world: World, section: str, element: str) -> None:
    factory_id = await world.factory()
    await assessed_cycle(world, factory_id, 800, None)
    await assessed_cycle(world, factory_id, 400, None)
    evidence = {k: dict(v) for k, v in EVIDENCE.items()}
    evidence[section][element] = False
    result = ok(await classify(world, factory_id, evidence), 201)
    assert result["failed_criteria"] == [section]
    failed = next(c for c in result["criteria"] if c["code"] == section)
    assert failed["failed_elements"] == [element]


async def test_unreleased_report_is_refused(world: World) -> None:
    factory_id = await world.factory()
    await assessed_cycle(world, factory_id, 800, None)
    start = days_ago(400)
    cycle = await world.open_cycle(factory_id, start)
    await world.visit(cycle["id"], "assessment", start + timedelta(days=100), complete=True)
    reply = await classify(world, factory_id)
    assert reply.status_code == 409
    assert "not released" in reply.json()["detail"]


async def test_evidence_is_required_and_only_advisors_classify(world: World) -> None:
    factory_id = await world.factory()
    missing = {k: v for k, v in EVIDENCE.items() if k != "learning"}
    assert (await classify(world, factory_id, missing)).status_code == 422
    factory = world.cycles("factory", factory_id)
    reply = await factory.post(f"/factories/{factory_id}/classification", json=EVIDENCE)
    assert reply.status_code == 403
    assert (await factory.get(f"/factories/{factory_id}/classification")).status_code == 404
    other = world.cycles("factory", "someone-else")
    assert (await other.get(f"/factories/{factory_id}/classification")).status_code == 403
    khmer = world.cycles("advisor", ADVISOR_ORG, countries=["KH"])
    await world.open_cycle(factory_id, days_ago(30))
    assert (await classify_as(khmer, factory_id)).status_code == 403


async def classify_as(client: Any, factory_id: str) -> Any:
    return await client.post(f"/factories/{factory_id}/classification", json=EVIDENCE)
