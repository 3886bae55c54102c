"""The portfolio's facts do not depend on how the sources' streams interleave: the rebuild
fetches the sources side by side, while ingest takes them one after the other, and the two
must agree (tests/integrations/test_portfolio_rebuild.py checks it on real services)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.integrations.store.portfolio.projection import Replay
from shared.outbox import EventOut

START = datetime(2026, 3, 1, 9, tzinfo=UTC)


def event(
    n: int, type_: str, minute: int, orgs: list[str], factory: str = "fac-1", **data: Any
) -> EventOut:
    return EventOut(
        sequence=n,
        id=f"evt_{type_}_{n}",
        type=type_,
        occurred_at=START + timedelta(minutes=minute),
        subject={"type": "factory", "id": factory},
        data={"factory_id": factory, **data},
        orgs=orgs,
        countries=["BD"],
    )


# Two factories' histories, by source. A buyer's relations (reports, eligibility's
# decisions) arrive around the first factory's own facts, and after all of the second's.
STREAMS: dict[str, list[EventOut]] = {
    "eligibility": [
        event(1, "factory.registered", 0, [], name="Alpha", country="BD", os_id="BD1"),
        event(2, "factory.enrolment_changed", 5, [], country="BD", enrolment_status="enrolled"),
        event(
            3,
            "eligibility.decided",
            9,
            ["brand-1"],
            org="brand-1",
            source="check",
            factory_list_id=None,
            decisions=[{"factory_id": "fac-1", "status": "enrolled"}],
        ),
        event(4, "factory.registered", 10, [], "fac-2", name="Beta", country="KH", os_id=None),
    ],
    "reports": [
        event(1, "access_request.created", 1, ["buyer-1"], buyer_org="buyer-1", status="pending"),
        event(2, "access_request.approved", 7, ["buyer-1"], buyer_org="buyer-1", status="approved"),
        event(3, "unlock.created", 8, ["buyer-1"], buyer_org="buyer-1", cycle=1),
        event(
            4,
            "access_request.created",
            12,
            ["buyer-1"],
            "fac-2",
            buyer_org="buyer-1",
            status="pending",
        ),
    ],
    "cycles": [
        event(1, "cycle.opened", 3, ["buyer-1"], number=1, cycle_id="cyc-1"),
        event(2, "milestone.overdue", 4, [], cycle_id="cyc-1", milestone="baseline_visit"),
        event(3, "classification.changed", 6, ["buyer-1"], high_performing=True),
    ],
}


def replayed(streams: list[list[EventOut]]) -> Replay:
    replay = Replay()
    for stream in streams:
        for single in stream:
            replay.apply([single])
    return replay


def round_robin(streams: list[list[EventOut]]) -> list[list[EventOut]]:
    """The streams' events taken one from each in turn (how ingest's rounds interleave)."""
    taken = itertools.chain.from_iterable(itertools.zip_longest(*streams))
    return [[single] for single in taken if single is not None]


@pytest.mark.parametrize("order", list(itertools.permutations(STREAMS)), ids="-".join)
def test_the_facts_are_the_same_in_every_order_of_the_sources(order: tuple[str, ...]) -> None:
    reference = replayed([STREAMS[source] for source in STREAMS])
    streams = [STREAMS[source] for source in order]
    for replay in (replayed(streams), replayed(round_robin(streams))):
        assert replay._batch == reference._batch  # the facts and relations, field by field


def test_a_factory_known_only_through_a_relation_has_no_moment_yet() -> None:
    """Its facts' moments are the earliest possible, so the first factory event sets them."""
    replay = replayed([STREAMS["reports"][:1]])
    facts = replay._batch.factories["fac-1"]
    assert facts.as_of == facts.advisors_as_of == datetime.min.replace(tzinfo=UTC)
    assert replay._batch.relations["buyer-1", "fac-1"].as_of == START + timedelta(minutes=1)
