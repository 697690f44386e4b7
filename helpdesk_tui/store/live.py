"""The live feed: one change stream on ``tickets`` (or polling by ``updatedAt``) as batches.

Runs in one thread owned by the app, and hands each batch to ``emit`` (which must be
thread-safe; the app posts a message). Events are coalesced into batches so a burst costs the
views one refresh, not a thousand.

Change streams: the pipeline is fixed for the feed's life (identical across resumes). The driver
resumes once on a resumable error; past that, the loop reopens with the last resume token and
exponential backoff, reporting ``reconnecting``. Lost history (code 286), a fatal error or an
invalidate drops the token and tells the views to reload, since events may be missing.

Health (issue 27): a stalled server answers nothing and raises nothing, so the mode alone would
say "live" through a stall. The feed notes when it asked the server and when the server last
answered; ``status()`` (read by the app every second, from any thread) says "not answering"
once a question has waited ``STALL_AFTER`` seconds, "offline" when no server can be selected,
and "catching up" while a stream that came back still brings what it missed.

Polling (standalone server): ``updatedAt >= last seen - overlap``, de-duplicated by
a fingerprint of each document, so clock skew between writers and equal millisecond stamps lose
nothing. Deletes are not seen by polling (the Ticket Service never deletes tickets).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING
from pymongo.errors import OperationFailure, PyMongoError, ServerSelectionTimeoutError

from helpdesk_tui.domain.models import utc
from helpdesk_tui.store.connection import ServerAnswers, server_answers
from helpdesk_tui.store.lenient import carry_on
from helpdesk_tui.store.queries import DERIVED_FIELDS, QUEUE_FIELDS, row_fields
from helpdesk_tui.store.queue_index import IndexMaintainer
from helpdesk_tui.store.tickets import TicketStore

HISTORY_LOST = 286  # ChangeStreamHistoryLost
FATAL_CODES = frozenset({HISTORY_LOST, 280, 260})  # + ChangeStreamFatalError, InvalidResumeToken
OPERATIONS = ("insert", "update", "replace", "delete")
BATCH_WINDOW = 0.1  # seconds: events arriving this close together make one batch
# Seconds: the least time between an empty answer of the stream and the next ask. A server
# answers a waiting getMore as soon as anything is written anywhere (the queue index, presence,
# audit), mostly with nothing for us; every app asking again at once made each ticket update
# cost the server ~3.7 getMores per app (SecantusDB, 10 apps). Paced, an event waits at most
# this long, and a getMore usually brings the ticket's event with the writes that followed it.
PACE = 0.25
# Seconds between attempts to reopen a failed stream, at most. Each attempt costs a server
# selection (a few hundred bytes); a short cap brings "live" back within seconds of a restart.
MAX_BACKOFF = 4.0
# Seconds a question to the server (a getMore that the server answers within ``max_await``, a
# lease renewal, opening the stream) may go unanswered before the feed is "not answering".
STALL_AFTER = 2.5
POLL_OVERLAP = timedelta(seconds=5)
MESSAGE_MEMORY = 20_000  # tickets whose newest message id the poller remembers


class FeedMode(StrEnum):
    STARTING = "starting"
    LIVE = "live"
    POLLING = "polling"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"  # no server could be selected
    STOPPED = "stopped"


class FeedState(StrEnum):
    """What the top bar says: the mode, corrected by the feed's health."""

    STARTING = "starting"
    LIVE = "live"
    POLLING = "polling"
    CATCHING_UP = "catching up"
    STALLED = "not answering"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    STOPPED = "stopped"


NOT_LIVE = frozenset({FeedState.STALLED, FeedState.RECONNECTING, FeedState.OFFLINE})


@dataclass(frozen=True)
class FeedStatus:
    state: FeedState
    # When the feed stopped being live (the last answer before the trouble); None when live.
    since: datetime | None = None
    # The views show what the server said up to this moment (its last answer).
    rows_as_of: datetime | None = None
    detail: str = ""

    @property
    def live(self) -> bool:
        return self.state not in NOT_LIVE


