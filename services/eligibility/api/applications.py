"""Partnership applications: a buyer applies, advisors record ILO and IFC due diligence,
then the signed agreement (SPEC §3; guide 2.4)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from services.eligibility import events
from services.eligibility.domain.access import ensure_sees_application
from services.eligibility.domain.partnership import (
    COMMITMENTS,
    after_due_diligence,
    screen_commitments,
    sign_agreement,
)
from services.eligibility.models import PartnershipApplication
from services.eligibility.schemas import (
    AgreementRequest,
    ApplicationCreate,
    ApplicationPage,
    ApplicationPublic,
    CommitmentPublic,
    DueDiligenceRecord,
    DueDiligenceRequest,
)
from services.eligibility.store.applications import (
    create_application,
    get_application,
    list_applications,
)
from services.eligibility.store.lists import get_list
from shared.app import problem_responses
from shared.auth import Advisor, AnyRole, Buyer, BuyerOrAdvisor
from shared.db import SessionDep
from shared.errors import NotFound, Unprocessable
from shared.pagination import PageDep
from shared.types import Id

router = APIRouter(tags=["partnership applications"])


def _public(application: PartnershipApplication) -> ApplicationPublic:
    commitments = application.commitments
    return ApplicationPublic(
        id=application.id,
        org=application.org,
        status=application.status,
        registration=application.registration,
        logo_reference=application.logo_reference,
        factory_list_id=application.factory_list_id,
        commitments=commitments,
        declined_commitments=[c.code for c in COMMITMENTS if not commitments.get(c.code)],
        due_diligence={
            "ILO": DueDiligenceRecord(
                outcome=application.ilo_outcome,
                note=application.ilo_note,
                recorded_by=application.ilo_recorded_by,
                recorded_at=application.ilo_recorded_at,
            ),
            "IFC": DueDiligenceRecord(
                outcome=application.ifc_outcome,
                note=application.ifc_note,
                recorded_by=application.ifc_recorded_by,
                recorded_at=application.ifc_recorded_at,
            ),
        },
        rejection_reason=application.rejection_reason,
        approved_at=application.approved_at,
        agreement_signed_at=application.agreement_signed_at,
        agreement_signed_on=application.agreement_signed_on,
        created_at=application.created_at,
        updated_at=application.updated_at,
    )


@router.get("/partnership-commitments", response_model=list[CommitmentPublic])
async def list_partnership_commitments(principal: AnyRole) -> list[CommitmentPublic]:
    """The eleven partnership commitments an application answers yes or no to."""
    return [
        CommitmentPublic(code=c.code, numeral=c.numeral, group=c.group, text=c.text)
        for c in COMMITMENTS
    ]


@router.post("/partnership-applications", status_code=201, response_model=ApplicationPublic)
async def create_partnership_application(
    principal: Buyer, session: SessionDep, body: ApplicationCreate
) -> ApplicationPublic:
    """Apply for partnership: registration form, logo, factory list, the eleven commitments.

    Declining any commitment rejects the application at once with the reason
    "engage as participant"; otherwise it waits for ILO and IFC due diligence (`submitted`).
    """
    if body.factory_list_id is not None:
        try:
            factory_list = await get_list(session=session, list_id=body.factory_list_id)
        except NotFound:
            factory_list = None
        if factory_list is None or factory_list.owner_org != principal.org:
            raise Unprocessable(
                f"factory_list_id {body.factory_list_id!r} is not one of your factory lists; "
                "upload it with POST /factory-lists first."
            )
    accepted = body.commitments.model_dump()
    screening = screen_commitments(accepted)
    application = await create_application(
        session=session,
        org=principal.org,
        submitted_by=principal.user,
        values={
            "status": screening.status,
            "registration": body.registration.model_dump(mode="json"),
            "logo_reference": body.logo_reference,
            "factory_list_id": body.factory_list_id,
            "commitments": accepted,
            "rejection_reason": screening.rejection_reason,
        },
    )
    await events.application_decided(session, application)  # rejected at once, or nothing
    return _public(application)


@router.get("/partnership-applications", response_model=ApplicationPage)
async def list_partnership_applications(
    principal: BuyerOrAdvisor, session: SessionDep, page: PageDep
) -> ApplicationPage:
    """Partnership applications: a buyer's own, or all of them for an advisor."""
    org = None if principal.role == "advisor" else principal.org
    rows, next_cursor = await list_applications(session=session, page=page, org=org)
    return ApplicationPage(items=[_public(r) for r in rows], next_cursor=next_cursor)


@router.get("/partnership-applications/{application_id}", response_model=ApplicationPublic)
async def get_partnership_application(
    principal: BuyerOrAdvisor, session: SessionDep, application_id: Id
) -> ApplicationPublic:
    """One partnership application and where it stands."""
    application = await get_application(session=session, application_id=application_id)
    ensure_sees_application(principal, application)
    return _public(application)


@router.post(
    "/partnership-applications/{application_id}/due-diligence",
    response_model=ApplicationPublic,
    responses=problem_responses(409),
)
async def record_due_diligence(
    principal: Advisor,
    session: SessionDep,
    application_id: Id,
    body: DueDiligenceRequest,
) -> ApplicationPublic:
    """Record ILO or IFC due diligence: both cleared approves, either refused rejects.

    `pending` marks that a review has started. An outcome once cleared or refused is final:
    recording it again changes nothing, a different one is a 409.
    """
    application = await get_application(
        session=session, application_id=application_id, for_update=True
    )
    state = after_due_diligence(
        status=application.status,
        ilo=application.ilo_outcome,  # type: ignore[arg-type]
        ifc=application.ifc_outcome,  # type: ignore[arg-type]
        body=body.body,
        outcome=body.outcome,
    )
    now = datetime.now(UTC)
    prefix = body.body.lower()
    setattr(application, f"{prefix}_outcome", body.outcome)
    setattr(application, f"{prefix}_note", body.note)
    setattr(application, f"{prefix}_recorded_by", principal.user)
    setattr(application, f"{prefix}_recorded_at", now)
    if state.status == "approved" and application.status != "approved":
        application.approved_at = now
    decided = state.status != application.status
    application.status = state.status
    application.rejection_reason = state.rejection_reason
    application.updated_at = now
    await session.flush()
    if decided:
        await events.application_decided(session, application)
    return _public(application)


@router.post(
    "/partnership-applications/{application_id}/agreement",
    response_model=ApplicationPublic,
    responses=problem_responses(409),
)
async def sign_partnership_agreement(
    principal: Advisor,
    session: SessionDep,
    application_id: Id,
    body: AgreementRequest,
) -> ApplicationPublic:
    """Record the signed partnership agreement of an approved application."""
    application = await get_application(
        session=session, application_id=application_id, for_update=True
    )
    application.status = sign_agreement(application.status)
    now = datetime.now(UTC)
    application.agreement_signed_at = now
    application.agreement_signed_on = body.signed_on or now.date()
    application.updated_at = now
    await session.flush()
    await events.application_decided(session, application)
    return _public(application)
