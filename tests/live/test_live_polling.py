"""The live feed's polling fallback on a standalone server, and the pure change-stream helpers.

The server is a real one (SecantusDB started as a standalone: no replica set, so no change
streams), as a standalone mongod would be.

The feed runs in a real thread. Most tests drive it poll by poll through its ``sleep`` hook
(``Stepper``), so each write is followed by exactly one poll and nothing depends on timing; one
test lets it run free at a 10 ms interval while another store writes. Every thread is joined with
a timeout.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from conftest import FakeClock, People, new_ticket
from helpers import Recorder

from helpdesk_tui.domain.models import Priority, Status
from helpdesk_tui.store.live import (
    OPERATIONS,
    POLL_OVERLAP,
    Batch,
    Change,
    FeedMode,
    LiveFeed,
    change_from_event,
    changed_ids,
    stream_pipeline,
    supports_change_streams,
)
from helpdesk_tui.store.queries import DERIVED_FIELDS, QUEUE_FIELDS
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

JOIN_TIMEOUT = 5.0


class Stepper:
    """The feed's ``sleep``: every wait blocks until the test allows exactly one poll."""

    def __init__(self) -> None:
        self._go = threading.Semaphore(0)
        self._cond = threading.Condition()
        self.waits = 0  # how many times the loop has reached its wait
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        with self._cond:
            self.waits += 1
            self.seconds.append(seconds)
            self._cond.notify_all()
        self._go.acquire(timeout=JOIN_TIMEOUT)

    def wait_for_waits(self, count: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.waits >= count, timeout=JOIN_TIMEOUT), (
                f"the feed never reached wait #{count}"
            )

    def poll(self) -> None:
        """Let the loop run one poll and wait until it is back in its wait (batch emitted)."""
        with self._cond:
            target = self.waits + 1
        self._go.release()
        self.wait_for_waits(target)

    def release(self) -> None:
        self._go.release()


@contextmanager
def running(feed: LiveFeed, stepper: Stepper | None = None) -> Iterator[None]:
    thread = threading.Thread(target=feed.run, name="live-feed-test", daemon=True)
    thread.start()
    try:
        assert feed.ready.wait(JOIN_TIMEOUT), "the feed never became ready"
        if stepper is not None:
            stepper.wait_for_waits(1)
        yield
    finally:
        feed.stop()
        if stepper is not None:
            stepper.release()
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive(), "the feed thread did not stop"
    assert feed.mode is FeedMode.STOPPED


@pytest.fixture
def db(standalone_db: Any) -> Any:
    """Every test here runs on the standalone server."""
    return standalone_db


@pytest.fixture
def writer(db: Any, clock: FakeClock) -> TicketStore:
    """Another agent's store on the same database (same clock unless a test says otherwise)."""
    return TicketStore(db, StoreSettings(), clock=clock)


@pytest.fixture
def stepper() -> Stepper:
    return Stepper()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def stepped_feed(store: TicketStore, recorder: Recorder, stepper: Stepper) -> LiveFeed:
    return LiveFeed(store, emit=recorder, poll_interval=0.01, sleep=stepper)


def _new_changes(recorder: Recorder, before: int) -> list[Change]:
    return recorder.changes[before:]


def _poll(stepper: Stepper, recorder: Recorder) -> list[Change]:
    before = len(recorder.changes)
    stepper.poll()
    return _new_changes(recorder, before)


# --- polling ------------------------------------------------------------------------------------


def test_a_standalone_server_has_no_change_streams_so_the_feed_polls(
    store: TicketStore, recorder: Recorder, stepped_feed: LiveFeed, stepper: Stepper
) -> None:
    assert supports_change_streams(store) is False
    with running(stepped_feed, stepper):
        assert stepped_feed.mode is FeedMode.POLLING
        assert recorder.batches == [Batch(mode=FeedMode.POLLING, detail="every 0.01s")]
        assert stepper.seconds == [0.01]  # it waits its interval before every poll
        assert _poll(stepper, recorder) == []  # an empty collection: nothing to report


