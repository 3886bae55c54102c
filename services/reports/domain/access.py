"""Who may read, unlock, share and edit what: pure decisions, no I/O.

`can_read` is the one access decision for a report cycle; every endpoint that touches a
cycle calls it, and every endpoint at all passes `member_gate` (which `can_read` applies
first). The others (`can_unlock`, `can_share`, `can_draft`, `can_edit_plan`,
`document_visible`) decide the actions that build on reading.

Verdicts map to statuses: `NOT_FOUND` (404) where the cycle's existence is confidential to
the caller (another factory; a buyer without third-party access), `FORBIDDEN` (403) where
the caller already knows it exists (or is not an approved member at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.auth import Principal
from shared.errors import Forbidden, NotFound
from shared.scope import in_scope, out_of_scope

__all__ = [
    "Caller",
    "CycleFacts",
    "Decision",
    "MembershipFacts",
    "Verdict",
    "can_draft",
    "can_edit_plan",
    "can_manage_members",
    "can_read",
    "can_share",
    "can_unlock",
    "covers_country",
    "document_visible",
    "enforce",
    "member_gate",
]

ADVISOR, FACTORY = "advisor", "factory"
ACTIVE, APPROVED, REVOKED, PENDING = "active", "approved", "revoked", "pending"
DRAFT, PR1 = "draft", "progress_report_1"
ADVISOR_KINDS = frozenset({"assessment", "progress_report_2", "advisory_log"})
FACTORY_KINDS = frozenset({PR1})


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified caller and its portal membership (None for advisors)."""

    principal: Principal
    membership: MembershipFacts | None

    @property
    def org(self) -> str:
        return self.principal.org

    @property
    def role(self) -> str:
        return self.principal.role


class Verdict(StrEnum):
    ALLOW = "allow"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


ALLOW = Decision(Verdict.ALLOW)
HIDDEN = Decision(Verdict.NOT_FOUND, "There is no such report cycle (or you may not see it).")


def _forbid(reason: str) -> Decision:
    return Decision(Verdict.FORBIDDEN, reason)


def enforce(decision: Decision) -> None:
    """Raise the problem a refused decision stands for."""
    if decision.verdict is Verdict.NOT_FOUND:
        raise NotFound(decision.reason)
    if decision.verdict is Verdict.FORBIDDEN:
        raise Forbidden(decision.reason)


