"""Bulk access requests (issue 12, item 7): a buyer asks up to 1,000 factories for
third-party access in one call, from a list of factory ids or from one of its scoped
factory lists in eligibility (each row's matched factory), with one outcome per row.

Fast at any size: one call to eligibility for the list's rows, one for the registry entries
of all the factories, one query for the buyer's existing requests, one INSERT for the new
ones, one for their events and one for the factories' notifications. Each created (or
asked-again) request records the same event and notification as a single request."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import domain, events
from services.reports.clients import EligibilityClient, RegistryFactory
from services.reports.domain.access import Caller
from services.reports.models import AccessRequest
from services.reports.schemas import (
    MAX_BULK_ACCESS,
    BulkAccessOutcome,
    BulkAccessReply,
    BulkAccessRequestCreate,
    BulkAccessRow,
    NotificationKind,
    TpaStatus,
)
from services.reports.store import access as store_access
from services.reports.store import members as store_members
from shared.clock import now
from shared.errors import Unprocessable

__all__ = ["request_many", "tpa_requested_message"]

REQUESTED = BulkAccessOutcome.REQUESTED


def tpa_requested_message(row: AccessRequest) -> str:
    """The factory's notification of a (new or repeated) request."""
    return (
        f"{row.buyer_org} ({row.buyer_role}) asks for third-party access to your reports; "
        "approve or decline with POST /access-requests/{id}/approve|decline."
    )


@dataclass(frozen=True, slots=True)
class _Input:
    row: int
    client_ref: str | None
    factory_id: str | None


async def _inputs(
    eligibility: EligibilityClient, caller: Caller, body: BulkAccessRequestCreate
) -> list[_Input]:
    if body.factory_ids is not None:
        return [_Input(i, None, factory_id) for i, factory_id in enumerate(body.factory_ids)]
    assert body.factory_list_id is not None  # the route checked: one or the other
    listed = await eligibility.list_rows(
        list_id=body.factory_list_id, org=caller.org, limit=MAX_BULK_ACCESS + 1
    )
    if listed.row_count > MAX_BULK_ACCESS:
        raise Unprocessable(
            f"Factory list {body.factory_list_id!r} has {listed.row_count:,} rows; a bulk access "
            f"request takes at most {MAX_BULK_ACCESS:,} factories. Send its factories in parts "
            "with `factory_ids`.",
            errors=[
                {
                    "loc": ["body", "factory_list_id"],
                    "field": "factory_list_id",
                    "msg": f"more than {MAX_BULK_ACCESS} rows",
                    "type": "too_long",
                }
            ],
        )
    return [_Input(r.row, r.client_ref, r.factory_id) for r in listed.rows]


async def request_many(
    session: AsyncSession,
    eligibility: EligibilityClient,
    caller: Caller,
    body: BulkAccessRequestCreate,
) -> BulkAccessReply:
    """Ask every enrolled factory of the input that the buyer holds no pending or approved
    request for; the reply has one row per input row, in input order."""
    inputs = await _inputs(eligibility, caller, body)
    # Both eligibility calls come before the first query: no connection held meanwhile.
    registry = await eligibility.factories([i.factory_id for i in inputs if i.factory_id])
    moment = now()
    held = await store_access.requests_of(
        session=session, org=caller.org, factory_ids=list(registry), for_update=True
    )
    outcomes = {
        factory_id: _outcome(factory, held.get(factory_id))
        for factory_id, factory in registry.items()
    }
    asked = sorted(factory_id for factory_id, outcome in outcomes.items() if outcome == REQUESTED)
    created = await store_access.request_access_many(
        session=session,
        countries={f: registry[f].country for f in asked if f not in held},
        buyer=caller.principal,
        now=moment,
    )
    raced = [f for f in asked if f not in held and f not in created]
    if raced:  # a concurrent request created them first: report them as they are
        for factory_id, row in (
            await store_access.requests_of(session=session, org=caller.org, factory_ids=raced)
        ).items():
            held[factory_id] = row
            outcomes[factory_id] = _outcome(registry[factory_id], row)
    reopened = [held[f] for f in asked if f in held and f not in raced]
    for row in reopened:  # declined or revoked, asked again: pending, as a single request
        row.status, row.requested_by, row.buyer_role = (
            TpaStatus.PENDING,
            caller.principal.user,
            caller.role,
        )
        row.requested_at = row.updated_at = moment
        row.decided_at = None
    await session.flush()
    changed = sorted([*created.values(), *reopened], key=lambda row: row.factory_id)
    await events.access_requests_changed(session, changed)
    await store_members.notify_each(
        session=session,
        kind=NotificationKind.TPA_REQUESTED,
        now=moment,
        notes=[(r.factory_id, tpa_requested_message(r), r.factory_id, r.id) for r in changed],
    )
    rows = {**held, **created}
    items = []
    for given in inputs:
        key = given.factory_id or ""  # a list row that matched nothing: unknown
        mine = rows.get(key)
        items.append(
            BulkAccessRow(
                row=given.row,
                client_ref=given.client_ref,
                factory_id=given.factory_id,
                outcome=outcomes.get(key, BulkAccessOutcome.UNKNOWN),
                access_request_id=mine.id if mine else None,
                status=TpaStatus(mine.status) if mine else None,
            )
        )
    counts = Counter(item.outcome for item in items)
    return BulkAccessReply(
        items=items, summary={outcome: counts[outcome] for outcome in BulkAccessOutcome}
    )


def _outcome(factory: RegistryFactory, row: AccessRequest | None) -> BulkAccessOutcome:
    return domain.bulk_access_outcome(
        enrolment_status=factory.enrolment_status, tpa_status=row.status if row else None
    )