def test_each_write_is_reported_once_with_kind_and_newest_message(
    people: People,
    writer: TicketStore,
    clock: FakeClock,
    recorder: Recorder,
    stepped_feed: LiveFeed,
    stepper: Stepper,
) -> None:
    with running(stepped_feed, stepper):
        ticket = writer.create_ticket(new_ticket(people))
        (created,) = _poll(stepper, recorder)
        assert created.id == ticket.id
        assert created.kind == "insert"  # createdAt == updatedAt: never touched since
        assert created.doc is not None and created.doc["ticketNumber"] == ticket.ticket_number
        assert created.new_messages == ()
        assert _poll(stepper, recorder) == []  # re-read in the overlap window, not re-reported

        clock.advance(minutes=1)
        writer.add_message(ticket.id, sender=people.customer, content="first")
        clock.advance(minutes=1)
        writer.add_message(ticket.id, sender=people.customer, content="any news?")
        (replied,) = _poll(stepper, recorder)  # two writes between polls: the latest state
        assert replied.kind == "update"
        assert [m["content"] for m in replied.new_messages] == ["any news?"]  # $slice: -1
        assert replied.doc is not None and "messages" not in replied.doc
        assert "description" not in replied.doc

        clock.advance(minutes=1)
        writer.take(ticket.id, people.agent)
        (taken,) = _poll(stepper, recorder)
        assert taken.kind == "update" and taken.doc is not None
        assert taken.doc["assignedTo"] == people.agent
        assert taken.new_messages == ()  # the same newest message: not new again

        clock.advance(minutes=1)
        writer.set_status(ticket.id, Status.IN_PROGRESS, actor=people.agent)
        (moved,) = _poll(stepper, recorder)
        assert moved.doc is not None and moved.doc["status"] == "in_progress"
        assert moved.new_messages == ()

        for _ in range(3):
            assert _poll(stepper, recorder) == []

    assert [c.id for c in recorder.changes] == [ticket.id] * 4
    assert all(not b.reload for b in recorder.batches)


def test_two_writes_in_the_same_millisecond_are_both_seen(
    people: People,
    writer: TicketStore,
    clock: FakeClock,
    recorder: Recorder,
    stepped_feed: LiveFeed,
    stepper: Stepper,
) -> None:
    with running(stepped_feed, stepper):
        ticket = writer.create_ticket(new_ticket(people))
        assert [c.id for c in _poll(stepper, recorder)] == [ticket.id]
        clock.advance(seconds=1)  # from here on the clock stands still

        writer.take(ticket.id, people.agent)
        (taken,) = _poll(stepper, recorder)
        writer.set_status(ticket.id, Status.IN_PROGRESS, actor=people.agent)
        (moved,) = _poll(stepper, recorder)
        writer.add_message(ticket.id, sender=people.agent, content="on it")
        (replied,) = _poll(stepper, recorder)

    stamps = {c.doc["updatedAt"] for c in (taken, moved, replied) if c.doc is not None}
    assert len(stamps) == 1  # one millisecond: updatedAt alone could not tell them apart
    assert taken.doc is not None and taken.doc["assignedTo"] == people.agent
    assert taken.doc["status"] == "open"
    assert moved.doc is not None and moved.doc["status"] == "in_progress"
    assert [m["content"] for m in replied.new_messages] == ["on it"]
    assert {c.kind for c in (taken, moved, replied)} == {"update"}


def test_a_message_older_than_the_feed_is_not_reported_as_new(
    people: People,
    writer: TicketStore,
    clock: FakeClock,
    recorder: Recorder,
    stepped_feed: LiveFeed,
    stepper: Stepper,
) -> None:
    """What the overlap window held at start is what the views loaded: not news. A ticket
    touched just before the start is not re-reported, and when it changes later its hour-old
    newest message is still not news (no alert for it); a message sent later is."""
    ticket = writer.create_ticket(new_ticket(people))
    writer.add_message(ticket.id, sender=people.customer, content="an hour ago")
    clock.advance(hours=1)
    writer.take(ticket.id, people.agent)
    with running(stepped_feed, stepper):
        assert _poll(stepper, recorder) == []  # the state at start is not reported
        clock.advance(seconds=1)
        writer.set_priority(ticket.id, Priority.URGENT)
        (changed,) = _poll(stepper, recorder)
        assert changed.id == ticket.id and changed.new_messages == ()
        clock.advance(minutes=1)
        writer.add_message(ticket.id, sender=people.customer, content="just now")
        (replied,) = _poll(stepper, recorder)
        assert [m["content"] for m in replied.new_messages] == ["just now"]


def test_a_writer_whose_clock_is_behind_is_still_seen_within_the_overlap(
    db: Any,
    people: People,
    writer: TicketStore,
    clock: FakeClock,
    recorder: Recorder,
    stepped_feed: LiveFeed,
    stepper: Stepper,
) -> None:
    first = writer.create_ticket(new_ticket(people, subject="on time"))
    clock.advance(seconds=10)
    skew = POLL_OVERLAP - timedelta(seconds=1)
    slow = TicketStore(db, StoreSettings(), clock=lambda: clock.now - skew)
    with running(stepped_feed, stepper):
        second = writer.create_ticket(new_ticket(people, subject="later"))
        assert {c.id for c in _poll(stepper, recorder)} == {second.id}
        slow.take(first.id, people.agent)  # stamped 4 s before the newest write seen
        (late,) = _poll(stepper, recorder)
        assert late.id == first.id and late.kind == "update"
        assert _poll(stepper, recorder) == []


