"""The pulse kept current without re-running everything (issue 30): after a first computation,
a refresh re-reads only the tickets that changed (named by the live feed, or updated since) and
the status-change hours since the last computation, and its figures still equal a plain Python
recount of the whole helpdesk. What was read is counted from the commands the server received
(a pymongo command listener), not from timing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock
from pulse_recount import recount
from pymongo import MongoClient, monitoring

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status
from helpdesk_tui.domain.pulse import HOUR
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import PulseStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


@dataclass
class Commands(monitoring.CommandListener):
    """Every read command the store sent: (command name, collection, first stage or filter)."""

    seen: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name == "aggregate":
            pipeline = event.command.get("pipeline") or [{}]
            self.seen.append((name, event.command["aggregate"], pipeline[0].get("$match", {})))
        elif name in ("find", "count"):
            self.seen.append((name, event.command[name], event.command.get("filter") or {}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def on(self, collection: str) -> list[tuple[str, dict[str, Any]]]:
        return [(name, first) for name, coll, first in self.seen if coll == collection]


@dataclass
class World:
    store: TicketStore
    clock: FakeClock
    commands: Commands

    def recount(self) -> dict[str, Any]:
        names = {u.id: u.display for u in self.store.staff(["agent", "supervisor"])}
        return recount(self.store.db, self.clock.now, self.store.settings.sla, names)


@pytest.fixture
def world(server: EmbeddedServer, db: Any, clock: FakeClock) -> Iterator[World]:
    """120 demo tickets with their week of history, on a client whose commands are counted."""
    commands = Commands()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[commands])
    store = TicketStore(client[db.name], StoreSettings(), clock=clock)
    store.init_db()
    seed.load(store, seed.generate(clock.now, tickets=120, customers=40, seed=7))
    yield World(store, clock, commands)
    client.close()


def one_with_status(store: TicketStore, status: Status) -> ObjectId:
    doc = store.tickets.find_one({"status": status.value}, {"_id": 1}, sort=[("_id", 1)])
    assert doc is not None
    return ObjectId(doc["_id"])


def full_reads(commands: Commands, store: TicketStore) -> list[dict[str, Any]]:
    """The reads of the whole window: a part of queue_index by phase."""
    return [m for _, m in commands.on(store.queue.entries.name) if "phase" in m]


def test_a_change_after_the_first_computation_shows_after_an_incremental_refresh(
    world: World,
) -> None:
    store, clock, commands = world.store, world.clock, world.commands
    pulses = PulseStore(store)
    first = pulses.pulse()
    assert first.as_json() == world.recount()
    assert pulses.last is not None and pulses.last.full

    # Two minutes on: a new ticket arrives and a running ticket goes to waiting (both write
    # the audit trail), and the live feed names them.
    clock.advance(minutes=2)
    customer = store.users.find_one({"role": "customer"}, {"_id": 1})
    assert customer is not None
    new = store.create_ticket(
        NewTicket(
            subject="Where is my parcel?",
            user=customer["_id"],
            category=Category.SHIPPING,
            priority=Priority.URGENT,
        )
    )
    moved = one_with_status(store, Status.IN_PROGRESS)
    store.set_status(moved, Status.WAITING)
    pulses.changed([new.id, moved])
    updated_since = {
        d["_id"]
        for d in store.tickets.find({"updatedAt": {"$gte": first.now - timedelta(minutes=5)}})
    }

    commands.seen.clear()
    second = pulses.pulse()
    figures = second.as_json()

    # What a supervisor sees: the new arrival and the one more waiting ticket, as a recount.
    assert figures == world.recount()
    assert second.arrivals_today[second.now.hour] == first.arrivals_today[first.now.hour] + 1
    assert second.backlog_day.waiting[-1] == first.backlog_day.waiting[-1] + 1
    assert second.backlog_day.open[-1] == first.backlog_day.open[-1] + 1

    # What it took: no part of the window read again; the changed tickets on their ids only;
    # the status changes of the current hour only (the first computation's hour is this one).
    assert full_reads(commands, store) == []
    reads = commands.on(store.queue.entries.name)
    assert [name for name, _ in reads] == ["aggregate"]
    read_ids = set(reads[0][1]["_id"]["$in"])
    assert read_ids == {new.id, moved} | updated_since
    assert len(read_ids) < 20  # of 121 tickets
    hours = [m["at"]["$gte"] for name, m in commands.on(store.events.name) if name == "aggregate"]
    assert hours == [first.now.replace(minute=0, second=0, microsecond=0)]
    assert pulses.last is not None and not pulses.last.full
    assert pulses.last.hours == (hours[0],)


def test_hours_later_only_the_hours_since_are_grouped_again(world: World) -> None:
    """Nothing written, time passes: deadlines breach tickets on their own; the refresh groups
    the status changes of the hours since the last computation, and equals a recount."""
    store, clock, commands = world.store, world.clock, world.commands
    pulses = PulseStore(store)
    first = pulses.pulse()
    clock.advance(hours=3, minutes=17)
    commands.seen.clear()
    later = pulses.pulse()
    assert later.as_json() == world.recount()
    assert later.backlog_day.breaching != first.backlog_day.breaching  # time did something
    assert full_reads(commands, store) == []
    first_hour = first.now.replace(minute=0, second=0, microsecond=0)
    assert pulses.last is not None
    assert pulses.last.hours == tuple(first_hour + k * HOUR for k in range(4))
    lows = [m["at"]["$gte"] for name, m in commands.on(store.events.name) if name == "aggregate"]
    assert lows == [first_hour]  # one aggregation over those four hours, not the week


def test_a_change_nobody_announced_is_found_by_its_update_time(world: World) -> None:
    """Another app or the Ticket Service resolved a ticket while this one's feed said nothing:
    the refresh finds it on ``updatedAt`` (the tickets' poll index) all the same."""
    store, clock = world.store, world.clock
    pulses = PulseStore(store)
    first = pulses.pulse()
    clock.advance(minutes=1)
    running = one_with_status(store, Status.IN_PROGRESS)
    store.set_status(running, Status.RESOLVED)
    second = pulses.pulse()
    assert second.as_json() == world.recount()
    assert second.backlog_day.open[-1] == first.backlog_day.open[-1] - 1
    assert sum(second.resolved_today) == sum(first.resolved_today) + 1


def test_a_deleted_ticket_leaves_the_figures(world: World) -> None:
    store, clock = world.store, world.clock
    pulses = PulseStore(store)
    first = pulses.pulse()
    gone = one_with_status(store, Status.OPEN)
    store.tickets.delete_one({"_id": gone})  # by hand, as an administrator might
    store.queue.refresh([gone])  # what the app holding the queue index's lease does
    pulses.changed([gone])
    clock.advance(minutes=1)
    second = pulses.pulse()
    assert second.as_json() == world.recount()
    assert second.backlog_day.open[-1] == first.backlog_day.open[-1] - 1


def test_a_feed_that_missed_events_makes_the_next_refresh_read_everything(world: World) -> None:
    store, clock, commands = world.store, world.clock, world.commands
    pulses = PulseStore(store)
    pulses.pulse()
    pulses.changed([], reload=True)
    clock.advance(minutes=1)
    commands.seen.clear()
    again = pulses.pulse()
    assert again.as_json() == world.recount()
    assert len(full_reads(commands, store)) == 2  # both parts of the window
    assert pulses.last is not None and pulses.last.full
