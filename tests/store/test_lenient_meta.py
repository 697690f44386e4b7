"""Malformed ``helpdesk_meta`` records (issue 27, item 4): a sync point or lease of another
shape is treated as absent (expired) and rewritten; the views fill, the live feed carries on."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from garbage import cases, spoiled
from helpers import MakeApp
from pilot import settle, until

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.store.live import Batch, Change, LiveFeed
from helpdesk_tui.store.queries import QueueQuery
from helpdesk_tui.store.queue_index import IndexMaintainer, policy_fingerprint
from helpdesk_tui.store.tickets import TicketStore

SYNC = "queue_index.sync"
LEASE = "queue_index.lease"


def by_hand(db: Any, people: People, clock: FakeClock, subject: str) -> ObjectId:
    """A ticket another program wrote while no app ran: only a catch-up indexes it."""
    doc = new_ticket(people, subject=subject)
    return db.tickets.insert_one(
        {
            "ticketNumber": f"HAND-{subject}",
            "subject": doc.subject,
            "description": doc.description,
            "user": people.customer,
            "category": doc.category.value,
            "priority": doc.priority.value,
            "status": "open",
            "createdAt": clock.now,
            "updatedAt": clock.now,
        }
    ).inserted_id


@pytest.mark.parametrize(("field", "kind"), cases(["until", "policy"], {"policy": ["string"]}))
def test_a_malformed_sync_point_means_a_rebuild_and_the_views_fill(
    store: TicketStore, people: People, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    made = store.create_ticket(new_ticket(people)).id
    good = {"until": clock.now, "policy": policy_fingerprint(store.settings.sla)}
    db.helpdesk_meta.replace_one({"_id": SYNC}, spoiled(good, field, kind), upsert=True)
    clock.advance(minutes=1)
    hand = by_hand(db, people, clock, "1")

    shown = {t.id for t in store.list_queue(QueueQuery()).tickets}  # catches the index up

    assert shown == {made, hand}
    assert store.count_views({"open": QueueQuery()}) == {"open": 2}
    sync = db.helpdesk_meta.find_one({"_id": SYNC})
    assert isinstance(sync["until"], datetime)
    assert sync["policy"] == policy_fingerprint(store.settings.sla)


@pytest.mark.parametrize(("field", "kind"), cases(["holder", "until"], {"holder": ["string"]}))
def test_a_malformed_lease_counts_as_expired_and_the_next_app_takes_it(
    store: TicketStore, db: Any, clock: FakeClock, field: str, kind: str
) -> None:
    good = {"holder": "another-app", "until": clock.now + timedelta(seconds=30)}
    db.helpdesk_meta.replace_one({"_id": LEASE}, spoiled(good, field, kind), upsert=True)
    assert not store.queue.maintained(clock.now)  # nobody keeps the index live

    maintainer = IndexMaintainer(store.queue, clock, holder="this-app")
    maintainer.tick()

    assert maintainer.holding
    lease = db.helpdesk_meta.find_one({"_id": LEASE})
    assert lease["holder"] == "this-app" and isinstance(lease["until"], datetime)
    assert store.queue.maintained(clock.now)


def test_a_valid_lease_of_another_app_is_still_respected(
    store: TicketStore, db: Any, clock: FakeClock
) -> None:
    """The other side of the rule above: only a lease of another shape counts as expired."""
    good = {"holder": "another-app", "until": clock.now + timedelta(seconds=30)}
    db.helpdesk_meta.replace_one({"_id": LEASE}, good, upsert=True)
    maintainer = IndexMaintainer(store.queue, clock, holder="this-app")
    maintainer.tick()
    assert not maintainer.holding
    assert db.helpdesk_meta.find_one({"_id": LEASE})["holder"] == "another-app"


class Failing:
    """A maintainer with a bug: its message quotes customer data, as an error's text may."""

    def __init__(self) -> None:
        self.calls = 0

    def tick(self) -> int:
        self.calls += 1
        raise RuntimeError("carla@example.com wrote this")

    def changed(self, ids: Any) -> None:
        raise AssertionError("not reached")


def test_a_bug_in_the_index_maintenance_never_stops_the_feed_and_lands_in_the_crash_log(
    store: TicketStore, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    emitted: list[Batch] = []
    feed = LiveFeed(store, emit=emitted.append, maintainer=Failing())  # type: ignore[arg-type]
    change = Change(id=ObjectId(), kind="update")

    with caplog.at_level(logging.ERROR, logger="helpdesk_tui.store.lenient"):
        feed._maintain()
        feed._deliver((change,))  # maintains first, then emits the batch all the same

    assert emitted == [Batch(changes=(change,))]
    crash = (tmp_path / "helpdesk-tui" / "crash.log").read_text()
    assert "RuntimeError" in crash  # the details, privately
    assert "queue index maintenance: unexpected RuntimeError, carrying on" in caplog.text
    assert "carla@example.com" not in caplog.text


def test_a_bug_in_the_waker_still_delivers_the_batch(
    store: TicketStore, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    emitted: list[Batch] = []

    def waker(changes: Any) -> None:
        raise KeyError("ticket")

    feed = LiveFeed(store, emit=emitted.append, waker=waker)
    change = Change(id=ObjectId(), kind="update")
    feed._deliver((change,))
    assert emitted == [Batch(changes=(change,))]


@pytest.mark.parametrize("value", ["not a date", None, [1]], ids=["string", "null", "array"])
async def test_the_app_on_a_sync_point_that_is_not_a_date_shows_the_queue_and_keeps_running(
    store: TicketStore,
    people: People,
    db: Any,
    clock: FakeClock,
    make_app: MakeApp,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    value: Any,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    mine = [store.create_ticket(new_ticket(people, assigned_to=people.agent)).id for _ in "ab"]
    db.helpdesk_meta.replace_one(
        {"_id": SYNC},
        {"until": value, "policy": policy_fingerprint(store.settings.sla)},
        upsert=True,
    )
    app = make_app(store, "ann@helpdesk.test", config=Config(ui=UiConfig(poll_interval_seconds=1)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert {t.id for t in app.screen.table.tickets.values()} == set(mine)

        def synced() -> bool:
            sync = db.helpdesk_meta.find_one({"_id": SYNC}) or {}
            return app.feed.maintainer.holding and isinstance(sync.get("until"), datetime)

        assert await until(pilot, synced, seconds=10)  # the feed took the lease and caught up
        await settle(pilot)
        assert app.is_running
        assert {t.id for t in app.screen.table.tickets.values()} == set(mine)
    assert app.return_code in (0, None)
    assert not (tmp_path / "helpdesk-tui" / "crash.log").exists()  # no bug met on the way
