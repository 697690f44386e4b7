"""A refresh that fails half-way loses nothing (issue 30): the tickets the live feed named are
read by the next refresh, whose figures equal a computation from scratch. The failure is the
server's own (``failCommand`` on a SecantusDB with test commands), said in one typed line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock
from pymongo import MongoClient

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.pulse import PulseStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

APP = "pulse-faults"


@pytest.fixture(scope="module")
def fault_server() -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(test_commands=True).start()
    try:
        yield server
    finally:
        server.kill()  # no graceful 2 s stop: nobody reads its data again (servers.done)


def test_a_failed_refresh_keeps_the_feeds_tickets_for_the_next(
    fault_server: EmbeddedServer, clock: FakeClock
) -> None:
    client: MongoClient[Any] = MongoClient(fault_server.uri, tz_aware=True, appName=APP)
    admin: MongoClient[Any] = MongoClient(fault_server.uri, tz_aware=True)
    try:
        store = TicketStore(client["pulse_fault"], StoreSettings(), clock=clock)
        store.init_db()
        seed.load(store, seed.generate(clock.now, tickets=60, customers=30, seed=7))
        pulses = PulseStore(store)
        first = pulses.pulse()

        # A writer that does not touch updatedAt (so only the feed knows) moves a ticket.
        doc = store.tickets.find_one({"status": Status.IN_PROGRESS.value}, sort=[("_id", 1)])
        assert doc is not None
        moved = ObjectId(doc["_id"])
        store.tickets.update_one({"_id": moved}, {"$set": {"status": Status.WAITING.value}})
        store.queue.refresh([moved])  # what the app holding the queue index's lease does
        pulses.changed([moved])
        clock.advance(minutes=1)

        admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 1},
                "data": {"failCommands": ["aggregate"], "errorCode": 2, "appName": APP},
            }
        )
        try:
            with pytest.raises(HelpdeskError) as failed:
                pulses.pulse()
        finally:
            admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        assert len(str(failed.value).splitlines()) == 1

        again = pulses.pulse()
        # As a computation from scratch has it. (Not the recount: a status changed without an
        # audit entry has no waiting history, which the recount reads from the trail.)
        assert again.as_json() == PulseStore(store).compute(clock.now).as_json()
        assert again.backlog_day.waiting[-1] == first.backlog_day.waiting[-1] + 1
        assert pulses.last is not None and not pulses.last.full
        client.drop_database("pulse_fault")
    finally:
        client.close()
        admin.close()
