"""A ticket opens in one frame (issue 29): its first frame shows the header and the newest
messages, not a "loading…" frame followed by the ticket (each a whole screen of bytes and a
layout), and nothing after it lays the conversation out again or rebuilds the footer.

Frames are counted where Textual hands each update to the driver (``App._display``, as
benchmarks/_common.py ``PaintProbe`` does). The wait for the first read is made long, so the
test does not depend on how fast the server answers: what it checks is what the frame shows.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from conftest import FakeClock, People
from pilot import settle, until
from test_big_open import QUIET, big_ticket

import helpdesk_tui.screens.ticket as ticket_screen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation


def ticket_frames(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The screen as painted, each time Textual paints a ticket's screen (filled as it runs)."""
    frames: list[str] = []
    display = app._display

    def recorded(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and isinstance(screen, TicketScreen):
            frames.append(app.export_screenshot(simplify=True))

    monkeypatch.setattr(app, "_display", recorded)
    return frames


# Many messages; or two, the newest taller than the screen (its last line is the one to see:
# before the first layout nothing overflowed, and a scroll to the end did nothing).
SHAPES = {
    "many": (200, {"199": "NEWEST-MARK the newest"}),
    "one-tall": (2, {"1": "a long one " * 900 + "NEWEST-MARK"}),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_first_frame_of_a_ticket_shows_its_newest_message_and_its_header(
    store: TicketStore,
    people: People,
    clock: FakeClock,
    make_app: Any,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
    shape: str,
) -> None:
    monkeypatch.setattr(ticket_screen, "FIRST_FRAME_WAIT", 30.0)
    count, content = SHAPES[shape]
    ticket = big_ticket(store, people, clock, count, **content)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        frames = ticket_frames(app, monkeypatch)
        relayouts = 0
        relayout = Conversation.relayout

        def counted(self: Conversation) -> None:
            nonlocal relayouts
            relayouts += 1
            relayout(self)

        monkeypatch.setattr(Conversation, "relayout", counted)
        restyles = 0
        update_node_styles = TicketScreen.update_node_styles

        def restyled(self: TicketScreen, animate: bool = True) -> None:
            nonlocal restyles
            restyles += 1
            update_node_styles(self, animate)

        monkeypatch.setattr(TicketScreen, "update_node_styles", restyled)
        await pilot.app.push_screen(TicketScreen(ticket.id))
        assert await until(pilot, lambda: bool(frames))
        await settle(pilot)
        first = frames[0]
        assert "NEWEST-MARK" in first  # the newest message, at the bottom, in the first frame
        assert "loading" not in first
        assert ticket.ticket_number in first and "Status" in first
        assert "Reply" in first  # the footer's keys, in the same frame
        assert relayouts == 0  # laid out once, at the width it is drawn at
        assert restyles == 0  # styled as its widgets mounted, not all again when first shown
        conversation = app.screen.query_one(Conversation)
        assert conversation.is_vertical_scroll_end
        # The scrollbar came after the scroll: its thumb is at the end too.
        assert conversation.vertical_scrollbar.position == conversation.scroll_y > 0


async def test_a_read_slower_than_the_wait_shows_loading_and_keys_act_at_once(
    store: TicketStore,
    people: People,
    clock: FakeClock,
    make_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that does not answer within the wait: the screen paints its loading state,
    ``q`` goes back at once, and the late answer changes nothing."""
    gate = threading.Event()
    read = ticket_screen.ticket_and_history

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(timeout=10)
        return read(*args, **kwargs)

    monkeypatch.setattr(ticket_screen, "ticket_and_history", held)
    monkeypatch.setattr(ticket_screen, "FIRST_FRAME_WAIT", 0.05)
    ticket = big_ticket(store, people, clock, 3)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            queue = app.screen
            frames = ticket_frames(app, monkeypatch)
            await pilot.app.push_screen(TicketScreen(ticket.id))
            assert await until(pilot, lambda: bool(frames))
            assert "loading" in frames[0]
            await pilot.press("q")
            assert await until(pilot, lambda: app.screen is queue)
            gate.set()
            await settle(pilot)
            assert app.screen is queue
    finally:
        gate.set()


async def test_a_closed_tickets_conversation_lets_its_messages_go(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> None:
    """Whatever still refers to a closed screen (here, the test) does not keep its
    conversation's entries, thousands for a big ticket: they are let go when it is removed."""
    ticket = big_ticket(store, people, clock, 200)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = TicketScreen(ticket.id)
        await pilot.app.push_screen(screen)
        await settle(pilot)
        conversation = screen.query_one(Conversation)
        assert len(conversation.messages) == 50
        app.pop_screen()
        await settle(pilot)
        assert conversation.entries == [] and conversation.line_count == 0
