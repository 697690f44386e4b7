"""Store calls on Textual's @work (issue 28): a failed one is said once and gives the keys
back; a write the app owns (following a ticket) finishes, and is said, after its screen went.

On the fault server (conftest.py): the follower store is given its own client, named
``FOLLOWERS_APP``, and a failCommand scoped to that name fails only the followers' reads, for
real, through pymongo and ``store/errors.py`` ``db_errors``: nothing else the app reads meanwhile
(queue pages, counts, the change stream) can take the fault or be hit by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from faults.helpers import PARKED
from pilot import HeldFeed, enter_ticket, highlight, record_notifications, settle
from pymongo import MongoClient

from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.search import PAGE, PREFETCH_ROWS, SearchScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.followers import FollowerStore
from helpdesk_tui.store.tickets import TicketStore

FOLLOWERS_APP = "helpdesk-followers"
NUMBER = "TKT-000007"  # Ana's in-progress ticket in the demo data
BO = "bo@helpdesk.example"


@pytest.fixture
def followers_client(fault_server: EmbeddedServer) -> Iterator[MongoClient[Any]]:
    client: MongoClient[Any] = MongoClient(fault_server.uri, tz_aware=True, appName=FOLLOWERS_APP)
    yield client
    client.close()


def own_followers(app: Any, store: TicketStore, client: MongoClient[Any]) -> None:
    """The app's follower store on ``client`` (same database and collection as before)."""
    name = app.config.mongo.followers
    app.followers = FollowerStore(client[store.db.name], name, clock=store.clock)


def ticket_id(store: TicketStore) -> ObjectId:
    raw = store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    return raw["_id"]


async def test_F_when_the_followed_tickets_cannot_be_read_says_so_once_and_gives_the_keys_back(
    demo_store: TicketStore, make_app: Any, fail_point: Any, followers_client: Any
) -> None:
    """``F`` holds the keys for the Following view; its read fails: one error notification,
    no Following view, and the key typed after ``F`` acts on the queue at once."""
    app = make_app(demo_store, BO, config=PARKED)
    own_followers(app, demo_store, followers_client)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")  # All open: more than one row
        queue = await highlight(pilot, NUMBER)
        row = queue.table.cursor_row
        said.clear()
        with fail_point("alwaysOn", ["find"], errorCode=13, appName=FOLLOWERS_APP):
            await pilot.press("F", "j")
            await settle(pilot)
        errors = [(title, text) for severity, title, text in said if severity == "error"]
        assert len(errors) == 1, said
        title, text = errors[0]
        assert "Something went wrong" not in text  # a database error, said as one
        assert title and text
        assert app.screen is queue and isinstance(queue, QueueScreen)
        assert not queue.holding_keys
        assert queue.table.cursor_row == row + 1  # the `j` after `F` moved the cursor


async def test_f_then_q_on_a_ticket_still_follows_it_and_says_so_after_the_screen_went(
    demo_store: TicketStore, make_app: Any, fail_point: Any, followers_client: Any
) -> None:
    """The follow write is the app's (``Helpdesk.toggle_follow``), not the ticket screen's:
    leaving before it is written (``f q``; the server holds the write) loses neither its toast
    nor the alerts' knowledge of it."""
    app = make_app(demo_store, BO, config=PARKED)
    own_followers(app, demo_store, followers_client)
    said = record_notifications(app)
    bo = demo_store.user_by_email(BO).id
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await highlight(pilot, NUMBER)
        screen = await enter_ticket(pilot, NUMBER)
        assert isinstance(screen, TicketScreen)
        held = {"blockConnection": True, "blockTimeMS": 500, "appName": FOLLOWERS_APP}
        with fail_point({"times": 1}, ["update"], **held):
            await pilot.press("f", "q")
            assert app.screen is not screen  # gone before the write is
            await settle(pilot)
        assert FollowerStore(demo_store.db).followers(ticket_id(demo_store)) == [bo]
        assert ticket_id(demo_store) in app.alerts.following
        assert any(m.startswith(f"Following {NUMBER}") for _, _, m in said), said


async def test_y_on_a_row_whose_ticket_is_gone_says_so_once_and_gives_the_keys_back(
    demo_store: TicketStore, make_app: Any
) -> None:
    """``y`` on a queue row reads the ticket first, holding the keys for the chooser. The
    ticket was deleted meanwhile (its event held back, so the row is still shown): one error
    notification naming it, no chooser, and the key typed after ``y`` acts on the queue."""
    app = make_app(demo_store, BO, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        queue = await highlight(pilot, NUMBER)
        row = queue.table.cursor_row
        echo = HeldFeed(app)
        gone = ticket_id(demo_store)
        demo_store.tickets.delete_one({"_id": gone})  # by someone else, outside the app
        said.clear()
        await pilot.press("y", "j")
        await settle(pilot)
        errors = [text for severity, _, text in said if severity == "error"]
        assert errors == [f"no ticket with id {gone}"], said
        assert app.screen is queue  # no chooser
        assert not queue.holding_keys
        assert queue.table.cursor_row == row + 1  # the `j` after `y` moved the cursor
        await echo.release(pilot)


async def test_more_search_results_that_failed_to_come_are_asked_for_again(
    demo_store: TicketStore, make_app: Any, fail_point: Any
) -> None:
    """Near the end of the first page the next one is read; that read fails (said by the
    one error path). Moving on asks again, and the rows come: a failed read of more rows no
    longer stops the list at its first page for the rest of the search."""
    app = make_app(demo_store, BO, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:open,in_progress,waiting,resolved,closed", "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert search.table.row_count == PAGE  # 60 tickets: a first page
        said.clear()
        with fail_point("alwaysOn", ["find", "aggregate"], errorCode=2):
            await pilot.press(*["j"] * (PAGE - PREFETCH_ROWS))
            await settle(pilot)
        assert any(severity == "error" for severity, _, _ in said), said
        assert search.table.row_count == PAGE  # the next page did not come
        await pilot.press("j")
        await settle(pilot)
        assert search.table.row_count == 60


async def test_a_closed_reply_editor_leaves_me_viewing_the_ticket_under_it_and_gone_elsewhere(
    demo_store: TicketStore, make_app: Any
) -> None:
    """``Helpdesk.stop_replying`` (the reply screen's presence on close, as the app's own call):
    with the ticket's screen under it, my entry says "viewing"; from the queue, it is gone."""
    app = make_app(demo_store, BO, config=PARKED)
    bo = demo_store.user_by_email(BO).id
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await highlight(pilot, NUMBER)
        await enter_ticket(pilot, NUMBER)
        gone = ticket_id(demo_store)
        entry = {"_id": f"{bo}:{gone}"}
        app.presence.beat(gone, bo, "Bo", "replying")  # as the reply editor says
        app.stop_replying(gone)
        await settle(pilot)
        doc = app.presence.collection.find_one(entry)
        assert doc is not None and doc["mode"] == "viewing"
        await pilot.press("q")  # back to the queue (the ticket screen leaves too)
        await settle(pilot)
        app.presence.beat(gone, bo, "Bo", "replying")
        app.stop_replying(gone)
        await settle(pilot)
        assert app.presence.collection.find_one(entry) is None
