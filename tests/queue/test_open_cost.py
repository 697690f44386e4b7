"""What opening the app asks the server before the first rows are on screen (issue 14).

The app's store runs on a client with a pymongo command listener (as benchmarks/bench_db_work.py
counts them). Before the first paint the queue needs the view's rows and the people they name
(and my snoozes, which the view hides): the counts of every view and who else is looking at the
rows come after the rows are shown, and still come.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeClock
from helpers import MakeApp
from pymongo import MongoClient, monitoring

from helpdesk_tui.screens.queue import QueueScreen, ViewBar
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.tickets import TicketStore

READS = ("find", "aggregate", "count", "distinct", "getMore")


class Reads(monitoring.CommandListener):
    """The read commands sent, as (command, collection), but the live feed thread's (its change
    stream and the queue-index upkeep do not wait for the screen, and do not grow with it)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.feed: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in READS and threading.get_ident() not in self.feed:
            target = event.command.get(event.command_name)
            if event.command_name == "getMore":
                target = event.command.get("collection")
            if event.command_name == "aggregate" and any(
                "$lookup" in stage for stage in event.command.get("pipeline", [])
            ):
                target = f"{target}+{event.command['pipeline'][-1]['$lookup']['from']}"
            self.sent.append((event.command_name, str(target)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def watched(
    server: EmbeddedServer, demo_store: TicketStore, clock: FakeClock
) -> Iterator[tuple[TicketStore, Reads]]:
    reads = Reads()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[reads])
    yield TicketStore(client[demo_store.db.name], demo_store.settings, clock=clock), reads
    client.close()


async def test_before_the_first_rows_the_app_reads_only_the_view_and_its_people(
    watched: tuple[TicketStore, Reads], make_app: MakeApp
) -> None:
    store, reads = watched
    app = make_app(store)  # who am I: asked before the app starts
    reads.sent.clear()
    run = app.feed.run

    def feed() -> None:
        reads.feed.add(threading.get_ident())
        run()

    app.feed.run = feed
    before: list[tuple[str, str]] = []
    painted = app.queue_painted

    def first_rows() -> None:
        if not before:
            before.extend(reads.sent)
        painted()

    app.queue_painted = first_rows
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 10
        while not before and time.monotonic() < deadline:
            await pilot.pause(0.05)
        queue = next(s for s in app.screen_stack if isinstance(s, QueueScreen))

        assert sorted(before) == sorted(
            [
                ("find", "snoozes"),  # mine, hidden from the view
                ("find", "queue_index"),  # the view's page: its ids, in order
                ("find", "tickets"),  # those rows (their conversation fields: the entries')
                ("find", "users"),  # the customers and agents they name
            ]
        ), before

        # The counts and the presence still come, after the rows.
        while not queue.counts and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert queue.counts.get("open"), queue.counts
        assert f"Open {queue.counts['open']}" in queue.query_one(ViewBar)._shown.plain
        assert ("find", "presence") in reads.sent
        app.feed.stop()


async def test_a_change_to_the_open_ticket_costs_one_read_of_it_and_its_history(
    watched: tuple[TicketStore, Reads], demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The ticket screen re-reads the ticket on its change event: the ticket and its audit
    trail in one command (they were two), no other read of tickets or their events."""
    from helpdesk_tui.domain.models import Priority, Status
    from helpdesk_tui.screens.ticket import TicketScreen

    store, reads = watched
    ticket = next(
        t
        for t in demo_store.list_queue(QueueQuery(statuses=(Status.OPEN,))).tickets
        if t.priority is not Priority.URGENT
    )
    assert ticket.id is not None
    app = make_app(store)
    run = app.feed.run

    def feed() -> None:
        reads.feed.add(threading.get_ident())
        run()

    app.feed.run = feed
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 10
        while not app.feed.ready.is_set() and time.monotonic() < deadline:
            await pilot.pause(0.05)
        screen = TicketScreen(ticket.id)
        await app.push_screen(screen)
        while screen.ticket is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert screen.ticket is not None
        # The start-up work done after the first rows (what is mine, whom I follow) has
        # read what it reads: on a loaded machine it can come after the ticket opened.
        deadline = time.monotonic() + 10
        while (
            app.alerts.mine_ids is None
            or any(w.group == "alerts" and not w.is_finished for w in app.workers)
        ) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        reads.sent.clear()

        demo_store.set_priority(ticket.id, Priority.URGENT)  # another agent, its own client

        deadline = time.monotonic() + 10
        while screen.ticket.priority is not Priority.URGENT and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert screen.ticket.priority is Priority.URGENT
        ticket_reads = [c for c in reads.sent if c[1].startswith(("tickets", "ticket_events"))]
        assert ticket_reads == [("aggregate", "tickets+ticket_events")], reads.sent
        app.feed.stop()


async def test_opening_a_ticket_from_the_queue_reads_it_once(
    watched: tuple[TicketStore, Reads], make_app: MakeApp
) -> None:
    """Enter on a row: one read of the ticket and its history (the screen's first showing is
    not a return from another screen, which reads it again)."""
    from helpdesk_tui.screens.ticket import TicketScreen

    store, reads = watched
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 10
        queue = None
        while queue is None or not queue.counts:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
            queue = next((s for s in app.screen_stack if isinstance(s, QueueScreen)), None)
        await pilot.pause(0.5)
        reads.sent.clear()
        await pilot.press("enter")
        while not (isinstance(app.screen, TicketScreen) and app.screen.loaded):
            assert time.monotonic() < deadline + 10
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        assert reads.sent.count(("aggregate", "tickets+ticket_events")) == 1, reads.sent
        app.feed.stop()
