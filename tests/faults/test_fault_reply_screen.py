"""The reply screen under injected faults: what the agent reads when a send is not "sent".

The fail points are "alwaysOn" for the app's client while they last: the app's own background
writes (the queue-index lease) may hit them too, so the tests look for the reply's outcome among
the notifications rather than at the last one.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from helpers import MakeApp
from pilot import record_notifications, settle, until
from textual.widgets import Static

from faults.helpers import AGENT, PARKED, create, open_reply
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.store.outcome import Bounds
from helpdesk_tui.store.tickets import TicketStore


def mine(store: TicketStore, people: Any) -> ObjectId:
    ticket = create(store, people)
    assert ticket.id is not None
    store.take(ticket.id, people.agent)
    return ticket.id


def context_line(screen: ReplyScreen) -> str:
    return str(screen.query_one("#reply-context", Static).render())


async def test_a_reply_the_server_refuses_before_writing_says_not_sent_and_keeps_the_draft(
    store: TicketStore, people: Any, db: Any, make_app: MakeApp, fail_point: Any
) -> None:
    ticket_id = mine(store, people)
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket_id, "Your parcel left the depot")
        with fail_point("alwaysOn", ["findAndModify"], errorCode=13, errorLabels=[]):
            await pilot.press("ctrl+s")
            await settle(pilot)
        assert app.screen is screen  # still in the editor
        assert screen.editor.text == "Your parcel left the depot"
        assert not screen.editor.read_only
        line = "Not sent, kept as a draft: database error: Failing command via 'failCommand'"
        assert any(m.startswith(line) for _, _, m in said), said
        assert line in context_line(screen)
        draft = app.drafts.load(screen.draft_key)
        assert draft is not None and draft.text == "Your parcel left the depot"
    doc = db.tickets.find_one({"_id": ticket_id})
    assert doc["messages"] == []


async def test_a_reply_held_past_its_bound_says_unknown_checking_then_sent(
    store: TicketStore, people: Any, db: Any, make_app: MakeApp, fail_point: Any
) -> None:
    """The server holds the write 1 s (then applies it); the app gave up at 0.3 s: it says
    "unknown, checking", reads back (after 0.3 + 2.5 s) and then says "sent": one copy."""
    ticket_id = mine(store, people)
    store.bounds = Bounds(read=3.0, write=0.3, settle=2.5)
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket_id, "Your parcel left the depot")
        with fail_point({"times": 1}, ["findAndModify"], blockConnection=True, blockTimeMS=1000):
            await pilot.press("ctrl+s")
            assert await until(
                pilot, lambda: any("Unknown, checking" in m for _, _, m in said), 5
            ), said
            assert screen.editor.read_only  # no second send while it is unknown
            assert await until(pilot, lambda: any("Reply sent on" in m for _, _, m in said), 10)
        await settle(pilot)
        assert app.screen is not screen
        assert app.drafts.load(screen.draft_key) is None
    doc = db.tickets.find_one({"_id": ticket_id})
    assert [m["content"] for m in doc["messages"]] == ["Your parcel left the depot"]


async def test_a_reply_sent_while_the_database_stalls_says_not_sent_kept_within_the_bound(
    store: TicketStore, people: Any, db: Any, make_app: MakeApp, fail_point: Any
) -> None:
    """The issue's stall: the server holds every read. The "ticket updated" check before the
    write gives up at its bound (0.3 s here, 3 s by default), so nothing went out: "not sent,
    kept as a draft", and the editor is back with the text."""
    ticket_id = mine(store, people)
    store.bounds = Bounds(read=0.3, write=0.3, settle=0.0)
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket_id, "Your parcel left the depot")
        with fail_point("alwaysOn", ["find"], blockConnection=True, blockTimeMS=1000):
            await pilot.press("ctrl+s")
            line = "Not sent, kept as a draft: the database did not answer in time."
            assert await until(pilot, lambda: any(m == line for _, _, m in said), 5), said
            assert line in context_line(screen)
            assert not screen.editor.read_only
        await settle(pilot)
        assert app.screen is screen and screen.editor.text == "Your parcel left the depot"
    doc = db.tickets.find_one({"_id": ticket_id})
    assert doc["messages"] == []


async def test_closing_while_checking_keeps_the_draft_and_sending_it_again_makes_one_copy(
    store: TicketStore, people: Any, db: Any, make_app: MakeApp, fail_point: Any
) -> None:
    """The outcome is unknown; the agent closes (ctrl+g) and sends the same draft again. The
    draft carried the first attempt's message id, so whichever write lands first, the ticket
    ends with one copy (the other matches nothing)."""
    ticket_id = mine(store, people)
    store.bounds = Bounds(read=3.0, write=0.3, settle=3.0)  # the read-back waits: we close
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket_id, "Your parcel left the depot")
        with fail_point({"times": 1}, ["findAndModify"], blockConnection=True, blockTimeMS=1000):
            await pilot.press("ctrl+s")
            assert await until(pilot, lambda: any("Unknown, checking" in m for _, _, m in said))
            first = screen.model.unsettled
            await pilot.press("ctrl+g")
            assert await until(pilot, lambda: app.screen is not screen)
        draft = app.drafts.load(screen.draft_key)
        assert draft is not None and first is not None
        assert draft.extra["pending_message"] == str(first[1])

        again = ReplyScreen(ticket_id, ticket=store.get_ticket(ticket_id))
        await app.push_screen(again)
        await settle(pilot)
        assert again.editor.text == "Your parcel left the depot"
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: any("Reply sent on" in m for _, _, m in said), 10)
    doc = db.tickets.find_one({"_id": ticket_id})
    assert [m["_id"] for m in doc["messages"]] == [first[1]]


async def test_an_unknown_outcome_read_back_as_absent_is_not_called_not_sent_and_unlocks_the_editor(
    store: TicketStore, people: Any, db: Any, make_app: MakeApp, fail_point: Any
) -> None:
    """The server holds the write past the app's bound and then refuses it: "unknown,
    checking", then the read-back finds no copy. That is no proof (a server holding the write
    may still apply it: test_fault_late_arrival.py), so it says "not on the ticket yet", keeps
    the draft, gives the editor back and keeps checking."""
    ticket_id = mine(store, people)
    store.bounds = Bounds(read=3.0, write=0.3, settle=1.5)
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    block = {"blockConnection": True, "blockTimeMS": 700, "errorCode": 13, "errorLabels": []}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket_id, "Your parcel left the depot")
        with fail_point({"times": 1}, ["findAndModify"], **block):
            await pilot.press("ctrl+s")
            assert await until(pilot, lambda: any(m.startswith("Not on") for _, _, m in said), 10)
            line = next(m for _, _, m in said if m.startswith("Not on"))
            assert "kept as a draft, still checking" in line
        messages = [m for _, _, m in said]
        assert any(m.startswith("Unknown, checking") for m in messages)
        assert messages.index(line) > next(
            i for i, m in enumerate(messages) if m.startswith("Unknown, checking")
        )
        assert line in context_line(screen) and not screen.editor.read_only
    doc = db.tickets.find_one({"_id": ticket_id})
    assert doc["messages"] == []
