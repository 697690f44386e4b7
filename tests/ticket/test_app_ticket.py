"""The ticket screen driven through the pilot: header, conversation, and the actions on one ticket.

Each action is checked in the database (raw documents) and on screen (header, messages,
notifications). The live feed is parked (one poll an hour): a write by "someone else" reaches
the screen only when the test says so, which is what the conflict tests need.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from helpers import QUIET, MakeApp
from pilot import plain, record_notifications, settle
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status
from helpdesk_tui.screens.dialogs import ChoiceDialog, TextDialog
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import StoreSettings, TicketStore
from helpdesk_tui.widgets.conversation import Conversation, MessageEntry, TicketHeader

ANA = "ana@helpdesk.example"
SAM = "sam@helpdesk.example"


def header(screen: TicketScreen) -> str:
    return plain(screen.query_one(TicketHeader))


def shown_messages(screen: TicketScreen) -> list[MessageEntry]:
    """The messages the conversation shows, in the order it shows them."""
    return screen.query_one(Conversation).messages


def doc(store: TicketStore, number: str) -> dict[str, Any]:
    found = store.tickets.find_one({"ticketNumber": number})
    assert found is not None
    return found


def user_id(store: TicketStore, email: str) -> ObjectId:
    user = store.user_by_email(email)
    assert user.id is not None
    return user.id


async def open_from_queue(pilot: Pilot[Any], number: str, view: int = 3) -> TicketScreen:
    """Show a view, put the cursor on the ticket and press enter: the ticket screen, loaded."""
    await settle(pilot)
    await pilot.press(str(view))
    await settle(pilot)
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen)
    key = next(k for k, t in queue.table.tickets.items() if t.ticket_number == number)
    queue.table.move_cursor(row=queue.table.get_row_index(key), animate=False)
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TicketScreen)
    assert screen.ticket is not None and screen.ticket.ticket_number == number
    return screen


async def choose(pilot: Pilot[Any], label: str) -> None:
    """Pick the option labelled ``label`` in the open ChoiceDialog with the keyboard."""
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog)
    labels = [choice[0] for choice in dialog.choices]
    await pilot.press("home", *["down"] * labels.index(label), "enter")
    await settle(pilot)


def options(pilot: Pilot[Any]) -> list[Any]:
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog)
    return [value for _, value, _ in dialog.choices]


# --- what the screen shows -------------------------------------------------------------------


async def test_enter_opens_the_ticket_with_header_and_every_message_in_time_order(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = doc(demo_store, "TKT-000019")
    customer = demo_store.users.find_one({"_id": raw["user"]})
    assignee = demo_store.users.find_one({"_id": raw["assignedTo"]})
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000019")
        top = header(screen)
        assert "TKT-000019" in top and raw["subject"] in top
        assert f"Status: {Status(raw['status']).label}" in top
        assert f"Priority: {raw['priority']}" in top
        assert f"Customer: {customer['name']} <{customer['email']}>" in top
        assert f"Assignee: {assignee['name']}" in top
        assert "first response" in top and "resolution" in top

        shown = shown_messages(screen)
        # The first message is the description: shown once, not twice.
        assert raw["messages"][0]["content"] == raw["description"]
        assert [m.message.id for m in shown] == [m["_id"] for m in raw["messages"]]
        stamps = [m.message.created_at for m in shown]
        assert stamps == sorted(stamps)
        assert [m.body().plain for m in shown] == [m["content"] for m in raw["messages"]]
        for view, message in zip(shown, raw["messages"], strict=True):
            sender = demo_store.users.find_one({"_id": message["sender"]})
            assert view.title.plain.endswith(sender["name"])
            assert view.customer == (message["sender"] == raw["user"])
            assert (view.look == "customer") == (
                message["sender"] == raw["user"] and not view.internal
            )
        info = plain(screen.query_one("#ticket-info", Static))
        internal = sum(m["isInternal"] for m in raw["messages"])
        public = len(raw["messages"]) - internal
        assert f"{public} messages · {internal} internal notes" in info


async def test_internal_notes_are_marked_by_class_and_border_title(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = doc(demo_store, "TKT-000019")
    flags = [m["isInternal"] for m in raw["messages"]]
    assert True in flags and False in flags
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000019")
        conversation = screen.query_one(Conversation)
        shown = conversation.messages
        assert [v.look == "internal" for v in shown] == flags
        for view, internal in zip(shown, flags, strict=True):
            assert ("INTERNAL NOTE" in view.title.plain) == internal
            # As drawn: a heavy box with the label in its top border, a round one otherwise.
            top = conversation.drawn(view)[1]
            assert top.startswith("┏━ 🔒 INTERNAL NOTE · " if internal else "╭─ ")


@pytest.mark.parametrize("name", ["Eve [b]Evil[/b]", "Eve [/] Evil"])
async def test_a_customer_name_with_markup_shows_literally_in_the_message_title(
    db: Any, store: TicketStore, make_app: MakeApp, name: str
) -> None:
    """A message's border title is its sender's name: for a customer, untrusted text."""
    db.users.insert_many(
        [
            {"name": "Ana Lima", "email": ANA, "role": "agent"},
            {"name": name, "email": "eve@example.com", "role": "customer"},
        ]
    )
    eve = db.users.find_one({"email": "eve@example.com"})["_id"]
    ticket = store.create_ticket(
        NewTicket(subject="Hello", description="hi", user=eve, category=Category.OTHER)
    )
    assert ticket.id is not None
    store.add_message(ticket.id, sender=eve, content="are you there?")
    app = make_app(store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(TicketScreen(ticket.id))
        await settle(pilot)
        assert app.return_code is None  # still running
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert f"Customer: {name} <eve@example.com>" in header(screen)  # the header is right
        titles = [view.title for view in shown_messages(screen)]
        assert len(titles) == 2
        for title in titles:
            assert title is not None
            assert name in title.plain  # as drawn: the brackets are characters
            assert not title.spans  # and nothing in the name was turned into a style


async def test_markup_and_escape_sequences_in_customer_text_render_literally(
    store: TicketStore, make_app: MakeApp, people: Any
) -> None:
    customer = people.customer
    hostile = "Look: [bold]x[/bold] and \x1b[31mred\x1b[0m [link=https://evil.example]y[/link]"
    ticket = store.create_ticket(
        NewTicket(
            subject="[bold]x[/bold] \x1b[31malarm",
            description=hostile,
            user=customer,
            category=Category.OTHER,
        )
    )
    assert ticket.id is not None
    store.add_message(ticket.id, sender=customer, content=hostile)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(TicketScreen(ticket.id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        spelled = (
            "Look: [bold]x[/bold] and \\x1b[31mred\\x1b[0m [link=https://evil.example]y[/link]"
        )
        shown = shown_messages(screen)
        assert len(shown) == 1  # the description is the first message: shown once
        body = shown[0].body()
        assert isinstance(body, Text)
        assert body.plain == spelled
        assert body.spans == []  # no style, no link: nothing was parsed
        assert "\x1b" not in body.plain
        top = header(screen)
        assert "[bold]x[/bold] \\x1b[31malarm" in top
        assert "\x1b" not in top
        # What reaches the terminal: the brackets are drawn as characters.
        conversation = screen.query_one(Conversation)
        lines = [
            "".join(segment.text for segment in conversation.render_line(y))
            for y in range(conversation.size.height)
        ]
        assert any("[bold]x[/bold]" in line and "\\x1b[31m" in line for line in lines)


# --- actions ---------------------------------------------------------------------------------


async def test_s_offers_only_allowed_next_states_and_resolving_sets_resolved_at(
    demo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    before = doc(demo_store, "TKT-000007")
    assert before["status"] == "in_progress" and "resolvedAt" not in before
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000007", view=1)
        await pilot.press("s")
        await settle(pilot)
        assert options(pilot) == [Status.WAITING, Status.RESOLVED]
        clock.advance(minutes=3)
        await choose(pilot, Status.RESOLVED.label)
        assert app.screen is screen

        after = doc(demo_store, "TKT-000007")
        assert after["status"] == "resolved"
        assert after["resolvedAt"] == clock.now
        assert after["updatedAt"] == clock.now
        assert after["messages"] == before["messages"]
        event = demo_store.events.find_one({"ticket": before["_id"], "action": "status"})
        assert event is not None and (event["from"], event["to"]) == ("in_progress", "resolved")
        assert ("information", "", "TKT-000007: status → resolved.") in notes
        assert "Status: resolved" in header(screen)

        await pilot.press("s")  # resolved -> only closed
        await settle(pilot)
        assert options(pilot) == [Status.CLOSED]
        await pilot.press("escape")
        await settle(pilot)
    assert doc(demo_store, "TKT-000007")["status"] == "resolved"


async def test_a_status_change_after_someone_else_moved_the_ticket_is_refused(
    demo_store: TicketStore, make_app: MakeApp, db: Any, clock: Any
) -> None:
    other = TicketStore(db, StoreSettings(), clock=clock)
    bo = user_id(demo_store, "bo@helpdesk.example")
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000007", view=1)
        assert "Status: in progress" in header(screen)
        clock.advance(minutes=1)
        other.set_status(screen.ticket_id, Status.WAITING, actor=bo)  # Bo, meanwhile
        theirs = doc(demo_store, "TKT-000007")

        await pilot.press("s")
        await settle(pilot)
        assert options(pilot) == [Status.WAITING, Status.RESOLVED]  # what Ana last saw
        clock.advance(minutes=1)
        await choose(pilot, Status.RESOLVED.label)

        assert doc(demo_store, "TKT-000007") == theirs  # nothing of Ana's was written
        assert "resolvedAt" not in theirs
        actors = [e["actor"] for e in demo_store.events.find({"action": "status"})]
        assert actors == [bo]
        severity, _, message = notes[-1]
        assert severity == "error"
        # One ticket, one line: why it was not moved.
        assert message == (
            "TKT-000007 is already waiting (changed by someone else); it was not moved"
        )
        assert "Status: waiting" in header(screen)  # the screen re-read the ticket


async def test_p_changes_the_priority(demo_store: TicketStore, make_app: MakeApp) -> None:
    before = doc(demo_store, "TKT-000007")
    assert before["priority"] != "urgent"
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000007", view=1)
        await pilot.press("p")
        await settle(pilot)
        assert options(pilot) == [Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
        await choose(pilot, "urgent")
        assert doc(demo_store, "TKT-000007")["priority"] == "urgent"
        event = demo_store.events.find_one({"action": "priority"})
        assert event is not None and (event["from"], event["to"]) == (before["priority"], "urgent")
        assert "Priority: urgent" in header(screen)


async def test_t_adds_and_removes_tags(demo_store: TicketStore, make_app: MakeApp) -> None:
    ticket_id = doc(demo_store, "TKT-000007")["_id"]
    demo_store.change_tags(ticket_id, add=["refund", "courier"])
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000007", view=1)
        assert "Tags: refund, courier" in header(screen)
        await pilot.press("t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        box = dialog.query_one(Input)
        assert box.value == "refund courier"  # the current tags, to edit
        await pilot.press("ctrl+u", *"+vip -refund", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert doc(demo_store, "TKT-000007")["tags"] == ["courier", "vip"]
        assert "Tags: courier, vip" in header(screen)


async def test_capital_a_is_refused_for_an_agent(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    before = doc(demo_store, "TKT-000007")
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000007", view=1)
        await pilot.press("A")
        await settle(pilot)
        assert app.screen is screen  # no dialog
        assert notes[-1] == (
            "error",
            "Not allowed",
            "only a supervisor can assign tickets to someone else",
        )
    assert doc(demo_store, "TKT-000007") == before


async def test_capital_a_lets_a_supervisor_assign_by_typing_part_of_a_name(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    chidi = user_id(demo_store, "chidi@helpdesk.example")
    sam = user_id(demo_store, SAM)
    before = doc(demo_store, "TKT-000007")
    assert before["assignedTo"] != chidi
    app = make_app(demo_store, SAM, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_from_queue(pilot, "TKT-000007")
        await pilot.press("A")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog) and dialog.filterable
        labels = [label for label, _, _ in dialog.choices]
        assert "Chidi Okafor" in labels and "Sam Rivera" in labels
        await pilot.press(*"hidi")
        await pilot.pause()
        assert dialog.query_one("#dialog-options").option_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        after = doc(demo_store, "TKT-000007")
        assert after["assignedTo"] == chidi
        event = demo_store.events.find_one({"action": "assign"})
        assert event is not None
        assert (event["actor"], event["from"], event["to"]) == (
            sam,
            str(before["assignedTo"]),
            str(chidi),
        )
        assert "Assignee: Chidi Okafor" in header(screen)
        assert ("information", "", "TKT-000007: assigned to Chidi Okafor.") in notes


async def test_q_escape_and_backspace_each_go_back_to_the_queue(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("q", "escape", "backspace"):
            await open_from_queue(pilot, "TKT-000007", view=1)
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen), key
            assert app.return_code is None, key  # back, not quit
            assert len(app.screen_stack) == 2  # the default screen and the queue
            assert app.focused is app.screen.table


async def test_the_priority_and_assignee_pickers_open_on_the_current_value(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    current = doc(demo_store, "TKT-000007")
    app = make_app(demo_store, SAM, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_from_queue(pilot, "TKT-000007", view=3)
        await pilot.press("p")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        highlighted = dialog.query_one(OptionList).highlighted
        assert dialog.choices[highlighted][1] == Priority(current["priority"])
        await pilot.press("escape", "A")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        highlighted = dialog.query_one(OptionList).highlighted
        assert dialog.choices[highlighted][1] == current["assignedTo"]
