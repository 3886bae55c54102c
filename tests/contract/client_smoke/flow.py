"""A buyer's way to a factory report written against the client that openapi-python-client
generates from the gateway's merged `/openapi.json` (package `bw_client`), with no hand
edits. tests/contract/test_generated_clients.py generates the package into a scratch
directory, type-checks this module against it (mypy --strict) and runs `run()` against the
real stack; the project's own mypy run skips this directory (there is no `bw_client` there).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from typing import Any, TypeVar

from bw_client import AuthenticatedClient
from bw_client.api.billing import (
    billing_create_invoice,
    billing_create_participant_quote,
    billing_create_payment,
    billing_get_credits,
)
from bw_client.api.eligibility import (
    eligibility_change_enrolment,
    eligibility_create_check,
    eligibility_create_factory_entry,
    eligibility_create_factory_list,
)
from bw_client.api.integrations import integrations_get_event, integrations_list_events
from bw_client.api.reports import (
    reports_approve_access_request,
    reports_create_access_request,
    reports_create_report,
    reports_create_unlock,
    reports_get_report,
    reports_open_report_cycle,
    reports_release_report,
)
from bw_client.models import (
    AccessRequestCreate,
    AccessRequestPublic,
    CheckRequest,
    CreditsInvoiceCreate,
    CreditsPublic,
    DocumentKind,
    EligibilityCreateFactoryListFilesBody,
    EnrolmentChange,
    EnrolmentChangeStatus,
    EventPage,
    FactoryCreate,
    FactoryListResult,
    FactoryPublic,
    FindingIn,
    InvoicePublic,
    ParticipantQuotePublic,
    ParticipantQuoteRequest,
    PaymentCreate,
    Problem,
    ReasonOutcome,
    ReportCreate,
    ReportCycleCreate,
    ReportCyclePublic,
    ReportPublic,
    ScopedDecision,
    TpaStatus,
    UnlockCreate,
    UnlockCreatedEvent,
    UnlockPublic,
)
from bw_client.types import File, Response

T = TypeVar("T")
Token = Callable[[str, str], str]  # (role, org) -> bearer token


def parsed(reply: Response[Any], kind: type[T], status: HTTPStatus = HTTPStatus.OK) -> T:
    """The reply's parsed body, checked to be the documented model for its status."""
    assert reply.status_code == status, (reply.status_code, reply.content[:500])
    body = reply.parsed
    assert isinstance(body, kind), (kind, body)
    return body


def idempotency_key() -> str:
    return str(uuid.uuid4())


def run(base_url: str, token: Token) -> None:
    with ExitStack() as opened:

        def client(role: str, org: str) -> AuthenticatedClient:
            made = AuthenticatedClient(base_url=base_url, token=token(role, org), timeout=None)
            return opened.enter_context(made)

        buyer_flow(client)


