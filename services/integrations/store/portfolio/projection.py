"""Applying events to the portfolio: each handler updates the facts one event type carries
(rules as data: `HANDLERS`), then the rows of every factory the batch touched are made
again from the facts (access.rows_of). jobs/ingest.py calls `apply` with each batch it stores,
in the same transaction, so the portfolio is exactly as far along as the feed. The rebuild
(cli.py) uses `Replay`: the same handlers on facts held in memory for the whole history,
each factory's rows made once at the end and every table written with COPY.

The result does not depend on how the sources' streams interleave (the rebuild replays
them one after the other): each fact has one source, `as_of` is the latest `occurred_at`,
and milestone states (cycles) and releases (reports) are kept apart and combined only
when a row is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from services.integrations.models.portfolio import (
    PortfolioFactory,
    PortfolioRelation,
    PortfolioRow,
)
from services.integrations.store.portfolio.access import rows_of
from services.integrations.store.portfolio.facts import (
    FactoryFacts,
    Facts,
    RelationFacts,
    ViewerRow,
    columns,
)
from shared.db import insert_for
from shared.outbox import EventOut

__all__ = ["HANDLERS", "Replay", "apply"]

_CHUNK = 1000  # ids per IN (...) list
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class _Batch:
    """The facts a batch touches, loaded once and written back once."""

    factories: dict[str, FactoryFacts] = field(default_factory=dict)
    relations: dict[tuple[str, str], RelationFacts] = field(default_factory=dict)

    def factory(
        self, factory_id: str, moment: datetime, *, changed: bool = True, advisors: bool = False
    ) -> FactoryFacts:
        """`changed`: the event changes the factory's facts; `advisors`: for advisors only."""
        found = self.factories.get(factory_id)
        if found is None:
            # Made by a relation's event (`changed` False), the facts know nothing yet: their
            # moments start at the beginning, so they do not depend on whether the relation
            # or the factory's own first event is applied first (the rebuild fetches the
            # sources side by side).
            found = FactoryFacts(factory_id=factory_id, as_of=_NEVER, advisors_as_of=_NEVER)
            self.factories[factory_id] = found
        if changed:
            found.advisors_as_of = max(found.advisors_as_of, moment)
            if not advisors:
                found.as_of = max(found.as_of, moment)
        return found

    def relation(self, org: str, factory_id: str, moment: datetime) -> RelationFacts:
        # The factory's facts row exists for every relation (a row is made from both).
        self.factory(factory_id, moment, changed=False)
        found = self.relations.get((org, factory_id))
        if found is None:
            found = RelationFacts(org=org, factory_id=factory_id, as_of=moment)
            self.relations[(org, factory_id)] = found
        found.as_of = max(found.as_of, moment)
        return found


Handler = Callable[[_Batch, EventOut, dict[str, Any]], None]


