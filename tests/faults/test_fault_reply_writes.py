"""A reply's write under injected faults (failCommand): it is stored exactly once or not at all,
and the store says which (sent, ``NotSent``, or ``OutcomeUnknown`` settled by reading back).

What SecantusDB's failCommand can do (secantus/failpoints.py, commands.py ``dispatch``): every
action runs *before* the command's handler. ``closeConnection`` drops the link before the write
is applied, ``errorCode`` answers without writing, ``blockConnection`` sleeps and then runs the
command (so a write blocked past the client's timeout is applied after the client gave up).
There is no "after the write" mode, so "applied, then the answer was lost" is proved with a
proxy (faults/dropping_proxy.py) that lets the write through and loses its answer: the driver
retries and one copy is stored. Besides: the driver's retry after a dropped link stores one copy
(closeConnection), the same message sent again after it was applied stores nothing more, and a
write applied after the client's timeout is found by the read-back (blockConnection).
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient

from faults.dropping_proxy import DroppingProxy
from faults.helpers import create
from helpdesk_tui.domain.errors import NotSent, OutcomeUnknown
from helpdesk_tui.store.embedded import free_port
from helpdesk_tui.store.outcome import Bounds, Pending
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


@pytest.fixture
def ticket_id(store: TicketStore, people: Any) -> ObjectId:
    ticket = create(store, people)
    assert ticket.id is not None
    return ticket.id


def copies(admin: MongoClient[Any], store: TicketStore, ticket_id: ObjectId, mid: ObjectId) -> int:
    """How many messages with that ``_id`` the ticket holds (read by the untouched client)."""
    doc = admin[store.db.name].tickets.find_one({"_id": ticket_id})
    assert doc is not None
    return sum(1 for m in doc["messages"] if m.get("_id") == mid)


def reply(store: TicketStore, ticket_id: ObjectId, people: Any, mid: ObjectId) -> Any:
    return store.add_message(ticket_id, sender=people.agent, content="On its way", message_id=mid)


def test_a_dropped_link_on_the_reply_write_is_retried_and_stores_the_reply_once(
    store: TicketStore, ticket_id: ObjectId, people: Any, admin_client: Any, fail_point: Any
) -> None:
    mid = ObjectId()
    with fail_point({"times": 1}, ["findAndModify"], closeConnection=True):
        ticket = reply(store, ticket_id, people, mid)  # the driver retries once: no error

    assert any(m.id == mid for m in ticket.messages)
    assert copies(admin_client, store, ticket_id, mid) == 1


def test_the_same_message_sent_again_after_it_was_applied_stores_nothing_more(
    store: TicketStore, ticket_id: ObjectId, people: Any, admin_client: Any
) -> None:
    """What a retry after "applied, then the answer was lost" amounts to: the same write again.
    The write's filter skips a ticket that holds the message already, and it counts as sent."""
    mid = ObjectId()
    reply(store, ticket_id, people, mid)

    again = reply(store, ticket_id, people, mid)

    assert any(m.id == mid for m in again.messages)
    assert copies(admin_client, store, ticket_id, mid) == 1


def test_an_error_before_the_write_is_not_sent_and_writes_nothing(
    store: TicketStore, ticket_id: ObjectId, people: Any, admin_client: Any, fail_point: Any
) -> None:
    mid = ObjectId()
    # Unauthorized: the server refuses before writing (no retryable label: no retry).
    with (
        fail_point({"times": 1}, ["findAndModify"], errorCode=13, errorLabels=[]),
        pytest.raises(NotSent, match="database error"),
    ):
        reply(store, ticket_id, people, mid)

    assert copies(admin_client, store, ticket_id, mid) == 0


def test_a_server_that_cannot_be_reached_is_not_sent(store: TicketStore, people: Any) -> None:
    """Connection refused: no server is ever selected, so nothing can have been written."""
    client: MongoClient[Any] = MongoClient(
        f"mongodb://127.0.0.1:{free_port()}/", serverSelectionTimeoutMS=300, connect=False
    )
    try:
        nowhere = TicketStore(client["helpdesk"], StoreSettings(), clock=store.clock)
        nowhere.bounds = Bounds(read=0.3, write=0.3, settle=0.0)
        with pytest.raises(NotSent, match="could not be reached"):
            nowhere.add_message(ObjectId(), sender=people.agent, content="Hello")
    finally:
        client.close()


