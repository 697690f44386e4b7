"""What a burst walk as a hurried new user found (tmux, whole key sequences per send-keys)."""

from __future__ import annotations

from typing import Any

from pilot import settle

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore

QUIET = Config(ui=UiConfig(poll_interval_seconds=3600))


async def test_3_enter_opens_the_most_urgent_ticket_of_the_new_view(
    demo_store: TicketStore, make_app: Any
) -> None:
    """`3 Enter` after looking at My tickets: the top row of All open, not the row the cursor
    was on in My tickets (which All open also holds, further down)."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        mine = [t.id for t in queue.table.tickets.values()]
        await pilot.press("3")
        await settle(pilot)
        everyone = [t.id for t in queue.table.tickets.values()]
        # A ticket of mine that is not All open's first row.
        low = next(i for i in mine if i in everyone and everyone.index(i) > 0)
        await pilot.press("1")
        await settle(pilot)
        queue.table.move_cursor(row=queue.table.get_row_index(str(low)), animate=False)
        await pilot.pause()
        await pilot.press("3", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.ticket_id == everyone[0]


async def test_n_takes_a_ticket_with_one_toast_not_an_assigned_to_you_echo(
    demo_store: TicketStore, make_app: Any
) -> None:
    """`n` says "TKT-… is yours now."; the change stream's echo of that write is no news."""
    from pilot import record_notifications, until

    live = Config(ui=UiConfig(poll_interval_seconds=0.2))
    app = make_app(demo_store, config=live)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        taken, me = screen.ticket_id, app.me.id
        # The echo has arrived once the alerts know the ticket as mine.
        assert await until(
            pilot,
            lambda: taken in app.alerts.known and app.alerts.known[taken].assignee == me,
            seconds=10,
        )
        await settle(pilot)
        app.feed.stop()
    titles = [(title, message) for _, title, message in seen]
    assert any(message.endswith("is yours now.") for _, message in titles), titles
    assert not any(title == "Assigned to you" for title, _ in titles), titles


async def test_f_then_F_in_one_burst_opens_following_with_the_ticket_just_followed(
    demo_store: TicketStore, make_app: Any
) -> None:
    import time

    from helpdesk_tui.screens.queue import AgentQueueScreen

    app = make_app(demo_store, config=QUIET)
    follow = app.followers.follow

    def slow_follow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # a slow link: the write is still on its way when `F` reads the list
        return follow(*args, **kwargs)

    app.followers.follow = slow_follow
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        followed = queue.table.current
        assert followed is not None
        await pilot.press("f", "F")
        await settle(pilot)
        following = app.screen
        assert isinstance(following, AgentQueueScreen), following
        assert [t.id for t in following.table.tickets.values()] == [followed.id]


async def test_slash_again_and_typing_replaces_the_last_search_instead_of_adding_to_it(
    demo_store: TicketStore, make_app: Any
) -> None:
    from textual.widgets import Input

    from helpdesk_tui.screens.search import SearchScreen

    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tanaka", "enter")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("slash", *"tanaka", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one("#search-box", Input).value == "tanaka"


async def test_the_empty_snoozed_view_says_how_a_ticket_gets_there(
    demo_store: TicketStore, make_app: Any
) -> None:
    from pilot import plain
    from textual.widgets import Static

    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.table.row_count == 0
        info = plain(queue.query_one("#queue-info", Static))
        assert info.startswith("Snoozed: 0 of 0 · z on a ticket snoozes it"), info
