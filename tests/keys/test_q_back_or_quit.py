"""What ``q`` does, said in the footer and the same for every standard view.

The rule: ``q`` goes back when there is somewhere to go back to, and quits only from the main
queue. Every view of the main queue (1…8, Snoozed included) quits on ``q`` and its footer says
"q Quit"; Following (``F``) and an agent's queue (from the workload screen) are screens on top
of it: ``q`` goes back and the footer says "q Back", whichever view is chosen inside them (a
supervisor who pressed 1 in an agent's queue still goes back to the workload, never out).
"""

from __future__ import annotations

from typing import Any

from helpers import QUIET, MakeApp
from pilot import settle
from screen_text import screen_lines
from textual.pilot import Pilot

from helpdesk_tui.screens.queue import AgentQueueScreen, QueueScreen
from helpdesk_tui.store.tickets import TicketStore


def footer(pilot: Pilot[Any]) -> str:
    return screen_lines(pilot.app)[-1]


async def open_following(pilot: Pilot[Any]) -> AgentQueueScreen:
    await settle(pilot)
    await pilot.press("f")  # follow the highlighted ticket
    await settle(pilot)
    await pilot.press("F")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AgentQueueScreen)
    return screen


async def test_q_on_the_snoozed_view_says_quit_and_quits(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.view.name == "Snoozed"
        assert "q Quit" in footer(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0  # exit() was called: the app is quitting


async def test_following_says_q_back_and_q_goes_back_to_the_queue(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_following(pilot)
        assert "q Back" in footer(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert type(app.screen) is QueueScreen
        assert "q Quit" in footer(pilot)


async def test_a_view_chosen_inside_following_still_says_q_back_and_never_quits(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        following = await open_following(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert app.screen is following and following.view.name == "Snoozed"
        assert "q Back" in footer(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert type(app.screen) is QueueScreen
        assert app.return_code is None  # still running: back, not quit
