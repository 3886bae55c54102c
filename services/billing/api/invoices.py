"""Invoices: a buyer creates its own; advisors record the payment or void it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from services.billing import domain, exports, store
from services.billing.api.deps import OrgQuery, with_idempotency_note
from services.billing.domain import pricing
from services.billing.models import Invoice
from services.billing.rules import published_price_books
from services.billing.schemas import (
    FIRST_YEAR,
    LAST_YEAR,
    CreditsInvoiceCreate,
    InvoiceCreate,
    InvoicePublic,
    PartnershipInvoiceCreate,
    PaymentCreate,
    VoidRequest,
)
from shared.app import problem_responses
from shared.auth import Advisor, Buyer, BuyerOrAdvisor, Principal
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.idempotency import IdempotencyKey, idempotent
from shared.pagination import Page, PageDep, UpdatedSince
from shared.pdf import pdf_alternative, pdf_reply, pdf_responses, render, wants_pdf
from shared.types import Id

router = APIRouter(tags=["invoices"])

KIND_OF_ROLE = {
    "partner": domain.InvoiceKind.PARTNERSHIP,
    "participant": domain.InvoiceKind.CREDITS,
}


async def _public(session: AsyncSession, invoice: Invoice) -> InvoicePublic:
    lines = await store.lines_of(session=session, invoice_ids=[invoice.id])
    return InvoicePublic.of(invoice, lines[invoice.id])


async def _visible_invoice(
    session: AsyncSession, *, invoice_id: str, principal: Principal, for_update: bool = False
) -> Invoice:
    """The invoice if the caller may see it; another organisation's is 'not found'."""
    invoice = await store.get_invoice(session=session, invoice_id=invoice_id, for_update=for_update)
    if invoice is None or (principal.role != "advisor" and invoice.org != principal.org):
        raise NotFound(f"There is no invoice {invoice_id}.")
    return invoice