@dataclass(frozen=True)
class Change:
    """One ticket changed. ``doc`` holds the queue fields when the event carried them."""

    id: ObjectId
    kind: str  # insert, update, replace, delete
    doc: Mapping[str, Any] | None = None
    # The top-level fields an update touched; empty when not known (a polled change).
    updated: frozenset[str] = frozenset()
    new_messages: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Batch:
    changes: tuple[Change, ...] = ()
    reload: bool = False  # events may have been missed: views must re-query
    mode: FeedMode | None = None  # set when the mode changed
    detail: str = ""

    @property
    def ids(self) -> frozenset[ObjectId]:
        return frozenset(c.id for c in self.changes)


def stream_pipeline() -> list[dict[str, Any]]:
    """The change-stream pipeline: our four operation types, projected to the queue's needs.

    ``updateDescription.updatedFields`` is kept whole: for a ``$push`` it holds only the new
    message (``messages.N``), which is what the open ticket and the notifications need.
    """
    project: dict[str, Any] = {
        "operationType": 1,
        "documentKey": 1,
        "updateDescription.updatedFields": 1,
        "updateDescription.removedFields": 1,
        "updateDescription.truncatedArrays": 1,
    }
    project.update({f"fullDocument.{name}": 1 for name in QUEUE_FIELDS})
    project.update({f"fullDocument.{name}": 1 for name in DERIVED_FIELDS})
    # What a queue row needs from the messages, computed by the server from the looked-up
    # document, so the event alone can place the row: no read of ours per event.
    derived = {f"fullDocument.{k}": v for k, v in row_fields("fullDocument.").items()}
    return [
        {"$match": {"operationType": {"$in": list(OPERATIONS)}}},
        {"$addFields": derived},
        {"$project": project},
    ]


def change_from_event(event: Mapping[str, Any]) -> Change | None:
    """A change-stream event as a ``Change``; None for events we do not follow."""
    kind = event.get("operationType")
    key = (event.get("documentKey") or {}).get("_id")
    if kind not in OPERATIONS or not isinstance(key, ObjectId):
        return None
    description = event.get("updateDescription") or {}
    fields = description.get("updatedFields") or {}
    # Every top-level field the update touched: set, removed, or an array truncated.
    touched = [*fields, *(description.get("removedFields") or ())]
    truncated = description.get("truncatedArrays") or ()
    touched += [t.get("field", "") for t in truncated if isinstance(t, Mapping)]
    messages: list[Mapping[str, Any]] = []
    for name, value in fields.items():
        if name.startswith("messages."):
            messages.append(value)
        elif name == "messages" and isinstance(value, list):
            messages.extend(value[-1:])  # a whole-array set: the newest is what matters
    doc = event.get("fullDocument")
    if kind == "delete" or not isinstance(doc, Mapping) or "_id" not in doc:
        doc = None  # deleted, or gone before the lookup: the derived fields stand alone
    return Change(
        id=key,
        kind=kind,
        doc=doc,
        updated=frozenset(str(name).split(".")[0] for name in touched),
        new_messages=tuple(m for m in messages if isinstance(m, Mapping)),
    )


def supports_change_streams(store: TicketStore) -> bool:
    """A replica set or sharded cluster has change streams; a standalone not."""
    try:
        hello = store.db.command("hello")
    except PyMongoError:  # a server too old for `hello` has none either
        return False
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


