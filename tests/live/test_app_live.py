"""Live updates in the running app (PRODUCT.md section 5), agent A against agent B.

Agent A runs the app; agent B (or the customer, or a supervisor) writes through a second
``TicketStore`` on the same database, as another helpdesk-tui or the Ticket Service would. The
database is a real server with change streams (SecantusDB, see conftest.py), so the app's feed
runs in its production mode: one change stream. Every wait below is a bounded loop on what the
screen shows, never a fixed sleep.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import as_service
from helpers import MakeApp
from pilot import open_ticket, until
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from helpdesk_tui.app import FeedBatch, HelpdeskApp, TicketsChanged
from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.models import Priority, Status
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.screens.queue import QueueScreen, ViewBar
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.live import Batch, Change, FeedMode
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.snooze import with_snoozes
from helpdesk_tui.store.tickets import StoreSettings, TicketStore
from helpdesk_tui.widgets.conversation import Conversation, MessageEntry

POLL = 0.2
LIVE = Config(ui=UiConfig(poll_interval_seconds=POLL))
# "It arrives", not a speed target (bench_events.py measures that): one poll, one coalescing
# window, one store round trip take well under a second; the rest is slack for a loaded CI box.
PROMPTLY = 10.0
# Long enough for a posted batch to reach the screens (a few turns of the event loop).
HANDOFF = 0.1
ANA = "ana@helpdesk.example"
BO = "bo@helpdesk.example"
SAM = "sam@helpdesk.example"


def queue_of(app: HelpdeskApp) -> QueueScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, QueueScreen))
    return screen


@asynccontextmanager
async def running(app: HelpdeskApp, size: tuple[int, int]) -> AsyncIterator[Pilot[Any]]:
    """``run_test``, then a quiet stop: the feed is stopped and its last batch delivered.

    Handlers wrapped by ``count_deliveries`` are restored afterwards.
    """
    try:
        async with app.run_test(size=size) as pilot:
            yield pilot
            assert app.feed.mode is FeedMode.LIVE, "the app should follow a change stream here"
            app.feed.stop()
            assert await until(pilot, lambda: app.feed.mode is FeedMode.STOPPED)
            await pilot.pause(HANDOFF)
    finally:
        while _WRAPPED:
            cls, original = _WRAPPED.pop()
            cls.on_tickets_changed = original  # type: ignore[attr-defined]


async def started(pilot: Pilot[Any]) -> QueueScreen:
    """The queue has loaded its first view, and the feed follows the collection.

    The change stream is open once ``feed.ready`` is set (in polling mode: a whole poll has run
    after it), so every write a test makes then falls after the feed's starting point, whatever
    the thread timing: what each test measures is the feed following changes, not its start.
    """
    app = pilot.app
    assert isinstance(app, HelpdeskApp)
    feed = app.feed
    waits = [0]

    def sleep(seconds: float) -> None:
        waits[0] += 1
        feed._stop.wait(seconds)  # as the feed waits by default: stop() still wakes it

    feed.sleep = sleep
    assert await until(
        pilot, lambda: any(isinstance(s, QueueScreen) and s.page for s in app.screen_stack)
    )
    assert feed.ready.is_set()
    # Alerts know which tickets were mine at start-up (seeded after the first paint): an
    # assignment racing that seeding would otherwise count as "already mine".
    assert await until(pilot, lambda: app.alerts.mine_ids is not None)
    if feed.mode is not FeedMode.LIVE:
        assert await until(pilot, lambda: waits[0] >= 2)  # a whole poll between two waits
    await pilot.pause(2 * HANDOFF)  # and its batch handed to the screens
    return queue_of(app)


async def show_view(pilot: Pilot[Any], queue: QueueScreen, key: str) -> None:
    """Press a view's number key and wait until the table shows exactly that view."""
    await pilot.press(key)
    view = queue.views[int(key) - 1]
    store = queue.helpdesk.store

    def shown() -> bool:
        expected = {str(t.id) for t in store.list_queue(view.query).tickets}
        return queue.view is view and set(queue.table.tickets) == expected

    assert await until(pilot, shown)


def messages(screen: TicketScreen) -> list[MessageEntry]:
    return screen.query_one(Conversation).messages


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def record_notifications(app: HelpdeskApp) -> list[tuple[str, str]]:
    """Every notification the app raises from now on, as (title, message)."""
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append((str(kwargs.get("title", "")), str(message)))
        original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


