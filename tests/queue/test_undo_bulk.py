"""Undo (``u``) of a bulk change or a workload move: each ticket reverted with compare-and-set on
what we wrote; a ticket someone else changed meanwhile is reported and left as it is. And the
confirmation before a bulk action over ``[bulk] confirm_over`` tickets."""

from __future__ import annotations

from typing import Any

from conftest import FakeClock, People, new_ticket
from helpers import WIDE, MakeApp, assert_mongoose_valid
from pilot import press, settle_workers
from test_supervisor import SAM, assignees, build, open_workload_on

from helpdesk_tui.config import BulkConfig, Config, UiConfig
from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.store.undo import revert_of, undo


def test_undo_reverts_each_ticket_and_reports_the_one_changed_meanwhile(
    store: TicketStore, people: People, db: Any, clock: FakeClock
) -> None:
    tickets = [store.create_ticket(new_ticket(people, assigned_to=people.agent)) for _ in range(3)]
    reverts = [
        revert_of(t, store.assign(t.id, people.other_agent, actor=people.supervisor))
        for t in tickets
    ]
    clock.advance(minutes=1)
    store.sibling().assign(tickets[1].id, people.supervisor)  # someone else, meanwhile
    result = undo(store, [r for r in reverts if r], actor=people.supervisor)
    assert result.undone == 2
    assert len(result.kept) == 1 and result.kept[0].startswith(tickets[1].ticket_number)
    assert "reassigned" in result.kept[0] and "left as it is" in result.kept[0]
    after = {d["_id"]: d for d in db.tickets.find()}
    assert after[tickets[0].id]["assignedTo"] == people.agent
    assert after[tickets[2].id]["assignedTo"] == people.agent
    assert after[tickets[1].id]["assignedTo"] == people.supervisor  # not overwritten
    for doc in after.values():
        assert_mongoose_valid(doc)


def test_undo_of_a_status_change_puts_back_the_status_and_its_dates(
    store: TicketStore, people: People, db: Any
) -> None:
    ticket = store.set_status(store.create_ticket(new_ticket(people)).id, Status.IN_PROGRESS)
    revert = revert_of(ticket, store.set_status(ticket.id, Status.RESOLVED))
    assert revert is not None
    assert undo(store, [revert], actor=people.supervisor).undone == 1
    doc = db.tickets.find_one({"_id": ticket.id})
    assert doc["status"] == "in_progress" and "resolvedAt" not in doc
    assert_mongoose_valid(doc)


async def test_bulk_assign_over_the_limit_asks_first_and_u_undoes_it_but_one_changed_meanwhile(
    demo_store: TicketStore, make_app: MakeApp, db: Any, clock: FakeClock
) -> None:
    from helpdesk_tui.screens.dialogs import ConfirmDialog

    config = Config(ui=UiConfig(poll_interval_seconds=3600), bulk=BulkConfig(confirm_over=3))
    app = make_app(demo_store, SAM, config=config)
    notes: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **k: (notes.append(str(message)), notify(message, *a, **k))
    chidi = demo_store.user_by_email("chidi@helpdesk.example").id
    before = assignees(db)
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "3", *["space"] * 4)
        table = app.screen.table
        chosen = [table.tickets[k] for k in table.tickets if k in table.selected]
        await press(pilot, "A", *"hidi", "enter")
        assert isinstance(app.screen, ConfirmDialog)  # 4 is over confirm_over = 3
        await press(pilot, "y")
        await settle_workers(pilot)
        assert all(assignees(db)[t.id] == chidi for t in chosen)
        # Meanwhile another supervisor gives one of them to someone else.
        other = next(t for t in chosen if t.assigned_to != chidi)
        clock.advance(minutes=1)
        demo_store.sibling().assign(other.id, None)
        await press(pilot, "u")
        await settle_workers(pilot)
    after = assignees(db)
    for ticket in chosen:
        expected = None if ticket.id == other.id else before[ticket.id]
        assert after[ticket.id] == expected, ticket.ticket_number
    report = notes[-1]
    assert "3 of 4 reverted" in report and other.ticket_number in report, report


async def test_a_workload_move_is_undone_with_u_except_the_ticket_changed_meanwhile(
    demo_store: TicketStore, make_app: MakeApp, db: Any, clock: FakeClock
) -> None:
    app, notes = build(make_app, demo_store, SAM)
    before = assignees(db)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_workload_on(pilot, "Ana Lima")
        loads = screen.loads
        busiest = max(
            (i for i, r in enumerate(loads) if r.user.name != "Chidi Okafor"),
            key=lambda i: loads[i].active,
        )
        assert loads[busiest].active > 1
        screen.query_one("#workload-table").move_cursor(row=busiest)
        await press(pilot, "m", *"chidi", "enter", "y")
        await settle_workers(pilot)
        moved = [k for k, v in assignees(db).items() if v != before[k]]
        assert len(moved) > 1
        clock.advance(minutes=1)
        demo_store.sibling().assign(moved[0], None)  # someone else, meanwhile
        await press(pilot, "u")
        await settle_workers(pilot)
    after = assignees(db)
    assert after[moved[0]] is None
    assert all(after[k] == before[k] for k in moved[1:])
    assert f"{len(moved) - 1} of {len(moved)} reverted" in notes[-1], notes[-1]
