"""Helpers shared by the pilot tests: wait for store workers, watch notifications, read text."""

from __future__ import annotations

import io
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from rich.console import Console
from rich.text import Text
from textual import events
from textual.keys import _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from textual.worker import WorkerCancelled

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
    """Let the app run until ``condition`` holds (True) or ``seconds`` pass (False)."""
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


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Press ``keys`` one by one, then let the store calls they started finish."""
    await pilot.press(*keys)
    await settle(pilot)


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Queue every key before the app handles the first, as a paste or a slow link does."""
    app = pilot.app
    driver = app._driver
    assert driver is not None
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(key))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()


async def open_ticket(pilot: Pilot[Any], ticket: ObjectId | str | None) -> Any:
    """The ticket screen of ``ticket``, loaded: an id is pushed as the app does from anywhere, a
    ticket number is entered on from the queue on screen (its row highlighted, then enter)."""
    from helpdesk_tui.screens.ticket import TicketScreen

    assert ticket is not None
    if isinstance(ticket, str):
        screen = await enter_ticket(pilot, ticket)
    else:
        await settle(pilot)
        await pilot.app.push_screen(TicketScreen(ticket))
        await settle(pilot)
        screen = pilot.app.screen
    assert isinstance(screen, TicketScreen) and screen.ticket is not None
    return screen


async def open_row(pilot: Pilot[Any], number: str) -> None:
    """Enter on the row of ticket ``number`` in the table on screen, whatever screen opens."""
    from helpdesk_tui.widgets.ticket_table import TicketTable

    table = pilot.app.screen.query_one(TicketTable)
    key = next(k for k, t in table.tickets.items() if t.ticket_number == number)
    table.move_cursor(row=table.get_row_index(key), animate=False)
    await press(pilot, "enter")


# Workers that run for the app's whole life: never waited for.
LONG_RUNNING = {"feed", "demo"}


async def settle_workers(pilot: Pilot[Any]) -> None:
    """Let every store worker finish and its result reach the screen; stop cursor blinking (the
    snapshots' settle: what is on screen is final)."""
    for _ in range(2):  # a callback may start another worker (or mount widgets)
        await pilot.pause()
        workers = [w for w in pilot.app.workers if w.group not in LONG_RUNNING]
        for worker in workers:
            try:
                await worker.wait()
            except WorkerCancelled:  # an exclusive load replaced by a newer one: normal
                pass
        await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    await pilot.pause()