_WRAPPED: list[tuple[type, Any]] = []


def count_deliveries(app: HelpdeskApp) -> list[TicketsChanged]:
    """Every TicketsChanged the screens now on the stack handle from now on (one per screen).

    Textual finds handlers on the class, so the class's handler is wrapped (and restored by
    ``running``); only these screens' deliveries are recorded.
    """
    delivered: list[TicketsChanged] = []
    screens = [s for s in app.screen_stack if hasattr(type(s), "on_tickets_changed")]
    # The class that defines the handler (Textual calls each class's own handler in the MRO:
    # a wrapper on a subclass would run the inherited one a second time).
    owners = {
        next(c for c in type(s).__mro__ if "on_tickets_changed" in c.__dict__) for s in screens
    }
    for cls in owners:
        original = cls.on_tickets_changed  # type: ignore[attr-defined]

        def wrapped(self: Any, changed: TicketsChanged, _original: Any = original) -> None:
            if any(self is s for s in screens):
                delivered.append(changed)
            _original(self, changed)

        _WRAPPED.append((cls, original))
        cls.on_tickets_changed = wrapped  # type: ignore[attr-defined]
    return delivered


@pytest.fixture
def other(db: Any, clock: Any, demo_store: TicketStore) -> TicketStore:
    """Agent B's own connection to the same database (the demo data is already there)."""
    return TicketStore(db, StoreSettings(), clock=clock)


def user_id(store: TicketStore, email: str) -> ObjectId:
    user = store.user_by_email(email)
    assert user.id is not None
    return user.id


def first_ticket(store: TicketStore, query: QueueQuery) -> ObjectId:
    tickets = store.list_queue(query).tickets
    assert tickets, f"the demo data has no ticket for {query}"
    assert tickets[0].id is not None
    return tickets[0].id


def quiet_ticket(store: TicketStore, condition: dict[str, Any]) -> ObjectId:
    """A ticket matching ``condition`` untouched for an hour: the feed's first poll skips it."""
    doc = store.tickets.find_one(
        {**condition, "updatedAt": {"$lt": store.now() - timedelta(hours=1)}},
        sort=[("ticketNumber", 1)],
    )
    assert doc is not None, f"the demo data has no quiet ticket with {condition}"
    return doc["_id"]


# --- the open ticket -------------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["customer", "agent"])
async def test_a_reply_by_someone_else_appears_in_the_open_conversation(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any, writer: str
) -> None:
    ana = user_id(demo_store, ANA)
    ticket_id = first_ticket(demo_store, QueueQuery(assignee=ana))
    ticket = demo_store.get_ticket(ticket_id)
    sender = ticket.user if writer == "customer" else user_id(demo_store, BO)
    assert sender is not None
    app = make_app(demo_store, config=LIVE)
    async with running(app, (120, 40)) as pilot:
        await started(pilot)
        screen = await open_ticket(pilot, ticket_id)
        before = len(messages(screen))

        clock.advance(minutes=1)
        content = f"Written by the {writer} while Ana reads"
        other.add_message(ticket_id, sender=sender, content=content)

        assert await until(pilot, lambda: len(messages(screen)) == before + 1, seconds=PROMPTLY)
        newest = messages(screen)[-1]
        assert newest.message.content == content
        assert newest.customer is (writer == "customer")
        assert (newest.look == "customer") is (writer == "customer")
        assert app.screen is screen  # nothing was pushed over the ticket


# --- the queue -------------------------------------------------------------------------------


async def test_a_ticket_taken_by_another_agent_leaves_the_unassigned_view(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "2")
        counts = dict(queue.counts)
        taken = queue.table.current
        assert taken is not None and taken.id is not None
        assert f"Unassigned {counts['unassigned']}" in plain(queue.query_one(ViewBar))

        clock.advance(minutes=1)
        other.take(taken.id, user_id(demo_store, BO))

        assert await until(pilot, lambda: str(taken.id) not in queue.table.tickets)
        assert await until(pilot, lambda: queue.counts["unassigned"] == counts["unassigned"] - 1)
        assert queue.counts["open"] == counts["open"]  # still open, only assigned
        assert queue.counts["mine"] == counts["mine"]  # Bo's, not Ana's
        assert queue.table.row_count == counts["unassigned"] - 1
        assert f"Unassigned {counts['unassigned'] - 1}" in plain(queue.query_one(ViewBar))
        assert queue.table.current is not None  # the cursor is still on a row