@dataclass
class LiveFeed:
    store: TicketStore
    emit: Callable[[Batch], None]
    poll_interval: float = 2.0
    # How the loop waits; by default it wakes at once when stop() is called.
    sleep: Callable[[float], Any] | None = None
    mode: FeedMode = FeedMode.STARTING
    resume_token: Mapping[str, Any] | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    # Keeps the queue index true for other writers while this app holds its lease.
    maintainer: IndexMaintainer | None = None
    # Acts on each batch before it is emitted (store/wake.py: a customer's reply wakes a
    # waiting ticket); its writes come back as events like anyone's.
    waker: Callable[[tuple[Change, ...]], Any] | None = None
    # Where the stream starts: the resume token of a first page read before the feed ran
    # (store/early.py), so nothing written after that page is missed. None: from now.
    starting_point: Callable[[], Mapping[str, Any] | None] | None = None
    pace: float = PACE
    # The clock of the health checks (tests pass their own).
    monotonic: Callable[[], float] = time.monotonic
    stall_after: float = STALL_AFTER
    # When the client last heard from the server, whatever thread asked (store/connection.py);
    # found on the store's client when not given.
    answers: ServerAnswers | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    # Health, written by the feed's thread, read by the app's (plain attributes: each is
    # replaced whole, never mutated).
    _asked_at: float | None = field(default=None, init=False)
    _answered_at: datetime | None = field(default=None, init=False)
    _trouble_since: datetime | None = field(default=None, init=False)
    _catching_up: bool = field(default=False, init=False)
    _detail: str = field(default="", init=False)

    def status(self) -> FeedStatus:
        """The feed's state as the agent should be told it (any thread may ask)."""
        mode, asked, now = self.mode, self._asked_at, self.monotonic()
        waited = now - asked if asked is not None else 0.0
        # A long job of many commands (a catch-up) is not a stall: the server keeps answering.
        heard = answers.last if (answers := self.answers) is not None else None
        silent = heard is None or now - heard >= self.stall_after
        if mode in (FeedMode.LIVE, FeedMode.POLLING) and waited >= self.stall_after and silent:
            since = self._answered_at
            return FeedStatus(FeedState.STALLED, since, since, f"no answer for {waited:.0f} s")
        if mode in (FeedMode.RECONNECTING, FeedMode.OFFLINE):
            state = FeedState(mode.value)
            return FeedStatus(state, self._trouble_since, self._answered_at, self._detail)
        if mode is FeedMode.LIVE and self._catching_up:
            return FeedStatus(FeedState.CATCHING_UP, rows_as_of=self._answered_at)
        return FeedStatus(FeedState(mode.value), rows_as_of=self._answered_at)

    @contextlib.contextmanager
    def _asking(self) -> Iterator[None]:
        """Around every question to the server: how long it has waited is the feed's health."""
        self._asked_at = self.monotonic()
        try:
            yield
        finally:
            self._asked_at = None

    def _answered(self, *, stalled: bool = False, empty: bool = True) -> None:
        """The server answered: the views are as of now. An answer after a stall or a reopen
        that brings events is the backlog ("catching up"); an empty one means caught up."""
        self._answered_at = self.store.now()
        self._trouble_since = None
        if empty:
            self._catching_up = False
        elif stalled:
            self._catching_up = True

    def __post_init__(self) -> None:
        if self.answers is None:
            self.answers = server_answers(self.store.db.client)

    def stop(self) -> None:
        self._stop.set()

    def _wait(self, seconds: float) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            self._stop.wait(seconds)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _maintain(self, ids: frozenset[ObjectId] = frozenset()) -> None:
        """The queue index's share of the loop: renew the lease; apply others' changes."""
        if self.maintainer is None:
            return
        try:
            if self.maintainer.tick():
                # A catch-up changed entries the views may have read before it: they reload.
                self.emit(Batch(reload=True))
            if ids:
                self.maintainer.changed(ids)
        except PyMongoError:
            pass  # the next turn of the loop tries again; pages repair what they find stale
        except Exception as error:  # a bug (a record of ours in another shape): never the feed
            carry_on(error, "queue index maintenance")

    def _deliver(self, changes: tuple[Change, ...]) -> None:
        self._maintain(frozenset(c.id for c in changes))
        if self.waker is not None:
            try:
                self.waker(changes)
            except PyMongoError:
                pass  # the next customer event tries again
            except Exception as error:  # a bug: the batch is still delivered
                carry_on(error, "waking waiting tickets")
        self.emit(Batch(changes=changes))

    def _set_mode(self, mode: FeedMode, detail: str = "", *, reload: bool = False) -> None:
        if mode in (FeedMode.RECONNECTING, FeedMode.OFFLINE):
            if self._trouble_since is None:
                self._trouble_since = self._answered_at or self.store.now()
            self._detail = detail
        if mode is not self.mode or reload:
            self.mode = mode
            self.emit(Batch(mode=mode, reload=reload, detail=detail))

    def run(self) -> None:
        """Follow the collection until ``stop()``: live if the server can, else polling."""
        try:
            if self.starting_point is not None and self.resume_token is None:
                self.resume_token = self.starting_point()
            if supports_change_streams(self.store):
                self._watch_forever()
            else:
                self._poll_forever()
        finally:
            self.mode = FeedMode.STOPPED
            self.ready.set()
            if self.maintainer is not None:
                with contextlib.suppress(PyMongoError):
                    self.maintainer.stop()

    # --- change streams ----------------------------------------------------------------------

    def _watch_forever(self) -> None:
        backoff = 1.0
        pipeline = stream_pipeline()
        while not self.stopped:
            try:
                with self._asking():
                    stream = self.store.tickets.watch(
                        pipeline,
                        full_document="updateLookup",
                        resume_after=self.resume_token,
                        max_await_time_ms=int(min(self.poll_interval, 1.0) * 1000),
                    )
                with stream:
                    # Views reload once the new stream is open (so nothing falls in between),
                    # and only if events may be missing: when views may already have loaded
                    # and we have no token to resume from. A resume with our token loses none.
                    missed = self.resume_token is None and self.ready.is_set()
                    # Back after trouble: what was missed comes first ("catching up").
                    back = self.mode in (FeedMode.RECONNECTING, FeedMode.OFFLINE)
                    self._answered()
                    self._catching_up = back or missed
                    self._set_mode(FeedMode.LIVE, reload=missed)
                    if not self.ready.is_set() and self.maintainer is not None:
                        # The views' first page does not wait for the lease and its catch-up
                        # (seconds after a night without an app): it reads the index as it is,
                        # and reloads if the catch-up (next, in _follow) changes an entry.
                        self.maintainer.starting()
                    self.ready.set()
                    backoff = 1.0
                    self._follow(stream)
                    if not self.stopped:  # the stream closed: an invalidate
                        self.resume_token = None
                        self._set_mode(FeedMode.RECONNECTING, "stream invalidated")
            except OperationFailure as error:
                if error.code in FATAL_CODES or error.has_error_label(
                    "NonResumableChangeStreamError"
                ):
                    # History is gone: start afresh and reload (after the backoff below, so an
                    # error that recurs on a fresh open cannot spin).
                    self.resume_token = None
                    self._set_mode(FeedMode.RECONNECTING, _reason(error))
                else:
                    self._set_mode(FeedMode.RECONNECTING, _reason(error))
            except ServerSelectionTimeoutError as error:
                self._set_mode(FeedMode.OFFLINE, _reason(error))
            except PyMongoError as error:
                self._set_mode(FeedMode.RECONNECTING, _reason(error))
            self.ready.set()
            if not self.stopped:
                self._wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _follow(self, stream: Any) -> None:
        """Emit events in batches: the first after a quiet spell at once, a burst every
        ``BATCH_WINDOW``. Pending events are emitted even if the stream fails, since the
        resume token already points past them. An empty answer is not asked again within
        ``pace`` (see ``PACE``)."""
        pending: list[Change] = []
        last_emit = 0.0
        quiet_until = 0.0  # after an empty answer: not before this (monotonic) time
        try:
            while stream.alive and not self.stopped:
                with self._asking():
                    self._maintain()
                if (wait := quiet_until - time.monotonic()) > 0 and self._stop.wait(wait):
                    break
                asked = time.monotonic()
                with self._asking():
                    event = stream.try_next()
                self.resume_token = stream.resume_token
                stalled = time.monotonic() - asked >= self.stall_after
                self._answered(stalled=stalled, empty=event is None)
                if event is None:
                    quiet_until = asked + self.pace
                    if pending:
                        self._deliver(tuple(pending))
                        pending = []
                    continue
                if event.get("operationType") == "invalidate":
                    break
                change = change_from_event(event)
                if change is not None:
                    pending.append(change)
                now = time.monotonic()
                if pending and now - last_emit >= BATCH_WINDOW:
                    self._deliver(tuple(pending))
                    pending, last_emit = [], now
        finally:
            if pending:
                self._deliver(tuple(pending))

    # --- polling -------------------------------------------------------------------------------

    def _poll_forever(self) -> None:
        projection: dict[str, Any] = {name: 1 for name in QUEUE_FIELDS}
        projection["messages"] = {"$slice": -1}  # the newest message, for notifications
        since = started = self._latest()
        # Per ticket still inside the overlap window: the last fingerprint and stamp reported,
        # and (longer) the newest message id, to tell a new message from an old one.
        last: dict[ObjectId, tuple[str, datetime]] = {}
        newest: OrderedDict[ObjectId, Any] = OrderedDict()
        # What the overlap window holds at start is what the views load: not news. Remember it
        # so the first poll reports only what changes from now on.
        with contextlib.suppress(PyMongoError):
            for doc in self.store.tickets.find(
                {"updatedAt": {"$gte": started - POLL_OVERLAP}}, projection
            ):
                stamp = doc.get("updatedAt")
                if isinstance(doc.get("_id"), ObjectId) and isinstance(stamp, datetime):
                    last[doc["_id"]] = (_fingerprint(doc), utc(stamp))
                    self._polled_change(doc, newest, started)
        self._answered()
        self._set_mode(FeedMode.POLLING, f"every {self.poll_interval:g}s")
        self.ready.set()
        failing = False
        while not self.stopped:
            self._wait(self.poll_interval)
            if self.stopped:
                break
            with self._asking():
                self._maintain()
            try:
                with self._asking():
                    cursor = self.store.tickets.find(
                        {"updatedAt": {"$gte": since - POLL_OVERLAP}}, projection
                    ).sort("updatedAt", 1)
                    docs = list(cursor)
            except PyMongoError as error:
                failing = True
                mode = (
                    FeedMode.OFFLINE
                    if isinstance(error, ServerSelectionTimeoutError)
                    else FeedMode.RECONNECTING
                )
                self._set_mode(mode, _reason(error))
                continue
            self._answered()
            if failing:
                failing = False
                self._set_mode(FeedMode.POLLING, "reconnected", reload=True)
            changes = []
            for doc in docs:
                ticket_id = doc.get("_id")
                stamp = doc.get("updatedAt")
                if not isinstance(ticket_id, ObjectId) or not isinstance(stamp, datetime):
                    continue
                stamp = utc(stamp)
                mark = _fingerprint(doc)
                if last.get(ticket_id, ("", stamp))[0] == mark:
                    continue  # unchanged since the last poll (still inside the overlap)
                last[ticket_id] = (mark, stamp)
                since = max(since, stamp)
                changes.append(self._polled_change(doc, newest, started))
            horizon = since - POLL_OVERLAP
            for ticket_id in [t for t, (_, at) in last.items() if at < horizon]:
                del last[ticket_id]
            if changes:
                self._deliver(tuple(changes))

    @staticmethod
    def _polled_change(
        doc: dict[str, Any], newest: OrderedDict[ObjectId, Any], started: datetime
    ) -> Change:
        """A polled document as a Change; its newest message counts as new only once."""
        ticket_id = doc["_id"]
        tail = doc.pop("messages", None)
        message = (
            tail[-1] if isinstance(tail, list) and tail and isinstance(tail[-1], dict) else None
        )
        new: tuple[Mapping[str, Any], ...] = ()
        if message is not None:
            seen_before = ticket_id in newest
            if newest.get(ticket_id) != message.get("_id"):
                sent = message.get("createdAt")
                fresh = isinstance(sent, datetime) and utc(sent) >= started - POLL_OVERLAP
                if seen_before or fresh:
                    new = (message,)
            newest[ticket_id] = message.get("_id")
            newest.move_to_end(ticket_id)
            while len(newest) > MESSAGE_MEMORY:
                newest.popitem(last=False)
        # Never updated since it was written: as good as an insert event.
        kind = "insert" if doc.get("createdAt") == doc.get("updatedAt") else "update"
        return Change(id=ticket_id, kind=kind, doc=doc, new_messages=new)

    def _latest(self) -> datetime:
        doc = None
        with contextlib.suppress(PyMongoError):
            doc = self.store.tickets.find_one(
                {"updatedAt": {"$type": "date"}}, {"updatedAt": 1}, sort=[("updatedAt", DESCENDING)]
            )
        stamp = (doc or {}).get("updatedAt")
        return utc(stamp) if isinstance(stamp, datetime) else utc(self.store.now())


def _fingerprint(doc: Mapping[str, Any]) -> str:
    return hashlib.blake2b(repr(sorted(doc.items())).encode(), digest_size=12).hexdigest()


def _reason(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:120] if text else type(error).__name__


def changed_ids(batches: Iterable[Batch]) -> frozenset[ObjectId]:
    return frozenset(i for b in batches for i in b.ids)
