"""TicketStore writes and lookups on a real server: Mongoose-compatible, targeted, race-safe."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import NOW, FakeClock, People, new_ticket
from helpers import (
    assert_mongoose_valid,
    mongoose_problems,
    raw,
)
from pymongo.errors import DuplicateKeyError, OperationFailure

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.errors import (
    ConflictError,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    StoreUnavailable,
)
from helpdesk_tui.domain.models import Priority, Status, utc
from helpdesk_tui.domain.workflow import DEFAULT_TRANSITIONS, Workflow
from helpdesk_tui.store.queries import Assignee
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

# --- test doubles ----------------------------------------------------------------------------


class Serialized:
    """A collection whose every call runs under one lock (the base of ``Recorder``).

    ``latency`` (seconds, slept after each call, outside the lock) widens the gap between two
    calls of one writer, which is what lets other writers in between.
    """

    def __init__(self, inner: Any, latency: float = 0.0) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._latency = latency

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = attr(*args, **kwargs)
            if self._latency:
                time.sleep(self._latency)
            return result

        return call


class Recorder(Serialized):
    """Records the name and arguments of every call (to check query counts and update shapes)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attr = super().__getattr__(name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return attr(*args, **kwargs)

        return call

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]


def run_together(workers: list[Callable[[], None]]) -> list[BaseException]:
    """Start all workers at once (a barrier) and return what each one raised."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as error:  # collected and asserted on by the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.fixture
def ticket_id(store: TicketStore, people: People) -> Iterator[ObjectId]:
    created = store.create_ticket(new_ticket(people), actor=people.agent)
    assert created.id is not None
    yield created.id


def put_status(store: TicketStore, ticket_id: ObjectId, status: Status) -> None:
    """Move a ticket without the workflow, as the Ticket Service might have."""
    store.db.tickets.update_one({"_id": ticket_id}, {"$set": {"status": status.value}})


# --- the helper itself must catch what Mongoose would not accept --------------------------------


def test_assert_mongoose_valid_rejects_the_demo_generators_malformed_document() -> None:
    data = seed.generate(NOW, tickets=20, customers=5, seed=7)
    broken = data.tickets[17]

    problems = " ".join(mongoose_problems(broken))

    assert "category" in problems
    assert "priority" in problems
    assert "tags" in problems
    assert "legacyField" in problems
    with pytest.raises(AssertionError):
        assert_mongoose_valid(broken)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"user": "carla@example.com"}, "user"),
        ({"assignedTo": None}, "assignedTo"),
        ({"__v": -1}, "__v"),
        ({"__v": True}, "__v"),
        ({"subject": ""}, "subject"),
        ({"status": "pending"}, "status"),
        ({"updatedAt": NOW - timedelta(days=1)}, "updatedAt"),
        ({"resolvedAt": "yesterday"}, "resolvedAt"),
        ({"messages": [{"content": "hi"}]}, "messages[0]"),
        ({"messages": "hello"}, "messages"),
    ],
)
def test_assert_mongoose_valid_rejects_each_schema_violation(
    store: TicketStore, ticket_id: ObjectId, change: dict[str, Any], key: str
) -> None:
    doc = {**raw(store, ticket_id), **change}

    problems = mongoose_problems(doc)

    assert problems
    assert all(p.startswith(key) for p in problems), problems


# --- init_db ---------------------------------------------------------------------------------


def test_init_db_creates_a_unique_ticket_number_index(db: Any, clock: FakeClock) -> None:
    store = TicketStore(db, clock=clock)

    names = store.init_db()

    info = db.tickets.index_information()
    unique = [i for i in info.values() if i["key"] == [("ticketNumber", 1)]]
    assert len(unique) == 1 and unique[0].get("unique") is True
    assert "tickets.ticketNumber_1" in names
    db.tickets.insert_one({"ticketNumber": "TKT-000001"})
    with pytest.raises(DuplicateKeyError):
        db.tickets.insert_one({"ticketNumber": "TKT-000001"})


def test_init_db_is_idempotent_and_drops_nothing(
    store: TicketStore, ticket_id: ObjectId, db: Any
) -> None:
    db.tickets.create_index([("legacy", 1)], name="service_own_index")
    before = db.tickets.index_information()

    again = store.init_db()
    and_again = store.init_db()

    assert again == and_again
    assert db.tickets.index_information() == before
    assert db.tickets.count_documents({}) == 1
    assert raw(store, ticket_id)["subject"] == "Parcel never arrived"


# --- ticket numbers --------------------------------------------------------------------------


def test_next_ticket_number_counts_up_from_tkt_000001(store: TicketStore, db: Any) -> None:
    assert store.next_ticket_number() == "TKT-000001"
    assert store.next_ticket_number() == "TKT-000002"
    assert db.counters.find_one({"_id": "ticketNumber"}) == {"_id": "ticketNumber", "seq": 2}


def test_next_ticket_number_continues_a_counter_the_service_already_uses(
    store: TicketStore, db: Any
) -> None:
    # (init-db created the counter at 0 if missing; the service has been counting in it)
    db.counters.update_one({"_id": "ticketNumber"}, {"$set": {"seq": 122}}, upsert=True)

    assert store.next_ticket_number() == "TKT-000123"


def test_counter_collection_key_field_and_format_come_from_settings(
    db: Any, clock: FakeClock
) -> None:
    settings = StoreSettings(
        counters="sequences",
        counter_key="tickets",
        counter_field="next",
        number_format="HD-{seq:04d}",
    )
    db.sequences.insert_one({"_id": "tickets", "next": 41, "other": "kept"})
    store = TicketStore(db, settings, clock=clock)

    assert store.next_ticket_number() == "HD-0042"
    assert db.sequences.find_one({"_id": "tickets"}) == {
        "_id": "tickets",
        "next": 42,
        "other": "kept",
    }
    assert db.counters.count_documents({}) == 0


def test_next_ticket_number_is_atomic_across_threads(store: TicketStore) -> None:
    numbers: list[str] = []
    lock = threading.Lock()

    def allocate() -> None:
        for _ in range(25):
            number = store.next_ticket_number()
            with lock:
                numbers.append(number)

    errors = run_together([allocate] * 8)

    assert errors == []
    assert sorted(numbers) == [f"TKT-{n:06d}" for n in range(1, 201)]


# --- create_ticket ---------------------------------------------------------------------------


def test_create_ticket_writes_a_mongoose_valid_open_ticket(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    order = ObjectId()
    created = store.create_ticket(
        new_ticket(people, order=order, tags=["vip", " vip", "refund"]), actor=people.agent
    )

    doc = raw(store, created.id)
    assert_mongoose_valid(doc)
    assert doc["ticketNumber"] == created.ticket_number == "TKT-000001"
    assert doc["status"] == "open"
    assert doc["priority"] == "high"
    assert doc["order"] == order
    assert doc["tags"] == ["vip", "refund"]
    assert doc["__v"] == 0
    assert utc(doc["createdAt"]) == utc(doc["updatedAt"]) == NOW
    assert "assignedTo" not in doc
    assert created.problems == ()


def test_create_ticket_skips_a_number_another_writer_already_used(
    store: TicketStore, people: People, db: Any
) -> None:
    db.tickets.insert_one({"ticketNumber": "TKT-000001", "subject": "the service's own"})

    created = store.create_ticket(new_ticket(people))

    assert created.ticket_number == "TKT-000002"


def test_create_ticket_retries_when_the_server_reports_the_number_taken(
    store: TicketStore, people: People, db: Any
) -> None:
    theirs = db.tickets.insert_one({"ticketNumber": "TKT-000001", "subject": "service"}).inserted_id

    created = store.create_ticket(new_ticket(people))

    assert created.ticket_number == "TKT-000002"
    assert raw(store, created.id)["ticketNumber"] == "TKT-000002"
    assert raw(store, theirs)["subject"] == "service"
    assert db.tickets.count_documents({"ticketNumber": "TKT-000001"}) == 1
    assert db.counters.find_one({"_id": "ticketNumber"})["seq"] == 2


def test_create_ticket_gives_up_with_a_conflict_after_twenty_taken_numbers(
    store: TicketStore, people: People, db: Any
) -> None:
    db.tickets.insert_many([{"ticketNumber": f"TKT-{n:06d}"} for n in range(1, 21)])

    with pytest.raises(ConflictError, match="could not allocate"):
        store.create_ticket(new_ticket(people))

    assert db.tickets.count_documents({}) == 20
    assert db.ticket_events.count_documents({}) == 0


# --- get_ticket / find_ticket ----------------------------------------------------------------


@pytest.mark.parametrize("ref", ["TKT-000001", "tkt-000001", " TKT-000001 ", "1", "000001"])
def test_find_ticket_by_number_in_every_spelling(
    store: TicketStore, ticket_id: ObjectId, ref: str
) -> None:
    assert store.find_ticket(ref).id == ticket_id


def test_find_ticket_by_object_id_string(store: TicketStore, ticket_id: ObjectId) -> None:
    assert store.find_ticket(str(ticket_id)).ticket_number == "TKT-000001"


def test_get_ticket_by_id_or_its_string(store: TicketStore, ticket_id: ObjectId) -> None:
    assert store.get_ticket(ticket_id).ticket_number == "TKT-000001"
    assert store.get_ticket(str(ticket_id)).ticket_number == "TKT-000001"


def test_find_ticket_by_bare_digits_uses_the_configured_format(
    db: Any, clock: FakeClock, people: People
) -> None:
    store = TicketStore(db, StoreSettings(number_format="HD-{seq:04d}"), clock=clock)
    store.create_ticket(new_ticket(people))

    assert store.find_ticket("1").ticket_number == "HD-0001"
    assert store.find_ticket("hd-0001").ticket_number == "HD-0001"


@pytest.mark.parametrize("ref", ["TKT-000002", "2", "nonsense", "6b09e3b469925c2521817c51"])
def test_find_ticket_unknown_raises_not_found_naming_the_reference(
    store: TicketStore, ticket_id: ObjectId, ref: str
) -> None:
    with pytest.raises(NotFound, match=ref):
        store.find_ticket(ref)


def test_get_ticket_unknown_id_raises_not_found(store: TicketStore) -> None:
    with pytest.raises(NotFound):
        store.get_ticket(ObjectId())


def test_get_ticket_with_a_malformed_id_is_an_invalid_request(store: TicketStore) -> None:
    with pytest.raises(InvalidRequest, match="not a ticket id"):
        store.get_ticket("TKT-000001")


def test_get_ticket_reads_a_document_the_service_left_malformed(store: TicketStore) -> None:
    tid = store.db.tickets.insert_one(
        {"ticketNumber": "TKT-000099", "priority": "critical", "tags": "x", "messages": 3}
    ).inserted_id

    ticket = store.find_ticket("TKT-000099")

    assert ticket.id == tid
    assert ticket.is_broken
    assert ticket.priority is Priority.MEDIUM


# --- add_message -----------------------------------------------------------------------------


def test_reply_is_pushed_with_every_message_field_and_bumps_version_and_updated_at(
    store: TicketStore, ticket_id: ObjectId, people: People, clock: FakeClock
) -> None:
    clock.advance(minutes=5)

    ticket = store.add_message(
        ticket_id,
        sender=people.agent,
        content="We are on it.\n",
        attachments=[" label.pdf ", "", "photo.jpg"],
    )

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["__v"] == 1
    assert utc(doc["updatedAt"]) == NOW + timedelta(minutes=5)
    (message,) = doc["messages"]
    assert isinstance(message["_id"], ObjectId)
    assert message["sender"] == people.agent
    assert message["content"] == "We are on it."
    assert message["attachments"] == ["label.pdf", "photo.jpg"]
    assert message["isInternal"] is False
    assert utc(message["createdAt"]) == NOW + timedelta(minutes=5)
    assert ticket.messages[0].content == "We are on it."
    assert ticket.first_response_at == NOW + timedelta(minutes=5)


def test_internal_note_is_stored_as_internal_and_is_not_a_first_response(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    ticket = store.add_message(ticket_id, sender=people.agent, content="VIP", internal=True)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["messages"][0]["isInternal"] is True
    assert ticket.first_response_at is None


@pytest.mark.parametrize("content", ["", "   ", "\n\t\n"])
def test_empty_reply_is_refused_and_nothing_is_written(
    store: TicketStore, ticket_id: ObjectId, people: People, content: str
) -> None:
    before = raw(store, ticket_id)

    with pytest.raises(InvalidRequest, match="empty"):
        store.add_message(ticket_id, sender=people.agent, content=content)

    assert raw(store, ticket_id) == before
    assert [e["action"] for e in store.history(ticket_id)] == ["created"]


def test_reply_over_the_configured_limit_is_refused_naming_the_limit(
    db: Any, clock: FakeClock, people: People
) -> None:
    store = TicketStore(db, StoreSettings(max_reply_chars=100), clock=clock)
    tid = store.create_ticket(new_ticket(people)).id

    store.add_message(tid, sender=people.agent, content="x" * 100)
    with pytest.raises(InvalidRequest, match="limit is 100"):
        store.add_message(tid, sender=people.agent, content="x" * 101)

    assert len(raw(store, tid)["messages"]) == 1


def test_reply_with_status_change_moves_status_in_the_same_write(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    put_status(store, ticket_id, Status.IN_PROGRESS)

    ticket = store.add_message(
        ticket_id, sender=people.agent, content="Need your order number", set_status=Status.WAITING
    )

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["status"] == "waiting"
    assert len(doc["messages"]) == 1
    assert ticket.status is Status.WAITING
    events = [(e["action"], e["from"], e["to"]) for e in store.history(ticket_id)][1:]
    assert events[0][0] == "reply"
    assert events[1] == ("status", "in_progress", "waiting")


def test_reply_with_a_refused_status_change_sends_nothing(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    # Submit as takes intermediate steps (open → … → closed is a path); from resolved
    # nothing leads back to waiting.
    put_status(store, ticket_id, Status.RESOLVED)
    with pytest.raises(InvalidTransition, match="no path from resolved to waiting"):
        store.add_message(ticket_id, sender=people.agent, content="Hi", set_status=Status.WAITING)

    doc = raw(store, ticket_id)
    assert doc["messages"] == []
    assert doc["status"] == "resolved"


def test_reply_with_status_change_is_refused_if_status_moved_meanwhile(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    put_status(store, ticket_id, Status.IN_PROGRESS)
    real_get = store.get_ticket

    def read_then_someone_resolves(tid: Any) -> Any:
        seen = real_get(tid)
        put_status(store, ticket_id, Status.RESOLVED)
        return seen

    store.get_ticket = read_then_someone_resolves  # type: ignore[method-assign]

    with pytest.raises(ConflictError):
        store.add_message(
            ticket_id, sender=people.agent, content="Waiting on you", set_status=Status.WAITING
        )

    doc = raw(store, ticket_id)
    assert doc["status"] == "resolved"
    assert doc["messages"] == []


def test_reply_with_stale_expected_updated_at_is_a_conflict_and_writes_nothing(
    store: TicketStore, ticket_id: ObjectId, people: People, clock: FakeClock
) -> None:
    seen = store.get_ticket(ticket_id).updated_at
    clock.advance(minutes=1)
    store.add_message(ticket_id, sender=people.customer, content="Any news?")
    before = raw(store, ticket_id)

    with pytest.raises(ConflictError, match="changed since you opened it"):
        store.add_message(ticket_id, sender=people.agent, content="Hello", expected_updated_at=seen)

    assert raw(store, ticket_id) == before
    assert [e["action"] for e in store.history(ticket_id)] == ["created", "reply"]


def test_reply_with_current_expected_updated_at_is_sent(
    store: TicketStore, ticket_id: ObjectId, people: People, clock: FakeClock
) -> None:
    seen = store.get_ticket(ticket_id).updated_at
    assert seen is not None
    clock.advance(minutes=1)

    store.add_message(
        ticket_id,
        sender=people.agent,
        content="Hello",
        expected_updated_at=seen + timedelta(microseconds=400),  # sub-ms noise is ignored
    )

    assert len(raw(store, ticket_id)["messages"]) == 1


def test_reply_to_a_missing_ticket_is_not_found(store: TicketStore, people: People) -> None:
    with pytest.raises(NotFound):
        store.add_message(ObjectId(), sender=people.agent, content="Hello")


def test_reply_keeps_a_message_the_service_pushed_meanwhile(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.get_ticket(ticket_id)  # the agent opened it
    service_message = {
        "_id": ObjectId(),
        "sender": people.customer,
        "content": "from the web form",
        "attachments": [],
        "isInternal": False,
        "createdAt": NOW,
    }
    store.db.tickets.update_one(
        {"_id": ticket_id}, {"$push": {"messages": service_message}, "$inc": {"__v": 1}}
    )

    store.add_message(ticket_id, sender=people.agent, content="Thanks")

    doc = raw(store, ticket_id)
    assert [m["content"] for m in doc["messages"]] == ["from the web form", "Thanks"]
    assert doc["__v"] == 2


def test_every_write_is_a_targeted_update_never_a_replace(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    recorder = Recorder(store.tickets)
    store.tickets = recorder  # type: ignore[assignment]

    store.add_message(ticket_id, sender=people.agent, content="Hi", attachments=["a"])
    store.set_status(ticket_id, Status.IN_PROGRESS)
    store.assign(ticket_id, people.agent)
    store.set_priority(ticket_id, Priority.URGENT)
    store.change_tags(ticket_id, add=["vip"], remove=["old"])

    writes = [
        (name, args, kwargs)
        for name, args, kwargs in recorder.calls
        if name not in ("find_one", "find", "aggregate", "count_documents")
    ]
    assert writes
    assert "replace_one" not in recorder.names()
    for name, args, kwargs in writes:
        assert name in ("find_one_and_update", "update_one"), name
        update = args[1] if len(args) > 1 else kwargs["update"]
        assert all(key.startswith("$") for key in update), (name, update)
        assert "messages" not in update.get("$set", {})


def test_document_at_the_size_limit_is_refused_with_a_clear_message(
    store: TicketStore, ticket_id: ObjectId, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_large(*args: Any, **kwargs: Any) -> Any:
        raise OperationFailure("BSONObjectTooLarge", code=10334)

    monkeypatch.setattr(store.tickets, "find_one_and_update", too_large)

    with pytest.raises(InvalidRequest, match="16 MB"):
        store.add_message(ticket_id, sender=people.agent, content="one more")


def test_other_database_errors_become_one_line_store_unavailable(
    store: TicketStore, ticket_id: ObjectId, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationFailure("not authorized on helpdesk\nto execute command", code=13)

    monkeypatch.setattr(store.tickets, "find_one", refused)

    with pytest.raises(StoreUnavailable) as error:
        store.get_ticket(ticket_id)

    assert "\n" not in str(error.value)
    assert "not authorized" in str(error.value)


# --- set_status ------------------------------------------------------------------------------

ALLOWED = [
    (source, target) for source, targets in DEFAULT_TRANSITIONS.items() for target in targets
]
REFUSED = [
    (source, target)
    for source in Status
    for target in Status
    if target is not source and target not in DEFAULT_TRANSITIONS[source]
]


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=lambda s: s.value)
def test_set_status_follows_every_edge_of_the_seed_workflow(
    store: TicketStore,
    ticket_id: ObjectId,
    people: People,
    clock: FakeClock,
    source: Status,
    target: Status,
) -> None:
    put_status(store, ticket_id, source)
    clock.advance(hours=1)

    ticket = store.set_status(ticket_id, target, actor=people.agent)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["status"] == target.value == ticket.status.value
    assert utc(doc["updatedAt"]) == NOW + timedelta(hours=1)
    if target is Status.RESOLVED:
        assert utc(doc["resolvedAt"]) == NOW + timedelta(hours=1)
    if target is Status.CLOSED:
        assert utc(doc["closedAt"]) == NOW + timedelta(hours=1)
    last = store.history(ticket_id)[-1]
    assert (last["action"], last["from"], last["to"]) == ("status", source.value, target.value)
    assert last["actor"] == people.agent


@pytest.mark.parametrize(("source", "target"), REFUSED, ids=lambda s: s.value)
def test_set_status_refuses_other_edges_naming_the_allowed_ones(
    store: TicketStore, ticket_id: ObjectId, source: Status, target: Status
) -> None:
    put_status(store, ticket_id, source)
    before = raw(store, ticket_id)

    with pytest.raises(InvalidTransition) as refused:
        store.set_status(ticket_id, target)

    message = str(refused.value)
    allowed = DEFAULT_TRANSITIONS[source]
    for status in allowed:
        assert status.label in message.split("allowed:")[1]
    if not allowed:
        assert "final state" in message
    assert raw(store, ticket_id) == before


def test_resolve_then_close_keeps_resolved_at_and_adds_closed_at(
    store: TicketStore, ticket_id: ObjectId, clock: FakeClock
) -> None:
    store.set_status(ticket_id, Status.IN_PROGRESS)
    clock.advance(hours=2)
    store.set_status(ticket_id, Status.RESOLVED)
    clock.advance(hours=3)
    store.set_status(ticket_id, Status.CLOSED)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert utc(doc["resolvedAt"]) == NOW + timedelta(hours=2)
    assert utc(doc["closedAt"]) == NOW + timedelta(hours=5)


def test_set_status_from_a_stale_expected_state_is_a_conflict(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.set_status(ticket_id, Status.IN_PROGRESS, actor=people.other_agent)
    before = raw(store, ticket_id)

    with pytest.raises(ConflictError, match="already in progress"):
        store.set_status(ticket_id, Status.IN_PROGRESS, actor=people.agent, expected=Status.OPEN)

    assert raw(store, ticket_id) == before
    assert [e["actor"] for e in store.history(ticket_id)][-1] == people.other_agent


def test_reopen_added_in_config_moves_resolved_to_open_and_clears_resolved_at(
    db: Any, clock: FakeClock, people: People
) -> None:
    workflow = Workflow.with_extra({"resolved": ["open"]})
    store = TicketStore(db, StoreSettings(workflow=workflow), clock=clock)
    tid = store.create_ticket(new_ticket(people)).id
    assert tid is not None
    store.set_status(tid, Status.IN_PROGRESS)
    store.set_status(tid, Status.RESOLVED)

    ticket = store.set_status(tid, Status.OPEN)

    doc = raw(store, tid)
    assert_mongoose_valid(doc)
    assert doc["status"] == "open"
    assert "resolvedAt" not in doc
    assert ticket.resolved_at is None


def test_reopen_is_refused_without_the_config_extension(
    store: TicketStore, ticket_id: ObjectId
) -> None:
    put_status(store, ticket_id, Status.RESOLVED)

    with pytest.raises(InvalidTransition, match="allowed: closed"):
        store.set_status(ticket_id, Status.OPEN)


# --- assign / take / take_next ---------------------------------------------------------------


def test_assign_sets_the_agent_and_records_who_did_it(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    ticket = store.assign(ticket_id, people.agent, actor=people.supervisor)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["assignedTo"] == people.agent == ticket.assigned_to
    last = store.history(ticket_id)[-1]
    assert (last["action"], last["from"], last["to"]) == ("assign", None, str(people.agent))
    assert last["actor"] == people.supervisor


def test_reassign_records_previous_agent_and_unassign_removes_the_field(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.assign(ticket_id, people.agent)
    store.assign(ticket_id, people.other_agent)
    store.assign(ticket_id, None)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert "assignedTo" not in doc
    moves = [(e["from"], e["to"]) for e in store.history(ticket_id) if e["action"] == "assign"]
    assert moves == [
        (None, str(people.agent)),
        (str(people.agent), str(people.other_agent)),
        (str(people.other_agent), None),
    ]


def test_assign_with_stale_expected_assignee_is_a_conflict(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.assign(ticket_id, people.other_agent)

    with pytest.raises(ConflictError, match="reassigned by someone else"):
        store.assign(ticket_id, people.agent, expected=None)  # the caller saw it unassigned

    assert raw(store, ticket_id)["assignedTo"] == people.other_agent


def test_assign_expecting_unassigned_succeeds_on_an_unassigned_ticket(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    ticket = store.assign(ticket_id, people.agent, expected=Assignee.UNASSIGNED)

    assert ticket.assigned_to == people.agent


def test_take_assigns_an_unassigned_ticket_to_me(
    store: TicketStore, ticket_id: ObjectId, people: People, clock: FakeClock
) -> None:
    clock.advance(minutes=3)

    ticket = store.take(ticket_id, people.agent)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["assignedTo"] == people.agent == ticket.assigned_to
    assert utc(doc["updatedAt"]) == NOW + timedelta(minutes=3)
    assert store.history(ticket_id)[-1]["actor"] == people.agent


def test_take_works_when_the_service_stored_assigned_to_as_null(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.db.tickets.update_one({"_id": ticket_id}, {"$set": {"assignedTo": None}})

    assert store.take(ticket_id, people.agent).assigned_to == people.agent


def test_take_on_an_assigned_ticket_is_a_conflict_and_keeps_the_owner(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.take(ticket_id, people.other_agent)

    with pytest.raises(ConflictError, match="already taken"):
        store.take(ticket_id, people.agent)

    assert raw(store, ticket_id)["assignedTo"] == people.other_agent


def test_take_next_takes_the_most_urgent_unassigned_open_ticket(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    low = store.create_ticket(new_ticket(people, priority=Priority.LOW))
    clock.advance(minutes=10)
    urgent = store.create_ticket(new_ticket(people, priority=Priority.URGENT))
    clock.advance(minutes=10)
    assigned = store.create_ticket(new_ticket(people, priority=Priority.URGENT))
    store.take(assigned.id, people.other_agent)  # type: ignore[arg-type]
    in_progress = store.create_ticket(new_ticket(people, priority=Priority.URGENT))
    store.set_status(in_progress.id, Status.IN_PROGRESS)  # type: ignore[arg-type]

    taken = store.take_next(people.agent)
    second = store.take_next(people.agent)
    none_left = store.take_next(people.agent)

    assert taken is not None and taken.id == urgent.id
    assert second is not None and second.id == low.id
    assert none_left is None
    assert raw(store, in_progress.id).get("assignedTo") is None
    assert raw(store, assigned.id)["assignedTo"] == people.other_agent


def test_take_next_skips_a_ticket_another_agent_took_after_the_queue_was_read(
    store: TicketStore, people: People, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.create_ticket(new_ticket(people, priority=Priority.URGENT))
    clock.advance(minutes=1)
    second = store.create_ticket(new_ticket(people, priority=Priority.LOW))
    real_list = store.list_queue

    def stale_page(*args: Any, **kwargs: Any) -> Any:
        page = real_list(*args, **kwargs)
        store.take(first.id, people.other_agent)  # type: ignore[arg-type]
        monkeypatch.setattr(store, "list_queue", real_list)
        return page

    monkeypatch.setattr(store, "list_queue", stale_page)

    taken = store.take_next(people.agent)

    assert taken is not None and taken.id == second.id
    assert raw(store, first.id)["assignedTo"] == people.other_agent


# --- priority and tags -----------------------------------------------------------------------


def test_set_priority_changes_it_and_records_from_and_to(
    store: TicketStore, ticket_id: ObjectId, people: People, clock: FakeClock
) -> None:
    clock.advance(minutes=7)

    ticket = store.set_priority(ticket_id, Priority.URGENT, actor=people.supervisor)

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["priority"] == "urgent" == ticket.priority.value
    assert utc(doc["updatedAt"]) == NOW + timedelta(minutes=7)
    last = store.history(ticket_id)[-1]
    assert (last["action"], last["from"], last["to"]) == ("priority", "high", "urgent")


def test_set_priority_on_a_missing_ticket_is_not_found(store: TicketStore) -> None:
    with pytest.raises(NotFound):
        store.set_priority(ObjectId(), Priority.LOW)


def test_change_tags_adds_without_duplicates_and_bumps_version(
    store: TicketStore, ticket_id: ObjectId
) -> None:
    store.change_tags(ticket_id, add=["vip", " refund ", "vip"])
    ticket = store.change_tags(ticket_id, add=["vip"])

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["tags"] == ["vip", "refund"]
    assert ticket.tags == ("vip", "refund")
    assert doc["__v"] == 2


def test_change_tags_removes_and_bumps_version(
    store: TicketStore, ticket_id: ObjectId, clock: FakeClock
) -> None:
    store.change_tags(ticket_id, add=["vip", "refund"])
    clock.advance(minutes=1)

    ticket = store.change_tags(ticket_id, remove=["vip"])

    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    assert doc["tags"] == ["refund"] and ticket.tags == ("refund",)
    assert doc["__v"] == 2
    assert utc(doc["updatedAt"]) == NOW + timedelta(minutes=1)


def test_change_tags_keeps_a_tag_someone_else_added_meanwhile(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.change_tags(ticket_id, add=["vip"])
    store.db.tickets.update_one({"_id": ticket_id}, {"$push": {"tags": "from-service"}})

    store.change_tags(ticket_id, add=["billing"], remove=["vip"], actor=people.agent)

    assert raw(store, ticket_id)["tags"] == ["from-service", "billing"]
    last = store.history(ticket_id)[-1]
    assert (last["action"], last["from"], last["to"]) == ("tags", "vip", "billing")


def test_change_tags_with_nothing_to_change_is_refused(
    store: TicketStore, ticket_id: ObjectId
) -> None:
    with pytest.raises(InvalidRequest, match="no tags"):
        store.change_tags(ticket_id, add=[" ", ""], remove=[])

    assert raw(store, ticket_id)["__v"] == 0


# --- users -----------------------------------------------------------------------------------


def test_users_by_ids_fetches_many_users_in_one_query_and_caches_them(
    store: TicketStore, people: People
) -> None:
    recorder = Recorder(store.users)
    store.people.users = recorder  # type: ignore[assignment]
    everyone = [people.customer, people.agent, people.other_agent, people.supervisor]

    found = store.users_by_ids([*everyone, None, people.agent])

    assert set(found) == set(everyone)
    assert found[people.agent].name == "Ann Agent"
    assert recorder.names() == ["find"]
    assert store.users_by_ids(everyone) == found
    assert recorder.names() == ["find"]


def test_users_by_ids_asks_only_for_ids_not_yet_cached(store: TicketStore, people: People) -> None:
    store.users_by_ids([people.agent])
    recorder = Recorder(store.users)
    store.people.users = recorder  # type: ignore[assignment]
    stranger = ObjectId()

    found = store.users_by_ids([people.agent, people.customer, stranger])

    assert set(found) == {people.agent, people.customer}
    (call,) = recorder.calls
    assert set(call[1][0]["_id"]["$in"]) == {people.customer, stranger}


def test_user_by_email_finds_the_user_whatever_the_case(store: TicketStore, people: People) -> None:
    assert store.user_by_email("ann@helpdesk.test").id == people.agent
    assert store.user_by_email(" Ann@Helpdesk.TEST ").id == people.agent


def test_user_by_email_unknown_is_not_found_naming_the_email_and_collection(
    store: TicketStore, people: People
) -> None:
    with pytest.raises(NotFound, match=r"nobody@x\.test.*'users'"):
        store.user_by_email("nobody@x.test")


# --- history ---------------------------------------------------------------------------------


def test_history_records_every_write_in_order_with_actor_and_time(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    tid = store.create_ticket(new_ticket(people), actor=people.agent).id
    assert tid is not None
    steps: list[Callable[[], object]] = [
        lambda: store.add_message(tid, sender=people.agent, content="Hi"),
        lambda: store.add_message(tid, sender=people.agent, content="note", internal=True),
        lambda: store.take(tid, people.agent),
        lambda: store.set_status(tid, Status.IN_PROGRESS, actor=people.agent),
        lambda: store.set_priority(tid, Priority.LOW, actor=people.agent),
        lambda: store.change_tags(tid, add=["vip"], actor=people.agent),
    ]
    for step in steps:
        clock.advance(minutes=1)
        step()

    events = store.history(tid)

    assert [e["action"] for e in events] == [
        "created",
        "reply",
        "note",
        "assign",
        "status",
        "priority",
        "tags",
    ]
    assert events[0]["to"] == "TKT-000001"
    assert [utc(e["at"]) for e in events] == [NOW + timedelta(minutes=m) for m in range(7)]
    assert all(e["actor"] == people.agent for e in events)
    assert all(e["ticket"] == tid for e in events)
    assert store.history(ObjectId()) == []


def test_refused_writes_leave_no_history(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:
    store.take(ticket_id, people.other_agent)
    for refused in (
        lambda: store.take(ticket_id, people.agent),
        lambda: store.set_status(ticket_id, Status.CLOSED),
        lambda: store.add_message(ticket_id, sender=people.agent, content=""),
    ):
        with pytest.raises((ConflictError, InvalidTransition, InvalidRequest)):
            refused()

    assert [e["action"] for e in store.history(ticket_id)] == ["created", "assign"]


# --- concurrency -----------------------------------------------------------------------------


def test_concurrent_replies_lose_no_message(
    store: TicketStore, ticket_id: ObjectId, people: People
) -> None:

    def writer(n: int) -> Callable[[], None]:
        def write() -> None:
            for i in range(25):
                store.add_message(ticket_id, sender=people.agent, content=f"writer {n} #{i}")

        return write

    errors = run_together([writer(n) for n in range(8)])

    assert errors == []
    doc = raw(store, ticket_id)
    assert_mongoose_valid(doc)
    contents = [m["content"] for m in doc["messages"]]
    assert len(contents) == 200
    assert set(contents) == {f"writer {n} #{i}" for n in range(8) for i in range(25)}
    assert len({m["_id"] for m in doc["messages"]}) == 200
    assert doc["__v"] == 200
    for n in range(8):  # each writer's messages stay in its own order
        mine = [c for c in contents if c.startswith(f"writer {n} ")]
        assert mine == [f"writer {n} #{i}" for i in range(25)]


def test_take_is_atomic_two_agents_one_winner(store: TicketStore, people: People) -> None:
    for _ in range(20):
        tid = store.create_ticket(new_ticket(people)).id
        assert tid is not None
        winners: list[ObjectId] = []

        def take(agent: ObjectId, tid: ObjectId = tid, winners: list[ObjectId] = winners) -> None:
            store.take(tid, agent)
            winners.append(agent)

        errors = run_together([lambda: take(people.agent), lambda: take(people.other_agent)])

        assert len(winners) == 1
        assert len(errors) == 1 and isinstance(errors[0], ConflictError)
        assert raw(store, tid)["assignedTo"] == winners[0]
        assigns = [e for e in store.history(tid) if e["action"] == "assign"]
        assert [e["actor"] for e in assigns] == winners


def test_concurrent_status_changes_from_the_same_state_one_wins(
    store: TicketStore, people: People
) -> None:
    for _ in range(10):
        tid = store.create_ticket(new_ticket(people)).id
        assert tid is not None
        store.set_status(tid, Status.IN_PROGRESS)
        targets = {"resolved": Status.RESOLVED, "waiting": Status.WAITING}

        def move(target: Status, tid: ObjectId = tid) -> None:
            store.set_status(tid, target, expected=Status.IN_PROGRESS)

        errors = run_together([lambda t=t: move(t) for t in targets.values()])

        assert len(errors) == 1 and isinstance(errors[0], ConflictError)
        final = raw(store, tid)["status"]
        assert final in targets
        statuses = [e["to"] for e in store.history(tid) if e["action"] == "status"]
        assert statuses == ["in_progress", final]


# --- Mongoose compatibility of everything we and the demo write ---------------------------------


def test_a_ticket_through_its_whole_life_stays_mongoose_valid(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    tid = store.create_ticket(new_ticket(people, order=ObjectId(), tags=["vip"])).id
    assert tid is not None
    steps: list[Callable[[], object]] = [
        lambda: store.add_message(tid, sender=people.customer, content="Where is it?"),
        lambda: store.take(tid, people.agent),
        lambda: store.set_status(tid, Status.IN_PROGRESS),
        lambda: store.add_message(tid, sender=people.agent, content="note", internal=True),
        lambda: store.add_message(
            tid,
            sender=people.agent,
            content="Photo?",
            attachments=["form.pdf"],
            set_status=Status.WAITING,
        ),
        lambda: store.set_status(tid, Status.OPEN),
        lambda: store.set_status(tid, Status.IN_PROGRESS),
        lambda: store.set_priority(tid, Priority.URGENT),
        lambda: store.change_tags(tid, add=["refund"], remove=["vip"]),
        lambda: store.assign(tid, people.other_agent, actor=people.supervisor),
        lambda: store.set_status(tid, Status.RESOLVED),
        lambda: store.set_status(tid, Status.CLOSED),
    ]
    for step in steps:
        clock.advance(minutes=5)
        step()
        assert_mongoose_valid(raw(store, tid))

    doc = raw(store, tid)
    assert doc["status"] == "closed"
    assert isinstance(doc["resolvedAt"], datetime) and isinstance(doc["closedAt"], datetime)
    assert doc["__v"] == 5  # three messages, two tag changes


def test_every_demo_ticket_except_the_deliberately_malformed_one_is_mongoose_valid() -> None:
    data = seed.generate(NOW, tickets=300, customers=50, seed=7)

    invalid = {
        doc.get("ticketNumber"): mongoose_problems(doc)
        for doc in data.tickets
        if mongoose_problems(doc)
    }

    assert list(invalid) == ["TKT-000018"], invalid


def test_demo_tickets_stay_mongoose_valid_after_loading_through_the_store(
    store: TicketStore, db: Any
) -> None:
    data = seed.generate(store.now(), tickets=40, customers=10, seed=3)

    seed.load(store, data)

    docs = list(db.tickets.find({"legacyField": {"$exists": False}}))
    assert len(docs) == 39
    for doc in docs:
        assert_mongoose_valid(doc)


def test_demo_timelines_never_run_past_now_and_close_after_resolve() -> None:
    data = seed.generate(NOW, tickets=300, customers=50, seed=7)

    bad = []
    for doc in data.tickets:
        times = [m["createdAt"] for m in doc["messages"]]
        times += [doc[k] for k in ("resolvedAt", "closedAt") if k in doc]
        future = any(t > NOW or t > doc["updatedAt"] for t in times)
        closed_early = "closedAt" in doc and doc["closedAt"] < doc["resolvedAt"]
        if future or closed_early:
            bad.append(doc["ticketNumber"])

    assert bad == []
