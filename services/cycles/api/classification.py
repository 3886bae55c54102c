"""Differentiation: advisors classify a factory after two consecutive assessments."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from services.cycles import events, store
from services.cycles.api.deps import AdvisorOrFactory, Reader, audience_for_factory, conflict
from services.cycles.clients import ReportsDep
from services.cycles.domain.differentiation import (
    LEARNING,
    MANAGEMENT_SYSTEMS,
    SOCIAL_DIALOGUE,
    AdvisorEvidence,
    AssessedCycle,
    CycleRecord,
    Finding,
    classification_basis,
    classify,
)
from services.cycles.models import Classification
from services.cycles.schemas import (
    ClassificationCreate,
    ClassificationPublic,
    CriterionPublic,
    HighPerformingStatus,
    LearningEvidence,
    ManagementSystemsEvidence,
    SocialDialogueEvidence,
)
from shared.app import problem_responses
from shared.auth import Advisor, Principal
from shared.clock import now
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.ids import new_id
from shared.scope import ensure_in_scope
from shared.types import FactoryId

router = APIRouter(tags=["classification"])

NOT_READY = conflict(
    "Fewer than two consecutive completed assessments, or a report not yet released."
)


def _evidence(body: ClassificationCreate) -> AdvisorEvidence:
    sections: dict[str, ManagementSystemsEvidence | SocialDialogueEvidence | LearningEvidence] = {
        MANAGEMENT_SYSTEMS: body.management_systems,
        SOCIAL_DIALOGUE: body.social_dialogue,
        LEARNING: body.learning,
    }
    return AdvisorEvidence(
        elements={
            code: {k: v for k, v in section.model_dump().items() if isinstance(v, bool)}
            for code, section in sections.items()
        },
        notes={code: section.evidence for code, section in sections.items()},
    )


def _public(row: Classification) -> ClassificationPublic:
    criteria = [CriterionPublic.model_validate(c) for c in row.criteria]
    return ClassificationPublic(
        id=row.id,
        factory_id=row.factory_id,
        high_performing=row.high_performing,
        cycles=list(row.cycles),
        criteria=criteria,
        failed_criteria=[c.code for c in criteria if not c.passed],
        classified_at=row.created_at,
    )


@router.post("/factories/{factory_id}/classification", status_code=201, responses=NOT_READY)
async def classify_factory(
    factory_id: FactoryId,
    body: ClassificationCreate,
    principal: Advisor,
    session: SessionDep,
    reports: ReportsDep,
) -> ClassificationPublic:
    """Evaluate the four high-performance criteria over the last two assessments."""
    cycles = await store.cycles_of(session=session, factory_id=factory_id)
    if cycles:
        ensure_in_scope(principal, cycles[0].country)
    held = await store.assessed_cycle_numbers(session=session, factory_id=factory_id)
    first, second = classification_basis(
        [CycleRecord(c.number, c.assessment_skipped, c.number in held) for c in cycles]
    )
    released = await asyncio.gather(
        *(reports.assessment(factory_id=factory_id, cycle=n) for n in (first, second))
    )
    assessed = [
        AssessedCycle(
            cycle=number,
            released=report.released,
            findings=tuple(
                Finding(f.cluster, f.question, f.publicly_reported, f.compliant)
                for f in report.findings
            ),
        )
        for number, report in zip((first, second), released, strict=True)
    ]
    result = classify(assessed, _evidence(body))
    before = await store.latest_classification(session=session, factory_id=factory_id)
    row = Classification(
        id=new_id("cls"),
        factory_id=factory_id,
        high_performing=result.high_performing,
        cycles=list(result.cycles),
        criteria=[
            {
                "code": c.code,
                "title": c.title,
                "passed": c.passed,
                "evidence": list(c.evidence),
                "failed_elements": list(c.failed_elements),
            }
            for c in result.criteria
        ],
        classified_by=principal.user,
        created_at=now(),
    )
    session.add(row)
    await session.flush()
    if before is None or before.high_performing != row.high_performing:
        await events.classification_changed(
            session,
            factory_id=factory_id,
            country=cycles[0].country,
            high_performing=row.high_performing,
            buyers=await events.tpa_buyers(reports, factory_id=factory_id),
        )
    return _public(row)


def _may_read(principal: Principal, factory_id: str) -> None:
    if principal.role == "factory" and principal.org != factory_id:
        raise Forbidden("A factory sees its own classification only.")


@router.get("/factories/{factory_id}/classification")
async def get_classification(
    factory_id: FactoryId, principal: AdvisorOrFactory, session: SessionDep
) -> ClassificationPublic:
    """The factory's latest classification."""
    _may_read(principal, factory_id)
    cycles = await store.cycles_of(session=session, factory_id=factory_id)
    if cycles:
        ensure_in_scope(principal, cycles[0].country)
    row = await store.latest_classification(session=session, factory_id=factory_id)
    if row is None:
        raise NotFound(f"Factory {factory_id} has not been classified.")
    return _public(row)


@router.get(
    "/factories/{factory_id}/high-performing",
    responses=problem_responses(403),
)
async def get_high_performing(
    factory_id: FactoryId, principal: Reader, session: SessionDep, reports: ReportsDep
) -> HighPerformingStatus:
    """Whether the factory is high-performing now (the guide: "highlighted on the Portal"),
    without the evidence: for buyers holding its approved TPA, the factory itself and
    advisors of its programme. The public portal does not list it."""
    cycles = await store.cycles_of(session=session, factory_id=factory_id)
    await audience_for_factory(
        principal,
        factory_id=factory_id,
        country=cycles[0].country if cycles else None,
        reports=reports,
    )
    row = await store.latest_classification(session=session, factory_id=factory_id)
    return HighPerformingStatus(
        factory_id=factory_id,
        classified=row is not None,
        high_performing=row is not None and row.high_performing,
        classified_at=row.created_at if row is not None else None,
    )
