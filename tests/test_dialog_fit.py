"""Dialogs and toasts at 80x24: the hint line of a long chooser and a bulk macro's reason show."""

from __future__ import annotations

from typing import Any

import pytest
from pilot import settle
from screen_text import screen_text

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.store.tickets import TicketStore

QUIET = Config(ui=UiConfig(poll_interval_seconds=3600))
NUMBER = "TKT-000007"  # Ana's in-progress ticket in the demo data


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_copy_chooser_of_a_long_conversation_keeps_its_hint_line(
    demo_store: TicketStore, make_app: Any, size: tuple[int, int]
) -> None:
    ticket = demo_store.find_ticket(NUMBER)
    assert ticket.id is not None and ticket.user is not None
    for n in range(20):
        demo_store.add_message(
            ticket.id,
            sender=ticket.user,
            content=f"Message {n}: still waiting for my parcel, it is now a long story " * 2,
        )
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        key = next(k for k, t in queue.table.tickets.items() if t.ticket_number == NUMBER)
        queue.table.move_cursor(row=queue.table.get_row_index(key), animate=False)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        shown = screen_text(app)
        assert f"Copy from {NUMBER}" in shown
        assert "enter choose · esc cancel" in shown
