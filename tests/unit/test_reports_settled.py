"""The facts the reports service keeps in process: only those that never turn false."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reports.schemas import ReportPublic
from services.reports.store.settled import KeptCycle, KeptDocument, Settled

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def reply(document_id: str) -> ReportPublic:
    return ReportPublic(
        id=document_id, factory_id="f", cycle=1, kind="assessment", title="t",
        status="released", created_at=MOMENT, updated_at=MOMENT, submitted_at=None,
        released_at=MOMENT, body=None, findings=[],
    )  # fmt: skip


def test_only_active_memberships_and_unlocks_are_kept() -> None:
    settled = Settled()
    settled.remember_member(org="o", user_id="pending-user", status="pending", super_user=False)
    settled.remember_member(org="o", user_id="active-user", status="active", super_user=True)
    assert settled.member("o", "pending-user") is None
    kept = settled.member("o", "active-user")
    assert kept is not None
    assert (kept.status, kept.super_user) == ("active", True)
    settled.remember_unlock(report_cycle_id="c", buyer_org="o", status="pending")
    assert settled.unlock("c", "o") is None
    settled.remember_unlock(report_cycle_id="c", buyer_org="o", status="active")
    assert settled.unlock("c", "o") is not None
    assert settled.unlock("c", "other-org") is None


def test_only_released_documents_are_kept() -> None:
    settled = Settled()
    cycle = KeptCycle("c", "f", "BD", 1)
    draft = KeptDocument("d1", "f", "assessment", "draft")
    settled.remember_released(document=draft, cycle=cycle, reply=reply("d1"))
    assert settled.released("d1") is None
    released = KeptDocument("d2", "f", "assessment", "released")
    settled.remember_released(document=released, cycle=cycle, reply=reply("d2"))
    kept = settled.released("d2")
    assert kept is not None
    assert kept.reply.id == "d2"


def test_bounded_and_least_recently_used_first() -> None:
    settled = Settled(size=2)
    for user in ("a", "b"):
        settled.remember_member(org="o", user_id=user, status="active", super_user=False)
    assert settled.member("o", "a") is not None  # a is now the most recently used
    settled.remember_member(org="o", user_id="c", status="active", super_user=False)
    assert settled.member("o", "b") is None
    assert settled.member("o", "a") is not None
    assert settled.member("o", "c") is not None


def test_clear() -> None:
    settled = Settled()
    settled.remember_member(org="o", user_id="u", status="active", super_user=False)
    settled.remember_unlock(report_cycle_id="c", buyer_org="o", status="active")
    settled.clear()
    assert settled.member("o", "u") is None
    assert settled.unlock("c", "o") is None
