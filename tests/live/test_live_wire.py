"""The live feed's change-stream path through the real pymongo driver, over the wire.

``FakeMongo`` is a scripted MongoDB wire-protocol server on localhost (``mockupdb``): it answers
the driver's handshake and monitoring ``hello`` as a replica-set primary (or a standalone, or a
mongos), records every other command, and answers ``aggregate``/``getMore``/``find`` from
per-test scripts, falling back to an idle change stream. The feed runs in a thread; every test
stops it and joins it with a timeout, then closes the client and the server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from fake_mongo import (
    CURSOR,
    DB,
    EXPECTED_FIRST_STAGE,
    HANGUP,
    NOW,
    TIMEOUT,
    FakeMongo,
    changestream_stage,
    cursor,
    error,
    eventually,
    insert_event,
    ticket_doc,
    token,
    update_event,
)

from helpdesk_tui.store.live import (
    POLL_OVERLAP,
    Batch,
    Change,
    FeedMode,
    LiveFeed,
    stream_pipeline,
    supports_change_streams,
)


class Recorder:
    """A thread-safe ``emit`` and ``sleep``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: list[Batch] = []
        self.sleeps: list[float] = []

    def __call__(self, batch: Batch) -> None:
        with self._lock:
            self._batches.append(batch)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
        time.sleep(0.001)

    @property
    def batches(self) -> list[Batch]:
        with self._lock:
            return list(self._batches)

    @property
    def changes(self) -> list[Change]:
        return [c for b in self.batches for c in b.changes]

    @property
    def modes(self) -> list[tuple[FeedMode, bool]]:
        return [(b.mode, b.reload) for b in self.batches if b.mode is not None]

    def wait(self, predicate: Callable[[Recorder], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not predicate(self):
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.batches}"
            time.sleep(0.002)


@pytest.fixture
def mongo() -> Iterator[FakeMongo]:
    fake = FakeMongo()
    try:
        yield fake
    finally:
        fake.close()


@contextmanager
def running(mongo: FakeMongo, **options: Any) -> Iterator[tuple[LiveFeed, Recorder]]:
    recorder = Recorder()
    feed = LiveFeed(mongo.store(), emit=recorder, sleep=recorder.sleep, **options)
    thread = threading.Thread(target=feed.run, name="live-feed-wire", daemon=True)
    thread.start()
    try:
        yield feed, recorder
    finally:
        feed.stop()
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the feed thread did not stop"
    assert feed.mode is FeedMode.STOPPED


# --- the server kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_name", "msg", "expected"),
    [("rs0", None, True), (None, "isdbgrid", True), (None, None, False)],
    ids=["replica-set", "mongos", "standalone"],
)
def test_change_streams_are_detected_from_hello(
    set_name: str | None, msg: str | None, expected: bool
) -> None:
    fake = FakeMongo(set_name=set_name, msg=msg)
    try:
        assert supports_change_streams(fake.store()) is expected
    finally:
        fake.close()


def test_a_standalone_server_is_followed_by_polling_updated_at() -> None:
    fake = FakeMongo(set_name=None)
    latest = NOW - timedelta(minutes=3)
    ticket_id = ObjectId()
    newest = {
        "_id": ObjectId(),
        "sender": ObjectId(),
        "content": "any news?",
        "isInternal": False,
        "createdAt": latest,
    }
    polled = ticket_doc(ticket_id, updatedAt=latest, messages=[newest])
    fake.script(
        "find",
        cursor([{"_id": ObjectId(), "updatedAt": latest}], cursor_id=0),  # _latest()
        cursor([], cursor_id=0),  # the overlap window at start (primed, not reported)
        cursor([polled], cursor_id=0),  # the first poll
    )
    try:
        with running(fake, poll_interval=0.01) as (feed, recorder):
            recorder.wait(lambda r: len(r.changes) == 1, "the polled change")
            finds = fake.wait_sent("find", 4)
            assert feed.mode is FeedMode.POLLING
        assert fake.sent("aggregate") == []  # never tried a change stream

        first, prime, poll = finds[0], finds[1], finds[2]
        assert prime["filter"] == poll["filter"]  # the same window, read once at start
        assert first["find"] == "tickets"
        assert first["filter"] == {"updatedAt": {"$type": "date"}}
        assert first["sort"] == {"updatedAt": -1} and first["limit"] == 1

        assert poll["find"] == "tickets"
        assert set(poll["filter"]) == {"updatedAt"}
        assert set(poll["filter"]["updatedAt"]) == {"$gte"}
        assert _aware(poll["filter"]["updatedAt"]["$gte"]) == latest - POLL_OVERLAP
        assert poll["sort"] == {"updatedAt": 1}
        assert poll["projection"]["messages"] == {"$slice": -1}
        assert "description" not in poll["projection"]
        assert finds[3]["filter"] == poll["filter"]  # nothing newer seen: same window

        assert recorder.modes[0] == (FeedMode.POLLING, False)
        (change,) = recorder.changes
        assert change.id == ticket_id and change.kind == "update"
        assert change.new_messages == (newest,)
        assert change.doc is not None and "messages" not in change.doc
    finally:
        fake.close()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- opening the stream -------------------------------------------------------------------------