def test_free_running_feed_reports_every_write_exactly_once(
    people: People, writer: TicketStore, clock: FakeClock, store: TicketStore
) -> None:
    """No stepping: a 10 ms interval while another store writes, each write awaited."""
    recorder = Recorder()
    feed = LiveFeed(store, emit=recorder, poll_interval=0.01)
    with running(feed):
        ticket = writer.create_ticket(new_ticket(people))
        recorder.wait_for(lambda cs: len(cs) >= 1, "the insert")
        clock.advance(seconds=30)
        writer.add_message(ticket.id, sender=people.customer, content="hello?")
        recorder.wait_for(lambda cs: len(cs) >= 2, "the reply")
        clock.advance(seconds=30)
        writer.take(ticket.id, people.agent)
        recorder.wait_for(lambda cs: len(cs) >= 3, "the take")
        writer.set_status(ticket.id, Status.IN_PROGRESS, actor=people.agent)  # same instant
        recorder.wait_for(lambda cs: len(cs) >= 4, "the status change")
        time.sleep(0.15)  # a dozen more polls over the same overlap window

    changes = recorder.changes
    assert len(changes) == 4, changes
    assert [c.kind for c in changes] == ["insert", "update", "update", "update"]
    assert [m["content"] for m in changes[1].new_messages] == ["hello?"]
    assert changes[2].doc is not None and changes[2].doc["assignedTo"] == people.agent
    assert changes[3].doc is not None and changes[3].doc["status"] == "in_progress"
    assert changed_ids(recorder.batches) == {ticket.id}


def test_a_ticket_returning_to_an_earlier_state_in_the_same_millisecond_is_reported(
    people: People,
    writer: TicketStore,
    clock: FakeClock,
    recorder: Recorder,
    stepped_feed: LiveFeed,
    stepper: Stepper,
) -> None:
    """Regression: de-duplication once kept every fingerprint ever seen, so A -> B -> A in one
    millisecond never reported the second A and the views kept showing B."""
    ticket = writer.create_ticket(new_ticket(people))
    with running(stepped_feed, stepper):
        _poll(stepper, recorder)
        clock.advance(seconds=1)  # the clock stands still for the next three writes
        writer.take(ticket.id, people.agent)
        (taken,) = _poll(stepper, recorder)
        assert taken.doc is not None and taken.doc["assignedTo"] == people.agent
        writer.assign(ticket.id, None, actor=people.supervisor)
        (released,) = _poll(stepper, recorder)
        assert released.doc is not None and "assignedTo" not in released.doc
        writer.take(ticket.id, people.agent)  # the same document as after the first take
        retaken = _poll(stepper, recorder)
    assert [c.doc["assignedTo"] for c in retaken if c.doc is not None] == [people.agent]


# --- pure helpers -------------------------------------------------------------------------------


def test_stream_pipeline_matches_our_operations_and_projects_queue_fields_only() -> None:
    pipeline = stream_pipeline()
    assert pipeline[0] == {"$match": {"operationType": {"$in": list(OPERATIONS)}}}
    assert set(OPERATIONS) == {"insert", "update", "replace", "delete"}
    assert set(pipeline[1]["$addFields"]) == {f"fullDocument.{n}" for n in DERIVED_FIELDS}
    project = pipeline[2]["$project"]
    assert len(pipeline) == 3 and set(pipeline[2]) == {"$project"}
    assert set(project) == {
        "operationType",
        "documentKey",
        "updateDescription.updatedFields",
        "updateDescription.removedFields",
        "updateDescription.truncatedArrays",
        *(f"fullDocument.{name}" for name in QUEUE_FIELDS),
        *(f"fullDocument.{name}" for name in DERIVED_FIELDS),
    }
    assert set(project.values()) == {1}  # a pure inclusion projection
    assert "fullDocument" not in project
    for key in project:
        assert not key.startswith("fullDocument.messages"), key
        assert not key.startswith("fullDocument.description"), key


def test_stream_pipeline_is_identical_on_every_call_and_not_shared() -> None:
    first = stream_pipeline()
    pristine = copy.deepcopy(first)
    second = stream_pipeline()
    assert second == pristine  # identical on every call
    assert second is not first and second[2]["$project"] is not first[2]["$project"]
    # A caller that changes the list it got (a resume stage, a $limit) changes no later call.
    first[2]["$project"]["fullDocument.messages"] = 1
    first.append({"$limit": 1})
    assert stream_pipeline() == pristine


