"""The queue screen driven through the pilot (PRODUCT.md sections 4 and 6).

Every test asserts both sides: what the database holds afterwards (raw documents, read with
``store.tickets.find_one``) and what the screen shows (table rows, cells, the view bar, the
notifications). Nobody else writes, so only the agent's own actions move the screen; live
updates have their own tests in ``test_app_live.py``. The server has change streams, so the
feed is live and each write of ours comes back as an event, at a moment the threads choose:
a test that asserts what a write changed on screen holds that echo (``HeldFeed``) until it has
looked, so it cannot pass or fail on when the echo came.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from helpers import QUIET, MakeApp
from pilot import HeldFeed, plain, record_notifications, settle, until
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._toast import Toast

from helpdesk_tui.app import HelpdeskApp
from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.models import NewTicket, Priority, Status
from helpdesk_tui.domain.sla import evaluate, sort_key
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.queue import SORT_CYCLE, QueueScreen, ViewBar
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.queries import Assignee, QueueQuery, SortKey
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import TicketHeader

# Were the feed polling (a server without change streams), not every 2 s under the test's feet.
SAM = "sam@helpdesk.example"
WIDE_ONLY = {"customer", "category", "updated", "tags"}


def queue_of(app: HelpdeskApp) -> QueueScreen:
    return next(s for s in app.screen_stack if isinstance(s, QueueScreen))


async def started(pilot: Pilot[Any]) -> QueueScreen:
    await settle(pilot)
    queue = queue_of(pilot.app)  # type: ignore[arg-type]
    assert queue.page is not None
    return queue


def row_keys(queue: QueueScreen) -> list[str]:
    return [str(row.key.value) for row in queue.table.ordered_rows]


def cell(queue: QueueScreen, key: str | ObjectId, column: str) -> str:
    return queue.table.get_cell(str(key), column).plain


def expected_keys(store: TicketStore, query: QueueQuery) -> list[str]:
    return [str(t.id) for t in store.list_queue(query).tickets]


async def show_view(pilot: Pilot[Any], number: int) -> QueueScreen:
    await pilot.press(str(number))
    await settle(pilot)
    queue = queue_of(pilot.app)  # type: ignore[arg-type]
    assert queue.view_index == number - 1
    return queue


async def move_to(pilot: Pilot[Any], queue: QueueScreen, key: str | ObjectId) -> None:
    queue.table.move_cursor(row=queue.table.get_row_index(str(key)), animate=False)
    await pilot.pause()
    assert queue.table.current_key == str(key)


async def choose(pilot: Pilot[Any], label: str) -> None:
    """Pick the option labelled ``label`` in the open ChoiceDialog with the keyboard."""
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog)
    labels = [choice[0] for choice in dialog.choices]
    await pilot.press("home", *["down"] * labels.index(label), "enter")
    await settle(pilot)


def user_id(store: TicketStore, email: str) -> ObjectId:
    user = store.user_by_email(email)
    assert user.id is not None
    return user.id


def doc(store: TicketStore, number: str) -> dict[str, Any]:
    found = store.tickets.find_one({"ticketNumber": number})
    assert found is not None
    return found


def add_mine(store: TicketStore, clock: Any, me: ObjectId) -> None:
    """Three more tickets for Ana, numbered in the opposite order of their deadlines."""
    customer = store.users.find_one({"role": "customer"})["_id"]
    now = clock.now
    for hours_ago, priority in ((1, Priority.HIGH), (3.5, Priority.URGENT), (30, Priority.LOW)):
        clock.now = now - timedelta(hours=hours_ago)
        store.create_ticket(
            NewTicket(
                subject=f"{priority.value} ticket from {hours_ago}h ago",
                user=customer,
                category="order",
                priority=priority,
                assigned_to=me,
            )
        )
    clock.now = now


# --- views, order, counts --------------------------------------------------------------------


async def test_queue_opens_on_my_tickets_most_urgent_first(
    demo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana = user_id(demo_store, "ana@helpdesk.example")
    add_mine(demo_store, clock, ana)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        assert queue.view.key == "mine"
        mine = demo_store.tickets.count_documents(
            {"assignedTo": ana, "status": {"$in": ["open", "in_progress", "waiting"]}}
        )
        assert queue.table.row_count == mine == 4
        shown = [queue.table.tickets[k] for k in row_keys(queue)]
        assert all(t.assigned_to == ana for t in shown)
        policy = demo_store.settings.sla
        keys = [sort_key(evaluate(t, clock.now, policy)) for t in shown]
        assert keys == sorted(keys)
        # Not number order by chance: the low one, opened 30 h ago, was due first.
        assert [t.ticket_number for t in shown] != sorted(t.ticket_number for t in shown)
        assert cell(queue, row_keys(queue)[0], "sla").startswith("✖")
        info = plain(queue.query_one("#queue-info", Static))
        assert "My tickets: 4 of 4" in info and "sort: next deadline" in info


async def test_the_info_line_never_counts_fewer_than_the_rows_it_shows(
    demo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    """Counts come on a timer and rows from events: between the two, a new ticket in the view
    once read "All open: 179 of 178". The rows shown are a floor for the count."""
    ana = user_id(demo_store, "ana@helpdesk.example")
    add_mine(demo_store, clock, ana)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        queue.counts = {**queue.counts, "mine": 3}  # the timer has not seen the 4th yet
        queue.update_info()
        await pilot.pause()
        assert "My tickets: 4 of 4" in plain(queue.query_one("#queue-info", Static))


async def test_number_keys_switch_views_and_the_view_bar_counts_match_the_store(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        counts = demo_store.count_views({v.key: v.query for v in queue.views})
        assert counts["open"] > counts["unassigned"] > counts["mine"] > 0
        bar = plain(queue.query_one(ViewBar))
        for index, view in enumerate(queue.views):  # each count, by the name that fits
            shown = view.name if index == queue.view_index else view.short
            assert f"{index + 1} {shown} {counts[view.key]}" in bar
        for number in (2, 3, 4, 5, 6, 1):
            queue = await show_view(pilot, number)
            view = queue.views[number - 1]
            bar = plain(queue.query_one(ViewBar))
            assert f"{number} {view.name} {counts[view.key]}" in bar  # the current one in full
            assert row_keys(queue) == expected_keys(demo_store, view.query)
            assert queue.table.row_count == counts[view.key]
            assert f"{view.name}: {counts[view.key]} of {counts[view.key]}" in plain(
                queue.query_one("#queue-info", Static)
            )
        waiting = await show_view(pilot, 5)
        assert {t.status for t in waiting.table.tickets.values()} == {Status.WAITING}


async def test_o_cycles_the_sort_keys_and_the_rows_follow(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, 3)
        orders = set()
        for sort in (*SORT_CYCLE[1:], SORT_CYCLE[0]):
            await pilot.press("o")
            await settle(pilot)
            assert queue.sort is sort
            expected = expected_keys(demo_store, replace(queue.view.query, sort=sort))
            assert row_keys(queue) == expected
            assert f"sort: {sort.label}" in plain(queue.query_one("#queue-info", Static))
            orders.add(tuple(expected))
            if sort is SortKey.NUMBER:
                numbers = [queue.table.tickets[k].ticket_number for k in row_keys(queue)]
                assert numbers == sorted(numbers)
        assert len(orders) == len(SORT_CYCLE)  # every key really orders differently
        assert queue.sort is SortKey.DEADLINE  # and the cycle wraps round


# --- selection and bulk actions --------------------------------------------------------------


def pick_three(store: TicketStore) -> dict[Status, str]:
    """One open, one in-progress and one waiting ticket (by number), from the demo data."""
    return {
        status: store.tickets.find_one({"status": status.value}, sort=[("ticketNumber", 1)])[
            "ticketNumber"
        ]
        for status in (Status.OPEN, Status.IN_PROGRESS, Status.WAITING)
    }


async def select(pilot: Pilot[Any], queue: QueueScreen, numbers: list[str]) -> None:
    for number in numbers:
        key = next(k for k, t in queue.table.tickets.items() if t.ticket_number == number)
        await move_to(pilot, queue, key)
        await pilot.press("space")
        await pilot.pause()
        assert cell(queue, key, "mark") == "●"


async def test_space_marks_rows_and_a_supervisor_bulk_status_change_reports_refusals(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    picked = pick_three(demo_store)
    before = {n: doc(demo_store, n) for n in picked.values()}
    app = make_app(demo_store, SAM, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, 3)
        await select(pilot, queue, list(picked.values()))
        assert len(queue.table.selected) == 3
        unmarked = [k for k in row_keys(queue) if k not in queue.table.selected]
        assert all(cell(queue, k, "mark") == " " for k in unmarked)
        assert "3 selected" in plain(queue.query_one("#queue-info", Static))

        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert "3 tickets" in dialog.title_text
        assert [value for _, value, _ in dialog.choices] == list(Status)
        await choose(pilot, Status.IN_PROGRESS.label)

        # Only open -> in progress is a valid move; the other two are refused, untouched.
        moved = doc(demo_store, picked[Status.OPEN])
        assert moved["status"] == "in_progress"
        assert moved["updatedAt"] > before[picked[Status.OPEN]]["updatedAt"]
        for status in (Status.IN_PROGRESS, Status.WAITING):
            now = doc(demo_store, picked[status])
            assert now["status"] == status.value
            assert now["updatedAt"] == before[picked[status]]["updatedAt"]
        events = list(demo_store.events.find({"action": "status"}))
        assert [(e["from"], e["to"]) for e in events] == [("open", "in_progress")]

        severity, _, message = notes[-1]
        assert severity == "warning"
        assert "1 of 3 done" in message
        assert picked[Status.IN_PROGRESS] in message and picked[Status.WAITING] in message
        assert picked[Status.OPEN] not in message.split("refused:")[1]
        # Selection cleared, the table reloaded with the new status.
        assert queue.table.selected == set()
        key = next(
            k for k, t in queue.table.tickets.items() if t.ticket_number == moved["ticketNumber"]
        )
        assert queue.table.tickets[key].status is Status.IN_PROGRESS
        assert cell(queue, key, "status") == "in prog"
        assert cell(queue, key, "mark") == " "


async def test_an_agent_is_refused_bulk_actions_and_nothing_changes(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    picked = pick_three(demo_store)
    before = {n: doc(demo_store, n) for n in picked.values()}
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, 3)
        await select(pilot, queue, list(picked.values())[:2])
        for key in ("s", "p", "t", "A"):
            notes.clear()
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen), key
            assert notes and notes[-1][0] == "error" and notes[-1][1] == "Not allowed", key
            assert "only a supervisor can" in notes[-1][2]
        assert len(queue.table.selected) == 2  # still selected: nothing happened
    assert {n: doc(demo_store, n) for n in picked.values()} == before
    assert demo_store.events.count_documents({}) == 0


# --- take and next ---------------------------------------------------------------------------


async def test_take_assigns_an_unassigned_ticket_to_me_and_it_leaves_the_unassigned_view(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The view bar counts the take at once, not when the write's echo comes back on the feed
    (issue 28: the echo came after the reload, and the counts waited for their timer)."""
    ana = user_id(demo_store, "ana@helpdesk.example")
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, 2)
        rows = row_keys(queue)
        target = rows[1]
        await move_to(pilot, queue, target)
        number = queue.table.tickets[target].ticket_number
        counts_before = dict(queue.counts)
        echo = HeldFeed(app)
        await pilot.press("a")
        await settle(pilot)

        raw = demo_store.tickets.find_one({"_id": ObjectId(target)})
        assert raw["assignedTo"] == ana
        assert raw["status"] == "open"
        assert target not in row_keys(queue)
        assert row_keys(queue) == [k for k in rows if k != target]
        counted = {
            **counts_before,
            "unassigned": counts_before["unassigned"] - 1,
            "mine": counts_before["mine"] + 1,
        }
        assert queue.counts == counted
        assert f"2 Unassigned {counted['unassigned']}" in plain(queue.query_one(ViewBar))
        info = plain(queue.query_one("#queue-info", Static))
        assert f"Unassigned: {len(rows) - 1} of {counted['unassigned']}" in info
        assert ("information", "", f"{number}: taken.") in notes

        # The echo, when it comes, changes nothing the take did not already show.
        assert await until(pilot, lambda: any(ObjectId(target) in b.ids for b in echo.batches))
        await echo.release(pilot)
        assert queue.counts == counted
        assert row_keys(queue) == [k for k in rows if k != target]

        mine = await show_view(pilot, 1)
        assert target in row_keys(mine)
        everyone = await show_view(pilot, 3)  # All open says whose it is now
        assert cell(everyone, target, "assignee") == "Ana Lima"


