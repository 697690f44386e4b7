"""The queue index kept true: by our writes, by the lease holder's change stream, by catch-up
after nobody ran, by repair on read; one lease holder at a time; the order always the SLA
engine's (the oracle: every active ticket read in full and sorted by ``sla.sort_key``)."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from typing import Any

from bson import ObjectId
from conftest import FakeClock, People, new_ticket

from helpdesk_tui.domain.models import Priority, Status, Ticket
from helpdesk_tui.domain.sla import SlaPolicy, evaluate, sort_key
from helpdesk_tui.store.live import LiveFeed
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.queue_index import IndexMaintainer
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def oracle(store: TicketStore) -> list[ObjectId | None]:
    """All open tickets, read whole and ordered by the SLA engine."""
    now = store.now()
    docs = store.tickets.find({"status": {"$in": ["open", "in_progress", "waiting"]}})
    tickets = [Ticket.from_mongo(d) for d in docs]
    tickets.sort(key=lambda t: (sort_key(evaluate(t, now, store.settings.sla)), t.id))
    return [t.id for t in tickets]


def shown(store: TicketStore) -> list[ObjectId | None]:
    return [t.id for t in store.list_queue(QueueQuery(), limit=500).tickets]


def some_tickets(store: TicketStore, people: People, clock: FakeClock, n: int) -> list[Any]:
    ids = []
    for i in range(n):
        clock.advance(minutes=7)
        priority = list(Priority)[i % 4]
        ids.append(store.create_ticket(new_ticket(people, priority=priority)).id)
    return ids


def test_the_order_after_mixed_writes_is_the_sla_engines(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    ids = some_tickets(store, people, clock, 30)
    rng = random.Random(5)
    for _ in range(60):
        clock.advance(minutes=3)
        tid = rng.choice(ids)
        action = rng.randrange(4)
        try:
            if action == 0:
                store.add_message(tid, sender=people.agent, content="on it")
            elif action == 1:
                store.set_priority(tid, rng.choice(list(Priority)))
            elif action == 2:
                store.set_status(tid, rng.choice([Status.IN_PROGRESS, Status.WAITING]))
            else:
                store.take(tid, people.other_agent)
        except Exception:
            pass  # refused transitions and takes: nothing written

    assert shown(store) == oracle(store)


def test_a_write_made_while_no_app_ran_is_caught_up_before_the_next_page(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    ids = some_tickets(store, people, clock, 5)
    clock.advance(minutes=1)
    # The Ticket Service answers the last ticket (Mongoose moves updatedAt); no app is running.
    db.tickets.update_one(
        {"_id": ids[-1]},
        {
            "$push": {
                "messages": {
                    "_id": ObjectId(),
                    "sender": people.agent,
                    "content": "hi",
                    "isInternal": False,
                    "attachments": [],
                    "createdAt": clock.now,
                }
            },
            "$set": {"status": "in_progress", "updatedAt": clock.now},
        },
    )

    assert shown(store) == oracle(store)
    entry = db.queue_index.find_one({"_id": ids[-1]})
    assert entry["status"] == "in_progress"


def test_an_entry_left_behind_by_a_writer_whose_clock_is_slow_is_repaired_on_read(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    ids = some_tickets(store, people, clock, 5)
    # Resolved by a writer (not through our store, no app running) whose clock is a day behind:
    # its updatedAt is older than the sync point, so the catch-up does not see it.
    db.tickets.update_one(
        {"_id": ids[0]},
        {"$set": {"status": "resolved", "updatedAt": clock.now - timedelta(days=1)}},
    )
    assert db.queue_index.find_one({"_id": ids[0]})["phase"] == "active"

    page = shown(store)

    assert ids[0] not in page
    assert page == oracle(store)
    assert db.queue_index.find_one({"_id": ids[0]})["phase"] == "done"


def test_one_app_holds_the_lease_and_the_next_takes_over_with_a_catch_up(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    ids = some_tickets(store, people, clock, 3)
    first = IndexMaintainer(store.queue, clock)
    second = IndexMaintainer(store.queue, clock)
    first.tick()
    second.tick()
    assert first.holding and not second.holding

    first.stop()  # the app quits: the lease is released
    clock.advance(minutes=2)
    db.tickets.update_one(
        {"_id": ids[1]}, {"$set": {"assignedTo": people.agent, "updatedAt": clock.now}}
    )
    second.tick()  # not yet due: it asked less than renew_every ago
    clock.advance(seconds=second.renew_every)
    second.tick()

    assert second.holding
    assert db.queue_index.find_one({"_id": ids[1]})["assignedTo"] == people.agent


def test_an_expired_lease_passes_to_another_app(store: TicketStore, clock: FakeClock) -> None:
    crashed = IndexMaintainer(store.queue, clock)
    crashed.tick()  # and never renews it
    other = IndexMaintainer(store.queue, clock)
    other.tick()
    assert not other.holding

    clock.advance(seconds=31)
    other._last = None
    other.tick()

    assert other.holding


def test_the_lease_holders_change_stream_applies_the_ticket_services_writes(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    ids = some_tickets(store, people, clock, 3)
    feed = LiveFeed(
        store,
        emit=lambda batch: None,
        poll_interval=0.2,
        maintainer=IndexMaintainer(store.queue, clock),
    )
    thread = threading.Thread(target=feed.run, daemon=True)
    thread.start()
    try:
        assert feed.ready.wait(10)
        deadline = time.monotonic() + 10
        while not (feed.maintainer and feed.maintainer.holding):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        db.tickets.update_one(  # as Mongoose would: updatedAt moves
            {"_id": ids[2]}, {"$set": {"priority": "urgent", "updatedAt": clock.now}}
        )
        while db.queue_index.find_one({"_id": ids[2]})["priority"] != "urgent":
            assert time.monotonic() < deadline, "the lease holder never applied the write"
            time.sleep(0.02)
    finally:
        feed.stop()
        thread.join(10)
    assert db.helpdesk_meta.find_one({"_id": "queue_index.lease"}) is None  # released


def test_a_changed_sla_policy_rebuilds_the_index(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    ids = some_tickets(store, people, clock, 4)
    before = db.queue_index.find_one({"_id": ids[0]})["due"]
    before_risk = db.queue_index.find_one({"_id": ids[0]})["riskAt"]
    slower = SlaPolicy(at_risk_share=0.5)  # at risk with half the target left, not a quarter
    other = TicketStore(db, StoreSettings(sla=slower), clock=clock)

    assert shown(other) == oracle(other)
    entry = db.queue_index.find_one({"_id": ids[0]})
    assert entry["due"] == before
    assert entry["riskAt"] < before_risk


def test_a_pages_rows_show_the_conversation_as_the_tickets_hold_it(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    """A page reads no message: what a row shows of the conversation (first response, count,
    last message, whose turn) comes with the entry. The oracle: each ticket read whole."""
    ids = some_tickets(store, people, clock, 4)
    clock.advance(minutes=5)
    store.add_message(ids[0], sender=people.agent, content="on it")
    store.add_message(ids[1], sender=people.agent, content="internal", internal=True)
    store.add_message(ids[2], sender=people.agent, content="answered")
    clock.advance(minutes=5)
    store.add_message(ids[2], sender=people.customer, content="still broken")
    # The Ticket Service answers the last one (its event applied by the lease holder).
    db.tickets.update_one(
        {"_id": ids[3]},
        {
            "$push": {
                "messages": {
                    "_id": ObjectId(),
                    "sender": people.other_agent,
                    "content": "hello",
                    "isInternal": False,
                    "attachments": [],
                    "createdAt": clock.now,
                }
            },
            "$set": {"updatedAt": clock.now},
        },
    )
    store.queue.refresh([ids[3]])

    def conversation(t: Ticket) -> tuple[Any, ...]:
        return (
            t.first_response_at,
            t.message_count,
            t.last_message_at,
            t.last_message_from_customer,
        )

    rows = {t.id: conversation(t) for t in store.list_queue(QueueQuery(), limit=50).tickets}
    whole = {d["_id"]: conversation(Ticket.from_mongo(d)) for d in db.tickets.find()}
    assert rows == whole
    assert rows[ids[2]][3] is True and rows[ids[0]][3] is False  # whose turn, both ways
