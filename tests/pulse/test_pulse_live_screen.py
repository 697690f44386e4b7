"""The Pulse screen follows the live feed (issue 30): a change the feed announces is in the
figures once the shown ones are a minute old (not before: one computation a minute at most),
drawn into the same widgets (no rebuild, no flicker), with the moment they were computed on
top. The clock is the fixed test clock; the feed's message is posted as the app posts it."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pilot import plain, settle
from textual.widgets import Sparkline, Static

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import Status
from helpdesk_tui.messages import ClockTick, TicketsChanged
from helpdesk_tui.screens.pulse import PulseScreen
from helpdesk_tui.store.pulse import PulseStore
from helpdesk_tui.store.tickets import TicketStore


def running_ticket(store: TicketStore) -> ObjectId:
    doc = store.tickets.find_one({"status": Status.IN_PROGRESS.value}, sort=[("_id", 1)])
    assert doc is not None
    return ObjectId(doc["_id"])


async def test_a_change_from_the_feed_shows_within_the_minute_in_place(
    demo_store: TicketStore, clock: Any, make_app: Any
) -> None:
    store = demo_store
    app = make_app(store, seed.SUPERVISOR[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PulseScreen) and screen.pulse is not None
        first = screen.pulse
        info = screen.query_one("#pulse-info", Static)
        assert "As of Tue 26 Nov 10:00:00 UTC" in plain(info)
        spark = screen.query_one("#spark-day-waiting", Sparkline)

        # Half a minute on, a ticket goes to waiting; the feed announces it.
        clock.advance(seconds=30)
        moved = running_ticket(store)
        store.set_status(moved, Status.WAITING)
        screen.post_message(TicketsChanged({moved}))
        await settle(pilot)
        assert screen.pulse is first  # the shown figures are not a minute old: kept
        assert not screen.reading

        # The minute passes: the next tick reads again, the change is in.
        clock.advance(seconds=30)
        screen.post_message(ClockTick(clock.now))
        await settle(pilot)
        second = screen.pulse
        assert second is not first and second.now == clock.now
        assert second.backlog_day.waiting[-1] == first.backlog_day.waiting[-1] + 1
        # As a computation from scratch would have it (the recount itself: test_pulse_incremental).
        assert second.as_json() == PulseStore(store).compute(clock.now).as_json()
        assert "As of Tue 26 Nov 10:01:00 UTC" in plain(info)
        # Drawn into the same widgets: the sparkline was updated, not rebuilt.
        assert screen.query_one("#spark-day-waiting", Sparkline) is spark
        assert list(spark.data or [])[-1] == second.backlog_day.waiting[-1]


async def test_a_change_while_the_figures_are_old_is_read_at_once(
    demo_store: TicketStore, clock: Any, make_app: Any
) -> None:
    store = demo_store
    app = make_app(store, seed.SUPERVISOR[1])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PulseScreen) and screen.pulse is not None
        first = screen.pulse
        clock.advance(minutes=5)
        moved = running_ticket(store)
        store.set_status(moved, Status.WAITING)
        screen.post_message(TicketsChanged({moved}))
        await settle(pilot)
        assert screen.pulse is not first and screen.pulse.now == clock.now
        assert screen.pulse.backlog_day.waiting[-1] == first.backlog_day.waiting[-1] + 1


async def test_the_moment_of_the_figures_fits_one_line_at_80x24(
    demo_store: TicketStore, make_app: Any
) -> None:
    app = make_app(demo_store, seed.SUPERVISOR[1])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        info = app.screen.query_one("#pulse-info", Static)
        assert plain(info).startswith("As of Tue 26 Nov 10:00:00 UTC")
        # One line that fits the body (80 less its padding and scrollbar): all of it is seen.
        assert "\n" not in plain(info) and len(plain(info)) <= 76
