"""``doctor`` counts the records of ours that the app skips, per collection, with a hint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from pydantic import SecretStr

from helpdesk_tui.config import Config
from helpdesk_tui.doctor import run_checks
from helpdesk_tui.store.followers import FollowerStore
from helpdesk_tui.store.lenient import malformed_counts
from helpdesk_tui.store.tickets import TicketStore


def malformed(store: TicketStore) -> Any:
    config = Config()
    uri = SecretStr("mongodb://127.0.0.1:1/")
    config = config.model_copy(update={"mongo": config.mongo.model_copy(update={"uri": uri})})
    (check,) = [c for c in run_checks(store, config) if c.name == "malformed records"]
    return check


def test_doctor_counts_malformed_records_per_collection_and_says_what_to_do(
    store: TicketStore, people: People, db: Any, clock: FakeClock
) -> None:
    ticket = store.create_ticket(new_ticket(people)).id
    store.snoozes.snooze([ticket], people.agent, clock.now + timedelta(hours=1))
    FollowerStore(db, clock=clock).follow(ticket, people.agent)
    store.presence().beat(ticket, people.agent, "Ann Agent", "viewing")
    store.queue.take_lease("an-app", clock.now)
    assert malformed(store).level == "ok"
    assert malformed(store).detail.startswith("none")

    later = clock.now + timedelta(hours=2)
    db.snoozes.insert_many(
        [
            {"agent": people.agent, "until": later, "since": clock.now},  # no ticket
            {"agent": people.agent, "ticket": "TKT-1", "until": later, "since": clock.now},
        ]
    )
    db.followers.insert_one({"ticket": [ticket], "agent": people.other_agent})
    db.presence.insert_one({"ticket": ticket, "agent": people.other_agent, "name": 7})
    db.helpdesk_meta.update_one({"_id": "queue_index.sync"}, {"$set": {"until": "yesterday"}})
    db.queue_index.update_one({"_id": ticket}, {"$set": {"phase": None}})
    db.ticket_events.insert_one({"ticket": ticket, "action": "status", "at": "now"})
    db.ticket_merges.insert_one({"target": ticket, "sources": "TKT-2"})

    check = malformed(store)

    assert check.level == "warn"
    listed, _, hint = check.detail.partition(": ")
    assert listed == (
        "snoozes 2, followers 1, presence 1, helpdesk_meta 1, queue_index 1, "
        "ticket_events 1, ticket_merges 1"
    )
    assert "the app skips them (each named in its log)" in hint
    assert "`helpdesk-tui init-db` re-derives the queue index" in hint
    assert "TKT-" not in check.detail and "yesterday" not in check.detail  # counts, not values

    store.init_db(rebuild=True)  # re-derives the index and its sync point
    assert malformed_counts(db, store.settings) == {
        "snoozes": 2,
        "followers": 1,
        "presence": 1,
        "ticket_events": 1,
        "ticket_merges": 1,
    }


def test_a_malformed_lease_is_counted_until_an_app_takes_it(
    store: TicketStore, db: Any, clock: FakeClock
) -> None:
    db.helpdesk_meta.insert_one({"_id": "queue_index.lease", "holder": ObjectId(), "until": 1})
    assert malformed_counts(db, store.settings) == {"helpdesk_meta": 1}
    assert store.queue.take_lease("an-app", clock.now)
    assert malformed_counts(db, store.settings) == {}


def test_the_readers_and_the_doctor_agree_on_every_bson_type(db: Any, clock: FakeClock) -> None:
    """The shape check in Python (what a reader skips) and its ``$type`` query (what doctor
    counts) name the same records, for every BSON type a field can hold."""
    from bson.decimal128 import Decimal128
    from bson.int64 import Int64

    from helpdesk_tui.store.lenient import MISSING, Shape

    shape = Shape(
        "probe",
        {
            "oid": ("objectId",),
            "when": ("date", "null"),
            "count": ("int", "long"),
            "text": ("string", "null", MISSING),
            "tags": ("array",),
            "flag": ("bool",),
        },
    )
    good = {
        "oid": ObjectId(),
        "when": clock.now,
        "count": 3,
        "text": "x",
        "tags": ["a"],
        "flag": True,
    }
    values: list[Any] = [
        MISSING, "s", 7, Int64(2**40), 1.5, Decimal128("1"), None, True, [ObjectId()], [],
        {"a": 1}, clock.now, ObjectId(), b"\x00bin", [clock.now],
    ]  # fmt: skip
    docs = []
    for name in shape.fields:
        for value in values:
            doc = dict(good)
            if value is MISSING:
                del doc[name]
            else:
                doc[name] = value
            docs.append(doc)
    db.probe.insert_many(docs)

    read = list(db.probe.find())
    skipped = {d["_id"] for d in read if shape.fault(d) is not None}
    counted = {d["_id"] for d in db.probe.find(shape.malformed_filter())}

    assert skipped == counted
    assert len(skipped) > len(shape.fields) * 8  # most values are wrong for most fields


def test_a_count_the_server_refuses_or_times_out_is_said_not_raised(
    clock: FakeClock, tmp_path: Any
) -> None:
    from pymongo import MongoClient

    from helpdesk_tui.store.embedded import EmbeddedServer
    from helpdesk_tui.store.lenient import malformed_report
    from helpdesk_tui.store.settings import StoreSettings

    server = EmbeddedServer(test_commands=True, log_path=tmp_path / "secantusd.log").start()
    try:
        client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True)
        store = TicketStore(client.helpdesk, StoreSettings(), clock=clock)
        store.init_db()
        client.admin.command(
            "configureFailPoint",
            "failCommand",
            mode={"times": 1},
            data={"failCommands": ["aggregate"], "errorCode": 50, "errmsg": "time limit"},
        )

        fine, detail = malformed_report(store.db, store.settings)

        assert (fine, detail) == (False, "not counted: a collection took over 15 s to scan")
        assert malformed(store).detail.startswith("none")  # the next run counts
        client.close()
    finally:
        server.kill()  # no graceful 2 s stop: nobody reads its data again (servers.done)
