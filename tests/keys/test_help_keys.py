"""The help screen (``?``) lists the helpdesk's own actions with the keys bound to them, and
leaves out Textual's generic keys (focus next/previous, copy selected text), as the palette does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import settle
from screen_text import screen_lines
from textual.pilot import Pilot

from helpdesk_tui.config import Config
from helpdesk_tui.screens.help import HelpScreen
from helpdesk_tui.store.tickets import TicketStore


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_help_lists_our_actions_with_their_keys_and_not_textuals_generic_keys(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=Config(keys={"reply": "x"}, ui=QUIET.ui))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        # The help's own lines (inside its frame), not the footer's keys under it.
        shown = "\n".join(line for line in screen_lines(app) if line.lstrip().startswith("█"))
    assert re.search(r"\bx +Reply\b", shown), shown
    assert re.search(r"\bs +Status\b", shown), shown
    assert not re.search(r"\br +Reply\b", shown), shown
    # A remapped action keeps its place (next to Note), even at 80x24 where the help scrolls.
    assert re.search(r"\bx +Reply\b.*\n.*\bi +Note\b", shown), shown
    for generic in ("Focus Next", "Focus Previous", "Copy selected text"):
        assert generic not in shown, shown


async def ticket_help_rows(pilot: Pilot[Any]) -> list[tuple[str, str]]:
    """The help's rows for the first ticket of the start view, opened with enter."""
    from helpdesk_tui.screens.help import binding_rows
    from helpdesk_tui.screens.ticket import TicketScreen

    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TicketScreen)
    return binding_rows(pilot.app.screen)


async def test_the_ticket_help_sums_up_the_nine_customer_ticket_keys_in_one_row(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """It listed nine rows, "Open the customer's ticket 1" to "… 9", above everything else."""
    app = make_app(demo_store, config=Config(ui=QUIET.ui))
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await ticket_help_rows(pilot)
    described = [description for _, description in rows]
    assert not any(d.startswith("Open the customer's ticket") for d in described), described
    assert ("1…9", "open the customer's ticket of that number (listed with c)") in rows


async def test_the_ticket_help_names_the_customer_key_as_bound_now(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """With `customer_context = "ctrl+k"` in [keys], "listed with c" sent the agent to a key
    that no longer lists anything."""
    app = make_app(demo_store, config=Config(keys={"customer_context": "ctrl+k"}, ui=QUIET.ui))
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await ticket_help_rows(pilot)
        key = app.get_key_display(
            next(
                b for b in app.screen.active_bindings.values() if b.binding.action == "context"
            ).binding
        )
    assert ("1…9", f"open the customer's ticket of that number (listed with {key})") in rows
