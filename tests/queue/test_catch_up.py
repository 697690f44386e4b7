"""The start-up catch-up of the queue index (issue 14): it writes only what differs, the views'
first page does not wait for it, and what it changes reaches the views (a reload).

On the session's SecantusDB: the catch-up reads ``tickets`` by ``updatedAt`` and compares with
``queue_index``; the feed opens a real change stream.
"""

from __future__ import annotations

import threading
from typing import Any

from conftest import FakeClock, People, new_ticket
from helpers import QUIET, MakeApp
from pilot import shows, until
from test_app_queue import started, user_id

from helpdesk_tui.store.live import Batch, LiveFeed
from helpdesk_tui.store.queue_index import IndexMaintainer
from helpdesk_tui.store.tickets import TicketStore

WAIT = 10.0


def test_a_catch_up_rewrites_only_the_entries_that_differ(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    """The overlap re-reads tickets whose entries are already right (most of them): writing
    them all again cost seconds at 10,000 tickets on every first start of a day."""
    ids = [store.create_ticket(new_ticket(people)).id for _ in range(5)]
    clock.advance(minutes=1)
    # The Ticket Service takes one, with no app running (so nothing applied its event).
    db.tickets.update_one(
        {"_id": ids[2]}, {"$set": {"assignedTo": people.agent, "updatedAt": clock.now}}
    )

    changed = store.queue.catch_up(clock.now)

    assert changed == 1
    assert db.queue_index.find_one({"_id": ids[2]})["assignedTo"] == people.agent
    assert store.queue.catch_up(clock.now) == 0  # and again: nothing left to write


def test_a_missing_entry_is_written_by_the_catch_up(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    db.queue_index.delete_one({"_id": ticket.id})

    assert store.queue.catch_up(clock.now) == 1
    assert db.queue_index.find_one({"_id": ticket.id})["status"] == "open"


def test_the_first_page_does_not_wait_for_the_catch_up_and_views_reload_after_it(
    store: TicketStore, people: People, clock: FakeClock, db: Any
) -> None:
    """Ready (views may read) as soon as the stream is open; the lease and its catch-up come
    after, and a catch-up that changed an entry tells the views to reload."""
    ids = [store.create_ticket(new_ticket(people)).id for _ in range(3)]
    db.tickets.update_one({"_id": ids[0]}, {"$set": {"priority": "urgent", "updatedAt": clock.now}})
    index = store.queue
    original = index.catch_up
    release, catching = threading.Event(), threading.Event()

    def slow_catch_up(now: Any) -> int:
        catching.set()
        assert release.wait(WAIT)
        return original(now)

    index.catch_up = slow_catch_up  # type: ignore[method-assign]
    batches: list[Batch] = []
    feed = LiveFeed(store, emit=batches.append, maintainer=IndexMaintainer(index, clock))
    thread = threading.Thread(target=feed.run, daemon=True)
    thread.start()
    try:
        assert catching.wait(WAIT), "the feed never started its catch-up"
        assert feed.ready.wait(WAIT), "the views waited for the catch-up"
        assert index.held  # meanwhile a page reads the index as it is, without a catch-up
        assert not any(b.reload for b in batches)
        release.set()
        deadline = threading.Event()
        for _ in range(int(WAIT / 0.05)):
            if any(b.reload for b in batches):
                break
            deadline.wait(0.05)
        assert any(b.reload for b in batches), "the views were not told to reload"
        assert db.queue_index.find_one({"_id": ids[0]})["priority"] == "urgent"
    finally:
        release.set()
        feed.stop()
        thread.join(WAIT)


def test_a_catch_up_that_changes_nothing_reloads_nothing(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    store.create_ticket(new_ticket(people))
    batches: list[Batch] = []
    maintainer = IndexMaintainer(store.queue, clock)
    feed = LiveFeed(store, emit=batches.append, maintainer=maintainer)
    feed._maintain()  # the first turn of the loop: lease taken, catch-up run

    assert maintainer.holding
    assert not any(b.reload for b in batches)


async def test_a_ticket_given_to_me_while_no_app_ran_is_in_my_queue_after_start(
    demo_store: TicketStore, make_app: MakeApp, clock: FakeClock, db: Any
) -> None:
    """Guard for the order above: the first page may read the index before the catch-up;
    the catch-up's reload brings the Ticket Service's write in."""
    ana = user_id(demo_store, "ana@helpdesk.example")
    clock.advance(minutes=1)
    taken = db.tickets.find_one({"status": "open", "assignedTo": None})
    db.tickets.update_one(
        {"_id": taken["_id"]}, {"$set": {"assignedTo": ana, "updatedAt": clock.now}}
    )
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        assert await until(
            pilot,
            lambda: shows(queue, taken["_id"]),
            seconds=WAIT,
        )
