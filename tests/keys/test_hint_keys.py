"""Hints in the UI name the key actually bound: after ``[keys]`` moved an action, the hint
names the new key, not the default (a hint naming a key that does nothing misleads)."""

from __future__ import annotations

from helpers import QUIET, MakeApp
from pilot import plain, record_notifications, settle
from screen_text import screen_text
from textual.widgets import Static

from helpdesk_tui.config import Config
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.customer_panel import CustomerPanel

SAM = "sam@helpdesk.example"


async def test_the_customer_line_names_the_remapped_context_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=Config(keys={"customer_context": "o"}, ui=QUIET.ui))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        # A ticket whose customer has others: the line offers "more".
        for _ in range(40):
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, TicketScreen)
            line = plain(screen.query_one(CustomerPanel))
            if "more" in line:
                break
            await pilot.press("q", "down")
            await settle(pilot)
        assert line.endswith(" · o more"), line
        await pilot.press("o")
        await settle(pilot)
        assert "more" not in plain(screen.query_one(CustomerPanel)).splitlines()[0]


async def test_the_follow_hint_names_the_remapped_follow_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=Config(keys={"follow": "L"}, ui=QUIET.ui))
    seen = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
    assert any(m == "You follow no ticket yet: L on a ticket follows it." for _, _, m in seen)


async def test_the_bulk_undo_hint_names_the_remapped_undo_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, SAM, config=Config(keys={"undo": "U"}, ui=QUIET.ui))
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("space", "space", "p")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("end", "enter")
        await settle(pilot)
    said = [m for _, _, m in seen if "tickets." in m]
    assert said and said[-1].endswith("(U undoes)"), seen


async def test_the_undo_send_countdown_names_the_remapped_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(
        demo_store, config=Config(keys={"undo_send": "f4"}, ui=QUIET.ui), undo_seconds=30
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        await pilot.press(*"Hi", "ctrl+s")
        await settle(pilot)
        hold = plain(app.screen.query_one("#reply-hold", Static))
        assert "f4 undo" in hold and "u undo" not in hold, hold


async def test_the_chooser_hint_names_the_remapped_cancel_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=Config(keys={"cancel": "ctrl+x"}, ui=QUIET.ui))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        assert "enter choose · ^x cancel" in screen_text(app)
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceDialog)


async def test_a_long_message_names_the_remapped_show_more_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from helpdesk_tui.widgets.conversation import PREVIEW_CHARS, Conversation

    ticket = demo_store.find_ticket("TKT-000007")
    assert ticket.id is not None and ticket.user is not None
    from conftest import as_service

    from helpdesk_tui.domain.models import new_message_doc

    long_text = "x" * (PREVIEW_CHARS + 10)  # as the Ticket Service may write it: over our limit
    message = new_message_doc(sender=ticket.user, content=long_text, now=demo_store.now())
    demo_store.tickets.update_one({"_id": ticket.id}, {"$push": {"messages": message}})
    as_service(demo_store, ticket.id)
    app = make_app(demo_store, config=Config(keys={"more": "E"}, ui=QUIET.ui))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        key = next(k for k, t in queue.table.tickets.items() if t.ticket_number == "TKT-000007")
        queue.table.move_cursor(row=queue.table.get_row_index(key), animate=False)
        await pilot.press("enter")
        await settle(pilot)
        conversation = app.screen.query_one(Conversation)
        long = [v for v in conversation.messages if v.truncated]
        assert long and long[0].body().plain.endswith("press E to show more")
        assert any("press E to show more" in line for line in conversation.drawn(long[0]))
