"""A merge seen on the open target ticket: the copied messages take their place in time.

The walker saw a merged message shown after later messages on the merge target. The store
keeps the target's array in time order (tests/ticket/test_merge.py); this checks what the open
ticket screen shows once the merge is written.
"""

from __future__ import annotations

from conftest import FakeClock, People, new_ticket
from helpers import QUIET, MakeApp
from pilot import settle
from test_merge import write

from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation


async def test_merging_into_the_open_ticket_shows_every_message_in_time_order(
    store: TicketStore, people: People, clock: FakeClock, make_app: MakeApp
) -> None:
    target = store.create_ticket(new_ticket(people, subject="Parcel missing")).id
    clock.advance(minutes=1)
    source = store.create_ticket(new_ticket(people, subject="Parcel missing again")).id
    assert target is not None and source is not None
    for minute in range(6):  # interleaved: even minutes on the target, odd on the source
        clock.advance(minutes=1)
        write(store, target if minute % 2 == 0 else source, people.customer, f"minute {minute}")
    clock.advance(minutes=5)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(TicketScreen(target))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        conversation = screen.query_one(Conversation)
        shown = [
            v.message.content
            for v in conversation.messages  # in the order they are drawn
            if v.message.content.startswith("minute")
        ]
    assert shown == [f"minute {m}" for m in range(6)], shown
