"""Helpers shared by the pilot tests: wait for store workers, watch notifications, read text."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from helpdesk_tui.app import HelpdeskApp


async def settle(pilot: Pilot[Any], timeout: float = 5.0) -> None:
    """Let every store call (thread workers, and the ones their callbacks start) finish."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while True:
        busy = [w for w in app.workers if w.group != "feed" and not w.is_finished]
        if not busy:
            break
        assert time.monotonic() < deadline, f"workers still running: {busy}"
        await pilot.pause(0.02)
    for _ in range(3):  # a finished call's result is handed over by a message, on a loaded box
        await pilot.pause()


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
