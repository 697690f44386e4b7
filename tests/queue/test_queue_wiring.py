"""The queue screen's reads on Textual's workers, on the real server: a read that fails is
reported once (report_error) and what waited for it is undone through ``WorkFailed``.
The model's own rules are tested without Textual in test_queue_model.py."""

from __future__ import annotations

from typing import Any

import pytest
from pilot import record_notifications, settle

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.errors import StoreUnavailable
from helpdesk_tui.models.queue import Phase
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.tickets import QueuePage, TicketStore

QUIET = Config(ui=UiConfig(poll_interval_seconds=3600, page_size=10))


def refused() -> StoreUnavailable:
    return StoreUnavailable("database error: not authorized on helpdesk to execute command")


async def test_a_view_whose_read_fails_is_said_once_and_the_queue_takes_keys_and_changes(
    demo_store: TicketStore, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed worker's ``WorkFailed`` reaches the model: else the queue would stay
    "loading", every later change waiting for a load that never comes, the keys held until
    their time limit."""
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise refused()

        monkeypatch.setattr(demo_store, "list_queue", refuse)
        await pilot.press("3")
        await settle(pilot)

        assert [title for severity, title, _ in seen if severity == "error"] == [
            "The database refused"
        ]
        assert queue.model.phase is Phase.IDLE and not queue.holding_keys
        monkeypatch.undo()
        queue.load(keep_window=True)  # what the next change does
        await settle(pilot)
        shown = [t.id for t in queue.table.tickets.values()]
        fresh = demo_store.list_queue(queue.current_query(), limit=len(shown)).tickets
        assert queue.view.key == "open" and shown == [t.id for t in fresh]


async def test_a_next_page_whose_read_failed_is_asked_again_when_the_cursor_moves(
    demo_store: TicketStore, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")  # All open: more than a few pages
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        shown = queue.table.row_count
        assert queue.page is not None and queue.page.has_more
        real = demo_store.list_queue
        failures = [refused()]

        def once_refused(query: QueueQuery, *, skip: int = 0, limit: int = 200) -> QueuePage:
            if skip and failures:
                raise failures.pop()
            return real(query, skip=skip, limit=limit)

        monkeypatch.setattr(demo_store, "list_queue", once_refused)
        queue.table.move_cursor(row=shown - 1, animate=False)  # near the end: the next page
        await settle(pilot)
        assert not failures and queue.table.row_count == shown  # it failed: nothing added

        queue.table.move_cursor(row=shown - 2, animate=False)
        await settle(pilot)
        assert queue.table.row_count > shown  # asked again, and added
