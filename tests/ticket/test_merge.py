"""Merge duplicates into one ticket and split messages off: all or nothing, Mongoose-valid."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from helpers import assert_mongoose_valid, raw
from pymongo.errors import OperationFailure

from helpdesk_tui.domain.errors import ConflictError, InvalidRequest
from helpdesk_tui.domain.models import Status, new_message_doc
from helpdesk_tui.store.merge import Merger
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def make_ticket(
    store: TicketStore, people: People, clock: FakeClock, subject: str, tags: list[str]
) -> ObjectId:
    ticket = store.create_ticket(new_ticket(people, subject=subject, tags=tags))
    assert ticket.id is not None
    return ticket.id


def write(store: TicketStore, ticket_id: ObjectId, sender: ObjectId, text: str) -> ObjectId:
    """A reply as another writer pushes it (the Ticket Service: one $push)."""
    message = new_message_doc(sender=sender, content=text, now=store.now())
    store.tickets.update_one(
        {"_id": ticket_id},
        {"$push": {"messages": message}, "$set": {"updatedAt": store.now()}, "$inc": {"__v": 1}},
    )
    return message["_id"]


@pytest.fixture
def four(store: TicketStore, people: People, clock: FakeClock) -> list[ObjectId]:
    """Target and three duplicates of one customer, their messages interleaved in time."""
    ids = []
    for n, tags in enumerate((["vip"], ["shipping"], ["late", "vip"], ["refund"])):
        ids.append(make_ticket(store, people, clock, f"Parcel missing ({n})", tags))
        clock.advance(minutes=1)
    for minute in range(8):
        who = people.customer if minute % 3 else people.agent
        write(store, ids[minute % 4], who, f"message at minute {minute}")
        clock.advance(minutes=1)
    return ids


def test_merge_three_into_one_moves_messages_tags_notes_audit_and_closes_sources(
    store: TicketStore, people: People, clock: FakeClock, four: list[ObjectId]
) -> None:
    target, *sources = four
    before = [raw(store, s) for s in sources]
    clock.advance(minutes=5)

    result = Merger(store).merge(target, sources, actor=people.agent)

    doc = raw(store, target)
    assert_mongoose_valid(doc)
    texts = [m["content"] for m in doc["messages"]]
    # Every message of the four, in time order, then the merge's own note.
    assert texts[:-1] == [f"message at minute {m}" for m in range(8)]
    note = doc["messages"][-1]
    assert note["isInternal"] is True
    assert (
        note["content"] == "Merged TKT-000002, TKT-000003, TKT-000004 into this ticket "
        "(6 messages copied)."
    )
    assert sorted(doc["tags"]) == ["late", "refund", "shipping", "vip"]
    assert result.copied == 6
    assert doc["__v"] == 3  # two replies, then the merge: a stale Mongoose save fails
    # Each copy is a schema message with a new _id; its origin is on record.
    origins = Merger(store).origins(target)
    copied = {m["_id"]: m["content"] for m in doc["messages"] if m["_id"] in origins}
    assert len(copied) == 6
    assert origins[next(k for k, v in copied.items() if v == "message at minute 1")] == "TKT-000002"
    assert origins[next(k for k, v in copied.items() if v == "message at minute 3")] == "TKT-000004"
    for source, old in zip(sources, before, strict=True):
        closed = raw(store, source)
        assert_mongoose_valid(closed)
        assert closed["status"] == "closed"
        assert closed["closedAt"] == closed["resolvedAt"] == store.now()
        assert "merged-into-TKT-000001" in closed["tags"]
        assert closed["messages"][:-1] == old["messages"]  # the source keeps its own history
        assert closed["messages"][-1]["isInternal"] is True
        assert closed["messages"][-1]["content"] == (
            "Merged into TKT-000001; continue the conversation there."
        )
        assert closed["__v"] == old["__v"] + 1
        assert [(e["action"], e["to"]) for e in store.history(source)][-1] == (
            "merged_into",
            "TKT-000001",
        )
    merge_entry = store.history(target)[-1]
    assert merge_entry["action"] == "merge"
    assert merge_entry["from"] == "TKT-000002, TKT-000003, TKT-000004"
    assert merge_entry["actor"] == people.agent
    # The queue sees the sources closed at once.
    entries = {e["_id"]: e for e in store.queue.entries.find({"_id": {"$in": sources}})}
    assert {e.get("status") for e in entries.values()} <= {"closed"}


def test_merge_racing_a_reply_on_a_source_writes_nothing_and_loses_nothing(
    store: TicketStore, people: People, clock: FakeClock, four: list[ObjectId], monkeypatch: Any
) -> None:
    target, *sources = four
    before = {t: raw(store, t) for t in four}
    events_before = store.events.count_documents({})
    merger = Merger(store)
    close = Merger._close_source
    raced: list[ObjectId] = []

    def reply_arrives_first(self: Merger, doc: dict[str, Any], *args: Any) -> None:
        # The customer replies on the second source after the merge has read it, before the
        # merge closes it: the service's $push lands outside the merge's transaction.
        if doc["_id"] == sources[1] and not raced:
            raced.append(write(store, sources[1], people.customer, "any news? third time"))
        close(self, doc, *args)

    monkeypatch.setattr(Merger, "_close_source", reply_arrives_first)

    with pytest.raises(ConflictError, match="TKT-000003 changed during the merge"):
        merger.merge(target, sources, actor=people.agent)

    # Nothing half-merged: the target and the other sources are exactly as before.
    assert raw(store, target) == before[target]
    for source in (sources[0], sources[2]):
        assert raw(store, source) == before[source]
    assert store.events.count_documents({}) == events_before
    assert store.db[store.settings.merges].count_documents({}) == 0
    # Nothing lost: the reply is on its ticket, still open, and merging again carries it over.
    reply = raw(store, sources[1])["messages"][-1]
    assert (reply["_id"], reply["content"]) == (raced[0], "any news? third time")
    assert raw(store, sources[1])["status"] == "open"
    monkeypatch.setattr(Merger, "_close_source", close)
    merger.merge(target, sources, actor=people.agent)
    assert "any news? third time" in [m["content"] for m in raw(store, target)["messages"]]


def test_merge_keeps_the_earliest_created_at_when_the_team_chooses_so(
    db: Any, people: People, clock: FakeClock
) -> None:
    store = TicketStore(db, StoreSettings(keep_earliest_created=True), clock=clock)
    store.init_db()
    first = make_ticket(store, people, clock, "first", [])
    created = raw(store, first)["createdAt"]
    clock.advance(hours=3)
    target = make_ticket(store, people, clock, "later duplicate", [])
    Merger(store).merge(target, [first], actor=people.agent)
    assert raw(store, target)["createdAt"] == created
    assert_mongoose_valid(raw(store, target))


def test_merge_keeps_the_targets_created_at_by_default(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    first = make_ticket(store, people, clock, "first", [])
    clock.advance(hours=3)
    target = make_ticket(store, people, clock, "later duplicate", [])
    created = raw(store, target)["createdAt"]
    Merger(store).merge(target, [first], actor=people.agent)
    assert raw(store, target)["createdAt"] == created


def test_merge_refuses_another_customers_ticket_and_a_merged_one(
    store: TicketStore, people: People, clock: FakeClock, four: list[ObjectId]
) -> None:
    stranger = store.create_ticket(new_ticket(people, user=people.other_agent)).id
    assert stranger is not None
    with pytest.raises(InvalidRequest, match="another customer"):
        Merger(store).merge(four[0], [four[1], stranger], actor=people.agent)
    assert raw(store, four[1])["status"] == "open"
    Merger(store).merge(four[0], [four[1]], actor=people.agent)
    with pytest.raises(InvalidRequest, match="merged already"):
        Merger(store).merge(four[2], [four[1]], actor=people.agent)
    with pytest.raises(InvalidRequest, match="into itself"):
        Merger(store).merge(four[2], [four[2]], actor=people.agent)


class NoTransactions:
    """``tickets`` as a MongoDB standalone answers inside a transaction (code 20). SecantusDB's
    standalone mode still accepts transactions, so the refusal is played back here."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def find_one(self, *args: Any, session: Any = None, **kwargs: Any) -> Any:
        if session is not None:
            raise OperationFailure(
                "Transaction numbers are only allowed on a replica set member or mongos", 20
            )
        return self.inner.find_one(*args, **kwargs)