@router.post(
    "/invoices", status_code=201, response_model=InvoicePublic, responses=problem_responses(409)
)
@with_idempotency_note
async def create_invoice(
    request: Request,
    session: SessionDep,
    principal: Buyer,
    body: InvoiceCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create an issued invoice for the caller's organisation.

    A partner's invoice is its annual partnership fee (`kind: partnership`; one per year
    unless voided, 409 otherwise); a participant's buys report cycle credits (`kind:
    credits`). The invoice is addressed to the caller's organisation, never to a factory.
    """
    expected = KIND_OF_ROLE[principal.role]
    if body.kind != expected:
        raise Forbidden(
            f"A {principal.role} is invoiced with kind {expected.value!r}, not {body.kind!r}: "
            "partners pay the annual partnership fee, participants buy report cycle credits."
        )

    async def issue() -> InvoicePublic:
        if isinstance(body, PartnershipInvoiceCreate):
            invoice = await store.issue_partnership_invoice(
                session=session,
                org=principal.org,
                by=principal.user,
                quote=pricing.quote_partner(
                    published_price_books(),
                    year=body.year,
                    apparel_revenue_usd=body.apparel_revenue_usd,
                    factory_count=body.factory_count,
                ),
            )
        else:
            assert isinstance(body, CreditsInvoiceCreate)
            invoice = await store.issue_credits_invoice(
                session=session,
                org=principal.org,
                by=principal.user,
                quote=pricing.quote_participant(
                    published_price_books(), year=body.year, report_cycles=body.report_cycles
                ),
            )
        return await _public(session, invoice)

    return await idempotent(
        request=request,
        session=session,
        scope=principal.org,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        run=issue,
    )


@router.get("/invoices")
async def list_invoices(
    session: SessionDep,
    principal: BuyerOrAdvisor,
    page: PageDep,
    updated_since: UpdatedSince,
    status: domain.InvoiceStatus | None = None,
    kind: domain.InvoiceKind | None = None,
    year: Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR)] = None,
    org: OrgQuery = None,
) -> Page[InvoicePublic]:
    """Invoices, oldest first: a buyer's own; advisors see every organisation's (`?org=`).

    Filters: `status`, `kind`, `year`, `updated_since` (issued, paid or voided since), and
    for advisors `org`.
    """
    if principal.role != "advisor":
        if org is not None and org != principal.org:
            raise Forbidden("You can list only your own organisation's invoices.")
        org = principal.org
    rows, next_cursor = await store.list_invoices(
        session=session,
        page=page,
        org=org,
        status=status,
        kind=kind,
        year=year,
        updated_since=updated_since,
    )
    lines = await store.lines_of(session=session, invoice_ids=[row.id for row in rows])
    return Page(
        items=[InvoicePublic.of(row, lines[row.id]) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoicePublic,
    responses=pdf_alternative("The invoice as JSON or, with `Accept: application/pdf`, as a PDF."),
)
async def get_invoice(
    invoice_id: Id, request: Request, session: SessionDep, principal: BuyerOrAdvisor
) -> InvoicePublic | Response:
    """One invoice (another organisation's is 404).

    With `Accept: application/pdf` the invoice as a PDF (as `GET
    /invoices/{invoice_id}/invoice.pdf`)."""
    invoice = await _visible_invoice(session, invoice_id=invoice_id, principal=principal)
    reply = await _public(session, invoice)
    if wants_pdf(request):
        return await _pdf(reply)
    return reply


@router.get(
    "/invoices/{invoice_id}/invoice.pdf",
    response_class=Response,
    responses=pdf_responses("The invoice as a PDF: its lines, total, payment or voiding."),
)
async def download_invoice(
    invoice_id: Id, session: SessionDep, principal: BuyerOrAdvisor
) -> Response:
    """One invoice as a PDF, for whoever may read its JSON (`GET /invoices/{invoice_id}`)."""
    invoice = await _visible_invoice(session, invoice_id=invoice_id, principal=principal)
    return await _pdf(await _public(session, invoice))


async def _pdf(invoice: InvoicePublic) -> Response:
    content = await run_in_threadpool(render, exports.invoice_sheet(invoice))
    return pdf_reply(content, filename=exports.filename(invoice))


@router.post(
    "/invoices/{invoice_id}/payments",
    status_code=201,
    response_model=InvoicePublic,
    responses=problem_responses(409),
)
@with_idempotency_note
async def create_payment(
    invoice_id: Id,
    request: Request,
    session: SessionDep,
    principal: Advisor,
    body: PaymentCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the payment of an invoice's total; returns the paid invoice.

    The amount must equal the invoice total: partial and excess payments are refused (422).
    The invoice becomes `paid`; a credits invoice posts its credits to the buyer's ledger, a
    partnership invoice sets the partner's footprint for the invoice's year. Only an issued
    invoice can be paid (409 names its current state).
    """

    async def pay() -> InvoicePublic:
        invoice = await _visible_invoice(
            session, invoice_id=invoice_id, principal=principal, for_update=True
        )
        await store.pay_invoice(
            session=session,
            invoice=invoice,
            amount=body.amount,
            reference=body.reference,
            by=principal.user,
        )
        return await _public(session, invoice)

    return await idempotent(
        request=request,
        session=session,
        scope=principal.org,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        run=pay,
    )


@router.post("/invoices/{invoice_id}/void", responses=problem_responses(409))
async def void_invoice(
    invoice_id: Id,
    session: SessionDep,
    principal: Advisor,
    body: VoidRequest | None = None,
) -> InvoicePublic:
    """Void an issued invoice (a paid or void one is 409 naming its state)."""
    invoice = await _visible_invoice(
        session, invoice_id=invoice_id, principal=principal, for_update=True
    )
    await store.void_invoice(
        session=session, invoice=invoice, reason=body.reason if body else None, by=principal.user
    )
    return await _public(session, invoice)