def test_the_first_open_sends_the_fixed_pipeline_without_a_resume_token(
    mongo: FakeMongo,
) -> None:
    with running(mongo) as (feed, recorder):
        assert feed.ready.wait(TIMEOUT)
        (aggregate,) = mongo.wait_sent("aggregate", 1)
        get_more = mongo.wait_sent("getMore", 1)[0]
        assert feed.mode is FeedMode.LIVE

    assert aggregate["aggregate"] == "tickets"
    assert aggregate["$db"] == DB
    assert aggregate["pipeline"] == [{"$changeStream": EXPECTED_FIRST_STAGE}, *stream_pipeline()]
    assert "resumeAfter" not in changestream_stage(aggregate)
    assert "startAfter" not in changestream_stage(aggregate)
    assert get_more["getMore"] == CURSOR and get_more["collection"] == "tickets"
    assert get_more["maxTimeMS"] == 1000  # min(poll_interval, 1 s) as maxAwaitTimeMS
    assert recorder.modes == [(FeedMode.LIVE, False)]
    assert recorder.changes == []
    assert mongo.sent("killCursors")[-1]["cursors"] == [CURSOR]  # closed on stop


def test_events_become_batches_of_changes(mongo: FakeMongo) -> None:
    updated_id, inserted_id = ObjectId(), ObjectId()
    message = {
        "_id": ObjectId(),
        "sender": ObjectId(),
        "content": "still nothing",
        "attachments": [],
        "isInternal": False,
        "createdAt": NOW,
    }
    update = update_event("0001", updated_id, {"messages.3": message})
    insert = insert_event("0002", inserted_id)
    mongo.script("aggregate", cursor([update, insert], pbrt=token("0003")))
    with running(mongo) as (feed, recorder):
        recorder.wait(lambda r: len(r.changes) == 2, "two changes")
        mongo.wait_sent("getMore", 2)
        assert feed.resume_token == token("0003")

    pushed, created = recorder.changes
    assert pushed.id == updated_id
    assert pushed.kind == "update"
    assert pushed.updated == {"messages"}
    assert len(pushed.new_messages) == 1
    assert dict(pushed.new_messages[0]) == {**message, "createdAt": NOW}
    assert pushed.doc is not None and pushed.doc["ticketNumber"] == "TKT-000042"
    assert created.id == inserted_id
    assert created.kind == "insert"
    assert created.new_messages == () and created.updated == frozenset()
    assert created.doc is not None and created.doc["createdAt"] == NOW
    assert all(not b.reload for b in recorder.batches)


def test_a_burst_of_events_is_coalesced_into_few_batches(mongo: FakeMongo) -> None:
    ids = [ObjectId() for _ in range(40)]
    events = [
        update_event(f"{i:04d}", ticket, {"status": "waiting"}) for i, ticket in enumerate(ids)
    ]
    mongo.script("aggregate", cursor(events[:25]))
    mongo.script("getMore", cursor(events[25:], first=False))
    with running(mongo) as (_feed, recorder):
        recorder.wait(lambda r: len(r.changes) == 40, "forty changes")

    assert [c.id for c in recorder.changes] == ids  # in order, each once
    batches = [b for b in recorder.batches if b.changes]
    assert len(batches) <= 3  # the first at once, the rest together


