"""Found by the fault walk (issue 27): what the agent is told when the server refuses or does
not answer must be true.

* A write refused with BadValue (code 2) is not blamed on the ticket's shape unless the field
  really is not a list: the server may refuse for reasons of its own.
* A server that does not answer (stalled, down, the link dropped) refused nothing: the error
  says "no answer" in the words the reply's outcome uses, never pymongo's "operation
  cancelled" under "The database refused".
* A search that failed no longer says "searching…".
* A bulk change stops at the first ticket the database did not answer for, and says so.
* A ticket opened during a stall does not call its people "unknown user", and loads once the
  database answers again.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from helpers import MakeApp
from pilot import plain, record_notifications, settle, until
from textual.widgets import Static

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.demo.seed import SUPERVISOR
from helpdesk_tui.domain.errors import (
    InvalidRequest,
    NotSent,
    StoreUnreachable,
)
from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status
from helpdesk_tui.messages import FeedStateChanged
from helpdesk_tui.screens.search import SearchScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import TicketHeader

AGENT = "ann@helpdesk.test"
PARKED = Config(ui=UiConfig(poll_interval_seconds=3600))


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


def test_a_read_the_server_does_not_answer_is_said_as_no_answer_not_as_a_refusal(
    store: TicketStore, ticket_id: ObjectId, fail_point: Any
) -> None:
    with (
        fail_point("alwaysOn", ["find"], closeConnection=True),
        pytest.raises(StoreUnreachable) as seen,
    ):
        store.get_ticket(ticket_id)
    assert str(seen.value) == "the connection to the database failed"


async def test_a_search_the_server_does_not_answer_says_so_and_stops_saying_searching(
    store: TicketStore, ticket_id: ObjectId, make_app: MakeApp, fail_point: Any
) -> None:
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        with fail_point("alwaysOn", ["find", "aggregate"], closeConnection=True):
            await pilot.press("slash", *"parcel", "enter")
            assert await until(pilot, lambda: any(s == "error" for s, _, _ in said))
            await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        errors = [(title, text) for severity, title, text in said if severity == "error"]
        assert errors[0] == ("No answer from the database", "the connection to the database failed")
        line = plain(search.query_one("#search-info", Static))
        assert line == "“parcel” was not searched; enter tries again."


async def test_a_bulk_change_the_database_does_not_answer_stops_at_the_first_ticket(
    demo_store: TicketStore, make_app: MakeApp, db: Any, fail_point: Any
) -> None:
    """Each write waits its whole bound for an answer: tried one after another through a stall,
    three tickets kept the agent waiting three bounds before a word. After the first no-answer
    the rest are not tried, and the report says so."""
    app = make_app(demo_store, SUPERVISOR[1], config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "space", "space", "space")
        await settle(pilot)
        table = app.screen.table
        picked = [table.tickets[k] for k in table.tickets if k in table.selected]
        assert [t.status for t in picked] == [Status.OPEN] * 3
        await pilot.press("s", *["down"] * list(Status).index(Status.IN_PROGRESS))
        await settle(pilot)
        with fail_point("alwaysOn", ["findAndModify"], closeConnection=True):
            await pilot.press("enter")
            assert await until(pilot, lambda: any("of 3 done" in t for _, _, t in said), seconds=60)
        await settle(pilot)
    report = next(text for _, _, text in said if "of 3 done" in text)
    assert "0 of 3 done" in report
    first, *rest = picked
    assert f"{first.label}: no answer from the database" in report
    for ticket in rest:
        assert f"{ticket.label}: not tried (no answer from the database)" in report
        assert db.tickets.find_one({"_id": ticket.id})["status"] == "open"


async def test_a_ticket_opened_while_the_database_does_not_answer_names_nobody_unknown(
    store: TicketStore,
    ticket_id: ObjectId,
    people: Any,
    db: Any,
    make_app: MakeApp,
    fail_point: Any,
) -> None:
    """The header is painted from the queue's row before the people are read: a name not read
    yet is "…", not "unknown user" (the assignee is the agent at the keyboard). Once the
    database answers again (the feed says so), the failed load is tried again."""
    store.take(ticket_id, people.agent)
    row = store.get_ticket(ticket_id)
    agent = db.users.find_one({"_id": people.agent})["name"]  # not through the store's cache
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        with fail_point("alwaysOn", ["find", "aggregate"], closeConnection=True):
            screen = TicketScreen(ticket_id, row)
            await app.push_screen(screen)
            assert await until(pilot, lambda: any(s == "error" for s, _, _ in said), seconds=60)
            await settle(pilot)
            header = plain(screen.query_one(TicketHeader))
            assert "unknown user" not in header
            assert "Assignee: …" in header
        screen.post_message(FeedStateChanged(app.feed_mode))  # what check_feed sends on recovery
        assert await until(
            pilot, lambda: f"Assignee: {agent}" in plain(screen.query_one(TicketHeader))
        )


def test_a_take_whose_history_entry_the_server_refuses_is_not_made_at_all(
    store: TicketStore, ticket_id: ObjectId, people: Any, db: Any, fail_point: Any
) -> None:
    """Fault walk #28: the audit insert refused after the take was made left a take with no
    history, said as a generic error. Now the take and its entry are one transaction (a replica
    set): the refusal undoes both, and the agent is told it was not changed. (Only the audit
    entry is an `insert`: the take itself is a findAndModify.)"""
    with fail_point({"times": 1}, ["insert"], errorCode=13), pytest.raises(NotSent) as seen:
        store.take(ticket_id, people.agent)
    assert str(seen.value).startswith("not changed")
    assert store.get_ticket(ticket_id).assigned_to is None  # not made: no history to miss
    assert db.ticket_events.count_documents({"ticket": ticket_id, "action": "assign"}) == 0


def test_a_status_change_committed_after_the_bound_comes_with_its_history_entry(
    store: TicketStore, ticket_id: ObjectId, people: Any, db: Any, fail_point: Any
) -> None:
    """Fault walk #33: status changes a stalled server applied after their bound had no audit
    entry (undo could not reverse them). The commit is held past the store's bound; whatever
    the server then does, the ticket and its history agree: changed with its entry, or
    neither."""
    from helpdesk_tui.domain.errors import OutcomeUnknown
    from helpdesk_tui.store.outcome import Bounds

    store.bounds = Bounds(read=3.0, write=0.5, settle=0.2)
    block = {"blockConnection": True, "blockTimeMS": 1500}
    with fail_point({"times": 1}, ["commitTransaction"], **block):
        with pytest.raises((OutcomeUnknown, NotSent)):
            store.set_status(ticket_id, Status.IN_PROGRESS, actor=people.agent)
        # The server is still holding the commit: what it does next is its own affair.
        db.client.admin.command("ping")
    store.bounds = Bounds()

    def state() -> tuple[bool, int]:
        moved = store.get_ticket(ticket_id).status is Status.IN_PROGRESS
        return moved, db.ticket_events.count_documents({"ticket": ticket_id, "action": "status"})

    import time

    deadline = time.monotonic() + 10
    while not state()[0] and time.monotonic() < deadline:
        time.sleep(0.1)  # waits for the commit, if it comes; proves nothing by itself
    moved, entries = state()
    assert entries == (1 if moved else 0), (moved, entries)
