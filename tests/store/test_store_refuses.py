"""When the database refuses a call the app makes in the background, the agent sees one
notification and the app keeps running (issue 11.5, issue 13 item 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import record_notifications, settle
from pymongo.errors import OperationFailure

from helpdesk_tui.app import FeedBatch
from helpdesk_tui.domain.errors import StoreUnavailable
from helpdesk_tui.screens.help import HelpScreen
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.live import Batch
from helpdesk_tui.store.tickets import TicketStore


def refuse(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("database error: not authorized on helpdesk to execute command")


def errors(seen: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [n for n in seen if n[0] == "error"]


async def still_running(pilot: Any) -> None:
    """The app answers a key: ``?`` opens the help, ``q`` closes it."""
    app = pilot.app
    assert app.return_code is None and app._exception is None
    await pilot.press("question_mark")
    await settle(pilot)
    assert isinstance(app.screen, HelpScreen)
    await pilot.press("q")
    await settle(pilot)


async def test_presence_set_up_without_the_create_index_privilege_is_one_notification(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_store, config=QUIET)

    def no_privilege(*args: Any, **kwargs: Any) -> Any:
        raise OperationFailure("not authorized on helpdesk to execute command", code=13)

    monkeypatch.setattr(app.presence.collection, "create_index", no_privilege)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and app.screen.table.row_count
        [(_, title, text)] = errors(seen)
        assert title == "The database refused" and "presence indexes" in text
        await still_running(pilot)


async def test_the_away_summary_failing_is_one_notification(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(demo_store, "changed_since", refuse)
        app._away_since = demo_store.now() - timedelta(minutes=30)
        app.summarise_away()
        await settle(pilot)
        assert [t for _, t, _ in errors(seen)] == ["The database refused"]
        await still_running(pilot)


async def test_view_counts_failing_is_one_notification(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_store, "count_views", refuse)
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert [t for _, t, _ in errors(seen)] == ["The database refused"]
        await still_running(pilot)


async def test_the_clock_ticking_on_a_queue_whose_first_load_failed_changes_nothing(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, clock: Any
) -> None:
    """The minute turns while the queue has never loaded: no crash (it once read the snoozes of
    a load that never came)."""
    from helpdesk_tui.messages import ClockTick

    monkeypatch.setattr(demo_store, "count_views", refuse)
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        queue.post_message(ClockTick(clock.advance(minutes=1)))
        await settle(pilot)
        assert [t for _, t, _ in errors(seen)] == ["The database refused"]
        await still_running(pilot)


async def test_ticket_history_failing_is_one_notification_and_the_screen_stays(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket and its history are one read (store/opened.py): it failing is one
    notification, and the ticket screen stays for a retry or q."""
    import helpdesk_tui.screens.ticket as ticket_screen

    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(ticket_screen, "ticket_and_history", refuse)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert [t for _, t, _ in errors(seen)] == ["The database refused"]
        await pilot.press("q")
        await settle(pilot)
        await still_running(pilot)


async def test_a_live_reload_failing_is_one_notification(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(demo_store, "list_queue", refuse)
        app.post_message(FeedBatch(Batch(reload=True)))
        await settle(pilot)
        assert [t for _, t, _ in errors(seen)] == ["The database refused"]
        await still_running(pilot)


async def test_an_unexpected_error_in_a_store_call_names_only_its_type(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)

        def bug(*args: Any, **kwargs: Any) -> Any:
            raise KeyError("carla@example.com")  # customer data in a bug's message

        monkeypatch.setattr(demo_store, "list_queue", bug)
        app.post_message(FeedBatch(Batch(reload=True)))
        await settle(pilot)
        [(_, _, text)] = errors(seen)
        assert "KeyError" in text and "carla" not in text
        await still_running(pilot)


async def test_a_clock_tick_after_the_screens_are_gone_does_nothing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The 1 s ticker can fire while the app closes (seen in CI under load): no screen is left
    to tick, and it used to end the app as an internal error (ScreenStackError)."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    app.tick()
