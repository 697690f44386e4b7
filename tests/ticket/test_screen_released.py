"""A closed ticket or reply screen is freed when it closes, not when its timers would have fired.

An agent opens and closes tickets all day. A closed screen (its widgets, styles, caches and the
laid-out conversation: thousands of objects) kept alive until its 15 s presence heartbeat would
have fired made every full pass of Python's collector walk it meanwhile: passes of 5-60 ms that
fell on the next ticket's open (issue 29). Why it stayed (helpdesk_tui/contexts.py): an asyncio
sleep's timer handle keeps a copy of the context it was made in, cancelled or not, until its
deadline, and the context a screen's timer sleeps in held the screen; and a worker thread kept
the last store call it ran.

Whether it is gone is checked with a weak reference and a full collection right after the app
has settled, long before any timer of the screen could have fired: no wall-clock wait. The
heartbeats themselves are checked to still beat at their interval (made short for that). A
second path, a worker thread that kept the last store call it ran (and its screen), is checked
on its own below, where which thread runs which call is not left to chance.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import FakeClock, People
from pilot import open_ticket, settle, until
from test_big_open import QUIET, big_ticket
from textual.pilot import Pilot

import helpdesk_tui.screens.reply as reply_screen
import helpdesk_tui.screens.ticket as ticket_screen
from helpdesk_tui.contexts import CallContextExecutor
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore

AGENT = "ann@helpdesk.test"


@pytest.fixture
def no_first_frame_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ticket's first frame waits up to FIRST_FRAME_WAIT (0.15 s) for its read, and the
    wait's timeout handle, cancelled when the read comes, holds the screen until 0.15 s after
    the open, not the close: a fast machine could open, close and settle within it."""
    monkeypatch.setattr(ticket_screen, "FIRST_FRAME_WAIT", 0.0)


def freed(screen: weakref.ref[Any]) -> bool:
    gc.collect()
    return screen() is None


async def opened_ticket(pilot: Pilot[Any], ticket: Any) -> weakref.ref[TicketScreen]:
    screen = await open_ticket(pilot, ticket)
    return weakref.ref(screen)


async def opened_reply(pilot: Pilot[Any]) -> weakref.ref[ReplyScreen]:
    await pilot.press("r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReplyScreen)
    return weakref.ref(screen)


@contextlib.asynccontextmanager
async def a_ticket_open(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> AsyncIterator[tuple[Any, Pilot[Any], weakref.ref[TicketScreen]]]:
    """The app (agent Ann) with a 50-message ticket of hers open: the app, its pilot, and a
    weak reference to the ticket's screen."""
    ticket = big_ticket(store, people, clock, 50)
    app = make_app(store, AGENT, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        yield app, pilot, await opened_ticket(pilot, ticket.id)


@pytest.mark.usefixtures("no_first_frame_wait")
async def test_a_closed_ticket_screen_is_freed_at_once(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> None:
    async with a_ticket_open(store, people, clock, make_app) as (app, pilot, screen):
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert freed(screen)


@pytest.mark.usefixtures("no_first_frame_wait")
async def test_a_closed_reply_screen_is_freed_at_once_and_its_ticket_when_that_closes(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> None:
    async with a_ticket_open(store, people, clock, make_app) as (app, pilot, screen):
        reply = await opened_reply(pilot)
        await pilot.press("escape")  # nothing typed: closes without a question
        await settle(pilot)
        assert app.screen is screen()
        assert freed(reply)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert freed(screen)


def counted(calls: list[str], name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return method(*args, **kwargs)

    return counting


async def test_the_ticket_and_reply_heartbeats_still_beat_at_their_interval(
    store: TicketStore,
    people: People,
    clock: FakeClock,
    make_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timers are started apart from the screen's context: they still run while it is open
    (and stop when it closes: a running heartbeat holds its screen, which the tests above see
    freed)."""
    monkeypatch.setattr(ticket_screen, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(reply_screen, "HEARTBEAT_SECONDS", 0.05)
    beats: list[str] = []
    monkeypatch.setattr(TicketScreen, "beat", counted(beats, "ticket", TicketScreen.beat))
    monkeypatch.setattr(ReplyScreen, "_beat", counted(beats, "reply", ReplyScreen._beat))
    ticket = big_ticket(store, people, clock, 5)
    app = make_app(store, AGENT, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, ticket.id)
        assert await until(pilot, lambda: beats.count("ticket") >= 4)  # on open, then 3 more
        await pilot.press("r")
        assert await until(pilot, lambda: beats.count("reply") >= 4)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)


def test_a_worker_thread_keeps_nothing_of_the_call_it_ran() -> None:
    """Textual's thread worker sets ``active_worker`` (the worker: its screen, its arguments)
    in the pool thread's own context; in the app's pool it goes with the call, where a plain
    pool (the loop's default before) kept it in the idle thread until its next call."""
    left: contextvars.ContextVar[str] = contextvars.ContextVar("left")
    with ThreadPoolExecutor(max_workers=1) as plain:
        plain.submit(left.set, "the last call's worker").result()
        assert plain.submit(left.get, None).result() == "the last call's worker"
    with CallContextExecutor(max_workers=1) as pool:
        pool.submit(left.set, "the last call's worker").result()
        assert pool.submit(left.get, None).result() is None
