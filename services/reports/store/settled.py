"""Facts that never change once true, kept in the process so hot reads need no query:

- an active portal membership (memberships only move pending → active, are never removed,
  and whether one is the super-user is fixed when it is made);
- an organisation's active unlock of a report cycle (unlocks are never undone; a factory's
  revocation leaves unlocked cycles readable);
- a released document, its cycle and its reply (released documents are final).

Only facts are kept, never decisions: `access.can_read` still decides every request. A
fact that is not here is read from the database, and a decision that the kept facts do not
allow is taken again on the database's full facts, so the cache can make an answer faster,
never different. Every replica keeps its own; none needs invalidating.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request

from services.reports.schemas import ReportPublic

__all__ = [
    "KeptCycle",
    "KeptDocument",
    "KeptMembership",
    "KeptUnlock",
    "Released",
    "Settled",
    "SettledDep",
]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class KeptMembership:
    org: str
    user_id: str
    status: str
    super_user: bool


@dataclass(frozen=True, slots=True)
class KeptUnlock:
    report_cycle_id: str
    buyer_org: str
    status: str


@dataclass(frozen=True, slots=True)
class KeptCycle:
    id: str
    factory_id: str
    country: str
    cycle: int


@dataclass(frozen=True, slots=True)
class KeptDocument:
    id: str
    factory_id: str
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class Released:
    document: KeptDocument
    cycle: KeptCycle
    reply: ReportPublic
    body: bytes  # the reply as JSON, rendered once


class _Bounded(Generic[K, V]):
    """A dictionary that forgets its least recently used entries beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class Settled:
    def __init__(self, *, size: int = 20_000) -> None:
        self._members: _Bounded[tuple[str, str], KeptMembership] = _Bounded(size)
        self._unlocks: _Bounded[tuple[str, str], KeptUnlock] = _Bounded(size)
        self._released: _Bounded[str, Released] = _Bounded(size)

    def member(self, org: str, user: str) -> KeptMembership | None:
        return self._members.get((org, user))

    def remember_member(self, *, org: str, user_id: str, status: str, super_user: bool) -> None:
        if status == "active":
            self._members.put((org, user_id), KeptMembership(org, user_id, status, super_user))

    def unlock(self, cycle_id: str, org: str) -> KeptUnlock | None:
        return self._unlocks.get((cycle_id, org))

    def remember_unlock(self, *, report_cycle_id: str, buyer_org: str, status: str) -> None:
        if status == "active":
            kept = KeptUnlock(report_cycle_id, buyer_org, status)
            self._unlocks.put((report_cycle_id, buyer_org), kept)

    def released(self, document_id: str) -> Released | None:
        return self._released.get(document_id)

    def remember_released(
        self, *, document: KeptDocument, cycle: KeptCycle, reply: ReportPublic
    ) -> None:
        if document.status == "released":
            body = reply.model_dump_json().encode()
            self._released.put(document.id, Released(document, cycle, reply, body))

    def clear(self) -> None:
        """Forget everything (tests that empty the tables between them)."""
        for kept in (self._members, self._unlocks, self._released):
            kept.clear()


async def _settled(request: Request) -> Settled:
    settled: Settled = request.app.state.settled
    return settled


SettledDep = Annotated[Settled, Depends(_settled)]
