"""Macros: named actions from config, one compare-and-set write per ticket, from the queue (on
a selection: "N of M done" naming the refused), the ticket screen and the reply screen."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from helpers import WIDE, MakeApp, assert_mongoose_valid
from pilot import settle_workers
from textual.pilot import Pilot

from helpdesk_tui.config import Config, ConfigError, UiConfig, load_config
from helpdesk_tui.domain.errors import ConflictError, InvalidTransition
from helpdesk_tui.domain.macros import Macro, plan_macro
from helpdesk_tui.domain.models import Priority, Status
from helpdesk_tui.domain.workflow import Workflow
from helpdesk_tui.store.macros import MacroRunner
from helpdesk_tui.store.tickets import TicketStore

OUTAGE = Macro(
    name="Outage: acknowledge",
    reply="Hi {customer_name}, we know about the outage behind {ticket_number}. {agent_name}",
    status=Status.IN_PROGRESS,
    priority=Priority.URGENT,
    tags=["+outage", "-new"],
    assignee="me",
)
CONFIG = Config(ui=UiConfig(poll_interval_seconds=3600), macros=[OUTAGE])


# --- config and plan -------------------------------------------------------------------------


def test_a_macro_from_toml_with_an_unknown_placeholder_names_the_key(tmp_path: Any) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[macros]]\nname = "x"\nreply = "Hi {customer}"\n', encoding="utf-8")
    expected = r"macros\[0\]\.reply: .*unknown placeholder \{customer\}"
    with pytest.raises(ConfigError, match=expected):
        load_config(path, env={})


def test_a_macro_that_does_nothing_or_both_reply_and_note_is_refused() -> None:
    with pytest.raises(ValueError, match="must do something"):
        Macro(name="empty")
    with pytest.raises(ValueError, match="reply or a note"):
        Macro(name="both", reply="a", note="b")


def test_plan_changes_only_what_differs_and_refuses_a_transition_the_workflow_lacks(
    people: People,
) -> None:
    from helpdesk_tui.domain.models import Ticket

    ticket = Ticket.from_mongo(
        {"ticketNumber": "TKT-000001", "status": "open", "priority": "urgent", "tags": ["new"]}
    )
    change = plan_macro(
        OUTAGE,
        ticket,
        workflow=Workflow(),
        me=people.agent,
        agent_name="Ann",
        customer_name="Carla",
    )
    assert change.text == "Hi Carla, we know about the outage behind TKT-000001. Ann"
    assert change.status is Status.IN_PROGRESS and change.priority is None  # already urgent
    assert change.tags == ("outage",) and change.removed == ("new",)
    assert change.assignee == people.agent
    waiting = Ticket.from_mongo({"ticketNumber": "TKT-000002", "status": "waiting"})
    with pytest.raises(InvalidTransition, match="allowed: open"):
        plan_macro(
            OUTAGE, waiting, workflow=Workflow(), me=people.agent, agent_name="", customer_name=""
        )


# --- the store -------------------------------------------------------------------------------


def test_a_macro_is_one_write_audited_per_part_and_mongoose_valid(
    store: TicketStore, people: People, db: Any
) -> None:
    ticket = store.create_ticket(new_ticket(people, tags=["new", "vip"]))
    runner = MacroRunner(store, OUTAGE, me=people.agent, agent_name="Ann Agent")
    runner.prepare([ticket])
    after = runner.apply(ticket)
    doc = db.tickets.find_one({"_id": ticket.id})
    assert_mongoose_valid(doc)
    assert doc["status"] == "in_progress" and doc["priority"] == "urgent"
    assert doc["tags"] == ["vip", "outage"] and doc["assignedTo"] == people.agent
    assert doc["messages"][-1]["content"].startswith("Hi Carla Customer, we know")
    assert doc["messages"][-1]["isInternal"] is False
    assert doc["__v"] == 1  # one write: arrays changed once
    actions = [e["action"] for e in store.history(ticket.id) if e["action"] != "created"]
    assert sorted(actions) == ["assign", "priority", "reply", "status", "tags"]
    assert after.status is Status.IN_PROGRESS


def test_a_macro_on_a_ticket_changed_since_it_was_seen_writes_nothing(
    store: TicketStore, people: People, db: Any, clock: FakeClock
) -> None:
    seen = store.create_ticket(new_ticket(people))
    clock.advance(minutes=1)
    store.add_message(seen.id, sender=people.customer, content="any news?")
    before = db.tickets.find_one({"_id": seen.id})
    runner = MacroRunner(store, OUTAGE, me=people.agent, agent_name="Ann")
    with pytest.raises(ConflictError, match="changed since you saw it"):
        runner.apply(seen)
    assert db.tickets.find_one({"_id": seen.id}) == before


# --- the queue: one macro, twenty tickets ------------------------------------------------------


async def press(pilot: Pilot[Any], *keys: str) -> None:
    await pilot.press(*keys)
    await settle_workers(pilot)


async def test_a_macro_on_twenty_selected_tickets_reports_18_of_20_and_names_the_two_refused(
    store: TicketStore, people: People, db: Any, clock: FakeClock, make_app: MakeApp
) -> None:
    ids = [store.create_ticket(new_ticket(people, tags=["new"])).id for _ in range(20)]
    # One is waiting: waiting → in progress is no transition of the workflow.
    store.set_status(ids[5], Status.IN_PROGRESS)
    store.set_status(ids[5], Status.WAITING)
    app = make_app(store, "sam@helpdesk.test", config=CONFIG)
    notes: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **k: (notes.append(str(message)), notify(message, *a, **k))
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "3", *["space"] * 20)
        table = app.screen.table
        chosen = {table.tickets[k].id for k in table.selected}
        assert chosen == set(ids)
        numbers = {t.id: t.ticket_number for t in table.tickets.values()}
        await press(pilot, "m")
        from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog

        assert isinstance(app.screen, ChoiceDialog)
        # Meanwhile, the customer writes on one of them: the macro must not answer unseen.
        changed = ids[11]
        clock.advance(minutes=1)
        store.sibling().add_message(changed, sender=people.customer, content="still broken")
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmDialog)  # 20 is over [bulk] confirm_over
        before = {d["_id"]: d for d in db.tickets.find()}
        await press(pilot, "y")
        await settle_workers(pilot)
    refused = {ids[5], changed}
    for doc in db.tickets.find():
        assert_mongoose_valid(doc)
        if doc["_id"] in refused:
            assert doc == before[doc["_id"]]
            continue
        assert doc["status"] == "in_progress" and doc["priority"] == "urgent"
        assert doc["tags"] == ["outage"] and doc["assignedTo"] == people.supervisor
        assert doc["messages"][-1]["content"].startswith("Hi Carla Customer")
    report = next(n for n in reversed(notes) if "done" in n)
    assert "18 of 20 done" in report, report
    assert f"{numbers[ids[5]]}: cannot move from waiting to in progress" in report, report
    assert f"{numbers[changed]} changed since you saw it" in report, report
    replies = db.ticket_events.count_documents({"action": "reply", "actor": people.supervisor})
    assert replies == 18


async def test_the_reply_screen_applies_a_macro_and_keeps_the_draft(
    store: TicketStore, people: People, db: Any, make_app: MakeApp
) -> None:
    from textual.widgets import TextArea

    note = Macro(name="Escalate", note="Escalated by {agent_name}", priority=Priority.URGENT)
    ticket = store.create_ticket(new_ticket(people, assigned_to=people.agent))
    config = Config(ui=UiConfig(poll_interval_seconds=3600), macros=[note])
    app = make_app(store, "ann@helpdesk.test", config=config)
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "r")
        await press(pilot, *"half a draft")
        await press(pilot, "f3")
        await press(pilot, "enter")
        await settle_workers(pilot)
        assert app.screen.query_one(TextArea).text == "half a draft"
    doc = db.tickets.find_one({"_id": ticket.id})
    assert doc["priority"] == "urgent"
    assert doc["messages"][-1]["content"] == "Escalated by Ann Agent"
    assert doc["messages"][-1]["isInternal"] is True
    assert_mongoose_valid(doc)


async def test_the_ticket_screen_picks_a_macro(
    store: TicketStore, people: People, db: Any, make_app: MakeApp
) -> None:
    ticket = store.create_ticket(new_ticket(people))
    app = make_app(store, "ann@helpdesk.test", config=CONFIG)
    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        await press(pilot, "3", "enter")
        await press(pilot, "m", "enter")
        await settle_workers(pilot)
    doc = db.tickets.find_one({"_id": ticket.id})
    assert doc["status"] == "in_progress" and doc["assignedTo"] == people.agent
    assert isinstance(doc["assignedTo"], ObjectId)
