"""Helpers shared by the pilot tests: wait for store workers, watch notifications, read text."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from helpdesk_tui.app import HelpdeskApp
from helpdesk_tui.store.live import Batch

# Turns of the event loop with no store call running before settle says the app is still: a
# finished call's result comes by a message, and its callback may start the next call only
# after a repaint (the counts after a reload's rows are painted).
STILL_TURNS = 3


async def settle(pilot: Pilot[Any], timeout: float = 5.0) -> None:
    """Let every store call (thread workers, and the ones their callbacks start) finish.

    A chain (a write, then the reload it asks for, then the counts asked once its rows are
    painted) has moments with no call running between two links: still means STILL_TURNS
    turns in a row with none, a call started meanwhile sets the count back."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause()
    still = 0
    while still < STILL_TURNS:
        busy = [w for w in app.workers if w.group != "feed" and not w.is_finished]
        if busy:
            still = 0
            assert time.monotonic() < deadline, f"workers still running: {busy}"
            await pilot.pause(0.02)
        else:
            still += 1
            await pilot.pause()


class HeldFeed:
    """The live feed's batches, kept from the app until ``release``.

    Our own write comes back on the change stream when the feed next asks: before, during or
    after the work the write started, as the threads fall. Holding it fixes the order a user
    sees on a busy day (the echo last), so what the screen shows after a write cannot depend
    on it having come."""

    def __init__(self, app: HelpdeskApp) -> None:
        self._feed = app.feed
        self._emit = app.feed.emit
        self._lock = threading.Lock()
        self._holding = True
        self.batches: list[Batch] = []
        app.feed.emit = self._hold

    def _hold(self, batch: Batch) -> None:  # on the feed's thread
        with self._lock:
            if self._holding:
                self.batches.append(batch)
                return
        self._emit(batch)

    async def release(self, pilot: Pilot[Any]) -> None:
        """Hand the held batches to the app, in order, and let it act on them."""
        with self._lock:
            self._holding = False
            for batch in self.batches:
                self._emit(batch)  # posts a message: never blocks
            self._feed.emit = self._emit
        await settle(pilot)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.02)
    return True


async def on_all_open(pilot: Pilot[Any]) -> Any:
    """The app started and switched to All open (3): a queue with every SLA colour."""
    from helpdesk_tui.screens.queue import QueueScreen

    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen)
    return queue


async def highlight(pilot: Pilot[Any], number: str) -> Any:
    """The queue on screen with its cursor on the row of ticket ``number``."""
    from helpdesk_tui.screens.queue import QueueScreen

    await settle(pilot)
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen)
    key = next(k for k, t in queue.table.tickets.items() if t.ticket_number == number)
    queue.table.move_cursor(row=queue.table.get_row_index(key), animate=False)
    return queue


async def enter_ticket(pilot: Pilot[Any], number: str) -> Any:
    """From the queue on screen, enter on the row of ticket ``number``: its ticket screen."""
    from helpdesk_tui.screens.ticket import TicketScreen

    await highlight(pilot, number)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TicketScreen)
    return screen


def shows(queue: Any, ticket_id: Any) -> bool:
    """Whether the queue screen's table has a row for this ticket."""
    return any(t.id == ticket_id for t in queue.table.tickets.values())


def record_notifications(app: HelpdeskApp) -> list[tuple[str, str, str]]:
    """Every notification from now on as (severity, title, message); toasts expire, this not."""
    seen: list[tuple[str, str, str]] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        seen.append(
            (str(kwargs.get("severity", "information")), str(kwargs.get("title", "")), message)
        )
        original(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


def plain(widget: Static) -> str:
    """The text a Static shows (a Text, or any Rich renderable rendered without colour)."""
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, color_system=None, file=io.StringIO())
    console.print(content)
    return console.export_text()
