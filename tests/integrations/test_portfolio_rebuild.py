"""The portfolio rebuilt from scratch equals the one built event by event (issue 11)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from services.integrations import cli as rebuilding
from services.integrations.models.portfolio import PORTFOLIO_TABLES
from services.integrations.store.portfolio.facts import (
    FactoryFacts,
    RelationFacts,
    ViewerRow,
    columns,
)
from tests.cycles.world import World as CyclesWorld
from tests.cycles.world import days_ago
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.portfolio_world import BUYER, OTHER, World, rows
from tests.integrations.world import take_in


async def snapshot(app: FastAPI) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    async with app.state.sessionmaker() as session:
        for table in PORTFOLIO_TABLES:
            keys = list(table.__table__.primary_key.columns)  # type: ignore[attr-defined]
            found = await session.scalars(sa.select(table).order_by(*keys))
            tables[str(table.__tablename__)] = [row.model_dump() for row in found]
    return tables


async def build_history(api: Api) -> None:
    """Every kind of event the portfolio applies, taken in a few at a time so the sources'
    streams interleave (the rebuild replays them one source after the other)."""
    world = World(api)
    for n in range(3):
        factory_id = await world.factory(country=("BD", "KH", "VN")[n])
        await world.open_cycle(factory_id)
        await world.released_assessment(factory_id)
        await take_in(api)
        grant = await world.grant_tpa("participant", BUYER, factory_id)
        await world.buy_credits(BUYER, 1)
        ok(await world.unlock("participant", BUYER, factory_id), 201)
        other = await world.grant_tpa("participant", OTHER, factory_id)
        await take_in(api)
        body = {"factory_id": factory_id, "cycle": 1, "with_org": OTHER}
        ok(await world.reports("participant", BUYER).post("/shares", json=body), 201)
        if n == 1:
            await world.decide_tpa(factory_id, other["id"], "revoke")
        if n == 2:
            await world.decide_tpa(factory_id, grant["id"], "revoke")
        if n == 0:  # an improvement plan: created, changed, closed
            path = f"/factories/{factory_id}/cycles/1/improvement-plan/items"
            items = [
                ok(await world.advisor.post(path, json=body), 201)["id"]
                for body in ({"title": "A", "due_date": "2020-01-01"}, {"title": "B"})
            ]
            patch = world.advisor.patch
            ok(await patch(f"/improvement-plan-items/{items[0]}", json={"status": "done"}))
            ok(await patch(f"/improvement-plan-items/{items[1]}", json={"due_date": "2021-01-01"}))
    registered = await world.factory(country="BD", enrolled=False)
    partner = api.client("eligibility", role="partner", org="brand-1")
    ok(await partner.post("/nominations", json={"factory_id": registered}), 201)
    # A factory list and a check: listed factories and eligibility decisions.
    listed = [{"country": "BD", "factory_id": registered}, {"country": "KH", "name": "Nowhere"}]
    ok(await partner.post("/factory-lists", json={"factories": listed}), 201)
    ok(await partner.post("/checks", json={"country": "BD", "factory_id": registered}))
    cycles = CyclesWorld(api)
    in_cycle = await cycles.factory()
    await cycles.open_cycle(in_cycle, days_ago(30))
    await cycles.approve_tpa(in_cycle, buyer="brand-1", role="partner")
    await take_in(api)


async def test_rebuild_equals_incremental(api: Api) -> None:
    await build_history(api)
    app = api.apps["integrations"]
    incremental = await snapshot(app)
    assert len(incremental["portfolio_row"]) > 10
    brand = await rows(api, "partner", "brand-1")
    assert any(row["current_cycle"] == 1 for row in brand.values())
    assert any("listed" in row["relations"] for row in brand.values())
    buyer = await rows(api, "participant", BUYER)
    assert any(row["improvement_items_overdue"] == 1 for row in buyer.values())

    replayed = await rebuilding.rebuild(app.state.sessionmaker, app.state.sources)
    assert replayed > 40
    assert await snapshot(app) == incremental

    # A lost table (or a changed projection) is made again the same way.
    async with app.state.sessionmaker() as session:
        await session.execute(sa.delete(PORTFOLIO_TABLES[-1]))
        await session.commit()
    await rebuilding.rebuild(app.state.sessionmaker, app.state.sources)
    assert await snapshot(app) == incremental
    # And ingest carries on from there, applying only what is new.
    world = World(api)
    await world.request_tpa("participant", BUYER, await world.factory())
    await take_in(api)
    after = await snapshot(app)
    assert len(after["portfolio_row"]) == len(incremental["portfolio_row"]) + 2


def test_the_projections_facts_are_the_tables_columns() -> None:
    """The projection works on plain objects (store/portfolio/facts.py) written column by
    column: a column added to a table must be added there too, and the other way round."""
    for kind, model in zip((FactoryFacts, RelationFacts, ViewerRow), PORTFOLIO_TABLES, strict=True):
        table = model.__table__  # type: ignore[attr-defined]
        assert set(columns(kind)) == {c.name for c in table.columns}, kind.__name__