async def test_a_ticket_resolved_by_another_agent_leaves_all_open(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    bo = user_id(demo_store, BO)
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "3")
        counts = dict(queue.counts)
        resolving = next(t for t in queue.table.tickets.values() if t.status is Status.IN_PROGRESS)
        assert resolving.id is not None

        clock.advance(minutes=1)
        other.set_status(resolving.id, Status.RESOLVED, actor=bo)

        assert await until(pilot, lambda: str(resolving.id) not in queue.table.tickets)
        assert await until(pilot, lambda: queue.counts["open"] == counts["open"] - 1)
        assert queue.counts["resolved"] == counts["resolved"] + 1
        assert queue.table.row_count == counts["open"] - 1


async def test_the_queue_under_an_open_ticket_waits_until_the_agent_returns(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Screen.is_current is also true for the screen right under the top one: not a test for it."""
    bo = user_id(demo_store, BO)
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "3")
        resolving = next(t for t in queue.table.tickets.values() if t.status is Status.IN_PROGRESS)
        assert resolving.id is not None
        reading = next(t for t in queue.table.tickets.values() if t.id != resolving.id)
        assert reading.id is not None
        await open_ticket(pilot, reading.id)
        loads: list[object] = []  # the queue's reads of its window (a load, a refill)
        list_queue = demo_store.list_queue

        def counting_load(*args: Any, **kwargs: Any) -> Any:
            loads.append(args)
            return list_queue(*args, **kwargs)

        demo_store.list_queue = counting_load  # type: ignore[method-assign]
        delivered = count_deliveries(app)

        clock.advance(minutes=1)
        other.set_status(resolving.id, Status.RESOLVED, actor=bo)
        assert await until(pilot, lambda: any(resolving.id in d.ids for d in delivered))
        await pilot.pause(HANDOFF)
        hidden_loads = len(loads)

        await pilot.press("escape")  # back to the queue: now it catches up
        assert await until(pilot, lambda: str(resolving.id) not in queue.table.tickets)
        assert hidden_loads == 0, f"the hidden queue re-queried {hidden_loads} times"


# --- a reply half written when someone else replies -------------------------------------------


async def test_a_reply_by_someone_else_never_touches_my_draft_and_is_shown_before_sending(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana = user_id(demo_store, ANA)
    ticket_id = first_ticket(demo_store, QueueQuery(assignee=ana))
    customer = demo_store.get_ticket(ticket_id).user
    assert customer is not None
    customer_name = demo_store.users_by_ids([customer])[customer].display
    app = make_app(demo_store, config=LIVE)
    async with running(app, (120, 40)) as pilot:
        await started(pilot)
        await open_ticket(pilot, ticket_id)
        await pilot.press("r")
        assert await until(pilot, lambda: isinstance(app.screen, ReplyScreen))
        reply = app.screen
        assert isinstance(reply, ReplyScreen)
        assert await until(pilot, lambda: reply.baseline is not None)
        await pilot.press(*"Halfway", "space", *"through")
        editor = reply.query_one("#reply-editor", TextArea)
        assert editor.text == "Halfway through"
        context = reply.query_one("#reply-context", Static)
        assert "changed since you opened it" not in plain(context)

        clock.advance(minutes=1)
        other.add_message(ticket_id, sender=customer, content="Any news? I am still waiting")

        assert await until(pilot, lambda: "changed since you opened it" in plain(context))
        assert editor.text == "Halfway through"
        assert app.screen is reply  # nothing popped over the editor while typing
        assert editor.has_focus

        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        body = dialog.body.plain if isinstance(dialog.body, Text) else dialog.body
        assert f"{customer_name} replied: “Any news? I am still waiting”" in body
        sent_before = len(demo_store.get_ticket(ticket_id).messages)

        await pilot.press("n")  # review first: nothing is sent, the draft stays
        assert await until(pilot, lambda: app.screen is reply)
        assert editor.text == "Halfway through"
        assert len(demo_store.get_ticket(ticket_id).messages) == sent_before

        await pilot.press("ctrl+s")  # the agent has seen the change: now it goes
        assert await until(pilot, lambda: not isinstance(app.screen, ReplyScreen))
        newest = demo_store.get_ticket(ticket_id).messages[-1]
        assert (newest.sender, newest.content) == (ana, "Halfway through")


# --- a burst of events -------------------------------------------------------------------------


def update(number: int) -> Change:
    doc = {"ticketNumber": f"TKT-9{number:05d}", "subject": "burst", "status": "open"}
    return Change(id=ObjectId(), kind="update", doc=doc)


async def test_a_thousand_events_in_one_batch_are_one_delivery_and_input_stays_live(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "3")
        row = queue.table.cursor_row
        assert row + 1 < queue.table.row_count
        delivered = count_deliveries(app)

        # How fast the key paints during a burst is measured by benchmarks/bench_events.py;
        # here: the key is not lost or held back behind the burst, on any machine.
        app.post_message(FeedBatch(Batch(changes=tuple(update(n) for n in range(1000)))))
        await pilot.press("j")
        assert await until(pilot, lambda: queue.table.cursor_row == row + 1)

        assert await until(pilot, lambda: bool(delivered))
        await pilot.pause(0.3)  # a few coalescing windows: nothing more arrives
        assert len(delivered) == 1
        assert len(delivered[0].changes) == 1000
        assert len(delivered[0].ids) == 1000
        assert (
            queue.table.cursor_row == row + 1
        )  # the reload kept the cursor where the agent put it


async def test_a_thousand_single_event_batches_are_coalesced_and_input_stays_live(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "3")
        row = queue.table.cursor_row
        assert row + 1 < queue.table.row_count
        delivered = count_deliveries(app)

        for number in range(1000):
            app.post_message(FeedBatch(Batch(changes=(update(number),))))
        await pilot.press("j")
        assert await until(pilot, lambda: queue.table.cursor_row == row + 1)
        await pilot.press("2")
        assert await until(pilot, lambda: queue.view_index == 1)

        assert await until(pilot, lambda: sum(len(d.changes) for d in delivered) == 1000)
        await pilot.pause(0.3)
        assert 1 <= len(delivered) <= 5, f"{len(delivered)} deliveries for one burst"
        assert sum(len(d.changes) for d in delivered) == 1000


async def test_a_reload_request_is_delivered_even_without_changes(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        await started(pilot)
        delivered = count_deliveries(app)
        app.post_message(FeedBatch(Batch(reload=True)))
        assert await until(pilot, lambda: bool(delivered))
        assert delivered[0].reload and not delivered[0].changes


# --- notifications -----------------------------------------------------------------------------


def titled(seen: list[tuple[str, str]], prefix: str) -> list[tuple[str, str]]:
    return [(title, text) for title, text in seen if title.startswith(prefix)]


async def test_a_customer_reply_on_my_ticket_notifies_me_once(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana = user_id(demo_store, ANA)
    ticket_id = first_ticket(demo_store, QueueQuery(assignee=ana))
    ticket = demo_store.get_ticket(ticket_id)
    assert ticket.user is not None
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        await started(pilot)
        seen = record_notifications(app)

        clock.advance(minutes=1)
        other.add_message(ticket_id, sender=ticket.user, content="Hello? Where is my parcel")

        wanted = f"Customer replied on {ticket.ticket_number}"
        assert await until(pilot, lambda: bool(titled(seen, wanted)))
        assert titled(seen, wanted) == [(wanted, "Hello? Where is my parcel")]
        await pilot.pause(3 * POLL)  # later polls see the same document: no repeat
        assert len(titled(seen, "Customer replied")) == 1


async def test_an_internal_note_or_agent_reply_on_my_ticket_does_not_notify_me(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana, bo = user_id(demo_store, ANA), user_id(demo_store, BO)
    ticket_id = first_ticket(demo_store, QueueQuery(assignee=ana))
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        seen = record_notifications(app)
        delivered = count_deliveries(app)

        clock.advance(minutes=1)
        other.add_message(ticket_id, sender=bo, content="FYI: courier called", internal=True)
        assert await until(pilot, lambda: any(ticket_id in d.ids for d in delivered))
        assert queue.is_current
        assert not titled(seen, "Customer replied")


async def test_a_ticket_a_supervisor_assigns_to_me_from_a_view_i_saw_notifies_me(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana, sam = user_id(demo_store, ANA), user_id(demo_store, SAM)
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "2")  # Ana looks at the unassigned tickets
        ticket = queue.table.current
        assert ticket is not None and ticket.id is not None
        seen = record_notifications(app)

        clock.advance(minutes=1)
        other.assign(ticket.id, ana, actor=sam, expected=None)

        assert await until(pilot, lambda: bool(titled(seen, "Assigned to you")))
        assert titled(seen, "Assigned to you") == [
            ("Assigned to you", f"{ticket.ticket_number}: {ticket.subject}")
        ]


async def test_a_ticket_a_supervisor_assigns_to_me_while_i_look_at_my_tickets_notifies_me(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Polling cannot say which fields changed, and no view of mine showed the ticket before."""
    ana, sam = user_id(demo_store, ANA), user_id(demo_store, SAM)
    ticket_id = quiet_ticket(demo_store, {"status": "open", "assignedTo": None})
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)  # the default view: My tickets
        assert str(ticket_id) not in queue.table.tickets
        seen = record_notifications(app)

        clock.advance(minutes=1)
        other.assign(ticket_id, ana, actor=sam, expected=None)

        assert await until(pilot, lambda: str(ticket_id) in queue.table.tickets)  # My tickets
        assert await until(pilot, lambda: bool(titled(seen, "Assigned to you")))
        await pilot.pause(2 * POLL)
        assert len(titled(seen, "Assigned to you")) == 1
        assert not titled(seen, "Customer replied")  # its old customer message is not news


