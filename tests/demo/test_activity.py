"""The demo's simulated team (demo/activity.py) on a real server: each thing it does is what
the demo agent then sees happen (a new ticket, a customer's reply, a take, an answer that moves
the status, a resolution, a colleague on one of my tickets), and it stops when told."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from helpdesk_tui.demo import seed
from helpdesk_tui.demo.activity import Activity
from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


@pytest.fixture
def team(db: Any, clock: Any) -> tuple[TicketStore, Activity, ObjectId]:
    store = TicketStore(db, StoreSettings(), clock=clock)
    store.init_db()
    data = seed.generate(clock.now, tickets=60, customers=30, seed=7)
    seed.load(store, data, history=False)
    me = store.user_by_email(seed.DEMO_AGENT_EMAIL).id
    assert me is not None
    return store, Activity(store, store.presence(), data, me, seed=3), me


def number_of(said: str) -> str:
    return said.rsplit(" ", 1)[-1]


def test_a_new_ticket_arrives_with_the_customers_first_message(team: Any) -> None:
    store, activity, _ = team
    said = activity.new_ticket()
    ticket = store.find_ticket(number_of(said))
    assert said.startswith("new ") and ticket.status is Status.OPEN
    assert [m.sender for m in ticket.messages] == [ticket.user]


def test_a_customer_reply_lands_on_a_ticket_from_its_customer(team: Any) -> None:
    store, activity, _ = team
    for _ in range(6):  # half of them on my tickets
        said = activity.customer_replies()
        assert said.startswith("customer reply ")
        ticket = store.find_ticket(number_of(said))
        assert ticket.messages[-1].sender == ticket.user


def test_colleagues_take_answer_and_resolve_tickets(team: Any) -> None:
    store, activity, me = team
    said = activity.agent_takes()
    taken = store.find_ticket(number_of(said))
    assert taken.assigned_to in activity.others and taken.assigned_to != me

    answered = [activity.agent_answers() for _ in range(4)]
    done = [store.find_ticket(number_of(s)) for s in answered if s != "nothing"]
    assert done, answered
    for ticket in done:
        assert ticket.messages[-1].sender == ticket.assigned_to
        assert ticket.status in (Status.IN_PROGRESS, Status.WAITING)

    resolved = [activity.agent_resolves() for _ in range(4)]
    closed = [store.find_ticket(number_of(s)) for s in resolved if s != "nothing"]
    assert closed, resolved
    assert all(t.status is Status.RESOLVED for t in closed)


def test_a_colleague_looking_at_my_ticket_shows_as_presence(team: Any) -> None:
    store, activity, me = team
    said = activity.agent_looks()
    mode, number = said.split(" ")
    ticket = store.find_ticket(number)
    assert ticket.assigned_to == me
    others = store.presence().others([ticket.id], me)
    assert [p.mode for p in others.get(ticket.id, [])] == [mode]


def test_a_step_does_one_of_the_things_and_a_stopped_team_does_nothing(team: Any) -> None:
    store, activity, _ = team
    before = store.tickets.count_documents({})
    said = activity.step()
    assert said.split(" ")[0] in {
        "new",
        "customer",
        "taken",
        "answered",
        "resolved",
        "viewing",
        "replying",
        "nothing",
    }
    activity.stop()
    activity.run()  # returns at once: no wait, no step
    assert store.tickets.count_documents({}) - before <= 1
