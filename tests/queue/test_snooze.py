"""Snooze: a ticket hidden from my views until a time (a collection of ours, nothing on the
ticket), back at that time or earlier when the customer writes; a Snoozed view lists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import FakeClock, People, new_ticket
from helpers import QUIET, WIDE, MakeApp, assert_mongoose_valid
from pilot import settle, settle_workers

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.domain.snooze import parse_until, presets
from helpdesk_tui.messages import ClockTick
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.snooze import SNOOZED_VIEW, with_snoozes
from helpdesk_tui.store.tickets import TicketStore

BERLIN = ZoneInfo("Europe/Berlin")
MINE = "mine"


def test_presets_count_in_my_time_zone() -> None:
    now = datetime(2030, 11, 26, 22, 30, tzinfo=UTC)  # Tuesday 23:30 in Berlin
    (_, hour), (_, tomorrow), (_, monday) = presets(now, BERLIN)
    assert hour == now + timedelta(hours=1)
    assert tomorrow == datetime(2030, 11, 27, 8, 0, tzinfo=UTC)  # Wed 09:00 CET
    assert monday == datetime(2030, 12, 2, 8, 0, tzinfo=UTC)


def test_a_typed_time_is_read_in_my_zone_and_a_past_one_refused() -> None:
    now = datetime(2030, 11, 26, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
    assert parse_until("14:30", now, BERLIN) == datetime(2030, 11, 26, 13, 30, tzinfo=UTC)
    assert parse_until("tomorrow 8:00", now, BERLIN) == datetime(2030, 11, 27, 7, 0, tzinfo=UTC)
    assert parse_until("+3h", now, BERLIN) == now + timedelta(hours=3)
    assert parse_until("2030-12-01 09:00", now, BERLIN) == datetime(2030, 12, 1, 8, tzinfo=UTC)
    with pytest.raises(InvalidRequest, match="has passed"):
        parse_until("10:30", now, BERLIN)
    with pytest.raises(InvalidRequest, match="not a time"):
        parse_until("soonish", now, BERLIN)


def view(store: TicketStore, key: str, agent: Any) -> list[Any]:
    snoozed = store.snoozes.active(agent)
    query = QueueQuery(assignee=agent) if key == MINE else QueueQuery()
    if key == SNOOZED_VIEW:
        from helpdesk_tui.store.snooze import snoozed_view_query

        query = snoozed_view_query()
    return [t.id for t in store.list_queue(with_snoozes(key, query, snoozed)).tickets]


def test_snooze_hides_from_my_views_only_and_lists_it_under_snoozed_without_touching_the_ticket(
    store: TicketStore, people: People, db: Any, clock: FakeClock
) -> None:
    a = store.create_ticket(new_ticket(people, assigned_to=people.agent)).id
    b = store.create_ticket(new_ticket(people, assigned_to=people.agent)).id
    before = db.tickets.find_one({"_id": a})
    store.snoozes.snooze([a], people.agent, clock.now + timedelta(hours=1))
    assert view(store, MINE, people.agent) == [b]
    assert view(store, SNOOZED_VIEW, people.agent) == [a]
    assert a in view(store, "open", people.other_agent)  # not snoozed for anyone else
    assert db.tickets.find_one({"_id": a}) == before  # nothing on the ticket
    assert_mongoose_valid(before)
    counts = store.count_views(
        {
            k: with_snoozes(
                k, QueueQuery(assignee=people.agent), store.snoozes.active(people.agent)
            )
            for k in (MINE,)
        }
    )
    assert counts == {MINE: 1}


def test_snooze_wakes_at_its_time(store: TicketStore, people: People, clock: FakeClock) -> None:
    a = store.create_ticket(new_ticket(people, assigned_to=people.agent)).id
    store.snoozes.snooze([a], people.agent, clock.now + timedelta(hours=1))
    clock.advance(minutes=59)
    assert view(store, MINE, people.agent) == []
    clock.advance(minutes=1)
    assert view(store, MINE, people.agent) == [a]
    assert view(store, SNOOZED_VIEW, people.agent) == []
    assert store.snoozes.entries.count_documents({}) == 0  # ended, not kept


def test_snooze_wakes_early_when_the_customer_writes_but_not_for_an_agents_note(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    a = store.create_ticket(new_ticket(people, assigned_to=people.agent)).id
    store.snoozes.snooze([a], people.agent, clock.now + timedelta(days=3))
    clock.advance(minutes=5)
    store.add_message(a, sender=people.other_agent, content="FYI", internal=True)
    assert view(store, MINE, people.agent) == []
    clock.advance(minutes=5)
    store.sibling().add_message(a, sender=people.customer, content="any news?")
    assert view(store, MINE, people.agent) == [a]
    assert view(store, SNOOZED_VIEW, people.agent) == []


async def test_z_in_the_queue_snoozes_and_the_ticket_comes_back_at_the_time_and_on_a_reply(
    store: TicketStore, people: People, clock: FakeClock, make_app: MakeApp
) -> None:
    a = store.create_ticket(new_ticket(people, assigned_to=people.agent)).id
    b = store.create_ticket(new_ticket(people, assigned_to=people.agent)).id
    config = Config(ui=UiConfig(poll_interval_seconds=3600))
    app = make_app(store, "ann@helpdesk.test", config=config)

    def shown() -> set[Any]:
        return {t.id for t in app.screen.table.tickets.values()}

    async with app.run_test(size=WIDE) as pilot:
        await settle_workers(pilot)
        assert shown() == {a, b}
        first = app.screen.table.current.id
        await pilot.press("z", "enter")  # the first preset: in 1 hour
        await settle_workers(pilot)
        assert shown() == {a, b} - {first}
        snoozed_view = next(i for i, v in enumerate(app.screen.views) if v.key == SNOOZED_VIEW)
        await pilot.press(str(snoozed_view + 1))
        await settle_workers(pilot)
        assert shown() == {first}
        await pilot.press("1")
        await settle_workers(pilot)
        app.screen.post_message(ClockTick(clock.advance(hours=1)))
        await settle_workers(pilot)
        assert shown() == {a, b}
        # Snoozed again for a day; the customer writes: back at once.
        await pilot.press("z", "down", "enter")
        await settle_workers(pilot)
        (again,) = {a, b} - shown()
        clock.advance(minutes=1)
        store.sibling().add_message(again, sender=people.customer, content="hello?")
        for _ in range(50):
            await settle_workers(pilot)
            if shown() == {a, b}:
                break
        assert shown() == {a, b}


async def test_the_empty_snoozed_view_says_how_a_ticket_gets_there(
    demo_store: TicketStore, make_app: MakeApp
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
