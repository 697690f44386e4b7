"""Search (issue 16 item 1): every field and prefix on a real server, and both paths.

How each path is tested:

* **bounded scan** (servers without text indexes): every test below that takes ``world`` runs
  the real queries on SecantusDB (tests/conftest.py), which has no text indexes, so this is
  the path it takes (``test_a_server_without_text_indexes_takes_the_scan_path``).
* **text index** (MongoDB after ``init-db``): no MongoDB server runs here, so the query is pinned
  at the wire level: the real pymongo driver against a scripted server (mockupdb, the
  ``FakeMongo`` of tests/fake_mongo.py) that lists a text index; the tests assert the
  exact commands the store sends (``$text`` first, every word quoted, ``textScore`` order,
  no ``messages`` in the projection) and that the replies become ranked results.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import NOW, FakeClock, People, new_ticket
from fake_mongo import FakeMongo, cursor
from pymongo import MongoClient, monitoring

from helpdesk_tui.domain.models import Status
from helpdesk_tui.domain.search import parse_search, snippet_line, snippet_parts
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.search import TicketSearch, scan_pipeline, text_search_string
from helpdesk_tui.store.search_index import TEXT_INDEX, text_index_name
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


@dataclass
class World:
    store: TicketStore
    search: TicketSearch
    people: People
    kenji: ObjectId
    refund: str  # t1: Carla's, open, mine, tagged refund, "third time" in a message
    blender: str  # t2: Kenji's, unassigned, vip, "grinding" in the description
    parcel: str  # t3: Kenji's, closed, a month old, an internal note naming t1
    invoice: str  # t4: Carla's, waiting, Bo's

    def numbers(self, query: str, **kw: Any) -> list[str]:
        page = self.search.search(query, me=self.people.agent, **kw)
        return [h.ticket.ticket_number for h in page.hits]


@pytest.fixture
def world(store: TicketStore, people: People, db: Any, clock: FakeClock) -> World:
    kenji = ObjectId()
    db.users.insert_one(
        {"_id": kenji, "name": "Kenji Tanaka", "email": "kenji@tanaka.example", "role": "customer"}
    )
    t1 = store.create_ticket(new_ticket(people, subject="Refund not received", tags=["refund"]))
    assert t1.id
    store.assign(t1.id, people.agent)
    store.add_message(
        t1.id,
        sender=people.customer,
        content="Hello again.\nThis is the third time I write about it.\nRegards, Carla",
    )
    clock.advance(minutes=1)
    t2 = store.create_ticket(
        new_ticket(
            people,
            subject="Blender makes a noise",
            description="A grinding sound since Monday.",
            user=kenji,
            tags=["vip"],
        )
    )
    clock.advance(minutes=1)
    t3 = store.create_ticket(new_ticket(people, subject="Parcel never arrived", user=kenji))
    assert t3.id
    store.add_message(
        t3.id,
        sender=people.agent,
        content=f"Same as {t1.ticket_number}, a duplicate.",
        internal=True,
    )
    db.tickets.update_one(
        {"_id": t3.id},
        {"$set": {"status": "closed", "createdAt": NOW - timedelta(days=30)}},
    )
    clock.advance(minutes=1)
    t4 = store.create_ticket(new_ticket(people, subject="Invoice shows wrong VAT"))
    assert t4.id
    store.assign(t4.id, people.other_agent)
    db.tickets.update_one({"_id": t4.id}, {"$set": {"status": "waiting"}})
    return World(
        store,
        TicketSearch(store),
        people,
        kenji,
        t1.ticket_number,
        t2.ticket_number,
        t3.ticket_number,
        t4.ticket_number,
    )


# --- the query language (pure) --------------------------------------------------------------


def test_prefixes_words_and_phrases_are_parsed_and_unknown_fields_said() -> None:
    terms = parse_search(
        'from:"Kenji Tanaka" tag:vip #refund status:open,waiting assignee:bo is:unassigned '
        'after:7d before:2030-11-20 "third time" blender colour:red',
        NOW,
    )
    assert terms.customers == ("Kenji Tanaka",)
    assert terms.tags == ("vip", "refund")
    assert terms.statuses == (Status.OPEN, Status.WAITING)
    assert terms.assignees == ("bo",)
    assert terms.unassigned
    assert terms.after == NOW - timedelta(days=7)
    assert terms.before is not None and terms.before.date().isoformat() == "2030-11-20"
    assert terms.words == ("third time", "blender", "colour:red")
    assert terms.notes == ("“colour:” is not a search field; searched as words",)


def test_a_bad_date_and_an_unknown_status_become_notes_not_errors() -> None:
    terms = parse_search("after:yesterday status:escalated is:urgent", NOW)
    assert terms.after is None and not terms.statuses
    assert len(terms.notes) == 3


def test_every_word_is_quoted_for_the_text_index_so_all_must_occur() -> None:
    assert text_search_string(["third time", "refund", 'say "hi"']) == (
        '"third time" "refund" "say  hi"'
    )


def test_the_snippet_is_the_line_that_matched_cut_around_the_match() -> None:
    text = "first line\nthe third time I ask\nlast"
    line, start, end = snippet_line(text, text.index("third"), text.index("third") + 5)
    assert line == "the third time I ask" and line[start:end] == "third"
    long = "x" * 300 + " needle " + "y" * 300
    line, start, end = snippet_line(long, 301, 307, width=60)
    assert line.startswith("…x") and len(line) <= 61 and line[start:end] == "needle"
    short = "This is the third time I am writing about this."
    line, start, end = snippet_line(short, 12, 17, width=30)  # the match fits: from the start
    assert line == short[:30] and line[start:end] == "third"


# --- each field and prefix on the real server (the scan path) -------------------------------


def test_a_server_without_text_indexes_takes_the_scan_path(world: World) -> None:
    assert text_index_name(world.store.tickets) is None  # init-db ran: SecantusDB built none
    page = world.search.search("refund")
    assert page.path == "scan"
    assert page.cost.startswith("scanned all 4 tickets (no text index)")


def test_the_exact_number_comes_first_as_typed_or_as_digits(world: World) -> None:
    assert world.numbers(world.refund)[0] == world.refund
    digits = str(int(world.refund.split("-")[1]))
    page = world.search.search(digits)
    assert page.hits[0].ticket.ticket_number == world.refund and page.hits[0].why == "number"
    # t3's internal note names t1: found too, after it.
    assert world.numbers(world.refund) == [world.refund, world.parcel]


def test_subject_words_find_the_ticket(world: World) -> None:
    assert world.numbers("blender") == [world.blender]
    assert world.numbers("VAT invoice") == [world.invoice]  # every word, any order


def test_message_text_finds_the_ticket_and_shows_the_line_that_matched(world: World) -> None:
    page = world.search.search('"third time"')
    assert [h.ticket.ticket_number for h in page.hits] == [world.refund]
    snippet = page.hits[0].snippet
    assert snippet is not None and snippet.where == "message"
    assert snippet.sender == world.people.customer
    assert snippet_parts(snippet) == ("This is the ", "third time", " I write about it.")


def test_description_and_internal_note_matches_say_where(world: World) -> None:
    described = world.search.search("grinding").hits
    assert [h.ticket.ticket_number for h in described] == [world.blender]
    assert described[0].snippet is not None and described[0].snippet.where == "description"
    noted = world.search.search("duplicate").hits
    assert [h.ticket.ticket_number for h in noted] == [world.parcel]
    assert noted[0].snippet is not None and noted[0].snippet.where == "note"


def test_a_customer_name_or_email_finds_their_tickets(world: World) -> None:
    for query in ("tanaka", "Kenji Tanaka", "kenji@tanaka.example"):
        page = world.search.search(query)
        assert {h.ticket.ticket_number for h in page.hits} == {world.blender, world.parcel}
        assert {h.why for h in page.hits} == {"customer"}


def test_from_narrows_to_the_customer(world: World) -> None:
    assert set(world.numbers("from:tanaka")) == {world.blender, world.parcel}
    assert world.numbers("from:carla@example.com refund") == [world.refund]
    page = world.search.search("from:nobody-at-all")
    assert not page.hits and page.notes == ("no customer matches “nobody-at-all”",)


def test_tag_prefix_and_hash_find_tagged_tickets(world: World) -> None:
    assert world.numbers("tag:vip") == [world.blender]
    assert world.numbers("#refund") == [world.refund]


def test_status_prefix(world: World) -> None:
    assert world.numbers("status:closed") == [world.parcel]
    assert set(world.numbers("status:open,waiting")) == {
        world.refund,
        world.blender,
        world.invoice,
    }
    assert world.numbers("is:closed") == [world.parcel]


def test_assignee_prefix_and_is_unassigned(world: World) -> None:
    assert world.numbers("assignee:bo") == [world.invoice]
    assert world.numbers("assignee:me") == [world.refund]
    assert world.numbers("is:mine") == [world.refund]
    assert set(world.numbers("is:unassigned")) == {world.blender, world.parcel}
    assert world.numbers("is:unassigned blender") == [world.blender]


def test_before_and_after_on_the_creation_date(world: World) -> None:
    assert world.numbers("before:7d") == [world.parcel]
    assert set(world.numbers("after:7d")) == {world.refund, world.blender, world.invoice}
    assert world.numbers("after:2030-11-01 before:2030-11-30 vat") == [world.invoice]


def test_results_are_newest_first_after_the_number_and_paged(world: World) -> None:
    everyone = world.numbers("status:open,waiting,closed")
    assert everyone == [world.invoice, world.parcel, world.blender, world.refund]
    first = world.search.search("status:open,waiting,closed", limit=2)
    second = world.search.search("status:open,waiting,closed", skip=2, limit=2)
    assert first.has_more and not second.has_more
    assert [h.ticket.ticket_number for h in first.hits + second.hits] == everyone


def test_the_scan_is_bounded_and_says_so_unless_anchored_on_the_customer(world: World) -> None:
    small = TicketSearch(world.store, scan_limit=2)  # reads the 2 newest tickets only
    page = small.search("third time")
    assert not page.hits and page.bounded
    assert "searched the newest 2 tickets only" in page.cost
    anchored = small.search("from:carla third time")  # Carla has 2 tickets: all read
    assert [h.ticket.ticket_number for h in anchored.hits] == [world.refund]
    assert not anchored.bounded


class Replies(monitoring.CommandListener):
    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        with self.lock:
            self.replies.append(dict(event.reply))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def watched(server: EmbeddedServer, world: World) -> Iterator[tuple[TicketSearch, Replies]]:
    replies = Replies()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[replies])
    store = TicketStore(client[world.store.db.name], StoreSettings(), clock=world.store.clock)
    yield TicketSearch(store), replies
    client.close()


def test_results_never_carry_messages_over_the_wire(
    watched: tuple[TicketSearch, Replies], world: World
) -> None:
    search, replies = watched
    for query in ("third time", "tanaka", world.refund, "status:closed"):
        assert search.search(query).hits
    batches = [
        doc
        for reply in replies.replies
        for doc in (reply.get("cursor") or {}).get("firstBatch", [])
        if "ticketNumber" in doc
    ]
    assert batches and not any("messages" in doc or "description" in doc for doc in batches)


def test_hostile_text_in_a_snippet_is_shown_literally(world: World, db: Any) -> None:
    db.tickets.update_one(
        {"ticketNumber": world.invoice},
        {
            "$push": {
                "messages": {
                    "_id": ObjectId(),
                    "content": "pay \x1b]52;c;aGk=\x07 now [bold]zorgle[/] \u202eevil",
                    "sender": world.people.customer,
                    "isInternal": False,
                    "attachments": [],
                    "createdAt": NOW,
                }
            }
        },
    )
    hit = world.search.search("zorgle").hits[0]
    assert hit.snippet is not None
    before, match, after = snippet_parts(hit.snippet)
    shown = before + match + after
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "\\x1b]52;c;aGk=\\x07" in shown and "[bold]zorgle[/]" in shown and "\\u202e" in shown


def test_a_malformed_ticket_does_not_break_a_search(world: World, db: Any) -> None:
    db.tickets.insert_one(
        {"ticketNumber": "TKT-999999", "subject": 42, "messages": "zorgle", "tags": "zorgle"}
    )
    db.tickets.insert_one({"ticketNumber": "TKT-999998", "messages": [{"content": 7}, None]})
    page = world.search.search("zorgle")
    assert [h.ticket.ticket_number for h in page.hits] == ["TKT-999999"]
    assert world.search.search("TKT-999998").hits[0].ticket.problems


# --- the text-index path, at the wire level (mockupdb) --------------------------------------

TEXT_INDEXES = cursor(
    [
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"_fts": "text", "_ftsx": 1}, "name": TEXT_INDEX, "weights": {}},
    ],
    cursor_id=0,
)


@pytest.fixture
def mongo() -> Iterator[FakeMongo]:
    fake = FakeMongo()
    yield fake
    fake.close()


def test_with_a_text_index_the_words_go_to_text_and_the_rows_come_ranked(
    mongo: FakeMongo,
) -> None:
    carla, ticket = ObjectId(), ObjectId()
    mongo.script("listindexes", TEXT_INDEXES)
    mongo.script("find", cursor([{"_id": carla}], cursor_id=0))  # from:carla (words: words)
    row = {
        "_id": ticket,
        "ticketNumber": "TKT-000042",
        "subject": "Refund not received",
        "status": "open",
        "priority": "high",
        "user": carla,
        "createdAt": NOW,
        "updatedAt": NOW,
        "_messageCount": 2,
        "_score": 3.5,
        "_snippet": {
            "where": "message",
            "start": 0,
            "idx": 12,
            "match": "third time",
            "text": "This is the third time",
        },
    }
    mongo.script("aggregate", cursor([row], cursor_id=0))
    search = TicketSearch(mongo.store())

    page = search.search('from:carla "third time" refund status:open')

    assert page.path == "text index" and page.cost == "ranked by relevance (text index)"
    assert [h.ticket.ticket_number for h in page.hits] == ["TKT-000042"]
    assert page.hits[0].snippet is not None
    assert snippet_parts(page.hits[0].snippet) == ("This is the ", "third time", "")
    (aggregate,) = mongo.sent("aggregate")
    assert aggregate["aggregate"] == "tickets"
    pipeline = aggregate["pipeline"]
    assert pipeline[0] == {
        "$match": {
            "$text": {"$search": '"third time" "refund"'},
            "user": {"$in": [carla]},
            "status": {"$in": ["open"]},
        }
    }
    assert pipeline[1] == {"$addFields": {"_score": {"$meta": "textScore"}}}
    assert pipeline[2] == {"$sort": {"_score": -1, "updatedAt": -1, "_id": -1}}
    assert pipeline[3] == {"$limit": 51}
    project = pipeline[-1]["$project"]
    assert "messages" not in project and "description" not in project
    assert project["_snippet"] == 1 and project["ticketNumber"] == 1
    # No scan stage anywhere: the text index does the finding.
    assert not any("$regex" in str(stage) for stage in pipeline[:4])


def test_with_a_text_index_the_number_tier_comes_first_and_duplicates_merge(
    mongo: FakeMongo,
) -> None:
    ticket = ObjectId()
    row = {"_id": ticket, "ticketNumber": "TKT-000042", "subject": "s", "status": "open"}
    mongo.script("listindexes", TEXT_INDEXES)
    mongo.script("aggregate", cursor([row], cursor_id=0), cursor([row], cursor_id=0))
    page = TicketSearch(mongo.store()).search("TKT-000042")
    assert [(h.ticket.ticket_number, h.why) for h in page.hits] == [("TKT-000042", "number")]
    number, text = mongo.sent("aggregate")
    assert number["pipeline"][0] == {"$match": {"ticketNumber": {"$in": ["TKT-000042"]}}}
    assert text["pipeline"][0]["$match"] == {"$text": {"$search": '"TKT-000042"'}}


def test_filters_alone_use_the_bounded_scan_even_with_a_text_index(mongo: FakeMongo) -> None:
    mongo.script("listindexes", TEXT_INDEXES)
    mongo.script("count", {"ok": 1, "n": 10})
    mongo.script("aggregate", cursor([], cursor_id=0))
    page = TicketSearch(mongo.store()).search("status:closed")
    assert page.path == "scan"
    (aggregate,) = mongo.sent("aggregate")
    assert aggregate["pipeline"][:3] == [
        {"$match": {}},
        {"$sort": {"updatedAt": -1, "_id": -1}},
        {"$limit": 2_000},
    ]


def test_the_scan_anchors_on_the_customers_index_with_from() -> None:
    pipeline = scan_pipeline(
        {"user": {"$in": ["c"]}, "status": {"$in": ["open"]}},
        ["refund"],
        None,
        scan_limit=500,
        limit=51,
    )
    assert pipeline[:3] == [
        {"$match": {"user": {"$in": ["c"]}}},
        {"$sort": {"createdAt": -1, "_id": -1}},
        {"$limit": 500},
    ]