def test_a_write_blocked_past_its_bound_is_unknown_then_read_back_as_sent_once(
    store: TicketStore, ticket_id: ObjectId, people: Any, admin_client: Any, fail_point: Any
) -> None:
    """The server holds the write 1 s and then applies it; the client gave up at 0.3 s. The
    outcome is unknown (never "not sent"), and the read-back, made once a write still in flight
    could have landed (0.3 + 2.5 s), finds it: one copy, and nothing was sent twice."""
    store.bounds = Bounds(read=3.0, write=0.3, settle=2.5)
    mid = ObjectId()
    with fail_point({"times": 1}, ["findAndModify"], blockConnection=True, blockTimeMS=1000):
        with pytest.raises(OutcomeUnknown) as unknown:
            reply(store, ticket_id, people, mid)
        pending = unknown.value.pending
        assert isinstance(pending, Pending) and pending.message_id == mid

        assert store.message_landed(pending) is True

    assert copies(admin_client, store, ticket_id, mid) == 1


def test_a_blocked_write_the_server_then_refuses_is_read_back_as_not_sent(
    store: TicketStore, ticket_id: ObjectId, people: Any, admin_client: Any, fail_point: Any
) -> None:
    store.bounds = Bounds(read=3.0, write=0.3, settle=1.5)
    mid = ObjectId()
    block = {"blockConnection": True, "blockTimeMS": 700, "errorCode": 13, "errorLabels": []}
    with fail_point({"times": 1}, ["findAndModify"], **block):
        with pytest.raises(OutcomeUnknown) as unknown:
            reply(store, ticket_id, people, mid)

        assert store.message_landed(unknown.value.pending) is False

    assert copies(admin_client, store, ticket_id, mid) == 0


def test_a_read_back_that_fails_too_stays_unknown_and_never_writes(
    store: TicketStore, ticket_id: ObjectId, people: Any, admin_client: Any, fail_point: Any
) -> None:
    store.bounds = Bounds(read=1.0, write=0.3, settle=0.0)
    mid = ObjectId()
    pending = Pending(ticket_id, mid, settled_at=0.0)
    with fail_point("alwaysOn", ["find"], closeConnection=True):
        assert store.message_landed(pending) is None  # "unknown: still checking"

    assert store.message_landed(pending) is False  # answered once the link is back
    assert copies(admin_client, store, ticket_id, mid) == 0


def test_a_status_change_refused_before_writing_says_not_changed(
    store: TicketStore, ticket_id: ObjectId, people: Any, fail_point: Any
) -> None:
    from helpdesk_tui.domain.models import Status

    with (
        fail_point({"times": 1}, ["findAndModify"], errorCode=13, errorLabels=[]),
        pytest.raises(NotSent, match=r"^not changed: database error: Failing command"),
    ):
        store.set_status(ticket_id, Status.IN_PROGRESS, actor=people.agent)

    assert store.get_ticket(ticket_id).status is Status.OPEN


def test_a_take_held_past_its_bound_says_it_may_have_been_changed(
    store: TicketStore, ticket_id: ObjectId, people: Any, fail_point: Any
) -> None:
    store.bounds = Bounds(read=3.0, write=0.3, settle=0.0)
    with (
        fail_point({"times": 1}, ["findAndModify"], blockConnection=True, blockTimeMS=800),
        pytest.raises(OutcomeUnknown, match="it may have been changed: look again"),
    ):
        store.take(ticket_id, people.agent)


def test_a_reply_applied_before_its_answer_was_lost_is_retried_and_stored_once(
    store: TicketStore,
    ticket_id: ObjectId,
    people: Any,
    admin_client: Any,
    fault_server: Any,
) -> None:
    """Through a proxy that forwards the write, lets the server apply it, then drops the answer
    and the link: the driver retries the write (retryable writes), and the ticket holds the
    reply exactly once; the store says "sent"."""
    proxy = DroppingProxy(fault_server.port)
    client: MongoClient[Any] = MongoClient(
        f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", tz_aware=True
    )
    try:
        through = TicketStore(client[store.db.name], StoreSettings(), clock=store.clock)
        mid = ObjectId()
        proxy.drop_reply_to(b"findAndModify")

        ticket = reply(through, ticket_id, people, mid)

        assert proxy.dropped == 1  # the answer to an applied write was lost once
        assert any(m.id == mid for m in ticket.messages)
        assert copies(admin_client, store, ticket_id, mid) == 1
    finally:
        client.close()
        proxy.close()
