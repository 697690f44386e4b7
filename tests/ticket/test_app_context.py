"""The customer's context on the ticket screen and the conversation above the reply editor."""

from __future__ import annotations

import re
from typing import Any

from helpers import QUIET, MakeApp, others_of
from pilot import open_ticket, plain, settle
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Category, NewTicket
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation
from helpdesk_tui.widgets.customer_panel import CustomerPanel

NUMBER = "TKT-000019"


def panel(screen: TicketScreen) -> str:
    return plain(screen.query_one(CustomerPanel))


async def test_ticket_screen_lists_the_customers_other_tickets_and_a_digit_opens_one(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    others = others_of(demo_store, NUMBER)
    assert len(others) >= 2, "the demo customer of TKT-000019 has other tickets"
    total = len(others) + 1
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, demo_store.find_ticket(NUMBER).id)
        text = panel(screen)
        assert f"{total} tickets" in text
        assert "last contact" in text
        shown = [line.split()[1] for line in text.splitlines() if re.match(r"\d TKT-", line)]
        assert shown == [t.ticket_number for t in others][:9]
        assert NUMBER not in shown

        await pilot.press("2")
        await settle(pilot)
        opened = pilot.app.screen
        assert isinstance(opened, TicketScreen) and opened.ticket is not None
        assert opened.ticket.ticket_number == others[1].ticket_number
        assert NUMBER in panel(opened)  # the first ticket is one of this one's others

        await pilot.press("q")
        await settle(pilot)
        assert pilot.app.screen is screen


async def test_at_80x24_the_context_is_one_line_until_c_opens_it(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    others = others_of(demo_store, NUMBER)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, demo_store.find_ticket(NUMBER).id)
        assert len(panel(screen).splitlines()) == 1
        assert "c more" in panel(screen)
        await pilot.press("c")
        await pilot.pause()
        assert others[0].ticket_number in panel(screen)
        assert "c hide" in panel(screen)
        await pilot.press("c")
        await pilot.pause()
        assert len(panel(screen).splitlines()) == 1


async def test_context_shows_a_hostile_subject_literally(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    ticket = demo_store.find_ticket(NUMBER)
    assert ticket.user is not None
    demo_store.create_ticket(
        NewTicket(
            subject="[bold red]NOW[/] \x1b[31mred",
            user=ticket.user,
            category=Category.OTHER,
        )
    )
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket.id)
        assert "[bold red]NOW[/] \\x1b[31mred" in panel(screen)


async def open_reply(pilot: Pilot[Any]) -> ReplyScreen:
    await pilot.press("r")
    await settle(pilot)
    reply = pilot.app.screen
    assert isinstance(reply, ReplyScreen)
    return reply


def pane(reply: ReplyScreen) -> str:
    return plain(reply.query_one("#reply-conversation .pane-text", Static))


async def test_replying_the_conversation_stays_above_the_editor_and_keys_go_to_the_editor(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = demo_store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    last_public = [m for m in raw["messages"] if not m["isInternal"]][-1]["content"]
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, raw["_id"])
        reply = await open_reply(pilot)
        assert reply.query_one("#reply-conversation").display
        assert last_public.splitlines()[0] in pane(reply)
        assert "INTERNAL NOTE" in pane(reply)
        await pilot.press(*"Thanks", "ctrl+up", "ctrl+down", *"!")
        assert reply.query_one(TextArea).text == "Thanks!"
        assert reply.focused is reply.query_one(TextArea)


async def test_at_80x24_f2_shows_the_conversation_and_the_draft_stays(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = demo_store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot, raw["_id"])
        reply = await open_reply(pilot)
        conversation = reply.query_one("#reply-conversation")
        assert not conversation.display  # short terminal: the editor gets the room
        await pilot.press(*"On it", "f2", *" now")
        await pilot.pause()
        assert conversation.display
        assert raw["messages"][-1]["content"].splitlines()[0] in pane(reply)
        assert reply.query_one(TextArea).text == "On it now"
        await pilot.press("f2")
        await pilot.pause()
        assert not conversation.display


async def test_merged_copies_name_the_ticket_they_came_from_on_the_ticket_screen(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from helpdesk_tui.screens.ticket import TicketScreen as Screen
    from helpdesk_tui.store.merge import Merger

    ticket = demo_store.find_ticket(NUMBER)
    source = next(t for t in others_of(demo_store, NUMBER) if t.status in ACTIVE_STATUSES)
    agent = demo_store.user_by_email("ana@helpdesk.example").id
    assert ticket.id is not None and source.id is not None and agent is not None
    copied = len(demo_store.get_ticket(source.id).messages)
    Merger(demo_store).merge(ticket.id, [source.id], actor=agent)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket.id)
        assert isinstance(screen, Screen)
        conversation = screen.query_one(Conversation)
        titles = [v.title.plain for v in conversation.messages]
        assert sum(f"from {source.ticket_number}" in t for t in titles) == copied
        events = [e.plain for e in conversation.events]
        assert any(f"merged {source.ticket_number} into this ticket" in e for e in events)


async def test_shift_m_merges_a_chosen_open_ticket_of_the_customer_into_this_one(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog

    ticket = demo_store.find_ticket(NUMBER)
    source = next(t for t in others_of(demo_store, NUMBER) if t.status in ACTIVE_STATUSES)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket.id)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ChoiceDialog)
        await pilot.press("home", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert pilot.app.screen is screen
        closed = demo_store.tickets.find_one({"_id": source.id})
        assert closed is not None and closed["status"] == "closed"
        assert f"merged-into-{NUMBER}" in closed["tags"]
        assert f"from {source.ticket_number}" in " ".join(
            v.title.plain for v in screen.query_one(Conversation).messages
        )
