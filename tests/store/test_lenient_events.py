"""Malformed audit-trail entries (``ticket_events``): skipped; the open ticket's history still
shows every good entry, and each shown entry is one the conversation can describe."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FakeClock, People, new_ticket
from garbage import cases, spoiled

from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.opened import ticket_and_history
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import describe_event

OPTIONAL = ["null", "missing", "string"]


@pytest.mark.parametrize(
    ("field", "kind"),
    cases(
        ["ticket", "action", "at", "actor", "from", "to"],
        {"action": ["string"], "actor": ["null", "missing"], "from": OPTIONAL, "to": OPTIONAL},
    ),
)
def test_a_malformed_audit_entry_beside_good_ones_leaves_the_history_full(
    store: TicketStore, people: People, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    assert ticket.id is not None
    clock.advance(minutes=1)
    store.set_status(ticket.id, Status.IN_PROGRESS, actor=people.agent)
    good = {
        "ticket": ticket.id,
        "actor": people.agent,
        "action": "assign",
        "from": None,
        "to": str(people.agent),
        "at": clock.now,
    }
    db.ticket_events.insert_one(spoiled(good, field, kind))
    expected = ["Carla Customer opened the ticket", "Ann Agent changed status open → in progress"]
    users = store.users_by_ids([people.customer, people.agent])

    _, opened = ticket_and_history(store, ticket.id)  # the ticket screen's one read
    history = store.history(ticket.id)

    for events in (opened, history):
        assert [describe_event(e, users) for e in events] == expected
