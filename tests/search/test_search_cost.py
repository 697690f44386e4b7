"""Search cost on a real server (issue 16): what one search makes the server read.

Every search here runs through ``TicketSearch`` on a client with command monitoring; each
command it sent is then explained on the same server (SecantusDB), and the documents the server
examined for it (``executionStats.totalDocsExamined``) are added up, as
benchmarks/bench_search.py does at 10,000 and 100,000 tickets. The bound asserted is the scan's
``scan_limit`` plus a small constant (the exact-number lookup, the tickets at the edge's own
``_id``), whatever the data: ties at the scan's cut-off, a word that names many customers, a
users collection far bigger than a page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import NOW
from fake_mongo import FakeMongo, cursor
from helpers import doctor_checks
from pymongo import MongoClient, monitoring
from test_search import TEXT_INDEXES

from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.search import PEOPLE_LIMIT, TicketSearch
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

SCAN = 20
SLACK = 3  # the number tier, one ticket at the edge, rounding: never a share of the data


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("aggregate", "find", "count"):
            with self.lock:
                self.seen.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class Watched:
    """A search on its own monitored client, and the documents each search made the server
    examine, per collection, from the server's own explain."""

    def __init__(self, server: EmbeddedServer, db: Any, scan_limit: int) -> None:
        self.commands = Commands()
        self.client: MongoClient[Any] = MongoClient(
            server.uri, tz_aware=True, event_listeners=[self.commands]
        )
        self.db = db
        store = TicketStore(self.client[db.name], StoreSettings())
        self.search = TicketSearch(store, scan_limit=scan_limit)

    def examined(self, query: str) -> tuple[dict[str, int], list[str]]:
        """(documents examined per collection, ticket numbers found) for one search."""
        self.commands.seen.clear()
        page = self.search.search(query, limit=50)
        per: dict[str, int] = {}
        for command in list(self.commands.seen):
            name = next(iter(command))
            body = {k: v for k, v in command.items() if not k.startswith("$") and k != "lsid"}
            plan = self.db.command("explain", body, verbosity="executionStats")
            stats = plan.get("executionStats") or plan["stages"][0]["$cursor"]["executionStats"]
            collection = str(command[name])
            per[collection] = per.get(collection, 0) + int(stats.get("totalDocsExamined", 0))
        return per, [h.ticket.ticket_number for h in page.hits]


@pytest.fixture
def watched(server: EmbeddedServer, store: TicketStore) -> Iterator[Watched]:
    watched = Watched(server, store.db, SCAN)
    yield watched
    watched.client.close()


def _ticket(number: int, updated: Any, user: ObjectId, subject: str) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "ticketNumber": f"TKT-{number:06d}",
        "subject": subject,
        "description": "",
        "user": user,
        "category": "other",
        "priority": "medium",
        "status": "open",
        "messages": [],
        "tags": [],
        "createdAt": NOW - timedelta(days=30),
        "updatedAt": updated,
        "__v": 0,
    }


def test_tickets_sharing_the_cutoffs_updated_at_are_not_all_read(
    store: TicketStore, watched: Watched
) -> None:
    """10 newer tickets, then 100 updated in the same millisecond (a bulk update, an import):
    the scan's newest 20 end inside that tie, and the search still reads 20, not 110."""
    customer = ObjectId()
    newer = [_ticket(n, NOW - timedelta(minutes=n), customer, "refund") for n in range(1, 11)]
    tied = [_ticket(n, NOW - timedelta(hours=1), customer, "refund") for n in range(11, 111)]
    store.tickets.insert_many(newer + tied)
    watched.examined("refund")  # the first search finds the window's edge (kept 60 s)

    per, found = watched.examined("refund")

    assert per["tickets"] <= SCAN + SLACK
    # The newest 20 by (updatedAt, _id): the 10 newer, then the tie's 10 highest _ids.
    by_id = sorted(tied, key=lambda t: t["_id"], reverse=True)[:10]
    assert found == [t["ticketNumber"] for t in newer] + [t["ticketNumber"] for t in by_id]


