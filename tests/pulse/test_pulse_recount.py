"""Every figure of the pulse, as the server computes it, equals a plain Python recount of the
same seeded helpdesk (tickets and audit trail as stored), at the fixed clock and at a later
moment; and the cache answers within a minute, recomputes after it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import NOW, FakeClock
from pulse_recount import recount
from pymongo import MongoClient

from helpdesk_tui.demo import seed
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import PulseStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

_names = itertools.count()


@pytest.fixture(scope="module")
def seeded(server: EmbeddedServer) -> Iterator[tuple[TicketStore, FakeClock]]:
    """300 demo tickets with a week of history, as the demo makes them (seed 7)."""
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True)
    db = client[f"pulse_recount_{next(_names)}"]
    clock = FakeClock(now=NOW)
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    seed.load(store, seed.generate(NOW, tickets=300, customers=150, seed=7))
    yield store, clock
    client.drop_database(db.name)
    client.close()


def names(store: TicketStore) -> dict[Any, str]:
    return {u.id: u.display for u in store.staff(["agent", "supervisor"])}


def test_every_figure_equals_a_python_recount(seeded: tuple[TicketStore, FakeClock]) -> None:
    store, clock = seeded
    figures = PulseStore(store).compute(clock.now).as_json()
    expected = recount(store.db, clock.now, store.settings.sla, names(store))
    for key in ("backlog", "sla", "hourly", "agents", "first_response_histogram"):
        assert figures[key] == expected[key], key
    assert figures == expected
    # Not a recount of nothing: the seeded week shows in every chart.
    day = figures["backlog"]["last_24h"]
    assert min(day["open"]) > 0 and max(day["waiting"]) > 0 and max(day["breaching"]) > 0
    assert sum(figures["hourly"]["arrivals_last_week"]) > 0
    assert sum(figures["hourly"]["arrivals_today"]) > 0
    settled = [d["first_response"] for d in figures["sla"]["by_day"]]
    settled = [c["met"] + c["breached"] for c in settled]
    assert all(n > 0 for n in settled)
    assert len(figures["agents"]) == len(seed.AGENTS)
    assert sum(b["count"] for b in figures["first_response_histogram"]) > 0


def test_the_recount_holds_hours_later_between_hour_marks(
    seeded: tuple[TicketStore, FakeClock],
) -> None:
    """Another moment: not on the hour, a day boundary crossed (today and a week ago move)."""
    store, _ = seeded
    later = NOW + timedelta(hours=15, minutes=37, seconds=11)
    figures = PulseStore(store).compute(later).as_json()
    assert figures == recount(store.db, later, store.settings.sla, names(store))


def test_cached_within_a_minute_then_recomputed(seeded: tuple[TicketStore, FakeClock]) -> None:
    store, clock = seeded
    pulses = PulseStore(store)
    calls: list[Any] = []
    compute = pulses.compute

    def counted(now: Any) -> Any:
        calls.append(now)
        return compute(now)

    pulses.compute = counted  # type: ignore[method-assign]
    start = clock.now
    try:
        first = pulses.pulse()
        clock.advance(seconds=59)
        assert pulses.pulse() is first and len(calls) == 1
        clock.advance(seconds=1)  # a minute old: never shown
        second = pulses.pulse()
        assert len(calls) == 2 and second.now == start + timedelta(minutes=1)
    finally:
        clock.now = start