def buyer_flow(client: Callable[[str, str], AuthenticatedClient]) -> None:
    run_id = uuid.uuid4().hex[:8]
    buyer_org = f"buyer-{run_id}"
    year = datetime.now(UTC).year
    advisor = client("advisor", "bw")
    participant = client("participant", buyer_org)

    # Eligibility check, and a CSV factory list sent as the documented multipart file.
    decision = parsed(
        eligibility_create_check.sync_detailed(
            client=participant,
            body=CheckRequest(country="KH", products=None, worker_count=250),
        ),
        ScopedDecision,
    )
    failed = [r.code for r in decision.reasons if r.outcome is ReasonOutcome.FAILED]
    assert failed == ["min_workers"], decision.reasons  # Cambodia: at least 300 workers
    csv = b"client_ref,name,country,worker_count\nS-1,Smoke Mill,KH,1200\n"
    upload = eligibility_create_factory_list.sync_detailed(
        client=participant,
        body=EligibilityCreateFactoryListFilesBody(
            file=File(payload=BytesIO(csv), file_name="list.csv", mime_type="text/csv")
        ),
    )
    assert upload.status_code in (HTTPStatus.CREATED, HTTPStatus.ACCEPTED), upload.content
    assert isinstance(upload.parsed, FactoryListResult)
    assert upload.parsed.row_count == 1

    # The factory in the registry, enrolled, with a released assessment.
    factory = parsed(
        eligibility_create_factory_entry.sync_detailed(
            client=advisor,
            body=FactoryCreate(
                country="BD", name=f"Smoke Garments {run_id}", region="Gazipur", worker_count=900
            ),
        ),
        FactoryPublic,
        HTTPStatus.CREATED,
    )
    parsed(
        eligibility_change_enrolment.sync_detailed(
            factory.id, client=advisor, body=EnrolmentChange(status=EnrolmentChangeStatus.ENROLLED)
        ),
        FactoryPublic,
    )
    factory_user = client("factory", factory.id)
    parsed(
        reports_open_report_cycle.sync_detailed(
            factory.id, client=advisor, body=ReportCycleCreate(cycle=1)
        ),
        ReportCyclePublic,
        HTTPStatus.CREATED,
    )
    draft = parsed(
        reports_create_report.sync_detailed(
            factory.id,
            1,
            client=advisor,
            body=ReportCreate(
                kind=DocumentKind.ASSESSMENT,
                title="Assessment report, cycle 1",
                findings=[
                    FindingIn(
                        cluster="Compensation",
                        question="Overtime paid correctly?",
                        publicly_reported=False,
                        compliant=True,
                    )
                ],
            ),
        ),
        ReportPublic,
        HTTPStatus.CREATED,
    )
    parsed(reports_release_report.sync_detailed(draft.id, client=advisor), ReportPublic)

    # Quote, then an invoice for one credit (idempotent on its key), paid by the advisor.
    quote = parsed(
        billing_create_participant_quote.sync_detailed(
            client=participant, body=ParticipantQuoteRequest(year=year, report_cycles=1)
        ),
        ParticipantQuotePublic,
    )
    key = idempotency_key()
    order = CreditsInvoiceCreate(year=year, report_cycles=1, kind="credits")
    invoice = parsed(
        billing_create_invoice.sync_detailed(client=participant, body=order, idempotency_key=key),
        InvoicePublic,
        HTTPStatus.CREATED,
    )
    again = billing_create_invoice.sync_detailed(
        client=participant, body=order, idempotency_key=key
    )
    assert isinstance(again.parsed, InvoicePublic) and again.parsed.id == invoice.id
    assert invoice.total == quote.total
    parsed(
        billing_create_payment.sync_detailed(
            invoice.id,
            client=advisor,
            body=PaymentCreate(amount=invoice.total),
            idempotency_key=idempotency_key(),
        ),
        InvoicePublic,
        HTTPStatus.CREATED,
    )
    assert parsed(billing_get_credits.sync_detailed(client=participant), CreditsPublic).balance == 1

    # TPA: the participant asks, the factory approves.
    request = parsed(
        reports_create_access_request.sync_detailed(
            client=participant, body=AccessRequestCreate(factory_id=factory.id)
        ),
        AccessRequestPublic,
        HTTPStatus.CREATED,
    )
    approved = parsed(
        reports_approve_access_request.sync_detailed(request.id, client=factory_user),
        AccessRequestPublic,
    )
    assert approved.status is TpaStatus.APPROVED

    # Unlock the cycle (one credit), then read the report.
    unlock = parsed(
        reports_create_unlock.sync_detailed(
            client=participant,
            body=UnlockCreate(factory_id=factory.id, cycle=1),
            idempotency_key=idempotency_key(),
        ),
        UnlockPublic,
        HTTPStatus.CREATED,
    )
    assert (unlock.buyer_org, unlock.charged_credits) == (buyer_org, 1)
    report = parsed(reports_get_report.sync_detailed(draft.id, client=participant), ReportPublic)
    assert report.findings is not None
    assert [f.question for f in report.findings] == ["Overtime paid correctly?"]

    # The unlock reaches the organisation's event feed as its typed event, read back by id.
    deadline = time.monotonic() + 30
    while True:
        page = parsed(
            integrations_list_events.sync_detailed(client=participant, types=["unlock.created"]),
            EventPage,
        )
        if page.items or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    (event,) = page.items
    assert isinstance(event, UnlockCreatedEvent), event
    assert (event.data.unlock_id, event.data.cycle) == (unlock.id, 1)
    again_read = integrations_get_event.sync_detailed(event.id, client=participant)
    assert isinstance(again_read.parsed, UnlockCreatedEvent) and again_read.parsed.id == event.id

    # Bad input is a 422 whose body the client parses as the documented Problem.
    problem = parsed(
        billing_create_participant_quote.sync_detailed(
            client=participant, body=ParticipantQuoteRequest(year=year, report_cycles=0)
        ),
        Problem,
        HTTPStatus.UNPROCESSABLE_ENTITY,
    )
    assert problem.status == 422
    assert isinstance(problem.errors, list)
    assert [e["field"] for e in problem.errors] == ["report_cycles"], problem.errors
