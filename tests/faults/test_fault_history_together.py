"""A priority or tag change and its audit entry are one transaction on a replica set (fault walk
follow-up of #28): when the server refuses the entry, the change is not made either, and the
agent is told "not changed". Before, the change stood with no history and the refusal read as a
generic failure. (The entry is the only ``insert`` in these writes; the change is a
findAndModify, so failing ``insert`` refuses exactly the entry.)"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from helpdesk_tui.domain.errors import NotSent
from helpdesk_tui.domain.models import Category, NewTicket, Priority
from helpdesk_tui.store.tickets import TicketStore


@pytest.fixture
def ticket_id(store: TicketStore, people: Any) -> ObjectId:
    ticket = store.create_ticket(
        NewTicket(
            subject="Refund not received",
            description="Two weeks now.",
            user=people.customer,
            category=Category.PAYMENT,
            priority=Priority.MEDIUM,
        ),
        actor=people.customer,
    )
    assert ticket.id is not None
    return ticket.id


def test_a_priority_change_whose_entry_is_refused_is_not_made(
    store: TicketStore, ticket_id: ObjectId, people: Any, db: Any, fail_point: Any
) -> None:
    with fail_point({"times": 1}, ["insert"], errorCode=13), pytest.raises(NotSent) as seen:
        store.set_priority(ticket_id, Priority.URGENT, actor=people.agent)
    assert str(seen.value).startswith("not changed")
    assert store.get_ticket(ticket_id).priority is Priority.MEDIUM
    assert db.ticket_events.count_documents({"ticket": ticket_id, "action": "priority"}) == 0


def test_a_tag_change_whose_entry_is_refused_is_not_made(
    store: TicketStore, ticket_id: ObjectId, people: Any, db: Any, fail_point: Any
) -> None:
    with fail_point({"times": 1}, ["insert"], errorCode=13), pytest.raises(NotSent):
        store.change_tags(ticket_id, add=["vip"], actor=people.agent)
    assert "vip" not in store.get_ticket(ticket_id).tags
    assert db.ticket_events.count_documents({"ticket": ticket_id, "action": "tags"}) == 0


def test_both_changes_are_written_with_one_entry_each_when_the_server_answers(
    store: TicketStore, ticket_id: ObjectId, people: Any, db: Any
) -> None:
    store.set_priority(ticket_id, Priority.HIGH, actor=people.agent)
    store.change_tags(ticket_id, add=["vip", "refund"], actor=people.agent)
    store.change_tags(ticket_id, add=["late"], remove=["vip"], actor=people.agent)
    ticket = store.get_ticket(ticket_id)
    assert ticket.priority is Priority.HIGH and ticket.tags == ("refund", "late")
    entries = list(db.ticket_events.find({"ticket": ticket_id}).sort("_id", 1))
    assert [(e["action"], e.get("from"), e.get("to")) for e in entries[1:]] == [
        ("priority", "medium", "high"),
        ("tags", None, "vip,refund"),
        ("tags", "vip", "late"),
    ]
