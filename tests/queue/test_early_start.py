"""The start view's first page read while the app starts (store/early.py, issue 14): the queue
shows it without asking again, and nothing written between that read and the feed is lost.

On the session's SecantusDB, with the app's real change stream.
"""

from __future__ import annotations

import threading
from typing import Any

from conftest import FakeClock, as_service
from helpers import QUIET, MakeApp
from pilot import settle, shows, until
from test_app_queue import started, user_id

from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.store.early import EarlyStart
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.queue_index import IndexMaintainer
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.views import standard_views

WAIT = 10.0
PAGE = QUIET.ui.page_size


def early_for(store: TicketStore, me: Any, *, limit: int = PAGE) -> EarlyStart:
    def start_view() -> tuple[str, QueueQuery]:
        view = standard_views(me)[0]  # My tickets: an agent's start view
        return view.key, view.query

    return EarlyStart(store, me, start_view, limit).start()


def counting(store: TicketStore) -> list[QueueQuery]:
    """Every page the store reads from now on (the early thread's and the queue's)."""
    asked: list[QueueQuery] = []
    list_queue = store.list_queue

    def counted(query: QueueQuery, **kwargs: Any) -> Any:
        asked.append(query)
        return list_queue(query, **kwargs)

    store.list_queue = counted  # type: ignore[method-assign]
    return asked


async def test_the_queue_shows_the_page_read_early_without_reading_it_again(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    ana = user_id(demo_store, "ana@helpdesk.example")
    asked = counting(demo_store)
    early = early_for(demo_store, ana)
    assert early.wait(WAIT)
    app = make_app(demo_store, config=QUIET, early=early)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        mine = [t.id for t in demo_store.list_queue(standard_views(ana)[0].query).tickets]
        assert [t.id for t in queue.table.tickets.values()] == mine
        assert len(asked) == 2  # the early read, and the oracle just above: not the queue's


async def test_a_write_between_the_early_page_and_the_feed_reaches_the_queue(
    demo_store: TicketStore, make_app: MakeApp, clock: FakeClock, db: Any
) -> None:
    """The page was read before the app's change stream existed: the stream resumes from the
    point the page was read at, so a write in between arrives as an event."""
    ana = user_id(demo_store, "ana@helpdesk.example")
    # Another running app keeps the queue index (so this one's feed catches nothing up: only
    # the event can bring the write to this queue).
    IndexMaintainer(demo_store.queue, clock).tick()
    early = early_for(demo_store, ana)
    assert early.wait(WAIT)
    clock.advance(minutes=1)
    taken = db.tickets.find_one({"status": "open", "assignedTo": None})
    db.tickets.update_one(  # the Ticket Service gives ana a ticket
        {"_id": taken["_id"]}, {"$set": {"assignedTo": ana, "updatedAt": clock.now}}
    )
    as_service(demo_store, taken["_id"])  # the other app applies it to the index
    app = make_app(demo_store, config=QUIET, early=early)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        assert await until(
            pilot,
            lambda: shows(queue, taken["_id"]),
            seconds=WAIT,
        ), "the write made before the feed started never reached the queue"


async def test_an_early_page_larger_than_the_window_is_not_used(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    ana = user_id(demo_store, "ana@helpdesk.example")
    asked = counting(demo_store)
    early = early_for(demo_store, ana, limit=PAGE + 1)
    assert early.wait(WAIT)
    app = make_app(demo_store, config=QUIET, early=early)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        assert queue.table.row_count > 0
        assert len(asked) == 2  # the early read, unused, and the queue's own


async def test_an_early_start_that_fails_leaves_the_queue_to_read_its_page(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    ana = user_id(demo_store, "ana@helpdesk.example")

    def broken() -> tuple[str, QueueQuery]:
        raise RuntimeError("no views")

    early = EarlyStart(demo_store, ana, broken, PAGE).start()
    assert early.wait(WAIT)
    app = make_app(demo_store, config=QUIET, early=early)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        assert queue.table.row_count > 0


async def test_a_first_screenful_is_painted_then_the_window_and_keys_typed_meanwhile_wait_for_it(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The early page is one screenful; the queue reads its whole window right after, and the
    keys typed before that window came act on it (j past the screenful lands where it should)."""
    ana = user_id(demo_store, "ana@helpdesk.example")
    for doc in demo_store.tickets.find({"status": "open", "assignedTo": None}).limit(4):
        demo_store.take(doc["_id"], ana)
    mine = [t.id for t in demo_store.list_queue(standard_views(ana)[0].query).tickets]
    assert len(mine) >= 5
    screenful = 2
    early = early_for(demo_store, ana, limit=screenful)
    assert early.wait(WAIT)
    filling, gate = threading.Event(), threading.Event()
    list_queue = demo_store.list_queue

    def gated(query: QueueQuery, **kwargs: Any) -> Any:
        filling.set()
        assert gate.wait(WAIT)
        return list_queue(query, **kwargs)

    demo_store.list_queue = gated  # type: ignore[method-assign]
    app = make_app(demo_store, config=QUIET, early=early)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert await until(pilot, filling.is_set, seconds=WAIT)
            queue = next(s for s in app.screen_stack if isinstance(s, QueueScreen))
            assert [t.id for t in queue.table.tickets.values()] == mine[:screenful]
            await pilot.press(*["j"] * 3)  # past the screenful: held for the window
            gate.set()
            await settle(pilot)
            assert [t.id for t in queue.table.tickets.values()] == mine
            assert queue.table.cursor_row == 3
    finally:
        gate.set()