# The facts a decision reads: table rows satisfy these, and so do test doubles.
class CycleFacts(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def factory_id(self) -> str: ...
    @property
    def country(self) -> str: ...


class TpaFacts(Protocol):
    @property
    def factory_id(self) -> str: ...
    @property
    def buyer_org(self) -> str: ...
    @property
    def status(self) -> str: ...


class UnlockFacts(Protocol):
    @property
    def report_cycle_id(self) -> str: ...
    @property
    def buyer_org(self) -> str: ...
    @property
    def status(self) -> str: ...


class ShareFacts(Protocol):
    @property
    def report_cycle_id(self) -> str: ...
    @property
    def with_org(self) -> str: ...


class MembershipFacts(Protocol):
    @property
    def org(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def super_user(self) -> bool: ...


class DocumentFacts(Protocol):
    @property
    def factory_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...


def member_gate(principal: Principal, membership: MembershipFacts | None) -> Decision:
    """Advisors are Better Work staff; everyone else needs an approved portal membership."""
    if principal.role == ADVISOR:
        return ALLOW
    if (
        membership is None
        or membership.org != principal.org
        or membership.user_id != principal.user
    ):
        return _forbid(f"You are not a member of {principal.org!r} on the portal yet.")
    if membership.status != ACTIVE:
        return _forbid(
            f"Your membership of {principal.org!r} is pending: the organisation's super-user "
            "must approve it (POST /memberships/{user}/approve) before you can use the portal."
        )
    return ALLOW


def covers_country(principal: Principal, country: str | None) -> Decision:
    """The advisor country scope (shared.scope) as a decision: advisors act for the
    programmes in their `countries` claim; others are not limited by country."""
    if in_scope(principal, country):
        return ALLOW
    return _forbid(out_of_scope(principal, country))


def _own_tpa(principal: Principal, factory_id: str, tpa: TpaFacts | None) -> TpaFacts | None:
    if tpa is None or tpa.buyer_org != principal.org or tpa.factory_id != factory_id:
        return None
    return tpa


def can_read(
    principal: Principal,
    cycle: CycleFacts,
    tpa: TpaFacts | None,
    unlock: UnlockFacts | None,
    share: ShareFacts | None,
    membership: MembershipFacts | None,
) -> Decision:
    """May `principal` read the released documents and the plan of `cycle`?

    `tpa`, `unlock` and `share` are the caller's organisation's rows for this factory and
    cycle (or None). An unlock stays readable after the factory revokes access; a cycle
    shared with the caller is readable while the caller holds an approved TPA (being in
    the factory's direct supply chain is the condition of sharing).
    """
    gate = member_gate(principal, membership)
    if not gate.allowed:
        return gate
    if principal.role == ADVISOR:
        return covers_country(principal, cycle.country)
    if principal.role == FACTORY:
        return ALLOW if principal.org == cycle.factory_id else HIDDEN
    if not principal.is_buyer:
        return HIDDEN
    own_tpa = _own_tpa(principal, cycle.factory_id, tpa)
    if (
        unlock is not None
        and unlock.buyer_org == principal.org
        and unlock.report_cycle_id == cycle.id
        and unlock.status == ACTIVE
    ):
        return ALLOW
    approved = own_tpa is not None and own_tpa.status == APPROVED
    if (
        share is not None
        and share.with_org == principal.org
        and share.report_cycle_id == cycle.id
        and approved
    ):
        return ALLOW
    if own_tpa is None or own_tpa.status not in (APPROVED, REVOKED):
        return HIDDEN
    if own_tpa.status == REVOKED:
        return _forbid(
            "The factory revoked your third-party access: cycles you had not unlocked "
            "can no longer be read."
        )
    return _forbid("Unlock this report cycle first (POST /unlocks {factory_id, cycle}).")


def can_unlock(
    principal: Principal, factory_id: str, tpa: TpaFacts | None, membership: MembershipFacts | None
) -> Decision:
    """Buyers with an approved TPA may unlock the factory's cycles (checked before the cycle
    is looked up, so a refusal reveals nothing about the factory's cycles)."""
    gate = member_gate(principal, membership)
    if not gate.allowed:
        return gate
    if not principal.is_buyer:
        return _forbid("Only partners and participants unlock report cycles.")
    own_tpa = _own_tpa(principal, factory_id, tpa)
    if own_tpa is not None and own_tpa.status == APPROVED:
        return ALLOW
    if own_tpa is not None and own_tpa.status == REVOKED:
        return _forbid(
            "The factory revoked your third-party access: you cannot unlock its report cycles."
        )
    if own_tpa is not None and own_tpa.status == PENDING:
        return _forbid(
            "Your third-party access request to this factory is still pending; "
            "you can unlock its report cycles once the factory approves it."
        )
    return _forbid(
        "Unlocking needs the factory's third-party access authorisation: request it with "
        "POST /access-requests {factory_id} and wait for the factory to approve it."
    )


def can_share(
    principal: Principal,
    cycle: CycleFacts,
    tpa: TpaFacts | None,
    unlock: UnlockFacts | None,
    membership: MembershipFacts | None,
) -> Decision:
    """A buyer shares a cycle it unlocked itself, while its own TPA is approved."""
    gate = member_gate(principal, membership)
    if not gate.allowed:
        return gate
    if not principal.is_buyer:
        return _forbid("Only partners and participants share report cycles.")
    own_tpa = _own_tpa(principal, cycle.factory_id, tpa)
    unlocked = (
        unlock is not None
        and unlock.buyer_org == principal.org
        and unlock.report_cycle_id == cycle.id
        and unlock.status == ACTIVE
    )
    approved = own_tpa is not None and own_tpa.status == APPROVED
    if unlocked and approved:
        return ALLOW
    if unlocked:
        return _forbid(
            "Sharing needs your approved third-party access to the factory, which you no "
            "longer hold."
        )
    if approved:
        return _forbid("Unlock this report cycle before you share it.")
    return HIDDEN


def can_draft(principal: Principal, cycle: CycleFacts, kind: str) -> Decision:
    """Advisors write the assessment, PR2 and advisory log; the factory writes its own PR1.
    (Applied after `can_read`, so the caller already may see the cycle.)"""
    if principal.role == ADVISOR and kind in ADVISOR_KINDS:
        return covers_country(principal, cycle.country)
    if principal.role == FACTORY and kind in FACTORY_KINDS:
        return ALLOW if principal.org == cycle.factory_id else HIDDEN
    writers = "the factory" if kind in FACTORY_KINDS else "Better Work advisors"
    return _forbid(f"A {kind} document is written by {writers}.")


def can_edit_plan(principal: Principal, cycle: CycleFacts) -> Decision:
    """The factory and advisors edit the improvement plan; buyers only read it.
    (Applied after `can_read`.)"""
    if principal.role == ADVISOR:
        return covers_country(principal, cycle.country)
    if principal.role == FACTORY:
        return ALLOW if principal.org == cycle.factory_id else HIDDEN
    return _forbid("Buyers read the improvement plan; the factory and Better Work edit it.")


def can_manage_members(principal: Principal, membership: MembershipFacts | None) -> Decision:
    """Only the organisation's super-user sees and approves its members."""
    gate = member_gate(principal, membership)
    if not gate.allowed:
        return gate
    if membership is None or not membership.super_user:
        return _forbid(
            f"Only the super-user of {principal.org!r} (its first portal user) manages members."
        )
    return ALLOW


def document_visible(principal: Principal, document: DocumentFacts) -> bool:
    """Released documents are visible to whoever may read the cycle; drafts to advisors,
    and a factory's own progress report 1 draft to that factory."""
    if document.status != DRAFT or principal.role == ADVISOR:
        return True
    return (
        principal.role == FACTORY and document.kind == PR1 and document.factory_id == principal.org
    )