async def test_my_own_take_does_not_notify_me(demo_store: TicketStore, make_app: MakeApp) -> None:
    ana = user_id(demo_store, ANA)
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "2")
        ticket = queue.table.current
        assert ticket is not None and ticket.id is not None
        taken = ticket.id
        seen = record_notifications(app)

        await pilot.press("a")

        assert await until(pilot, lambda: demo_store.get_ticket(taken).assigned_to == ana)
        # The feed has seen Ana's write come back (and let it pass without an alert).
        known = app.alerts.known
        assert await until(pilot, lambda: taken in known and known[taken].assignee == ana)
        assert await until(pilot, lambda: str(taken) not in queue.table.tickets)
        await pilot.pause(2 * POLL)
        assert taken not in app.alerts.own
        assert (f"{ticket.ticket_number}: taken.") in [text for _, text in seen]
        assert not titled(seen, "Assigned to you")


async def test_a_priority_change_on_my_ticket_is_not_taken_for_a_customer_reply(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """A poll reads each ticket's newest message; an old one is not a reply, whatever changed."""
    ana, sam = user_id(demo_store, ANA), user_id(demo_store, SAM)
    # Assigned to Ana hours ago; the customer spoke last and is waiting for her answer.
    ticket_id = quiet_ticket(demo_store, {"status": "open", "assignedTo": None})
    demo_store.tickets.update_one({"_id": ticket_id}, {"$set": {"assignedTo": ana}})
    as_service(demo_store, ticket_id)
    ticket = demo_store.get_ticket(ticket_id)
    assert ticket.messages and ticket.messages[-1].sender == ticket.user
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        assert str(ticket_id) in queue.table.tickets  # My tickets
        seen = record_notifications(app)
        delivered = count_deliveries(app)

        clock.advance(minutes=1)
        other.set_priority(ticket_id, Priority.URGENT, actor=sam)

        assert await until(pilot, lambda: any(ticket_id in d.ids for d in delivered))
        assert not titled(seen, "Customer replied")


async def test_a_refused_bulk_change_does_not_mute_the_next_alert_on_that_ticket(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Marking a ticket as changed by me before the write must be undone when it is refused."""
    sam, bo = user_id(demo_store, SAM), user_id(demo_store, BO)
    app = make_app(demo_store, SAM, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "3")
        table = queue.table
        opened = next(t for t in table.tickets.values() if t.status is Status.OPEN)
        waiting = next(t for t in table.tickets.values() if t.status is Status.WAITING)
        assert opened.id is not None and waiting.id is not None
        table.selected |= {str(opened.id), str(waiting.id)}
        seen = record_notifications(app)

        # Both to "in progress": allowed from open, refused from waiting.
        await pilot.press("s")
        assert await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")
        assert await until(pilot, lambda: any("1 of 2 done" in text for _, text in seen))
        assert demo_store.get_ticket(waiting.id).status is Status.WAITING

        clock.advance(minutes=1)
        other.assign(waiting.id, sam, actor=bo)

        known = app.alerts.known
        assert await until(pilot, lambda: waiting.id in known and known[waiting.id].assignee == sam)
        await pilot.pause(2 * HANDOFF)
        assert titled(seen, "Assigned to you")


async def test_a_supervisor_closing_my_resolved_ticket_is_not_an_assignment(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana, sam = user_id(demo_store, ANA), user_id(demo_store, SAM)
    ticket_id = quiet_ticket(demo_store, {"status": "resolved", "assignedTo": ana})
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        await started(pilot)
        seen = record_notifications(app)
        delivered = count_deliveries(app)

        clock.advance(minutes=1)
        other.set_status(ticket_id, Status.CLOSED, actor=sam)

        assert await until(pilot, lambda: any(ticket_id in d.ids for d in delivered))
        await pilot.pause(HANDOFF)
        assert not titled(seen, "Assigned to you")


async def test_an_outside_change_is_placed_from_the_event_without_a_query(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Issue 14: the event carries the row; the queue asks the server nothing for it."""
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        await show_view(pilot, queue, "3")  # All open
        rows = list(queue.table.tickets)
        last = queue.table.tickets[rows[-1]]
        assert last.id is not None
        asked: list[str] = []
        for name in ("list_queue", "count_views", "users_by_ids", "get_ticket"):
            real = getattr(demo_store, name)

            def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                asked.append(_name)
                return _real(*args, **kwargs)

            setattr(demo_store, name, spy)

        clock.advance(minutes=1)
        other.set_priority(last.id, Priority.URGENT)  # the last row becomes one of the first

        def moved() -> bool:
            keys = list(queue.table.tickets)
            return str(last.id) in keys and keys.index(str(last.id)) < len(keys) - 1

        assert await until(pilot, moved)
        assert queue.table.tickets[str(last.id)].priority is Priority.URGENT
        assert "list_queue" not in asked and "get_ticket" not in asked
        fresh = [
            str(t.id) for t in other.list_queue(queue.current_query(), limit=len(rows)).tickets
        ]
        assert list(queue.table.tickets) == fresh  # what a reload would have shown


async def counted_on_all_open(pilot: Pilot[Any]) -> QueueScreen:
    """The queue started, on All open, every view counted once."""
    queue = await started(pilot)
    await show_view(pilot, queue, "3")
    assert await until(pilot, lambda: len(queue.counts) == len(queue.views))
    return queue


def views_counted(store: TicketStore) -> tuple[list[set[str]], Callable[..., dict[str, int]]]:
    """From now on, the view keys of each ``count_views`` call (and the real method)."""
    counted: list[set[str]] = []
    real = store.count_views

    def spy(queries: Any) -> dict[str, int]:
        counted.append(set(queries))
        return real(queries)

    store.count_views = spy  # type: ignore[method-assign]
    return counted, real


async def test_counts_are_asked_again_only_for_the_views_a_change_can_move(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Issue 14: every app re-counted all eight views after any event. A customer's message
    can move Needs reply and Breaching, not My tickets or Waiting; a status change can move
    every view. The counts shown stay what the store counts."""
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await counted_on_all_open(pilot)
        counted, real = views_counted(demo_store)
        ticket = queue.table.tickets[next(iter(queue.table.tickets))]
        assert ticket.id is not None and ticket.user is not None
        before = ticket.message_count

        clock.advance(minutes=1)
        other.add_message(ticket.id, sender=ticket.user, content="Any news?")
        assert await until(
            pilot, lambda: queue.table.tickets[str(ticket.id)].message_count == before + 1
        )
        queue.refresh_counts()  # what the counts timer does
        assert await until(pilot, lambda: len(counted) == 1)
        assert counted[0] == {"breaching", "reply"}

        clock.advance(minutes=1)
        other.set_status(ticket.id, Status.IN_PROGRESS)
        assert await until(
            pilot,
            lambda: (
                str(ticket.id) not in queue.table.tickets
                or queue.table.tickets[str(ticket.id)].status is Status.IN_PROGRESS
            ),
        )
        queue.refresh_counts()
        assert await until(pilot, lambda: len(counted) == 2)
        assert counted[1] == {view.key for view in queue.views}
        await pilot.pause(HANDOFF)
        fresh = real({v.key: with_snoozes(v.key, v.query, queue.snoozed) for v in queue.views})
        assert queue.counts == fresh


async def test_the_breaching_count_is_asked_again_when_the_minute_turns_without_any_write(
    demo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Tickets pass their at-risk moment with no write at all: no event recounts Breaching."""
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        assert await until(pilot, lambda: len(queue.counts) == len(queue.views))
        counted, real = views_counted(demo_store)
        queue.tick(clock())
        clock.advance(hours=3)  # several tickets' at-risk moments pass
        queue.tick(clock())
        queue.refresh_counts()
        assert await until(pilot, lambda: len(counted) == 1)
        assert counted[0] == {"breaching"}
        breaching = next(v for v in queue.views if v.key == "breaching")
        assert queue.counts["breaching"] == real({"breaching": breaching.query})["breaching"]


async def test_a_count_taken_before_the_lease_holder_applied_an_outside_write_is_taken_again(
    demo_store: TicketStore, other: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Counts read the queue index. For the Ticket Service's write, the app holding the index's
    lease updates it after the write's event: another app that counts at once reads the old
    entry, and no later event says so. It counts once more on the next pass."""
    assert demo_store.queue.take_lease("another app", clock())  # this app only reads the index
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await counted_on_all_open(pilot)
        counted, real = views_counted(demo_store)
        before = dict(queue.counts)
        ticket_id = next(iter(queue.table.tickets))

        # The Ticket Service resolves it: nothing of ours touches the index.
        demo_store.tickets.update_one(
            {"_id": ObjectId(ticket_id)}, {"$set": {"status": "resolved", "updatedAt": clock()}}
        )
        assert await until(pilot, lambda: ticket_id not in queue.table.tickets)
        queue.refresh_counts()  # before the lease holder has applied it
        assert await until(pilot, lambda: len(counted) == 1 and not queue.model.counting)
        assert queue.counts["open"] == before["open"]  # the index still says open

        as_service(other, ObjectId(ticket_id))  # the lease holder applies the event
        queue.refresh_counts()  # the next pass of the counts timer
        assert await until(pilot, lambda: len(counted) == 2 and not queue.model.counting)
        assert queue.counts["open"] == before["open"] - 1
        fresh = real({v.key: with_snoozes(v.key, v.query, queue.snoozed) for v in queue.views})
        assert queue.counts == fresh
        queue.refresh_counts()
        await pilot.pause(HANDOFF)
        assert len(counted) == 2  # once more, not on every pass


async def test_a_count_that_finished_as_a_newer_one_began_does_not_drop_the_newer_ones_views(
    demo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """A count's result can arrive after a newer count replaced it (the exclusive group
    cancels a worker, not a thread already reading: its result still comes). Taking that
    result for the newer count's forgot the views the newer one was counting when a third
    replaced it."""
    app = make_app(demo_store, config=LIVE)
    async with running(app, (140, 40)) as pilot:
        queue = await started(pilot)
        assert await until(pilot, lambda: len(queue.counts) == len(queue.views))
        real = demo_store.count_views
        asked: list[set[str]] = []
        gates: list[threading.Event] = []

        def held(queries: Any) -> dict[str, int]:  # each count waits for the test
            gate, first = threading.Event(), not gates
            gates.append(gate)
            asked.append(set(queries))
            gate.wait(timeout=5)
            return {**real(queries), "breaching": 999} if first else real(queries)

        demo_store.count_views = held  # type: ignore[method-assign]
        queue.tick(clock())
        clock.advance(minutes=1)
        queue.tick(clock())  # the minute turned: Breaching is due
        queue.refresh_counts()
        assert await until(pilot, lambda: len(asked) == 1)
        queue.on_tickets_changed(TicketsChanged(reload=True))  # missed events: every view
        queue.refresh_counts()  # replaces the first count
        assert await until(pilot, lambda: len(asked) == 2)
        gates[0].set()  # ...whose result was on its way
        assert await until(pilot, lambda: queue.counts.get("breaching") == 999)
        clock.advance(minutes=1)
        queue.tick(clock())
        queue.refresh_counts()  # replaces the second, which has not reported
        assert await until(pilot, lambda: len(asked) == 3)
        for gate in gates:
            gate.set()
        assert asked[-1] == {view.key for view in queue.views}
