"""The access decisions of the reports service, table-driven: every role and state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from services.reports.domain.access import (
    Decision,
    Verdict,
    can_draft,
    can_edit_plan,
    can_manage_members,
    can_read,
    can_share,
    can_unlock,
    document_visible,
    enforce,
    member_gate,
)
from shared.auth import Principal
from shared.errors import Forbidden, NotFound

ALLOW, FORBIDDEN, NOT_FOUND = Verdict.ALLOW, Verdict.FORBIDDEN, Verdict.NOT_FOUND
FACTORY, OTHER_FACTORY = "fac-1", "fac-2"
BUYER, OTHER_BUYER = "buyer-1", "buyer-2"


@dataclass(frozen=True)
class Cycle:
    id: str = "rcy_1"
    factory_id: str = FACTORY
    country: str = "BD"


@dataclass(frozen=True)
class Tpa:
    status: str
    factory_id: str = FACTORY
    buyer_org: str = BUYER


@dataclass(frozen=True)
class UnlockRow:
    status: str = "active"
    buyer_org: str = BUYER
    report_cycle_id: str = "rcy_1"


@dataclass(frozen=True)
class Share:
    with_org: str = BUYER
    report_cycle_id: str = "rcy_1"


@dataclass(frozen=True)
class Member:
    org: str
    user_id: str
    status: str = "active"
    super_user: bool = False


@dataclass(frozen=True)
class Document:
    kind: str
    status: str
    factory_id: str = FACTORY


def who(role: str, org: str, countries: tuple[str, ...] = ()) -> Principal:
    return Principal(user=f"{role}-user", org=org, role=role, countries=countries)


def active(principal: Principal, status: str = "active", super_user: bool = False) -> Member:
    return Member(principal.org, principal.user, status, super_user)


ADVISOR_ALL = who("advisor", "bw", ("*",))
ADVISOR_BD = who("advisor", "bw", ("BD",))
ADVISOR_KH = who("advisor", "bw", ("KH", "VN"))
OWN_FACTORY = who("factory", FACTORY)
FOREIGN_FACTORY = who("factory", OTHER_FACTORY)
PARTNER = who("partner", BUYER)
PARTICIPANT = who("participant", BUYER)
BUYERS = [PARTNER, PARTICIPANT]

# (tpa status or None, unlock, share) -> verdict, for each buyer role.
BUYER_TABLE: list[tuple[str | None, UnlockRow | None, Share | None, Verdict]] = [
    (None, None, None, NOT_FOUND),
    (None, None, Share(), NOT_FOUND),  # a share alone does not make a supply-chain member
    (None, UnlockRow(), None, ALLOW),
    ("pending", None, None, NOT_FOUND),
    ("pending", None, Share(), NOT_FOUND),
    ("pending", UnlockRow(), None, ALLOW),  # unlocked, revoked, then asked again
    ("approved", None, None, FORBIDDEN),  # knows the factory: "unlock first"
    ("approved", None, Share(), ALLOW),
    ("approved", UnlockRow(), None, ALLOW),
    ("approved", UnlockRow(), Share(), ALLOW),
    ("approved", UnlockRow(status="pending"), None, FORBIDDEN),  # payment not through yet
    ("approved", UnlockRow(buyer_org=OTHER_BUYER), None, FORBIDDEN),  # someone else's
    ("approved", UnlockRow(report_cycle_id="rcy_2"), None, FORBIDDEN),  # another cycle's
    ("approved", None, Share(with_org=OTHER_BUYER), FORBIDDEN),
    ("approved", None, Share(report_cycle_id="rcy_2"), FORBIDDEN),
    ("declined", None, None, NOT_FOUND),
    ("declined", None, Share(), NOT_FOUND),
    ("declined", UnlockRow(), None, ALLOW),
    ("revoked", None, None, FORBIDDEN),
    ("revoked", None, Share(), FORBIDDEN),  # sharing needs the TPA at reading time
    ("revoked", UnlockRow(), None, ALLOW),  # SPEC §5: unlocked cycles stay readable
    ("revoked", UnlockRow(status="pending"), None, FORBIDDEN),
]


@pytest.mark.parametrize("buyer", BUYERS, ids=lambda p: p.role)
@pytest.mark.parametrize(("tpa", "unlock", "share", "expected"), BUYER_TABLE)
def test_can_read_buyer(
    buyer: Principal,
    tpa: str | None,
    unlock: UnlockRow | None,
    share: Share | None,
    expected: Verdict,
) -> None:
    tpa_row = Tpa(tpa) if tpa else None
    assert can_read(buyer, Cycle(), tpa_row, unlock, share, active(buyer)).verdict is expected


@pytest.mark.parametrize("buyer", BUYERS, ids=lambda p: p.role)
def test_a_tpa_for_another_factory_or_buyer_counts_for_nothing(buyer: Principal) -> None:
    for tpa in (Tpa("approved", factory_id=OTHER_FACTORY), Tpa("approved", buyer_org=OTHER_BUYER)):
        decision = can_read(buyer, Cycle(), tpa, None, Share(), active(buyer))
        assert decision.verdict is NOT_FOUND


# (principal, cycle) -> verdict for the roles whose reading does not depend on TPA/unlock.
STAFF_AND_FACTORY_TABLE = [
    (ADVISOR_ALL, Cycle(), ALLOW),
    (ADVISOR_BD, Cycle(), ALLOW),
    (ADVISOR_KH, Cycle(), FORBIDDEN),  # another programme: known to Better Work, not theirs
    (ADVISOR_KH, Cycle(country="VN"), ALLOW),
    (OWN_FACTORY, Cycle(), ALLOW),
    (FOREIGN_FACTORY, Cycle(), NOT_FOUND),
]


@pytest.mark.parametrize(("principal", "cycle", "expected"), STAFF_AND_FACTORY_TABLE)
def test_can_read_advisor_and_factory(
    principal: Principal, cycle: Cycle, expected: Verdict
) -> None:
    membership = None if principal.role == "advisor" else active(principal)
    # Buyer-side rows of the same org change nothing for these roles.
    for tpa, unlock in itertools.product((None, Tpa("approved")), (None, UnlockRow())):
        decision = can_read(principal, cycle, tpa, unlock, Share(), membership)
        assert decision.verdict is expected


NON_ADVISORS = [OWN_FACTORY, FOREIGN_FACTORY, PARTNER, PARTICIPANT]


@pytest.mark.parametrize("principal", NON_ADVISORS, ids=lambda p: f"{p.role}:{p.org}")
@pytest.mark.parametrize("membership_kind", ["pending", "missing", "other-user", "other-org"])
def test_no_approved_membership_is_forbidden_whatever_else_holds(
    principal: Principal, membership_kind: str
) -> None:
    membership = {
        "pending": active(principal, status="pending"),
        "missing": None,
        "other-user": Member(principal.org, "someone-else"),
        "other-org": Member("another-org", principal.user),
    }[membership_kind]
    for tpa, unlock, share in itertools.product(
        (None, Tpa("approved"), Tpa("revoked")), (None, UnlockRow()), (None, Share())
    ):
        decision = can_read(principal, Cycle(), tpa, unlock, share, membership)
        assert decision.verdict is FORBIDDEN
        assert "member" in decision.reason


def test_pending_message_says_who_approves() -> None:
    decision = member_gate(PARTNER, active(PARTNER, status="pending"))
    assert decision.verdict is FORBIDDEN
    assert "super-user" in decision.reason


def test_advisors_need_no_membership() -> None:
    assert member_gate(ADVISOR_ALL, None).allowed


# can_unlock: (role, tpa) -> verdict; the cycle is looked up only after this passes.
UNLOCK_TABLE = [
    (PARTNER, None, FORBIDDEN),
    (PARTNER, "pending", FORBIDDEN),
    (PARTNER, "approved", ALLOW),
    (PARTNER, "declined", FORBIDDEN),
    (PARTNER, "revoked", FORBIDDEN),
    (PARTICIPANT, None, FORBIDDEN),
    (PARTICIPANT, "pending", FORBIDDEN),
    (PARTICIPANT, "approved", ALLOW),
    (PARTICIPANT, "declined", FORBIDDEN),
    (PARTICIPANT, "revoked", FORBIDDEN),
    (OWN_FACTORY, "approved", FORBIDDEN),
    (ADVISOR_ALL, "approved", FORBIDDEN),
]


@pytest.mark.parametrize(("principal", "tpa", "expected"), UNLOCK_TABLE)
def test_can_unlock(principal: Principal, tpa: str | None, expected: Verdict) -> None:
    membership = None if principal.role == "advisor" else active(principal)
    tpa_row = Tpa(tpa, buyer_org=principal.org) if tpa else None
    decision = can_unlock(principal, FACTORY, tpa_row, membership)
    assert decision.verdict is expected
    if tpa == "revoked":
        assert "revoked" in decision.reason
    if tpa is None and principal.is_buyer:
        assert "POST /access-requests" in decision.reason


def test_can_unlock_ignores_a_tpa_on_another_factory() -> None:
    decision = can_unlock(PARTNER, FACTORY, Tpa("approved", factory_id=OTHER_FACTORY), None)
    assert decision.verdict is FORBIDDEN  # no membership either
    decision = can_unlock(
        PARTNER, FACTORY, Tpa("approved", factory_id=OTHER_FACTORY), active(PARTNER)
    )
    assert decision.verdict is FORBIDDEN


def test_pending_member_cannot_unlock() -> None:
    decision = can_unlock(PARTICIPANT, FACTORY, Tpa("approved"), active(PARTICIPANT, "pending"))
    assert decision.verdict is FORBIDDEN


# can_share: (tpa, unlock) -> verdict
SHARE_TABLE = [
    (None, None, NOT_FOUND),
    ("pending", None, NOT_FOUND),
    ("approved", None, FORBIDDEN),
    ("approved", UnlockRow(), ALLOW),
    ("approved", UnlockRow(status="pending"), FORBIDDEN),
    ("approved", UnlockRow(buyer_org=OTHER_BUYER), FORBIDDEN),
    ("revoked", UnlockRow(), FORBIDDEN),
    ("revoked", None, NOT_FOUND),
    ("declined", UnlockRow(), FORBIDDEN),
]


@pytest.mark.parametrize("buyer", BUYERS, ids=lambda p: p.role)
@pytest.mark.parametrize(("tpa", "unlock", "expected"), SHARE_TABLE)
def test_can_share(
    buyer: Principal, tpa: str | None, unlock: UnlockRow | None, expected: Verdict
) -> None:
    tpa_row = Tpa(tpa) if tpa else None
    assert can_share(buyer, Cycle(), tpa_row, unlock, active(buyer)).verdict is expected


@pytest.mark.parametrize("principal", [OWN_FACTORY, ADVISOR_ALL], ids=lambda p: p.role)
def test_only_buyers_share(principal: Principal) -> None:
    membership = None if principal.role == "advisor" else active(principal)
    decision = can_share(principal, Cycle(), Tpa("approved"), UnlockRow(), membership)
    assert decision.verdict is FORBIDDEN


KINDS = ["assessment", "progress_report_1", "progress_report_2", "advisory_log"]
DRAFT_TABLE = [
    (ADVISOR_ALL, {"assessment": ALLOW, "progress_report_1": FORBIDDEN,
                   "progress_report_2": ALLOW, "advisory_log": ALLOW}),
    (ADVISOR_KH, dict.fromkeys(KINDS, FORBIDDEN)),
    (OWN_FACTORY, {"assessment": FORBIDDEN, "progress_report_1": ALLOW,
                   "progress_report_2": FORBIDDEN, "advisory_log": FORBIDDEN}),
    (FOREIGN_FACTORY, {"assessment": FORBIDDEN, "progress_report_1": NOT_FOUND,
                       "progress_report_2": FORBIDDEN, "advisory_log": FORBIDDEN}),
    (PARTNER, dict.fromkeys(KINDS, FORBIDDEN)),
    (PARTICIPANT, dict.fromkeys(KINDS, FORBIDDEN)),
]  # fmt: skip


@pytest.mark.parametrize(("principal", "by_kind"), DRAFT_TABLE)
def test_can_draft(principal: Principal, by_kind: dict[str, Verdict]) -> None:
    for kind, expected in by_kind.items():
        assert can_draft(principal, Cycle(), kind).verdict is expected, kind


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (ADVISOR_ALL, ALLOW),
        (ADVISOR_KH, FORBIDDEN),
        (OWN_FACTORY, ALLOW),
        (FOREIGN_FACTORY, NOT_FOUND),
        (PARTNER, FORBIDDEN),
        (PARTICIPANT, FORBIDDEN),
    ],
)
def test_can_edit_plan(principal: Principal, expected: Verdict) -> None:
    assert can_edit_plan(principal, Cycle()).verdict is expected


# document_visible: (principal, kind, status, factory) -> visible
VISIBILITY_TABLE = [
    *[(ADVISOR_ALL, kind, status, True) for kind in KINDS for status in ("draft", "released")],
    *[(p, kind, "released", True) for p in (OWN_FACTORY, PARTNER, PARTICIPANT) for kind in KINDS],
    (OWN_FACTORY, "progress_report_1", "draft", True),
    (OWN_FACTORY, "assessment", "draft", False),
    (OWN_FACTORY, "progress_report_2", "draft", False),
    (OWN_FACTORY, "advisory_log", "draft", False),
    (FOREIGN_FACTORY, "progress_report_1", "draft", False),
    *[(p, kind, "draft", False) for p in (PARTNER, PARTICIPANT) for kind in KINDS],
]


@pytest.mark.parametrize(("principal", "kind", "status", "visible"), VISIBILITY_TABLE)
def test_document_visible(principal: Principal, kind: str, status: str, visible: bool) -> None:
    assert document_visible(principal, Document(kind, status)) is visible


@pytest.mark.parametrize(
    ("membership", "expected"),
    [
        (Member(BUYER, "partner-user", super_user=True), ALLOW),
        (Member(BUYER, "partner-user", super_user=False), FORBIDDEN),
        (Member(BUYER, "partner-user", status="pending"), FORBIDDEN),
        (None, FORBIDDEN),
    ],
)
def test_can_manage_members(membership: Member | None, expected: Verdict) -> None:
    assert can_manage_members(PARTNER, membership).verdict is expected


def test_enforce_maps_verdicts_to_problems() -> None:
    enforce(Decision(ALLOW))
    with pytest.raises(NotFound):
        enforce(Decision(NOT_FOUND, "x"))
    with pytest.raises(Forbidden, match="why"):
        enforce(Decision(FORBIDDEN, "why"))
