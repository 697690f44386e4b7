"""The Pulse screen (``P`` on the queue): for supervisors, at 120x40 and 80x24, meaning in
symbols, back with ``q``; an agent gets one line (issue 30)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import MakeApp
from pilot import plain, record_notifications, settle
from textual.widgets import Sparkline, Static

from helpdesk_tui.demo import seed
from helpdesk_tui.screens.pulse import PulseScreen
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def shown(screen: Any) -> str:
    return "\n".join(plain(w) for w in screen.query(Static) if w.id and w.id.startswith("pulse"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_supervisor_sees_the_pulse_and_goes_back(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, seed.SUPERVISOR[1])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PulseScreen)
        assert screen.pulse is not None
        text = shown(screen)
        # Every section, with its symbols named: the meaning does not rest on colour.
        for words in ("SLA attainment", "█ met", "░ breached", "Agents", "Time to first response"):
            assert words in text
        assert "FR " in text and "Res" in text
        # Charts fit the width: no line of a block is wider than the terminal.
        for widget in screen.query(".pulse-block").results(Static):
            assert all(len(line) <= size[0] - 2 for line in plain(widget).splitlines()), plain(
                widget
            )
        # The sparklines got their series (the seeded week is not empty).
        backlog = screen.query_one("#spark-week-open", Sparkline)
        assert len(list(backlog.data or [])) == 30 and max(backlog.data or [0]) > 0
        assert screen.query_one("#spark-day-open", Sparkline).region.width >= 4
        # Keyboard-first: j and k move through what does not fit, as on a ticket.
        body = screen.query_one("#pulse-body")
        await pilot.press("j", "j")
        await settle(pilot)
        if size == (80, 24):
            assert body.scroll_y > 0
        low = body.scroll_y
        await pilot.press("k", "k")
        await settle(pilot)
        assert body.scroll_y < low or low == 0
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_an_agent_gets_one_line_not_the_pulse(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, seed.DEMO_AGENT_EMAIL)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = record_notifications(app)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert [m for _, _, m in seen] == [
            "The pulse (P) is for supervisors: it shows the whole team's figures."
        ]


async def test_hostile_agent_names_render_as_plain_text(
    db: Any, clock: Any, make_app: MakeApp
) -> None:
    hostile = "[@click=app.quit]Q[/] \x1b]2;PWNED\x07\u202eevil [bold]"
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    data = seed.generate(clock.now, tickets=60, customers=30, seed=7)
    for user in data.users:
        if user["email"] == "bo@helpdesk.example":
            user["name"] = hostile
    seed.load(store, data)
    app = make_app(store, seed.SUPERVISOR[1])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        agents = plain(app.screen.query_one("#pulse-agents", Static))
        assert "[@click=app.qui…" in agents, agents  # shown literally, not run as markup
        assert "\x1b" not in agents and "\u202e" not in agents and "\x07" not in agents
        assert app.is_running  # the click markup did not quit the app
