"""The invoice state machine and the payment rule (SPEC §4)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from services.billing.domain import (
    IllegalTransition,
    InvoiceStatus,
    check_payment,
    transition,
)
from shared.errors import Unprocessable

ISSUED, PAID, VOID = InvoiceStatus.ISSUED, InvoiceStatus.PAID, InvoiceStatus.VOID


@pytest.mark.parametrize(("current", "target"), [(ISSUED, PAID), (ISSUED, VOID)])
def test_an_issued_invoice_can_be_paid_or_voided(
    current: InvoiceStatus, target: InvoiceStatus
) -> None:
    assert transition(invoice_id="inv_1", current=current, target=target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [(PAID, PAID), (PAID, VOID), (VOID, PAID), (VOID, VOID), (ISSUED, ISSUED)],
)
def test_paid_and_void_are_final(current: InvoiceStatus, target: InvoiceStatus) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(invoice_id="inv_1", current=current, target=target)
    assert caught.value.status == 409
    assert f"it is {current.value}" in caught.value.detail
    assert caught.value.extra["current_status"] == current.value


def test_the_exact_total_settles_an_invoice() -> None:
    check_payment(invoice_id="inv_1", total=Decimal("3300.00"), amount=Decimal("3300"))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("3299.99", "0.01 USD short of the total of invoice inv_1 (3,300.00 USD)"),
        ("0", "3,300.00 USD short"),
        ("3300.01", "exceeds by 0.01 USD"),
        ("6600.00", "Overpayments are not accepted"),
    ],
)
def test_partial_and_excess_payments_are_refused(amount: str, message: str) -> None:
    with pytest.raises(Unprocessable, match=re.escape(message)) as caught:
        check_payment(invoice_id="inv_1", total=Decimal("3300.00"), amount=Decimal(amount))
    assert "exactly 3300.00" in caught.value.detail