def test_merge_on_a_server_without_transactions_says_it_needs_a_replica_set(
    store: TicketStore, people: People, clock: FakeClock, four: list[ObjectId], monkeypatch: Any
) -> None:
    monkeypatch.setattr(store, "tickets", NoTransactions(store.tickets))
    with pytest.raises(InvalidRequest, match="need a replica set; nothing was changed"):
        Merger(store).merge(four[0], four[1:], actor=people.agent)
    assert raw(store, four[1])["status"] == "open"


def test_split_moves_messages_to_a_new_numbered_ticket_with_notes_on_both_sides(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    source = make_ticket(store, people, clock, "Two problems", ["vip"])
    store.assign(source, people.agent)
    ids = []
    for n in range(4):
        clock.advance(minutes=1)
        ids.append(write(store, source, people.customer, f"part {n}"))
    clock.advance(minutes=1)

    result = Merger(store).split(source, [ids[3], ids[1]], actor=people.agent)

    created = raw(store, result.created.id)
    assert_mongoose_valid(created)
    assert created["ticketNumber"] == "TKT-000002"  # from the shared counter
    assert created["user"] == people.customer
    assert created["assignedTo"] == people.agent
    assert created["tags"] == ["vip"]
    assert created["subject"] == "Split from TKT-000001: Two problems"
    assert [m["content"] for m in created["messages"]] == [
        "part 1",
        "part 3",
        "Split from TKT-000001: 2 messages moved here.",
    ]
    assert [m["_id"] for m in created["messages"][:2]] == [ids[1], ids[3]]
    assert created["messages"][-1]["isInternal"] is True
    left = raw(store, source)
    assert_mongoose_valid(left)
    assert [m["content"] for m in left["messages"]] == [
        "part 0",
        "part 2",
        "2 messages moved to TKT-000002 (split).",
    ]
    assert left["messages"][-1]["isInternal"] is True
    assert store.history(source)[-1]["action"] == "split"
    assert [e["action"] for e in store.history(result.created.id)] == ["created", "split_from"]
    assert store.queue.entries.find_one({"_id": result.created.id}) is not None


def test_split_refuses_every_message_and_unknown_ones(
    store: TicketStore, people: People, clock: FakeClock
) -> None:
    source = make_ticket(store, people, clock, "One problem", [])
    only = write(store, source, people.customer, "only")
    with pytest.raises(InvalidRequest, match="every message"):
        Merger(store).split(source, [only], actor=people.agent)
    with pytest.raises(Exception, match="has no message"):
        Merger(store).split(source, [ObjectId()], actor=people.agent)
    assert store.tickets.count_documents({}) == 1


def test_merged_sources_are_closed_even_from_statuses_the_workflow_would_not_close(
    store: TicketStore, people: People, clock: FakeClock, four: list[ObjectId]
) -> None:
    store.set_status(four[1], Status.IN_PROGRESS)
    clock.advance(minutes=1)
    Merger(store).merge(four[0], [four[1]], actor=people.agent)
    assert raw(store, four[1])["status"] == "closed"
