"""The pulse's state kept for the next process (issue 30): a PulseStore writes what it holds
(the per-ticket facts and the closed hours of status changes, as of a watermark) to
``pulse_state``; a PulseStore in a new process (a new client) starts from it and refreshes
only since the watermark, and its figures still equal a plain Python recount. A state that
is not whole, of another version or malformed is ignored: everything is read, as before.
What was read is counted from the commands the server received, not from timing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock
from pulse_recount import recount
from pymongo import MongoClient
from pymongo.collection import Collection
from test_pulse_incremental import Commands, full_reads, one_with_status

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import STATE_META, STATE_VERSION, PulseStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


@dataclass
class Processes:
    """Each ``new()`` is a new app process: its own client, TicketStore and PulseStore."""

    server: EmbeddedServer
    name: str
    clock: FakeClock
    clients: list[MongoClient[Any]]

    def new(self) -> tuple[PulseStore, Commands]:
        commands = Commands()
        client: MongoClient[Any] = MongoClient(
            self.server.uri, tz_aware=True, event_listeners=[commands]
        )
        self.clients.append(client)
        store = TicketStore(client[self.name], StoreSettings(), clock=self.clock)
        return PulseStore(store), commands

    @property
    def store(self) -> TicketStore:
        return self.new()[0].store

    @property
    def state(self) -> Collection[Any]:
        return self.store.db[StoreSettings().pulse_state]

    def recount(self) -> dict[str, Any]:
        store = self.store
        names = {u.id: u.display for u in store.staff(["agent", "supervisor"])}
        return recount(store.db, self.clock.now, store.settings.sla, names)


@pytest.fixture
def processes(server: EmbeddedServer, db: Any, clock: FakeClock) -> Iterator[Processes]:
    """120 demo tickets with their week of history."""
    world = Processes(server, db.name, clock, [])
    store = world.store
    store.init_db()
    seed.load(store, seed.generate(clock.now, tickets=120, customers=40, seed=7))
    yield world
    for client in world.clients:
        client.close()


def meta(world: Processes) -> dict[str, Any]:
    doc = world.state.find_one({"_id": STATE_META})
    assert doc is not None
    return dict(doc)


def test_a_new_process_starts_from_the_stored_state_and_equals_a_recount(
    processes: Processes,
) -> None:
    world, clock = processes, processes.clock
    first, _ = world.new()
    before = first.pulse()
    assert first.last is not None and first.last.full
    assert meta(world)["at"] == clock.now and meta(world)["v"] == STATE_VERSION

    # The first app has quit. Three minutes on, another app (or the Ticket Service) writes:
    # a new urgent ticket, a running one resolved, another put to waiting.
    clock.advance(minutes=3)
    store = world.store
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
    store.set_status(one_with_status(store, Status.IN_PROGRESS), Status.RESOLVED)
    store.set_status(one_with_status(store, Status.IN_PROGRESS), Status.WAITING)

    # A new process: its first computation starts from the stored state.
    second, commands = world.new()
    figures = second.pulse()
    assert figures.as_json() == world.recount()
    assert figures.backlog_day.open[-1] == before.backlog_day.open[-1]  # +1 new, -1 resolved
    assert sum(figures.arrivals_today) == sum(before.arrivals_today) + 1
    assert second.last is not None and not second.last.full
    assert second.last.stored == before.now
    # What it took: the stored state, the tickets updated since on their ids, the hours since;
    # no part of the window read again.
    assert full_reads(commands, second.store) == []
    (read,) = commands.on(second.store.queue.entries.name)
    assert new.id in read[1]["_id"]["$in"] and len(read[1]["_id"]["$in"]) < 20
    assert [name for name, _ in commands.on(world.state.name)] == ["find"]

    # A minute later the same process refreshes, checks the stored state against the
    # server's count of the window (all there: nothing read again) and writes its own state.
    clock.advance(minutes=1)
    later = second.pulse()
    assert later.as_json() == world.recount()
    assert second.last is not None and not second.last.full
    assert meta(world)["at"] == clock.now


def test_a_ticket_deleted_while_no_app_ran_leaves_the_figures_by_the_next_refresh(
    processes: Processes,
) -> None:
    """A ticket deleted by hand changes no update time: the stored state still holds it, and
    the new process's first refresh counts the window on the server, finds one ticket too
    many and reads everything; from then on the figures equal the recount."""
    world, clock = processes, processes.clock
    first, _ = world.new()
    first.pulse()
    store = world.store
    gone = one_with_status(store, Status.OPEN)
    store.tickets.delete_one({"_id": gone})  # by hand, as an administrator might
    store.queue.refresh([gone])  # what the app holding the queue index's lease does
    clock.advance(minutes=2)

    second, _ = world.new()
    second.pulse()
    assert second.last is not None and second.last.stored is not None
    clock.advance(minutes=1)
    checked = second.pulse()
    assert checked.as_json() == world.recount()
    assert second.last is not None and second.last.full


def test_two_writers_never_take_the_watermark_back(processes: Processes) -> None:
    world, clock = processes, processes.clock
    start = clock.now
    ahead, _ = world.new()
    ahead.compute(clock.advance(minutes=2))
    written = meta(world)
    # A process whose computation is older (it began before) writes after: refused.
    behind, _ = world.new()
    behind.compute(start)
    assert meta(world) == written
    generations = {doc["gen"] for doc in world.state.find({"_id": {"$ne": STATE_META}})}
    assert generations == {written["gen"]}  # its chunks went with it; the older ones too
    # And the state that stands is whole: a third process starts from it.
    third, _ = world.new()
    assert third.pulse().as_json() == world.recount()
    assert third.last is not None and third.last.stored == written["at"]


def test_one_write_a_minute_whichever_process_computed(processes: Processes) -> None:
    world, clock = processes, processes.clock
    start = clock.now
    one, _ = world.new()
    one.compute(start)
    other, _ = world.new()
    other.compute(start)  # from the stored state: nothing to write
    one.compute(clock.advance(minutes=1))
    written = meta(world)
    assert written["at"] == clock.now
    # Its own last write was 1.5 minutes ago, but the first process wrote 30 s ago: no write.
    other.compute(clock.advance(seconds=30))
    assert meta(world) == written
    other.compute(clock.advance(seconds=30))  # a minute since the last write: it writes
    assert meta(world)["at"] == clock.now and meta(world)["gen"] != written["gen"]


def _chunk_query() -> dict[str, Any]:
    return {"_id": {"$ne": STATE_META}}


Spoil = Callable[[Collection[Any]], None]
SPOILS: dict[str, Spoil] = {
    "an older version": lambda c: c.update_one({"_id": STATE_META}, {"$set": {"v": 0}}),
    "a watermark that is no date": lambda c: c.update_one(
        {"_id": STATE_META}, {"$set": {"at": "yesterday"}}
    ),
    "a watermark in the future": lambda c: c.update_one(
        {"_id": STATE_META}, {"$set": {"at": datetime(2099, 1, 1)}}
    ),
    "other SLA targets": lambda c: c.update_one(
        {"_id": STATE_META}, {"$set": {"policy": [[1, 2]] * 4}}
    ),
    "a chunk missing": lambda c: c.delete_one(_chunk_query()),
    "dates cut short": lambda c: c.update_one(_chunk_query(), {"$set": {"dates": b"\x00" * 7}}),
    "a value that is a document": lambda c: c.update_one(
        _chunk_query(), {"$set": {"values": [{"$gt": ""}]}}
    ),
    "a place past the values": lambda c: c.update_one(_chunk_query(), {"$set": {"values": []}}),
    "hours that are text": lambda c: c.update_one(
        {"_id": STATE_META}, {"$set": {"waiting": [["x", 1, 2]]}}
    ),
    "the meta document a string": lambda c: c.update_one(
        {"_id": STATE_META}, {"$set": {"chunks": "2"}}
    ),
}


@pytest.mark.parametrize("spoil", SPOILS.values(), ids=SPOILS.keys())
def test_a_stored_state_that_is_old_or_corrupt_is_ignored_and_everything_read(
    processes: Processes, spoil: Spoil
) -> None:
    world, clock = processes, processes.clock
    first, _ = world.new()
    first.pulse()
    spoil(world.state)
    clock.advance(minutes=2)

    second, commands = world.new()
    figures = second.pulse()  # no crash, no error for the user

    assert figures.as_json() == world.recount()
    assert second.last is not None and second.last.full and second.last.stored is None
    assert len(full_reads(commands, second.store)) == 2  # both parts of the window
    # The spoiled state was written over with a whole one a third process starts from.
    assert meta(world)["at"] == clock.now and meta(world)["v"] == STATE_VERSION
    third, _ = world.new()
    assert third.pulse().as_json() == figures.as_json()
    assert third.last is not None and third.last.stored == clock.now


def test_facts_keep_only_text_and_agent_ids(processes: Processes) -> None:
    """A ticket whose status or assignee is a document (hostile or broken data) is counted as
    one with none, and the state holding it is written and read back."""
    world, clock = processes, processes.clock
    store = world.store
    odd = one_with_status(store, Status.OPEN)
    store.queue.entries.update_one(
        {"_id": odd}, {"$set": {"status": {"$ne": 1}, "assignedTo": {"x": ObjectId()}}}
    )
    first, _ = world.new()
    figures = first.pulse()
    clock.advance(minutes=2)
    second, _ = world.new()
    assert second.pulse().backlog_day.open == figures.backlog_day.open
    assert second.last is not None and second.last.stored is not None
