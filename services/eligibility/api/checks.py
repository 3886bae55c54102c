"""Eligibility decisions: one factory, or up to 10,000 at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from services.eligibility import events
from services.eligibility.api.deps import (
    EngineDep,
    RegistryDep,
    json_body,
    json_reply,
    read_json,
)
from services.eligibility.domain.scoping import ScopedDecision
from services.eligibility.jobs.gctune import batch_allocations
from services.eligibility.jobs.pipeline import scope
from services.eligibility.schemas import BulkCheckReply, BulkCheckRequest, CheckRequest
from services.eligibility.store import record_lookups
from shared.app import problem_responses
from shared.auth import AnyRole, BuyerOrAdvisor
from shared.clock import today
from shared.db import SessionDep
from shared.requestid import current_request_id

router = APIRouter(tags=["checks"])

_DECISION = TypeAdapter(ScopedDecision)
_BULK = TypeAdapter(BulkCheckReply)


@router.post("/checks", response_model=ScopedDecision)
async def create_check(
    principal: AnyRole,
    session: SessionDep,
    engine: EngineDep,
    registry: RegistryDep,
    body: CheckRequest,
) -> Response:
    """Decide whether one factory can join its country's programme, and why.

    Send the facts you know (SPEC §3); a rule whose fact is missing makes the status
    `insufficient_data` and lists the field in `missing_fields`. With a `name` (or `os_id`,
    `factory_id`) the factory is matched to the registry: an enrolled factory is `enrolled`,
    and facts you did not send are taken from its registry entry (`facts_from_registry`).

    Nomination (BD, KH, PK, VN): `nominated_by_partner` is your assumption, a what-if, and
    the reason says "assumed by the caller". Without it, the nominations partners recorded
    (POST /nominations) for the matched registry factory decide, as they stand now (like the
    registry's facts), and the reason names the nomination that counted (who nominated only
    to that partner and to the programme's advisors); none recorded is `needs_nomination`
    (when all else is met). A
    factory that matches no registry factory stays `insufficient_data` with
    `nominated_by_partner` in `missing_fields`.

    Products count with the synonyms of the programme's rule data (`product_synonyms`):
    Bangladesh's supporting processing includes textiles; in Ethiopia footwear and bags
    count as leathers (leather footwear, leather goods), taken to be leather, which a
    `product_assumption` note says. Cambodia covers garments, travel goods and bags of
    exporting factories only (`has_export_license`; missing: `insufficient_data`).

    `waitlist` (`{status: "waitlisted", until, message}`) is set while a programme's
    capacity is fully booked on `as_of` (Bangladesh: until 2024-12-31) for a factory that
    could join (eligible, needs_nomination, insufficient_data); otherwise null.
    """
    outcome = await scope(
        session=session,
        engine=engine,
        registry=registry,
        rows=[body],
        as_of=body.as_of or today(),
        viewer=principal,
    )
    await record_lookups(
        session=session,
        factory_ids=outcome.matched_factory_ids,
        principal=principal,
        source="check",
        reference=current_request_id(),
    )
    await events.decisions_recorded(
        session, principal=principal, source="check", decisions=outcome.decisions
    )
    return json_reply(_DECISION, outcome.decisions[0])


@router.post(
    "/checks/bulk",
    response_model=BulkCheckReply,
    responses=problem_responses(415),
    openapi_extra=json_body(BulkCheckRequest),
)
async def create_bulk_check(
    request: Request,
    principal: BuyerOrAdvisor,
    session: SessionDep,
    engine: EngineDep,
    registry: RegistryDep,
) -> Response:
    """Decide for up to 10,000 factories at once, in input order, with a summary.

    Each result is the decision plus your `client_ref`, its position (`row`) and the registry
    `match`. The body is checked as a whole (a bad row is a 422 naming it); to have bad rows
    reported one by one, or for more rows, upload a list with POST /factory-lists.
    """
    with batch_allocations():
        body = await read_json(request, BulkCheckRequest)
        outcome = await scope(
            session=session,
            engine=engine,
            registry=registry,
            rows=body.factories,
            as_of=body.as_of or today(),
            viewer=principal,
        )
        await record_lookups(
            session=session,
            factory_ids=outcome.matched_factory_ids,
            principal=principal,
            source="bulk_check",
            reference=current_request_id(),
        )
        await events.decisions_recorded(
            session, principal=principal, source="bulk_check", decisions=outcome.decisions
        )
        reply = BulkCheckReply.model_construct(results=outcome.decisions, summary=outcome.summary)
        return json_reply(_BULK, reply)