async def test_n_takes_the_most_urgent_unassigned_open_ticket_and_opens_it(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    ana = user_id(demo_store, "ana@helpdesk.example")
    unassigned = QueueQuery(statuses=(Status.OPEN,), assignee=Assignee.UNASSIGNED)
    waiting = demo_store.list_queue(unassigned).tickets
    most_urgent = waiting[0]
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        counts_before = dict(queue.counts)
        echo = HeldFeed(app)  # the counts are right without the write's echo
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.ticket_id == most_urgent.id
        assert screen.ticket is not None and screen.ticket.assigned_to == ana
        assert f"{most_urgent.ticket_number} is yours now." in [n[2] for n in notes]
        assert most_urgent.ticket_number in plain(screen.query_one(TicketHeader))
        raw = demo_store.tickets.find_one({"_id": most_urgent.id})
        assert raw["assignedTo"] == ana
        left = demo_store.list_queue(unassigned).tickets
        assert [t.id for t in left] == [t.id for t in waiting[1:]]  # exactly that one taken
        await pilot.press("q")
        await settle(pilot)
        assert app.screen is queue
        assert str(most_urgent.id) in row_keys(queue)  # now in My tickets
        counted = {
            **counts_before,
            "unassigned": counts_before["unassigned"] - 1,
            "mine": counts_before["mine"] + 1,
        }
        assert queue.counts == counted
        assert f"1 My tickets {counted['mine']}" in plain(queue.query_one(ViewBar))
        await echo.release(pilot)
        assert queue.counts == counted


# --- robustness, permissions, layout ---------------------------------------------------------


async def test_a_malformed_ticket_shows_with_a_warning_sign_and_opens_without_a_crash(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = demo_store.tickets.find_one({"category": {"$exists": False}})
    assert raw is not None and raw["priority"] == "critical"
    view_number = {"closed": 6, "resolved": 6, "waiting": 5}.get(raw["status"], 3)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, view_number)
        key = str(raw["_id"])
        assert key in row_keys(queue)
        assert cell(queue, key, "subject").startswith("⚠ ")
        assert cell(queue, key, "subject").endswith(raw["subject"])
        assert cell(queue, key, "number") == raw["ticketNumber"]
        healthy = [k for k in row_keys(queue) if k != key]
        assert not any(cell(queue, k, "subject").startswith("⚠") for k in healthy)

        await move_to(pilot, queue, key)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.ticket is not None
        header = plain(screen.query_one(TicketHeader))
        assert raw["ticketNumber"] in header
        assert "⚠ malformed document: category: missing" in header
        assert "⚠ malformed document: priority:" in header
    # Looking is not writing: the document is exactly as the careless script left it.
    assert demo_store.tickets.find_one({"_id": raw["_id"]}) == raw


async def test_read_only_mode_refuses_take_status_and_next_with_a_message(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    before = list(demo_store.tickets.find().sort("_id", 1))
    app = make_app(demo_store, read_only=True, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, 2)
        assert "read-only" in plain(queue.query_one("#top-bar", Static))
        for key in ("a", "s", "n", "r"):
            notes.clear()
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is queue, key
            assert notes == [("error", "Not allowed", "read-only mode: nothing can be changed")]
    assert list(demo_store.tickets.find().sort("_id", 1)) == before
    assert demo_store.events.count_documents({}) == 0


async def test_q_quits_from_the_queue(demo_store: TicketStore, make_app: MakeApp) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0  # exit() was called: the app is quitting


async def test_at_80x24_the_table_keeps_sla_ticket_and_subject_but_drops_wide_columns(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        queue = await show_view(pilot, 3)
        columns = [c.value for c in queue.table.columns]
        assert {"sla", "number", "subject", "status", "assignee"} <= set(columns)
        assert not WIDE_ONLY & set(columns)
        assert sum(c.get_render_width(queue.table) for c in queue.table.columns.values()) <= 80
        first = row_keys(queue)[0]
        assert cell(queue, first, "number").startswith("TKT-")
        assert "Unasg" in plain(queue.query_one(ViewBar))  # short view names when narrow
    wide = make_app(demo_store, config=QUIET)
    async with wide.run_test(size=(160, 40)) as pilot:
        queue = await show_view(pilot, 3)
        assert {c.value for c in queue.table.columns} >= WIDE_ONLY


async def test_at_80x24_my_tickets_shows_the_customer_not_an_assignee_column_that_is_all_me(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        queue = await show_view(pilot, 1)
        assert queue.view.name == "My tickets"
        columns = [c.value for c in queue.table.columns]
        assert "assignee" not in columns
        assert {"sla", "number", "subject", "customer"} <= set(columns)
        assert sum(c.get_render_width(queue.table) for c in queue.table.columns.values()) <= 80
        first = row_keys(queue)[0]
        customer = queue.table.users[queue.table.tickets[first].user]
        assert cell(queue, first, "customer").rstrip("…") in customer.display
        queue = await show_view(pilot, 3)  # All open: whose ticket it is matters again
        assert "assignee" in [c.value for c in queue.table.columns]


@pytest.mark.parametrize("subject", ["Help me [b]now[/b]", "Help [/] me"])
async def test_an_sla_alert_shows_a_subject_with_markup_literally(
    db: Any, store: TicketStore, make_app: MakeApp, clock: Any, subject: str
) -> None:
    db.users.insert_many(
        [
            {"name": "Ana Lima", "email": "ana@helpdesk.example", "role": "agent"},
            {"name": "Eve", "email": "eve@example.com", "role": "customer"},
        ]
    )
    ana = user_id(store, "ana@helpdesk.example")
    store.create_ticket(
        NewTicket(
            subject=subject,
            user=store.user_by_email("eve@example.com").id,
            category="other",
            priority=Priority.URGENT,
            assigned_to=ana,
        )
    )
    app = make_app(store, config=QUIET)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        queue = await started(pilot)
        app.feed.stop()  # not needed here; and a crashed app would wait for it on the way out
        assert cell(queue, row_keys(queue)[0], "subject").endswith(subject)
        clock.advance(minutes=50)  # an urgent first response is due after 60: at risk now
        app.tick()
        await settle(pilot)
        assert app.return_code is None  # still running
        toasts = [toast.render().plain for toast in app.screen.query(Toast)]
        assert toasts == [f"TKT-000001 is at risk of breaching\n{subject}"]


async def test_a_new_order_clears_the_selection_out_loud_and_a_bulk_action_then_acts_on_the_row(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, "sam@helpdesk.example", config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await show_view(pilot, 3)
        await pilot.press("space", "space", "space")
        assert len(queue.table.selected) == 3
        assert "3 selected" in plain(queue.query_one("#queue-info", Static))
        await pilot.press("o")
        await settle(pilot)
        assert not queue.table.selected
        assert "selected" not in plain(queue.query_one("#queue-info", Static))
        assert any("Selection cleared (3 tickets)" in text for _, _, text in seen)
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog) and "3 tickets" not in dialog.title_text


async def test_the_view_bar_uses_short_names_right_after_a_resize_to_80_columns(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        text = plain(queue.query_one(ViewBar))
        assert "1 My tickets" in text and "8 Snz" in text  # the current view's name in full
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        text = plain(queue.query_one(ViewBar))
        assert "My tickets" not in text and "1 Mine" in text and "8 " in text  # short, whole


async def test_a_view_key_with_no_view_says_which_keys_there_are(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        await pilot.press("9")
        await settle(pilot)
        assert queue.view_index == 0
        assert any(f"No view 9: the views are 1…{len(queue.views)}." in t for _, _, t in seen)


async def test_the_command_palette_finds_status_by_resolve_and_reply_by_answer(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Status") and "resolve" in t for t in titles)
        assert any(t.startswith("Reply") and "answer" in t for t in titles)


async def test_at_80_columns_the_view_bar_always_shows_the_current_view_whole(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        queue = await show_view(pilot, len(queue_of(app).views))  # the last view: Snoozed
        bar = queue.query_one(ViewBar)
        text = plain(bar)
        view = queue.view
        assert f"{len(queue.views)} {view.short}" in text, text
        assert len(text.rstrip()) <= 80 and "…" not in text, text


async def test_3_enter_opens_the_most_urgent_ticket_of_the_new_view(
    demo_store: TicketStore, make_app: MakeApp
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
    demo_store: TicketStore, make_app: MakeApp
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
