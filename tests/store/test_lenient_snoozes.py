"""Malformed ``snoozes`` records (issue 27, item 3): each is skipped, named in the log and left
for doctor; my views still fill and my good snoozes still hide their tickets."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from garbage import cases, spoiled
from helpers import MakeApp
from pilot import settle

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.snooze import SNOOZED_VIEW, snoozed_view_query, with_snoozes
from helpdesk_tui.store.tickets import TicketStore

MINE = "mine"
PARKED = Config(ui=UiConfig(poll_interval_seconds=3600))


def views(store: TicketStore, agent: ObjectId) -> dict[str, set[Any]]:
    """My tickets and my Snoozed view as the queue reads them (snoozes applied), with counts."""
    snoozed = store.snoozes.active(agent)
    queries = {
        MINE: with_snoozes(MINE, QueueQuery(assignee=agent), snoozed),
        SNOOZED_VIEW: with_snoozes(SNOOZED_VIEW, snoozed_view_query(), snoozed),
    }
    shown = {k: {t.id for t in store.list_queue(q).tickets} for k, q in queries.items()}
    counts = store.count_views(queries)
    assert counts == {k: len(ids) for k, ids in shown.items()}
    return shown


def three_tickets(store: TicketStore, people: People) -> list[ObjectId]:
    ids = [store.create_ticket(new_ticket(people, assigned_to=people.agent)).id for _ in "abc"]
    assert all(isinstance(i, ObjectId) for i in ids)
    return ids  # type: ignore[return-value]


@pytest.mark.parametrize(("field", "kind"), cases(["ticket", "agent", "until", "since"]))
def test_a_malformed_snooze_beside_good_ones_leaves_my_views_full(
    store: TicketStore, people: People, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    a, b, c = three_tickets(store, people)
    store.snoozes.snooze([a], people.agent, clock.now + timedelta(hours=1))  # a good one
    good = {
        "ticket": c,
        "agent": people.agent,
        "until": clock.now + timedelta(hours=1),
        "since": clock.now,
    }
    bad = db.snoozes.insert_one(spoiled(good, field, kind)).inserted_id

    shown = views(store, people.agent)

    assert shown == {MINE: {b, c}, SNOOZED_VIEW: {a}}  # c's snooze is unreadable: c shows
    assert db.snoozes.count_documents({"_id": bad}) == 1  # skipped, not deleted: doctor counts it
    clock.advance(hours=1)
    assert views(store, people.agent) == {MINE: {a, b, c}, SNOOZED_VIEW: set()}


def test_the_two_reported_records_no_ticket_and_a_string_ticket_skip_only_themselves(
    store: TicketStore, people: People, db: Any, clock: FakeClock
) -> None:
    """The issue's cases: no ``ticket`` raised KeyError, a string one TypeError in sorted()."""
    a, b, c = three_tickets(store, people)
    store.snoozes.snooze([a, b], people.agent, clock.now + timedelta(hours=1))
    later = clock.now + timedelta(hours=2)
    db.snoozes.insert_many(
        [
            {"agent": people.agent, "until": later, "since": clock.now},
            {"agent": people.agent, "ticket": "TKT-000001", "until": later, "since": clock.now},
        ]
    )

    assert views(store, people.agent) == {MINE: {c}, SNOOZED_VIEW: {a, b}}


def test_a_skipped_snooze_is_named_in_the_log_by_id_field_and_type_never_by_value(
    store: TicketStore, people: People, db: Any, clock: FakeClock, caplog: Any
) -> None:
    three_tickets(store, people)
    secret = "carla@example.com wants a refund"
    bad = db.snoozes.insert_one(
        {"agent": people.agent, "ticket": secret, "until": clock.now, "since": clock.now}
    ).inserted_id

    with caplog.at_level(logging.WARNING, logger="helpdesk_tui.store.lenient"):
        store.snoozes.active(people.agent)
        store.snoozes.active(people.agent)  # read again: named once

    lines = [r.getMessage() for r in caplog.records if "snoozes" in r.getMessage()]
    assert lines == [
        f"skipped a malformed snoozes record {bad}: ticket is string (want objectId) "
        "(helpdesk-tui doctor counts them)"
    ]
    assert secret not in caplog.text


async def test_the_app_with_malformed_snoozes_shows_my_tickets_and_keeps_running(
    store: TicketStore, people: People, db: Any, clock: FakeClock, make_app: MakeApp
) -> None:
    a, b, c = three_tickets(store, people)
    store.snoozes.snooze([a], people.agent, clock.now + timedelta(hours=1))
    later = clock.now + timedelta(hours=2)
    db.snoozes.insert_many(
        [
            {"agent": people.agent, "until": later, "since": clock.now},  # no ticket
            {"agent": people.agent, "ticket": "TKT-000002", "until": later, "since": clock.now},
            {"agent": people.agent, "ticket": c, "until": "tomorrow", "since": clock.now},
        ]
    )
    app = make_app(store, "ann@helpdesk.test", config=PARKED)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert {t.id for t in app.screen.table.tickets.values()} == {b, c}
        assert app.screen.counts[MINE] == 2
        await pilot.press("z", "enter")  # snooze the first row for an hour: still works
        await settle(pilot)
        assert len(app.screen.table.tickets) == 1
        assert app.is_running
    assert app.return_code in (0, None)
