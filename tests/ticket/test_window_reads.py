"""The window reads of an open ticket (store/opened.py, issue 29) on the real server: what the
whole conversation says (first reply, newest message, whose turn, count) is the same as from
the whole document, whatever its shape; a re-read or a page that no longer follows what was
read (a merge or a split moved the messages) says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.store.opened import TAIL, earlier_messages, ticket_and_history
from helpdesk_tui.store.tickets import TicketStore

CUSTOMER, AGENT = ObjectId(), ObjectId()
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def message(n: int, sender: ObjectId = CUSTOMER, internal: bool = False) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "sender": sender,
        "content": f"message {n}",
        "attachments": [],
        "isInternal": internal,
        "createdAt": T0 + timedelta(minutes=n),
    }


def insert(store: TicketStore, messages: Any) -> ObjectId:
    doc = {"ticketNumber": f"TKT-{ObjectId()}", "subject": "s", "description": "d",
           "user": CUSTOMER, "category": "other", "priority": "low", "status": "open",
           "tags": [], "createdAt": T0, "updatedAt": T0, "__v": 0,
           "messages": messages}  # fmt: skip
    return store.tickets.insert_one(doc).inserted_id


SHAPES = {
    "agent replies early": [message(n, AGENT if n == 3 else CUSTOMER) for n in range(300)],
    "agent replies only late": [message(n, AGENT if n == 280 else CUSTOMER) for n in range(300)],
    "no agent reply": [message(n) for n in range(300)],
    "only notes at the end": [
        *(message(n, AGENT if n == 10 else CUSTOMER) for n in range(100)),
        *(message(n, AGENT, internal=True) for n in range(100, 100 + TAIL + 20)),
    ],
    "agent wrote last": [message(n, AGENT if n % 2 else CUSTOMER) for n in range(120)],
    "empty": [],
    "not a list": "oops",
    "no createdAt on the last": [message(1, AGENT), {"_id": ObjectId(), "content": "x"}],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_window_says_what_the_whole_conversation_says(store: TicketStore, shape: str) -> None:
    ticket_id = insert(store, SHAPES[shape])
    whole = Ticket.from_mongo(store.tickets.find_one({"_id": ticket_id}))
    window = ticket_and_history(store, ticket_id)
    read = window.ticket
    assert read.message_count == whole.message_count
    assert read.first_response_at == whole.first_response_at
    assert read.last_message_at == whole.last_message_at
    assert read.last_message_from_customer == whole.last_message_from_customer
    assert read.messages == whole.messages[-TAIL:]
    assert window.start == max(whole.message_count - TAIL, 0)
    if shape == "not a list":
        assert read.problems == whole.problems  # said as the whole document says it


def test_a_re_read_after_a_merge_into_the_middle_says_it_does_not_follow(
    store: TicketStore,
) -> None:
    messages = [message(n) for n in range(TAIL + 30)]
    ticket_id = insert(store, messages)
    first = ticket_and_history(store, ticket_id)
    last = first.ticket.messages[-1].id
    count = first.ticket.message_count
    # Nothing changed: the re-read follows and carries no message.
    again = ticket_and_history(store, ticket_id, after=(count, last))
    assert again.follows and again.ticket.messages == () and again.start == count
    # A merge copies older messages in, in time order (store/merge.py): positions move.
    copies = [{**message(5), "_id": ObjectId(), "content": "copied"}]
    store.tickets.update_one(
        {"_id": ticket_id},
        {"$push": {"messages": {"$each": copies, "$sort": {"createdAt": 1}}}},
    )
    moved = ticket_and_history(store, ticket_id, after=(count, last))
    assert moved.follows is False
    assert len(moved.ticket.messages) == TAIL  # the newest, to draw afresh
    assert moved.ticket.messages[-1].id == last
    # A page asked before a message that moved says so too.
    page = earlier_messages(store, ticket_id, first.start, first.ticket.messages[0].id)
    assert page.follows is False


def test_a_page_before_the_window_is_the_messages_just_before_it(store: TicketStore) -> None:
    messages = [message(n) for n in range(TAIL + 30)]
    ticket_id = insert(store, messages)
    first = ticket_and_history(store, ticket_id)
    page = earlier_messages(store, ticket_id, first.start, first.ticket.messages[0].id, page=20)
    assert page.follows and page.start == 10
    assert [m.content for m in page.ticket.messages] == [f"message {n}" for n in range(10, 30)]
    assert page.ticket.message_count == TAIL + 30


def test_a_re_read_of_a_ticket_read_with_no_messages_reads_the_new_ones(
    store: TicketStore,
) -> None:
    ticket_id = insert(store, [])
    first = ticket_and_history(store, ticket_id)
    assert first.ticket.messages == () and first.follows
    again = ticket_and_history(store, ticket_id, after=(0, None))  # $project: no bare 0
    assert again.follows and again.ticket.messages == () and again.start == 0
    store.tickets.update_one({"_id": ticket_id}, {"$push": {"messages": message(1)}})
    new = ticket_and_history(store, ticket_id, after=(0, None))
    assert [m.content for m in new.ticket.messages] == ["message 1"] and new.follows