# --- resuming -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        error(6, "HostUnreachable", "ResumableChangeStreamError"),
        error(91, "ShutdownInProgress", "ResumableChangeStreamError"),
        error(189, "PrimarySteppedDown", "ResumableChangeStreamError"),
        HANGUP,
    ],
    ids=["HostUnreachable", "ShutdownInProgress", "PrimarySteppedDown", "network"],
)
def test_a_resumable_error_resumes_after_the_last_event(mongo: FakeMongo, failure: Any) -> None:
    """The driver resumes by itself (once): the feed sees no gap and stays live."""
    ticket = ObjectId()
    event = update_event("0001", ticket, {"status": "waiting"})
    mongo.script("aggregate", cursor([event]))  # no postBatchResumeToken: the event's _id
    mongo.script("getMore", failure)
    with running(mongo) as (feed, recorder):
        first, resumed = mongo.wait_sent("aggregate", 2)[:2]
        recorder.wait(lambda r: len(r.changes) == 1, "the event")
        mongo.wait_sent("getMore", 2)  # following the resumed stream
        assert feed.mode is FeedMode.LIVE
        assert feed.resume_token == token("0001")

    assert changestream_stage(first) == EXPECTED_FIRST_STAGE
    assert changestream_stage(resumed) == {**EXPECTED_FIRST_STAGE, "resumeAfter": token("0001")}
    assert resumed["pipeline"][1:] == first["pipeline"][1:] == stream_pipeline()
    assert recorder.modes == [(FeedMode.LIVE, False)]  # no reconnecting, no reload
    assert [c.id for c in recorder.changes] == [ticket]
    assert recorder.sleeps == []


def test_an_error_the_driver_gives_up_on_reopens_after_the_post_batch_token(
    mongo: FakeMongo,
) -> None:
    """No resumable label (server 4.4+ semantics): the feed's loop backs off and resumes."""
    ticket = ObjectId()
    event = update_event("0001", ticket, {"status": "waiting"})
    mongo.script("aggregate", cursor([event], pbrt=token("0002")))
    mongo.script("getMore", error(6, "HostUnreachable"))
    with running(mongo) as (feed, recorder):
        first, reopened = mongo.wait_sent("aggregate", 2)[:2]
        recorder.wait(lambda r: r.modes[-1][0] is FeedMode.LIVE and len(r.modes) == 3, "live")
        assert feed.mode is FeedMode.LIVE

    assert changestream_stage(reopened) == {**EXPECTED_FIRST_STAGE, "resumeAfter": token("0002")}
    assert reopened["pipeline"][1:] == first["pipeline"][1:]
    assert [m for m, _ in recorder.modes] == [FeedMode.LIVE, FeedMode.RECONNECTING, FeedMode.LIVE]
    reconnecting = next(b for b in recorder.batches if b.mode is FeedMode.RECONNECTING)
    assert not reconnecting.reload
    assert "HostUnreachable" in reconnecting.detail or "scripted" in reconnecting.detail
    assert recorder.sleeps[:1] == [1.0]  # the first backoff
    assert [c.id for c in recorder.changes] == [ticket]  # the event, once


def test_an_aggregate_that_keeps_failing_backs_off_exponentially_up_to_the_cap(
    mongo: FakeMongo,
) -> None:
    """Doubling, but never past MAX_BACKOFF (4 s): a restarted server is live again within
    seconds, not after half a minute (issue 27)."""
    mongo.script("aggregate", *[error(13, "Unauthorized")] * 4)
    with running(mongo) as (feed, recorder):
        mongo.wait_sent("aggregate", 5)
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")
        assert feed.mode is FeedMode.LIVE
    assert recorder.sleeps == [1.0, 2.0, 4.0, 4.0]
    assert recorder.modes == [(FeedMode.RECONNECTING, False), (FeedMode.LIVE, True)]


# --- history lost, invalidated ------------------------------------------------------------------


def test_history_lost_on_get_more_reloads_and_reopens_without_a_token(mongo: FakeMongo) -> None:
    event = update_event("0001", ObjectId(), {"status": "waiting"})
    mongo.script("aggregate", cursor([event], pbrt=token("0002")))
    mongo.script("getMore", error(286, "ChangeStreamHistoryLost"))
    with running(mongo) as (_feed, recorder):
        first, reopened = mongo.wait_sent("aggregate", 2)[:2]
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")

    assert changestream_stage(reopened) == EXPECTED_FIRST_STAGE  # no resumeAfter
    assert reopened["pipeline"][1:] == first["pipeline"][1:]
    # Views reload when the fresh stream is open, not before (nothing falls in between).
    assert (FeedMode.RECONNECTING, False) in recorder.modes
    assert any(b.reload for b in recorder.batches)