def _registered(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    factory = batch.factory(data["factory_id"], event.occurred_at)
    factory.name, factory.country = data["name"], data["country"]
    factory.os_id = data.get("os_id")
    factory.enrolment_status = factory.enrolment_status or "registered"


def _enrolment(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    factory = batch.factory(data["factory_id"], event.occurred_at)
    factory.country, factory.enrolment_status = data["country"], data["enrolment_status"]


def _nominated(active: bool) -> Handler:
    def handle(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
        relation = batch.relation(data["partner_org"], data["factory_id"], event.occurred_at)
        relation.nominated = active

    return handle


def _tpa(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    relation = batch.relation(data["buyer_org"], data["factory_id"], event.occurred_at)
    relation.tpa_state = data["status"]


def _unlocked(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    relation = batch.relation(data["buyer_org"], data["factory_id"], event.occurred_at)
    relation.unlocked = sorted({*relation.unlocked, int(data["cycle"])})


def _shared(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    relation = batch.relation(data["with_org"], data["factory_id"], event.occurred_at)
    relation.shared = sorted({*relation.shared, int(data["cycle"])})


def _released(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    factory = batch.factory(data["factory_id"], event.occurred_at)
    cycle, kind = int(data["cycle"]), str(data["kind"])
    released = dict(factory.released)
    released[str(cycle)] = sorted({*released.get(str(cycle), []), kind})
    factory.released = released
    if kind == "assessment" and (factory.assessment_cycle or 0) <= cycle:
        factory.assessment_cycle = cycle
        factory.assessment_released_at = event.occurred_at
        factory.findings_all = dict(data.get("noncompliant_by_cluster") or {})
        factory.findings_public = dict(data.get("public_noncompliant_by_cluster") or {})


def _opened(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    factory = batch.factory(data["factory_id"], event.occurred_at)
    if factory.cycle is None or factory.cycle <= int(data["number"]):
        factory.cycle, factory.cycle_id = int(data["number"]), data["cycle_id"]
        factory.milestones = {}


def _milestone(state: str) -> Handler:
    def handle(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
        advisors_only = not event.orgs
        factory = batch.factory(data["factory_id"], event.occurred_at, advisors=advisors_only)
        if factory.cycle_id != data["cycle_id"]:
            return  # an alert of an earlier cycle
        # No due date is kept: the alert's audience says whether a factory or buyer may
        # know of it at all (none for the unannounced assessment).
        milestones = dict(factory.milestones)
        milestones[data["milestone"]] = {"state": state, "advisors_only": advisors_only}
        factory.milestones = milestones

    return handle


def _decided(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    """A buyer's eligibility decisions (a check, or a factory list's matched rows)."""
    listed = data["factory_list_id"] if data["source"] == "factory_list" else None
    for decision in data["decisions"]:
        relation = batch.relation(data["org"], decision["factory_id"], event.occurred_at)
        relation.eligibility_status = decision["status"]
        if listed is not None and listed not in relation.lists:
            relation.lists = sorted({*relation.lists, listed})


def _plan_item(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    factory = batch.factory(data["factory_id"], event.occurred_at)
    items = dict(factory.plan_items)
    items[data["item_id"]] = {
        "cycle": int(data["cycle"]),
        "due_date": data.get("due_date"),
        "open": data["status"] != "done",
    }
    factory.plan_items = items


def _classified(batch: _Batch, event: EventOut, data: dict[str, Any]) -> None:
    factory = batch.factory(data["factory_id"], event.occurred_at)
    factory.high_performing = bool(data["high_performing"])
    factory.classification_orgs = sorted(event.orgs)


HANDLERS: dict[str, Handler] = {
    "factory.registered": _registered,
    "factory.enrolment_changed": _enrolment,
    "nomination.created": _nominated(True),
    "nomination.withdrawn": _nominated(False),
    "access_request.created": _tpa,
    "access_request.approved": _tpa,
    "access_request.declined": _tpa,
    "access_request.revoked": _tpa,
    "unlock.created": _unlocked,
    "share.created": _shared,
    "report.released": _released,
    "cycle.opened": _opened,
    "milestone.due_soon": _milestone("due"),
    "milestone.overdue": _milestone("overdue"),
    "classification.changed": _classified,
    "eligibility.decided": _decided,
    "improvement_plan_item.created": _plan_item,
    "improvement_plan_item.updated": _plan_item,
    "improvement_plan_item.closed": _plan_item,
}


def factories_of(event: EventOut) -> list[str]:
    """The factories an event is about: one, or a batch of decisions'."""
    if event.type == "eligibility.decided":
        return [str(d["factory_id"]) for d in event.data["decisions"]]
    return [str(event.data["factory_id"])]


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


FACTORY_COLUMNS, RELATION_COLUMNS, ROW_COLUMNS = (
    columns(FactoryFacts),
    columns(RelationFacts),
    columns(ViewerRow),
)


async def _load(*, session: AsyncSession, factory_ids: Sequence[str]) -> _Batch:
    batch = _Batch()
    factory_table, relation_table = _table(PortfolioFactory), _table(PortfolioRelation)
    for chunk in _chunks(factory_ids):
        found = await session.execute(
            sa.select(*(factory_table.c[c] for c in FACTORY_COLUMNS)).where(
                factory_table.c.factory_id.in_(chunk)
            )
        )
        for row in found.mappings():
            batch.factories[row["factory_id"]] = FactoryFacts(**row)
        found = await session.execute(
            sa.select(*(relation_table.c[c] for c in RELATION_COLUMNS)).where(
                relation_table.c.factory_id.in_(chunk)
            )
        )
        for row in found.mappings():
            batch.relations[(row["org"], row["factory_id"])] = RelationFacts(**row)
    return batch


def _table(model: type[SQLModel]) -> sa.Table:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


def _values(item: Facts, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(item, name) for name in names}


async def _upsert(
    *, session: AsyncSession, model: type[SQLModel], items: Iterable[Facts], names: Sequence[str]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE of every column: one statement for the batch."""
    values = [_values(item, names) for item in items]
    if not values:
        return
    table = _table(model)
    keys = [c.name for c in table.primary_key.columns]
    statement = insert_for(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in names if name not in keys},
    )
    await session.execute(statement, values)


async def apply(*, session: AsyncSession, events: Sequence[EventOut]) -> int:
    """Apply a batch (in order) in the caller's transaction; how many factories it touched."""
    wanted = [e for e in events if e.type in HANDLERS]
    touched = sorted({factory_id for e in wanted for factory_id in factories_of(e)})
    if not touched:
        return 0
    batch = await _load(session=session, factory_ids=touched)
    for event in wanted:
        HANDLERS[event.type](batch, event, event.data)
    await _upsert(
        session=session,
        model=PortfolioFactory,
        items=batch.factories.values(),
        names=FACTORY_COLUMNS,
    )
    await _upsert(
        session=session,
        model=PortfolioRelation,
        items=batch.relations.values(),
        names=RELATION_COLUMNS,
    )
    for chunk in _chunks(touched):
        await session.execute(
            sa.delete(PortfolioRow).where(col(PortfolioRow.factory_id).in_(chunk))
        )
    rows = [_values(row, ROW_COLUMNS) for row in _rows(batch, touched)]
    if rows:
        await session.execute(sa.insert(_table(PortfolioRow)), rows)
    return len(touched)


def _rows(batch: _Batch, factory_ids: Iterable[str]) -> Iterator[ViewerRow]:
    by_factory: dict[str, list[RelationFacts]] = {}
    for relation in batch.relations.values():
        by_factory.setdefault(relation.factory_id, []).append(relation)
    for factory_id in factory_ids:
        yield from rows_of(batch.factories[factory_id], by_factory.get(factory_id, []))


class Replay:
    """The rebuild's projection: every event of the history applied to facts held in
    memory (the tables are empty, so nothing is read), then each factory's rows made once
    and all three tables written in bulk (COPY on PostgreSQL). About 1 KB of memory per
    factory and relation."""

    def __init__(self) -> None:
        self._batch = _Batch()

    def apply(self, events: Sequence[EventOut]) -> None:
        for event in events:
            handler = HANDLERS.get(event.type)
            if handler is not None:
                handler(self._batch, event, event.data)

    async def write(self, session: AsyncSession) -> None:
        batch = self._batch
        await _bulk_insert(
            session=session,
            model=PortfolioFactory,
            items=batch.factories.values(),
            names=FACTORY_COLUMNS,
        )
        await _bulk_insert(
            session=session,
            model=PortfolioRelation,
            items=batch.relations.values(),
            names=RELATION_COLUMNS,
        )
        await _bulk_insert(
            session=session,
            model=PortfolioRow,
            items=_rows(batch, sorted(batch.factories)),
            names=ROW_COLUMNS,
        )


_COPY_ROWS = 20_000  # records per COPY: bounded memory for the encoded records


async def _bulk_insert(
    *, session: AsyncSession, model: type[SQLModel], items: Iterable[Facts], names: Sequence[str]
) -> None:
    """INSERT many rows into an empty table: COPY on PostgreSQL (the rows as records, JSON
    columns as their text), batched INSERTs elsewhere."""
    table = _table(model)
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        values = [_values(item, names) for item in items]
        for start in range(0, len(values), _COPY_ROWS):
            await session.execute(sa.insert(table), values[start : start + _COPY_ROWS])
        return
    as_json = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    encode = [(name, json.dumps if name in as_json else None) for name in names]
    raw = (await connection.get_raw_connection()).driver_connection
    records: list[tuple[Any, ...]] = []

    async def flush() -> None:
        await raw.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=list(names)
        )
        records.clear()

    for item in items:
        records.append(
            tuple(
                getattr(item, name)
                if dump is None or getattr(item, name) is None
                else dump(getattr(item, name))
                for name, dump in encode
            )
        )
        if len(records) >= _COPY_ROWS:
            await flush()
    if records:
        await flush()
