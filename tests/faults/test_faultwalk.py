"""Found by the fault walk (issue 27): what the agent is told when the server refuses or does
not answer must be true.

* A write refused with BadValue (code 2) is not blamed on the ticket's shape unless the field
  really is not a list: the server may refuse for reasons of its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from helpdesk_tui.domain.errors import InvalidRequest, NotSent
from helpdesk_tui.domain.models import Category, NewTicket, Priority
from helpdesk_tui.store.tickets import TicketStore


@pytest.fixture
def ticket_id(store: TicketStore, people: Any) -> ObjectId:
    ticket = store.create_ticket(
        NewTicket(
            subject="Parcel never arrived",
            description="Ordered two weeks ago.",
            user=people.customer,
            category=Category.SHIPPING,
            priority=Priority.HIGH,
        ),
        actor=people.customer,
    )
    assert ticket.id is not None
    return ticket.id


def test_a_refused_reply_on_a_well_formed_ticket_is_not_called_malformed(
    store: TicketStore, ticket_id: ObjectId, people: Any, fail_point: Any
) -> None:
    before = len(store.get_ticket(ticket_id).messages)
    with fail_point({"times": 1}, ["findAndModify"], errorCode=2), pytest.raises(NotSent) as seen:
        store.add_message(ticket_id, sender=people.agent, content="On its way")
    said = str(seen.value)
    assert "malformed" not in said and "not a list" not in said
    assert "failCommand" in said  # the server's own words say why
    assert len(store.get_ticket(ticket_id).messages) == before  # nothing was written


def test_a_refused_tag_on_a_well_formed_ticket_is_not_called_malformed(
    store: TicketStore, ticket_id: ObjectId, people: Any, fail_point: Any
) -> None:
    with fail_point({"times": 1}, ["findAndModify"], errorCode=2), pytest.raises(NotSent) as seen:
        store.change_tags(ticket_id, add=["vip"], actor=people.agent)
    assert "malformed" not in str(seen.value)


def test_a_reply_on_a_ticket_whose_messages_are_not_a_list_still_says_so(
    store: TicketStore, ticket_id: ObjectId, people: Any, db: Any
) -> None:
    db.tickets.update_one({"_id": ticket_id}, {"$set": {"messages": "hello"}})
    with pytest.raises(InvalidRequest, match="messages is not a list"):
        store.add_message(ticket_id, sender=people.agent, content="On its way")