def test_history_lost_when_resuming_reloads_and_reopens_without_a_token(
    mongo: FakeMongo,
) -> None:
    event = update_event("0001", ObjectId(), {"status": "waiting"})
    mongo.script(
        "aggregate",
        cursor([event], pbrt=token("0002")),
        error(286, "ChangeStreamHistoryLost"),  # the resume: the oplog rolled past our token
    )
    mongo.script("getMore", error(6, "HostUnreachable"))
    with running(mongo) as (feed, recorder):
        first, resumed, fresh = mongo.wait_sent("aggregate", 3)[:3]
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")
        eventually(lambda: feed.resume_token is not None, "the fresh stream's own token")

    assert changestream_stage(first) == EXPECTED_FIRST_STAGE
    assert changestream_stage(resumed) == {**EXPECTED_FIRST_STAGE, "resumeAfter": token("0002")}
    assert changestream_stage(fresh) == EXPECTED_FIRST_STAGE
    assert first["pipeline"][1:] == resumed["pipeline"][1:] == fresh["pipeline"][1:]
    # Views reload when the fresh stream is open, not before (nothing falls in between).
    assert (FeedMode.RECONNECTING, False) in recorder.modes


@pytest.mark.parametrize(
    "failure",
    [
        error(280, "ChangeStreamFatalError"),
        error(260, "InvalidResumeToken"),
        error(2, "BadValue", "NonResumableChangeStreamError"),
    ],
    ids=["ChangeStreamFatalError", "InvalidResumeToken", "NonResumable-label"],
)
def test_fatal_errors_drop_the_token_and_reload(mongo: FakeMongo, failure: Any) -> None:
    mongo.script("aggregate", cursor([update_event("0001", ObjectId(), {"status": "open"})]))
    mongo.script("getMore", failure)
    with running(mongo) as (_feed, recorder):
        reopened = mongo.wait_sent("aggregate", 2)[1]
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")
    assert changestream_stage(reopened) == EXPECTED_FIRST_STAGE
    # Views reload when the fresh stream is open, not before (nothing falls in between).
    assert (FeedMode.RECONNECTING, False) in recorder.modes


def test_an_invalidate_event_reloads_and_reopens_without_a_token(mongo: FakeMongo) -> None:
    ticket = ObjectId()
    before = update_event("0001", ticket, {"status": "waiting"})
    invalidate = {"_id": token("0002"), "operationType": "invalidate"}
    mongo.script("aggregate", cursor([before]))
    mongo.script("getMore", cursor([invalidate], first=False, cursor_id=0))
    with running(mongo) as (feed, recorder):
        reopened = mongo.wait_sent("aggregate", 2)[1]
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")
        assert feed.mode is FeedMode.LIVE

    assert changestream_stage(reopened) == EXPECTED_FIRST_STAGE
    assert recorder.modes[:2] == [(FeedMode.LIVE, False), (FeedMode.RECONNECTING, False)]
    reconnecting = next(b for b in recorder.batches if b.mode is FeedMode.RECONNECTING)
    assert reconnecting.detail == "stream invalidated"
    assert [c.id for c in recorder.changes] == [ticket]  # the event before it, not the invalidate


def test_a_cursor_the_server_closed_is_treated_as_invalidated(mongo: FakeMongo) -> None:
    """A closed cursor without an invalidate event (e.g. filtered out): reload and reopen."""
    mongo.script("aggregate", cursor([update_event("0001", ObjectId(), {"status": "open"})]))
    mongo.script("getMore", cursor([], first=False, cursor_id=0, pbrt=token("0002")))
    with running(mongo) as (_feed, recorder):
        reopened = mongo.wait_sent("aggregate", 2)[1]
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")
    assert changestream_stage(reopened) == EXPECTED_FIRST_STAGE
    # Views reload when the fresh stream is open, not before (nothing falls in between).
    assert (FeedMode.RECONNECTING, False) in recorder.modes


def test_a_fatal_error_that_recurs_on_a_fresh_open_backs_off(mongo: FakeMongo) -> None:
    """Regression: a fatal error once 'continue'd straight back to watch(), so one that recurs
    on a fresh open (no token to drop) re-opened in a hot loop of aggregates and reloads."""
    mongo.script("aggregate", *[error(280, "ChangeStreamFatalError")] * 5)
    with running(mongo) as (_feed, recorder):
        mongo.wait_sent("aggregate", 6)
        recorder.wait(lambda r: r.modes[-1:] == [(FeedMode.LIVE, True)], "live again")
    # Five failed opens without a token in between: at least four waits between them.
    assert len(recorder.sleeps) >= 4