TICKET = ObjectId()
MESSAGE = {"_id": ObjectId(), "sender": ObjectId(), "content": "hi", "isInternal": False}


def _event(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "_id": {"_data": "8263"},
        "operationType": kind,
        "documentKey": {"_id": TICKET},
        **extra,
    }


def test_change_from_an_update_pushing_a_message() -> None:
    full = {"_id": TICKET, "status": "open", "ticketNumber": "TKT-000001"}
    event = _event(
        "update",
        updateDescription={
            "updatedFields": {"messages.3": MESSAGE, "updatedAt": 1, "__v": 4},
            "removedFields": [],
        },
        fullDocument=full,
    )
    change = change_from_event(event)
    assert change == Change(
        id=TICKET,
        kind="update",
        doc=full,
        updated=frozenset({"messages", "updatedAt", "__v"}),
        new_messages=(MESSAGE,),
    )


def test_change_from_an_update_pushing_several_messages_keeps_their_order() -> None:
    second = {**MESSAGE, "_id": ObjectId(), "content": "second"}
    event = _event(
        "update", updateDescription={"updatedFields": {"messages.3": MESSAGE, "messages.4": second}}
    )
    change = change_from_event(event)
    assert change is not None
    assert change.new_messages == (MESSAGE, second)
    assert change.updated == {"messages"}
    assert change.doc is None  # no fullDocument (e.g. the lookup found it deleted)


def test_change_from_a_whole_array_set_keeps_only_the_newest_message() -> None:
    newest = {**MESSAGE, "_id": ObjectId(), "content": "newest"}
    event = _event("update", updateDescription={"updatedFields": {"messages": [MESSAGE, newest]}})
    change = change_from_event(event)
    assert change is not None and change.new_messages == (newest,)
    emptied = change_from_event(
        _event("update", updateDescription={"updatedFields": {"messages": []}})
    )
    assert emptied is not None and emptied.new_messages == () and emptied.updated == {"messages"}


def test_change_from_an_update_names_removed_fields_and_truncated_arrays_too() -> None:
    """A field an update removed (``$unset`` of the assignee) or an array it shortened moves
    views as a set field does: the counts recount by these names (issue 14)."""
    event = _event(
        "update",
        updateDescription={
            "updatedFields": {"updatedAt": 1},
            "removedFields": ["assignedTo"],
            "truncatedArrays": [{"field": "tags", "newSize": 1}, "not a document"],
        },
    )
    change = change_from_event(event)
    assert change is not None
    assert change.updated == {"updatedAt", "assignedTo", "tags"}


def test_change_from_a_field_of_a_message_is_not_a_new_message() -> None:
    event = _event(
        "update",
        updateDescription={"updatedFields": {"messages.2.isInternal": True, "status": "waiting"}},
    )
    change = change_from_event(event)
    assert change is not None
    assert change.new_messages == ()
    assert change.updated == {"messages", "status"}


@pytest.mark.parametrize("kind", ["insert", "replace"])
def test_change_from_insert_and_replace(kind: str) -> None:
    full = {"_id": TICKET, "subject": "s"}
    change = change_from_event(_event(kind, fullDocument=full))
    assert change == Change(id=TICKET, kind=kind, doc=full)


def test_change_from_a_delete() -> None:
    assert change_from_event(_event("delete")) == Change(id=TICKET, kind="delete")


@pytest.mark.parametrize(
    "event",
    [
        {"operationType": "invalidate", "_id": {"_data": "82"}},
        {"operationType": "drop", "ns": {"db": "d", "coll": "tickets"}},
        {"operationType": "update"},  # no documentKey
        {"operationType": "update", "documentKey": {"_id": "not-an-object-id"}},
        {"operationType": "update", "documentKey": None},
        {"documentKey": {"_id": TICKET}},
        {},
    ],
)
def test_events_we_do_not_follow(event: dict[str, Any]) -> None:
    assert change_from_event(event) is None


def test_batch_ids_and_changed_ids() -> None:
    other = ObjectId()
    first = Batch(changes=(Change(TICKET, "update"), Change(other, "insert")))
    second = Batch(changes=(Change(TICKET, "delete"),), reload=True)
    assert first.ids == {TICKET, other}
    assert Batch().ids == frozenset()
    assert changed_ids([first, second, Batch(mode=FeedMode.LIVE)]) == {TICKET, other}