def test_a_word_naming_many_customers_reads_no_more_than_the_scan(
    store: TicketStore, watched: Watched, db: Any
) -> None:
    """A surname that 30 customers share, 5 tickets each (150), most of them older than the
    scan's newest 20: their tickets inside the scan come first, and the search reads 20."""
    evans = [ObjectId() for _ in range(30)]
    db.users.insert_many(
        [
            {"_id": c, "name": f"Kai{i} Evans", "email": f"kai{i}@x.example", "role": "customer"}
            for i, c in enumerate(evans)
        ]
    )
    other = ObjectId()
    docs = [_ticket(n, NOW - timedelta(minutes=n), other, "parcel") for n in range(1, 16)]
    docs += [
        _ticket(100 + i, NOW - timedelta(days=1, minutes=i), c, "order")
        for i, c in enumerate(evans * 5)
    ]
    store.tickets.insert_many(docs)
    watched.examined("evans")

    per, found = watched.examined("evans")

    assert per["tickets"] <= SCAN + SLACK
    # The 5 Evans tickets inside the newest 20, newest first.
    assert found == [f"TKT-{100 + i:06d}" for i in range(5)]


def test_an_email_is_looked_up_by_its_index_not_by_reading_every_user(
    store: TicketStore, watched: Watched, db: Any
) -> None:
    db.users.insert_many(
        [
            {"name": f"User {i}", "email": f"user{i}@x.example", "role": "customer"}
            for i in range(300)
        ]
    )
    kenji = ObjectId()
    db.users.insert_one(
        {"_id": kenji, "name": "Kenji Tanaka", "email": "kenji@tanaka.example", "role": "customer"}
    )
    store.tickets.insert_one(_ticket(7, NOW, kenji, "Blender"))

    per, found = watched.examined("Kenji@Tanaka.example")
    assert found == ["TKT-000007"]
    assert per["users"] <= 2

    per, found = watched.examined("from:kenji@tanaka.example blender")
    assert found == ["TKT-000007"]
    assert per["users"] <= 2


def test_a_name_that_matches_more_people_than_the_limit_says_so(
    store: TicketStore, watched: Watched, db: Any
) -> None:
    db.users.insert_many(
        [
            {"name": f"Ann{i} Evans", "email": f"a{i}@x.example", "role": "customer"}
            for i in range(PEOPLE_LIMIT + 5)
        ]
    )
    page = watched.search.search("evans")
    assert any(f"the first {PEOPLE_LIMIT}" in note for note in page.notes)
    page = watched.search.search("from:evans")
    assert any(f"the first {PEOPLE_LIMIT}" in note for note in page.notes)


def test_with_a_text_index_a_named_customers_tickets_are_read_newest_first_and_limited() -> None:
    """On MongoDB the customers' tier is a sorted, limited walk of ``customer_tickets``: the
    server reads no more than a page of their tickets, however many they have."""
    kenji = ObjectId()
    mongo = FakeMongo()
    try:
        mongo.script("listindexes", TEXT_INDEXES)
        mongo.script("find", cursor([{"_id": kenji}], cursor_id=0))
        mongo.script("aggregate", cursor([], cursor_id=0), cursor([], cursor_id=0))
        TicketSearch(mongo.store()).search("tanaka", limit=20)
        (people,) = mongo.sent("find")
        assert people["limit"] == PEOPLE_LIMIT + 1
        tier, text = mongo.sent("aggregate")
        assert tier["pipeline"][:3] == [
            {"$match": {"user": {"$in": [kenji]}}},
            {"$sort": {"createdAt": -1}},  # the index's own order: no blocking sort
            {"$limit": 21},
        ]
        assert "$text" in text["pipeline"][0]["$match"]
    finally:
        mongo.close()


def test_init_db_makes_the_search_indexes_and_doctor_says_when_they_are_missing(
    db: Any, clock: Any
) -> None:
    store = TicketStore(db, StoreSettings(), clock=clock)
    db.users.insert_one({"name": "Kenji Tanaka", "email": "kenji@tanaka.example"})
    db.tickets.insert_one({"subject": "x"})
    checks = doctor_checks(store)
    assert checks["people indexes"].level == "warn"
    assert "search_people_email" in checks["people indexes"].detail
    assert "search_updated" in checks["indexes"].detail

    store.init_db()

    checks = doctor_checks(store)
    assert "people indexes" not in checks and checks["indexes"].level == "ok"
    names = {ix["name"] for ix in db.users.list_indexes()}
    assert {"search_people_email", "search_people_name"} <= names
    assert "search_updated" in {ix["name"] for ix in db.tickets.list_indexes()}
