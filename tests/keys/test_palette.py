"""The command palette (ctrl+p) lists each action of the screen once, with its key."""

from __future__ import annotations

from typing import Any

from helpers import QUIET, MakeApp
from pilot import settle
from textual.command import CommandList, CommandPalette

from helpdesk_tui.store.tickets import TicketStore


async def palette_entries(pilot: Any) -> list[str]:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.pause(0.3)  # the palette gathers its commands in a worker of its own
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    commands = palette.query_one(CommandList)
    return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]


async def test_palette_lists_each_queue_action_once_with_its_key(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        entries = await palette_entries(pilot)
    lines = [line for entry in entries for line in entry.splitlines()]
    for action in ("Assign", "Copy", "Follow", "Quit", "Reply", "Status"):
        named = [line for line in lines if line.split(" (")[0].split(":")[0] == action]
        assert len(named) == 1, (action, lines)
    assert any(line.startswith("Assign (A): reassign") for line in lines), lines
    assert any(line.startswith("Quit (q)") for line in lines), lines
    assert not any("Copy selected text" in line for line in lines), lines
