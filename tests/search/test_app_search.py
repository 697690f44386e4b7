"""Search in the app: `/` on the queue opens it, results page like the queue, enter opens one.

Runs on the demo data on SecantusDB (no text index: the bounded-scan path; the text-index
path's queries are pinned in tests/search/test_search.py).
"""

from __future__ import annotations

from helpers import QUIET, MakeApp
from pilot import plain, settle, until
from textual.widgets import Static

from helpdesk_tui.config import SearchConfig
from helpdesk_tui.domain.models import Status
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.search import PAGE, SearchScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore


def info(screen: SearchScreen) -> str:
    return plain(screen.query_one("#search-info", Static))


def numbers(screen: SearchScreen) -> list[str]:
    return [hit.ticket.ticket_number for hit in screen.table.hits.values()]


async def test_slash_searches_the_conversation_and_enter_opens_the_ticket_found(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    expected = {
        d["ticketNumber"]
        for d in demo_store.tickets.find(
            {"messages.content": {"$regex": "third time", "$options": "i"}}
        )
    }
    assert expected
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *'"third time"', "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert set(numbers(search)) == expected  # closed ones too: search is not a view
        assert search.table.has_focus
        text = info(search)
        assert text == f"{len(expected)} results · scanned all 60 tickets (no text index)"
        first = search.table.current
        assert first is not None
        await pilot.press("enter")
        await settle(pilot)
        opened = app.screen
        assert isinstance(opened, TicketScreen) and opened.ticket_id == first.ticket.id
        await pilot.press("q")  # back to the results, then to the queue
        await settle(pilot)
        assert app.screen is search
        await pilot.press("q")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.last_search == '"third time"'
        await pilot.press("slash")  # the last search again, ready to edit
        await settle(pilot)
        again = app.screen
        assert isinstance(again, SearchScreen) and again.box.value == '"third time"'


async def test_keys_typed_right_after_enter_act_on_the_results_not_the_box(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tag:vip", "enter", "j", "enter")  # one burst
        await settle(pilot)
        opened = app.screen
        assert isinstance(opened, TicketScreen)
        search = app.screen_stack[-2]
        assert isinstance(search, SearchScreen) and search.box.value == "tag:vip"
        second = list(search.table.hits.values())[1].ticket
        assert opened.ticket_id == second.id


async def test_a_customer_name_finds_their_tickets_and_a_number_comes_first(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    customer = demo_store.users.find_one({"role": "customer", "name": {"$regex": " "}})
    assert customer is not None
    last = customer["name"].split()[-1]
    theirs = {d["ticketNumber"] for d in demo_store.tickets.find({"user": customer["_id"]})}
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *f"from:{customer['email']}", "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert set(numbers(search)) == theirs
        await pilot.press("slash", "ctrl+u", *f"{last} 14", "enter")
        await settle(pilot)
        found = numbers(search)
        assert found[0] == "TKT-000014"
        assert found[0] in {d["ticketNumber"] for d in demo_store.tickets.find()}


async def test_the_results_page_like_the_queue_and_the_bound_is_said(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    config = QUIET.model_copy(update={"search": SearchConfig(scan_limit=100)})
    app = make_app(demo_store, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:open,in_progress,waiting,resolved,closed", "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert search.table.row_count == PAGE == 50  # 60 tickets: a first page
        assert "50+ results" in info(search)
        assert "searched the newest 100 tickets only" not in info(search)  # 60 < 100
        for _ in range(45):
            await pilot.press("j")
        await settle(pilot)
        assert search.table.row_count == 60
        assert "60 results" in info(search)


async def test_an_unknown_field_and_nobody_found_are_said_on_the_info_line(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"form:tanaka", "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert "“form:” is not a search field; searched as words" in info(search)
        await pilot.press("slash", "ctrl+u", *"from:zzz-nobody", "enter")
        await settle(pilot)
        assert search.table.row_count == 0
        assert "no customer matches “zzz-nobody”" in info(search)
        await pilot.press("q")  # keys after enter are for the results, even none
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_a_result_changed_while_its_ticket_was_open_shows_the_change_on_return(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:open", "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press("j")
        hit = search.table.current
        assert hit is not None and hit.ticket.id is not None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        writer = demo_store.sibling()  # another agent moves it meanwhile
        writer.set_status(hit.ticket.id, Status.IN_PROGRESS)
        assert await until(pilot, lambda: search._stale)  # heard while under the ticket
        await pilot.press("q")
        await settle(pilot)
        gone = str(hit.ticket.id)
        assert await until(pilot, lambda: gone not in search.table.hits)  # no longer open
        assert app.screen is search and search.table.row_count > 0


async def test_slash_again_and_typing_replaces_the_last_search_instead_of_adding_to_it(
    demo_store: TicketStore, make_app: MakeApp
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
