"""Who keeps the pulse's state (issue 30), on a SecantusDB with authentication (the logins of
tests/security/conftest.py, roles made by ``init-db``): the supervisor's login writes it and a
new process of the same login starts from it; a login the server refuses the write computes
the pulse for itself, with no error for the user (the refusal is logged once).

SecantusDB matches a privilege by its database (MongoDB by its collection), so the refused
login here is one with ``read`` on the helpdesk database; tests/security checks that
``init-db`` grants ``pulse_state`` to the supervisor role alone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from conftest import FakeClock
from pulse_recount import recount
from pymongo import MongoClient
from security import conftest as security
from security.conftest import CUSTOMER, DATABASE, PASSWORDS, SAM, AuthServer

from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status
from helpdesk_tui.store.pulse import STATE_META, PulseStore
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

READER, READER_PASSWORD = "rita@helpdesk.example", "rita-Pw-1"
auth_server = security.auth_server  # the session's --auth SecantusDB, for this folder too


@pytest.fixture
def admin(auth_server: AuthServer, clock: FakeClock) -> Iterator[TicketStore]:
    """The admin login's store, with a few tickets of Carla's (one running, one resolved) and
    no stored state; the tickets and the state are removed after."""
    client = auth_server.client("admin")
    store = TicketStore(client[DATABASE], StoreSettings(), clock=clock)
    store.db[store.settings.pulse_state].delete_many({})
    made = []
    for priority in (Priority.URGENT, Priority.HIGH, Priority.LOW):
        ticket = store.create_ticket(
            NewTicket(
                subject="Parcel never arrived",
                user=auth_server.ids[CUSTOMER],
                category=Category.SHIPPING,
                priority=priority,
            ),
            actor=None,
        )
        made.append(ticket.id)
    clock.advance(minutes=30)
    store.set_status(made[0], Status.IN_PROGRESS)
    store.set_status(made[1], Status.IN_PROGRESS)
    store.set_status(made[1], Status.RESOLVED)
    clock.advance(minutes=5)
    yield store
    for name in (store.settings.tickets, store.settings.queue_index, store.settings.events):
        store.db[name].delete_many({"_id": {"$in": made}} if name != "ticket_events" else {})
    store.db[store.settings.pulse_state].delete_many({})
    client.close()


def figures_recounted(admin: TicketStore, clock: FakeClock) -> dict[str, Any]:
    names = {u.id: u.display for u in admin.staff(["agent", "supervisor"])}
    return recount(admin.db, clock.now, admin.settings.sla, names)


def process(uri: str, clock: FakeClock) -> tuple[PulseStore, MongoClient[Any]]:
    """A new app process signed in through ``uri``: its own client and PulseStore."""
    client: MongoClient[Any] = MongoClient(uri, tz_aware=True)
    return PulseStore(TicketStore(client[DATABASE], StoreSettings(), clock=clock)), client


def test_the_supervisor_keeps_the_state_and_a_new_process_starts_from_it(
    auth_server: AuthServer, admin: TicketStore, clock: FakeClock
) -> None:
    first, client = process(auth_server.uri(SAM), clock)
    before = first.pulse()
    client.close()
    stored = admin.db[admin.settings.pulse_state].find_one({"_id": STATE_META})
    assert stored is not None and stored["at"] == before.now

    clock.advance(minutes=2)
    second, client = process(auth_server.uri(SAM), clock)
    figures = second.pulse()
    client.close()
    assert second.last is not None and second.last.stored == before.now
    assert figures.as_json() == figures_recounted(admin, clock)


@pytest.fixture
def reader(auth_server: AuthServer) -> Iterator[str]:
    """A login with ``read`` on the helpdesk database only (dropped after)."""
    client = auth_server.client("admin")
    client.admin.command(
        "createUser",
        READER,
        pwd=READER_PASSWORD,
        roles=[{"role": "read", "db": DATABASE}],
        mechanisms=["SCRAM-SHA-256"],
    )
    yield READER
    client.admin.command("dropUser", READER)
    client.close()


def test_a_login_that_may_not_write_the_state_computes_for_itself(
    auth_server: AuthServer,
    admin: TicketStore,
    clock: FakeClock,
    reader: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk_tui.store.pulse")
    uri = auth_server.uri(SAM).replace(quote_plus(SAM), quote_plus(reader))
    pulses, client = process(uri.replace(quote_plus(PASSWORDS[SAM]), READER_PASSWORD), clock)

    figures = pulses.pulse()  # no error: the refused write is not the user's business
    assert figures.as_json() == figures_recounted(admin, clock)
    assert admin.db[admin.settings.pulse_state].count_documents({}) == 0
    refused = [r for r in caplog.records if "may not write" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.INFO

    # A minute later it refreshes for itself, and does not ask to write again (a second
    # refusal would be logged again).
    clock.advance(minutes=1)
    assert pulses.pulse().as_json() == figures_recounted(admin, clock)
    assert pulses.last is not None and not pulses.last.full
    assert len([r for r in caplog.records if "may not write" in r.getMessage()]) == 1
    client.close()
