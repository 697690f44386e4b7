"""The supervisor's pulse, computed from the server's answers (issue 30).

Two aggregations, each starting with an index-backed ``$match`` (tests/pulse checks the
plans):

* ``queue_index`` as **facts**, one small row per ticket the figures can touch (when it came,
  was first answered and resolved, and its two deadlines: ``createdAt`` plus the priority's
  targets, added by the server): every active ticket (an index led by ``phase``) and the
  done ones resolved since the window's start (``qi_phase_resolved``), as two pipelines (one
  ``$or`` would do on MongoDB; SecantusDB scans the collection for it). Later, only the
  tickets that changed, on ``_id``.
* ``ticket_events`` (the audit trail): status changes per hour (``$group`` on
  ``$dateTrunc``), into and out of ``waiting`` (the one figure only the trail knows), on the
  ``pulse_action_at`` index this module adds. Later, only the hours since the last computation.

Why not the whole figure on the server: at 10,000 tickets SecantusDB (a Python engine) took
~10-28 s for one ``$facet`` per figure over the window (benchmarks/README.md), and MongoDB too
would walk every ticket of the week on every refresh. So the rollups are kept in this process
and refreshed incrementally (``PulseStore``): the live feed names changed tickets
(``changed``), the ``poll_updatedAt`` index on tickets finds those it did not (another app,
the Ticket Service), and the status-change hours from the last computation's on are grouped
again. Every count is then taken from the facts in one walk (``tally``), exactly by the
definitions of domain/pulse.py: the figures depend on *now* (a deadline passing breaches a
ticket without any write), so counts frozen per hour on the server could not be exact at the
minute. (A ``$merge`` of counts per hour into a collection, which SecantusDB accepts, was
weighed: the counts per hour cannot be exact at the minute, as said.)

Kept for the next process: the facts and the closed hours of status changes, as of a
watermark, in ``pulse_state`` (``PulseStore``; only the supervisor role may write it), so a new
process's first computation reads a handful of documents and refreshes since, instead of the
whole window (5-10 s at 10,000 tickets on SecantusDB, benchmarks/README.md).

Cached per minute of the store's clock: a pulse is never more than a minute old.
"""

from __future__ import annotations

import logging
import struct
import threading
import weakref
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary, ObjectId
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from helpdesk_tui.domain import pulse as figures
from helpdesk_tui.domain.models import Priority, Status, utc
from helpdesk_tui.domain.pulse import (
    HOUR,
    AgentPulse,
    Attainment,
    Backlog,
    Clock,
    Pulse,
    Window,
    median,
    per_hour,
    series,
)
from helpdesk_tui.domain.sla import SlaPolicy
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.store.errors import db_errors

CACHE_SECONDS = 60
# How far back each computation looks again for updated tickets and inserted audit entries
# (writers' clocks differ a little; reading one twice changes nothing).
CATCH_UP = timedelta(minutes=5)
MILLISECOND = timedelta(milliseconds=1)
MINUTE = timedelta(minutes=1)
EVENT_INDEX = "pulse_action_at"
WAITING = Status.WAITING.value
BOUNDS = [*figures.HISTOGRAM_BOUNDS, 10**12]
# The state kept in ``pulse_state`` for the next process (see PulseStore): its layout's version,
# facts per document (~75 bytes a fact: ~0.4 MB a document, 20 of them at 100,000 tickets), how
# often a process writes it, and the one document that says which chunks are current.
STATE_VERSION = 1
STATE_CHUNK = 5_000
DATES = struct.Struct("<5q")  # created, resolved, first response, two deadlines: ms or NO_DATE
CODES = struct.Struct("<4I")  # phase, status, priority, assignee: places in the chunk's values
NO_DATE = -(2**63)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SAVE_EVERY = timedelta(minutes=1)
STATE_STALE = timedelta(hours=1)  # a state started from is written again at once if this old
STATE_META = "meta"
UNAUTHORIZED = 13

log = logging.getLogger(__name__)


def init(events: Collection[Any]) -> list[str]:
    """The audit trail's index the status-change pipeline walks (``init-db``)."""
    return [str(events.create_index([("action", 1), ("at", 1)], name=EVENT_INDEX))]


def _due(policy: SlaPolicy, first_response: bool) -> dict[str, Any]:
    """``createdAt`` + the priority's target, as an expression: the targets in milliseconds
    indexed by the entry's ``prio`` (0 urgent .. 3 low; an unknown priority is medium's 2)."""
    by_rank = sorted(Priority, key=lambda p: p.rank)
    targets = [policy.target(p) for p in by_rank]
    minutes = [
        t.first_response_minutes if first_response else t.resolution_minutes for t in targets
    ]
    return {
        "$add": [
            "$createdAt",
            {"$arrayElemAt": [[m * 60_000 for m in minutes], {"$ifNull": ["$prio", 2]}]},
        ]
    }


def _count(condition: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _hour(path: str) -> dict[str, Any]:
    return {"$dateTrunc": {"date": path, "unit": "hour"}}


def facts_pipeline(match: dict[str, Any], policy: SlaPolicy) -> list[dict[str, Any]]:
    """One part (``match``) of ``queue_index`` as the pulse's facts: per ticket, when it came,
    was first answered and resolved, and its two deadlines (computed by the server)."""
    return [
        # The part's own filter only: SecantusDB leaves its index for a scan once a $type is
        # added beside it (tests/pulse/test_pulse_plans.py); the type is checked after.
        {"$match": match},
        {
            "$project": {
                "phase": 1,
                "status": 1,
                "assignedTo": 1,
                "priority": 1,
                "created": "$createdAt",
                # An active ticket's resolvedAt is the index's placeholder (the epoch): none.
                "resolved": {"$cond": [{"$eq": ["$phase", "done"]}, "$resolvedAt", None]},
                "fr": {"$ifNull": ["$firstResponseAt", None]},
                "frDue": _due(policy, True),
                "resDue": _due(policy, False),
            }
        },
        {"$match": {"created": {"$type": "date"}}},
    ]


def ticket_parts(w: Window) -> list[dict[str, Any]]:
    """The two index-backed parts of ``queue_index`` the figures can touch."""
    return [{"phase": "active"}, {"phase": "done", "resolvedAt": {"$gte": w.start}}]


def changed_part(ids: Iterable[ObjectId]) -> dict[str, Any]:
    """Only these tickets (on ``_id``): what an incremental refresh re-reads."""
    return {"_id": {"$in": sorted(ids)}}


def updated_since(since: datetime) -> dict[str, Any]:
    """Tickets written since ``since`` (on the tickets' ``poll_updatedAt`` index): those a
    refresh reads again whether or not the live feed named them."""
    return {"updatedAt": {"$gte": since}}


def waiting_pipeline(low: datetime, high: datetime, now: datetime) -> list[dict[str, Any]]:
    """Status changes from ``low`` to before ``high`` (and not after ``now``), per hour: into
    and out of ``waiting``. One hour of them, or the whole window on a first computation."""
    return [
        {"$match": {"action": "status", "at": {"$gte": low, "$lt": high, "$lte": now}}},
        {
            "$group": {
                "_id": _hour("$at"),
                "entered": _count({"$eq": ["$to", WAITING]}),
                "left": _count({"$eq": ["$from", WAITING]}),
            }
        },
    ]


def _date(value: Any) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _hour_of(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Fact:
    """One ticket as the pulse counts it (a row of ``facts_pipeline``)."""

    phase: Any
    status: Any
    priority: Any
    assignee: Any
    created: datetime
    resolved: datetime | None
    fr: datetime | None
    fr_due: datetime
    res_due: datetime

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Fact | None:
        created, fr_due, res_due = (_date(doc.get(k)) for k in ("created", "frDue", "resDue"))
        if created is None or fr_due is None or res_due is None:
            return None
        # Only text and an agent's id count (domain/pulse.py): anything else is none.
        phase, status, priority = (_text(doc.get(k)) for k in ("phase", "status", "priority"))
        assignee = doc.get("assignedTo")
        return cls(
            phase,
            status,
            priority,
            assignee if isinstance(assignee, ObjectId) else None,
            created,
            _date(doc.get("resolved")),
            _date(doc.get("fr")),
            fr_due,
            res_due,
        )

    def counts_at(self, w: Window) -> bool:
        """In one of ``ticket_parts``: active, or resolved since the window's start."""
        if self.phase == "active":
            return True
        return self.phase == "done" and self.resolved is not None and self.resolved >= w.start


@dataclass
class _Sums:
    """The grouped counts the figures are made of (what a ``$facet`` per figure would give)."""

    open: int = 0
    breaching: int = 0
    waiting: int = 0
    hourly: dict[str, dict[datetime, int]] = field(default_factory=dict)
    sla: dict[tuple[datetime, str], list[int]] = field(default_factory=dict)
    agents: dict[ObjectId, list[int]] = field(default_factory=dict)
    first_responses: dict[ObjectId, list[float]] = field(default_factory=dict)
    histogram: dict[Any, int] = field(default_factory=dict)


def tally(facts: Iterable[Fact], w: Window) -> _Sums:
    """Every figure's counts from the facts, by the definitions of domain/pulse.py: a walk
    bounded by the tickets of the window (about 10,000 at 10,000 tickets: milliseconds)."""
    now, start, week_ago = w.now, w.start, w.week_ago
    sums = _Sums()
    hourly: dict[str, dict[datetime, int]] = {
        name: {} for name in ("arrivals", "resolutions", "breachStarts", "breachEnds")
    }
    sums.hourly = hourly
    known = {p.value for p in Priority}

    def add(counts: dict[datetime, int], t: datetime) -> None:
        hour = _hour_of(t)
        counts[hour] = counts.get(hour, 0) + 1

    for f in facts:
        unresolved = f.resolved is None
        fr_met = f.fr is not None and f.fr <= f.fr_due
        breach_at = f.res_due if fr_met else f.fr_due
        breached = f.resolved is None or breach_at < f.resolved
        if unresolved:
            sums.open += 1
            sums.waiting += f.status == WAITING
            sums.breaching += breach_at <= now
        if start <= f.created <= now:
            add(hourly["arrivals"], f.created)
        if f.resolved is not None and start <= f.resolved <= now:
            add(hourly["resolutions"], f.resolved)
            if breached:
                add(hourly["breachEnds"], f.resolved)
        if breached and start <= breach_at <= now:
            add(hourly["breachStarts"], breach_at)
        if w.first_day <= f.created <= now:
            day = f.created.replace(hour=0, minute=0, second=0, microsecond=0)
            key = (day, f.priority if f.priority in known else "other")
            row = sums.sla.setdefault(key, [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += fr_met
            row[2] += (f.fr is not None and f.fr > f.fr_due) or (f.fr is None and f.fr_due <= now)
            row[3] += f.resolved is not None and f.resolved <= f.res_due
            row[4] += (f.resolved is not None and f.resolved > f.res_due) or (
                unresolved and f.res_due <= now
            )
        answered = f.fr is not None and week_ago <= f.fr <= now
        if isinstance(f.assignee, ObjectId):
            agent = sums.agents.setdefault(f.assignee, [0, 0])
            agent[0] += unresolved
            agent[1] += breached and week_ago <= breach_at <= now
            if answered:
                ms = (f.fr - f.created) // MILLISECOND  # type: ignore[operator]
                sums.first_responses.setdefault(f.assignee, []).append(ms)
        if answered and f.fr >= f.created:  # type: ignore[operator]
            minutes = (f.fr - f.created) / MINUTE  # type: ignore[operator]
            bound = BOUNDS[bisect_right(BOUNDS, minutes) - 1] if minutes < BOUNDS[-1] else None
            if bound is not None:
                sums.histogram[bound] = sums.histogram.get(bound, 0) + 1
    return sums


@dataclass(frozen=True)
class Refreshed:
    """What a computation read: everything (``full``) or the changed tickets and hours."""

    full: bool
    tickets: int  # facts re-read from queue_index
    hours: tuple[datetime, ...]  # hours of status changes re-aggregated (full: the window)
    stored: datetime | None = None  # started from the state stored as of then (pulse_state)


def policy_key(policy: SlaPolicy) -> list[list[int]]:
    """The SLA targets the facts' deadlines were computed with (a stored state computed with
    other targets is not used)."""
    targets = [policy.target(p) for p in sorted(Priority, key=lambda p: p.rank)]
    return [[t.first_response_minutes, t.resolution_minutes] for t in targets]


@dataclass(frozen=True)
class State:
    """What a computation leaves for the next process: the facts and the status-change hours
    as of ``at`` (the moment it computed, store clock)."""

    at: datetime
    facts: dict[Any, Fact]
    waiting: dict[datetime, tuple[int, int]]


def _ms(t: datetime | None) -> int:
    return NO_DATE if t is None else (t - EPOCH) // MILLISECOND


def _at_ms(ms: int) -> datetime | None:
    return None if ms == NO_DATE else EPOCH + timedelta(milliseconds=ms)


def facts_chunk(items: Sequence[tuple[Any, Fact]]) -> dict[str, Any]:
    """Facts as one ``pulse_state`` chunk: the tickets' ids, the distinct values of phase,
    status, priority and assignee, and per fact its five dates (milliseconds, packed) and the
    four values' places (packed): a tenth of the time a document per fact takes to read."""
    values: dict[Any, int] = {}
    dates, codes = bytearray(), bytearray()
    for _, f in items:
        dates += DATES.pack(*map(_ms, (f.created, f.resolved, f.fr, f.fr_due, f.res_due)))
        places = (values.setdefault(v, len(values)) for v in (f.phase, f.status, f.priority))
        codes += CODES.pack(*places, values.setdefault(f.assignee, len(values)))
    return {
        "ids": [key for key, _ in items],
        "values": list(values),
        "dates": Binary(bytes(dates)),
        "codes": Binary(bytes(codes)),
    }


def facts_of_chunk(chunk: Mapping[str, Any]) -> Iterator[tuple[Any, Fact]]:
    """The facts of a chunk ``facts_chunk`` wrote; ValueError if it is not one."""
    ids, values = chunk.get("ids"), chunk.get("values")
    dates, codes = chunk.get("dates"), chunk.get("codes")
    if not (isinstance(ids, list) and isinstance(values, list)):
        raise ValueError("a chunk without ids or values")
    if not (isinstance(dates, bytes) and isinstance(codes, bytes)):
        raise ValueError("a chunk without dates or codes")
    if len(dates) != DATES.size * len(ids) or len(codes) != CODES.size * len(ids):
        raise ValueError("a chunk's dates or codes do not match its ids")
    if not all(v is None or isinstance(v, str | ObjectId) for v in values):
        raise ValueError("a chunk's values are not text or ids")
    if not all(isinstance(key, ObjectId | str | int) for key in ids):
        raise ValueError("a chunk's ticket ids are not ids")
    try:
        for key, times, places in zip(
            ids, DATES.iter_unpack(dates), CODES.iter_unpack(codes), strict=True
        ):
            created, resolved, fr, fr_due, res_due = map(_at_ms, times)
            phase, status, priority, assignee = (values[i] for i in places)
            if created is None or fr_due is None or res_due is None:
                raise ValueError("a fact's creation or deadlines are missing")
            if isinstance(phase, ObjectId) or isinstance(status, ObjectId):
                raise ValueError("a fact's phase or status is not text")
            if isinstance(priority, ObjectId) or isinstance(assignee, str):
                raise ValueError("a fact's priority or assignee is malformed")
            yield (
                key,
                Fact(phase, status, priority, assignee, created, resolved, fr, fr_due, res_due),
            )
    except (IndexError, OverflowError) as error:
        raise ValueError(f"a chunk is malformed ({type(error).__name__})") from error


def state_documents(
    state: State, policy: SlaPolicy, gen: ObjectId
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``state`` as ``pulse_state`` documents: the meta document (version, watermark, SLA
    targets, closed hours of status changes, how many chunks) and the chunks of facts (by
    creation, ``STATE_CHUNK`` a document: ~0.2 MB), all tagged with the write's ``gen``."""
    items = sorted(state.facts.items(), key=lambda i: i[1].created)
    chunks = [
        {"gen": gen, "k": k, "at": state.at, **facts_chunk(items[i : i + STATE_CHUNK])}
        for k, i in enumerate(range(0, len(items), STATE_CHUNK))
    ]
    closed = _hour_of(state.at)
    meta = {
        "v": STATE_VERSION,
        "at": state.at,
        "gen": gen,
        "chunks": len(chunks),
        "policy": policy_key(policy),
        "waiting": [[h, e, n] for h, (e, n) in sorted(state.waiting.items()) if h < closed],
    }
    return meta, chunks


def state_from(docs: Iterable[Mapping[str, Any]], policy: SlaPolicy) -> State:
    """The state the meta document of ``docs`` names; ValueError (saying why) if there is none,
    it is of another version or SLA targets, or any part of it is missing or malformed."""
    docs = list(docs)
    metas = [d for d in docs if d.get("_id") == STATE_META]
    if not metas:
        raise ValueError("none stored")
    meta = metas[0]
    if meta.get("v") != STATE_VERSION:
        raise ValueError(f"version {one_line(str(meta.get('v')), 20)}, not {STATE_VERSION}")
    at = _date(meta.get("at"))
    if at is None:
        raise ValueError("no watermark")
    if meta.get("policy") != policy_key(policy):
        raise ValueError("computed with other SLA targets")
    count = meta.get("chunks")
    chunks = sorted(
        (d for d in docs if d.get("gen") == meta.get("gen") and d.get("_id") != STATE_META),
        key=lambda d: d["k"] if type(d.get("k")) is int else -1,
    )
    if not isinstance(count, int) or [d.get("k") for d in chunks] != list(range(count)):
        raise ValueError("chunks missing (written over meanwhile?)")
    facts = {key: fact for chunk in chunks for key, fact in facts_of_chunk(chunk)}
    waiting: dict[datetime, tuple[int, int]] = {}
    hours = meta.get("waiting")
    if not isinstance(hours, list):
        raise ValueError("no status-change hours")
    for row in hours:
        if not isinstance(row, list) or len(row) != 3:
            raise ValueError("a status-change hour is not a row of 3")
        hour, entered, left = row
        if _date(hour) is None or not all(type(n) is int for n in (entered, left)):
            raise ValueError("a status-change hour is malformed")
        waiting[utc(hour)] = (entered, left)
    return State(at, facts, waiting)


def _attainment(label: str, sums: Sequence[int]) -> Attainment:
    n, fr_met, fr_breached, res_met, res_breached = sums
    return Attainment(
        label,
        Clock(fr_met, fr_breached, n - fr_met - fr_breached),
        Clock(res_met, res_breached, n - res_met - res_breached),
    )


def _total(rows: Sequence[Sequence[int]]) -> list[int]:
    return [sum(column) for column in zip(*rows, strict=True)] if rows else [0] * 5


class PulseStore:
    """Computes the pulse; ``store`` is a TicketStore (its collections, clock and people).

    The first computation reads the window (``ticket_parts``, status changes per hour); each
    later one re-reads only what changed since the one before: the tickets the live feed named
    (``changed``) or that were updated since (the ``poll_updatedAt`` index), and the hours of
    status changes that can have moved (the hour of the last computation, the current one, and
    those of audit entries inserted since). One answer per minute of the store's clock.

    What it holds is kept in ``pulse_state`` for the next process (``State``; at most once a
    minute, a compare-and-set on the watermark so two writers never take it back): a new
    PulseStore starts from it and refreshes since its watermark, as a refresh does (and does
    not write it again at once unless it is an hour old). The state is used only if it is
    whole, of this version and these SLA targets, and not ahead of the clock; otherwise
    everything is read, as without it. A ticket deleted while no app followed the feed changes
    no ``updatedAt``: the first refresh after a start from a stored state also counts the
    window on the server (two index-backed counts, ~1 s at 10,000 tickets on SecantusDB, so
    not in the first computation) and reads everything if the facts kept are not as many.
    A login that may not read or write the collection computes for itself (logged)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._cached: Pulse | None = None
        self._lock = threading.Lock()  # screens ask from worker threads
        self._facts: dict[ObjectId, Fact] = {}
        self._waiting: dict[datetime, tuple[int, int]] = {}  # hour -> (entered, left)
        self._at: datetime | None = None  # the moment of the last computation (store clock)
        self._pending: set[ObjectId] = set()
        self._reload = False  # nothing read yet (``_at`` None): the first computation reads all
        self._pending_lock = threading.Lock()  # changed() comes from the event loop
        self.last: Refreshed | None = None
        self._stored_tried = False  # the stored state is read once, by the first computation
        self._verify = False  # started from a stored state: the next computation counts
        self._saved: datetime | None = None  # when this process last wrote the state
        self._may_write = True  # False once the server refused the login a write

    @property
    def policy(self) -> SlaPolicy:
        policy: SlaPolicy = self.store.settings.sla
        return policy

    def changed(self, ids: Iterable[ObjectId], *, reload: bool = False) -> None:
        """The live feed named these tickets (``reload``: it may have missed some): the next
        computation re-reads them (everything, after a ``reload``)."""
        with self._pending_lock:
            self._pending.update(ids)
            self._reload |= reload

    def fresh(self, now: datetime) -> Pulse | None:
        """The cached pulse if it is less than a minute old at ``now``."""
        cached = self._cached
        if cached is not None and timedelta(0) <= now - cached.now < timedelta(
            seconds=CACHE_SECONDS
        ):
            return cached
        return None

    def pulse(self) -> Pulse:
        """The pulse as of now, or as of less than a minute ago (the cache)."""
        with self._lock:
            now = self.store.now()
            cached = self.fresh(now)
            if cached is not None:
                return cached
            self._cached = self.compute(now)
            return self._cached

    @db_errors
    def compute(self, now: datetime) -> Pulse:
        w = Window(utc(now))
        with self._pending_lock:
            ids, reload = self._pending, self._reload
            self._pending, self._reload = set(), False
        stored: datetime | None = None  # started from the state stored as of then
        verify, counted = self._verify, None
        try:
            if self._at is None and not self._stored_tried:
                self._stored_tried = True
                stored = self._start_from_stored(w)
            # From a stored state the next computation's count stands in for a feed's reload:
            # what the feed may have missed is updated since (read again) or deleted (counted).
            if (reload and stored is None) or self._at is None or w.now < self._at:
                self._read_all(w)
                verify = False
            elif verify:
                counted = self._read_changes_counted(w, ids)
            else:
                self._read_changes(w, ids)
        except BaseException:
            self.changed(ids, reload=reload)  # not read: the next computation reads them
            if stored is not None:  # the stored state, not refreshed: read all next time
                self._at, self._facts, self._waiting = None, {}, {}
            raise
        self._prune(w)
        if stored is not None and self.last is not None:
            self.last = replace(self.last, stored=stored)
        if counted is not None and counted != len(self._facts):
            # A ticket deleted while no app followed the feed: no update time tells it.
            log.info(
                "pulse: %d facts kept but the window holds %d tickets: read all",
                len(self._facts),
                counted,
            )
            self._read_all(w)
            self._prune(w)
        self._verify = stored is not None
        self._at = w.now
        if stored is None or w.now - stored >= STATE_STALE:
            self._save(w)
        sums = tally(self._facts.values(), w)
        people = self.store.users_by_ids(list(sums.agents) + list(sums.first_responses))
        entered = {h: n for h, (n, _) in self._waiting.items()}
        left = {h: n for h, (_, n) in self._waiting.items()}
        return self._figures(w, sums, sums.waiting, entered, left, people)

    def _prune(self, w: Window) -> None:
        for key in [k for k, f in self._facts.items() if not f.counts_at(w)]:
            del self._facts[key]  # the window only moves on: resolved before it, gone for good
        for hour in [h for h in self._waiting if h < w.start]:
            del self._waiting[hour]

    @property
    def state_collection(self) -> Collection[Any]:
        collection: Collection[Any] = self.store.db[self.store.settings.pulse_state]
        return collection

    def _start_from_stored(self, w: Window) -> datetime | None:
        """Take the stored state as this process's own if it is usable at ``w``: returns its
        watermark, or None and takes nothing (everything is then read)."""
        try:
            state = state_from(self.state_collection.find({}), self.policy)
        except ValueError as why:
            log.info("pulse: stored state not used (%s): read all", why)
            return None
        except PyMongoError as error:  # e.g. a login that may not read it
            log.info("pulse: stored state not read (%s): read all", one_line(str(error), 200))
            return None
        if not w.start <= state.at <= w.now:
            log.info("pulse: stored state not used (as of %s): read all", state.at.isoformat())
            return None
        self._facts, self._waiting, self._at = state.facts, state.waiting, state.at
        self._saved = state.at
        return state.at

    def _read_changes_counted(self, w: Window, ids: set[ObjectId]) -> int:
        """``_read_changes``, and beside it how many tickets the window holds on the server
        (two index-backed counts): the check of a state another process stored."""
        entries = self.store.queue.entries

        def count(match: dict[str, Any]) -> int:
            return int(entries.count_documents(match))

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pulse-count") as pool:
            counts = [pool.submit(count, m) for m in ticket_parts(w)]
            self._read_changes(w, ids)
            return sum(c.result() for c in counts)

    def _save(self, w: Window) -> None:
        """Write what this process holds to ``pulse_state`` (at most once a minute, by this
        process or any other): the chunks under a new ``gen``, then the meta document only if
        its watermark is older (or it is not a state of this version), then the chunks of older
        writes are removed. Never an error for the user: a refusal or a failure is logged, and
        the pulse stands."""
        if not self._may_write or (
            self._saved is not None and timedelta(0) <= w.now - self._saved < SAVE_EVERY
        ):
            return
        self._saved = w.now
        collection, gen = self.state_collection, ObjectId()
        state = State(w.now, self._facts, self._waiting)
        meta, chunks = state_documents(state, self.policy, gen)
        older = {
            "_id": STATE_META,
            "$or": [
                {"at": {"$lt": w.now}},
                {"at": {"$gt": w.now + CATCH_UP}},  # a clock far ahead would hold it forever
                {"at": {"$not": {"$type": "date"}}},
                {"v": {"$ne": STATE_VERSION}},
            ],
        }
        try:
            meanwhile = self._written_meanwhile(collection, w)
            if meanwhile is not None:
                self._saved = meanwhile  # the next write is due a minute after that one
                return
            if chunks:
                collection.insert_many(chunks)
            try:
                collection.update_one(older, {"$set": meta}, upsert=True)
            except DuplicateKeyError:  # a newer state stands: ours goes
                collection.delete_many({"gen": gen})
                return
            collection.delete_many({"_id": {"$ne": STATE_META}, "at": {"$lt": w.now}})
        except OperationFailure as error:
            if error.code == UNAUTHORIZED:
                self._may_write = False
                log.info(
                    "pulse: state not kept for the next process (this login may not write "
                    "%s): computing for itself",
                    collection.name,
                )
            else:
                log.warning("pulse: state not kept (%s)", one_line(str(error), 200))
        except PyMongoError as error:
            log.warning("pulse: state not kept (%s)", one_line(str(error), 200))

    @staticmethod
    def _written_meanwhile(collection: Collection[Any], w: Window) -> datetime | None:
        """When another process wrote a state, if within the minute before ``w`` (then this
        one does not: one write a minute, whichever supervisor's app computed)."""
        current = collection.find_one({"_id": STATE_META}, {"at": 1, "v": 1})
        at = _date(current.get("at")) if current is not None else None
        if current is None or at is None or current.get("v") != STATE_VERSION:
            return None
        return at if w.now - SAVE_EVERY < at <= w.now else None

    def _read_all(self, w: Window) -> None:
        """The window from scratch: its three aggregations side by side (the server answers
        them in parallel: about a third less waiting on SecantusDB at 10,000 tickets)."""
        entries, events = self.store.queue.entries, self.store.events

        def read(collection: Collection[Any], pipeline: list[dict[str, Any]]) -> list[Any]:
            return list(collection.aggregate(pipeline))

        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pulse") as pool:
            parts = [
                pool.submit(read, entries, facts_pipeline(m, self.policy)) for m in ticket_parts(w)
            ]
            hours = pool.submit(read, events, waiting_pipeline(w.start, w.hour + HOUR, w.now))
            docs = [doc for part in parts for doc in part.result()]
            rows = hours.result()
        facts: dict[ObjectId, Fact] = {}
        for doc in docs:
            fact = Fact.from_doc(doc)
            if fact is not None:
                facts[doc["_id"]] = fact
        waiting: dict[datetime, tuple[int, int]] = {}
        for row in rows:
            if isinstance(row["_id"], datetime):
                waiting[utc(row["_id"])] = (row["entered"], row["left"])
        self._facts, self._waiting = facts, waiting
        self.last = Refreshed(True, len(facts), (w.start, w.hour))

    def _read_changes(self, w: Window, ids: set[ObjectId]) -> None:
        assert self._at is not None
        since = self._at - CATCH_UP
        updated = self.store.tickets.find(updated_since(since), {"_id": 1})
        ids = ids | {doc["_id"] for doc in updated}
        if ids:
            entries = self.store.queue.entries
            found = set()
            for doc in entries.aggregate(facts_pipeline(changed_part(ids), self.policy)):
                fact = Fact.from_doc(doc)
                if fact is not None:
                    self._facts[doc["_id"]] = fact
                    found.add(doc["_id"])
            for gone in ids - found:  # deleted, or no longer counted
                self._facts.pop(gone, None)
        # Status changes are written as they happen (``at`` is the writer's now): the hours
        # from the last computation's to the current one hold every one since.
        first = max(_hour_of(self._at), w.start)
        for hour in [h for h in self._waiting if h >= first]:
            del self._waiting[hour]
        for row in self.store.events.aggregate(waiting_pipeline(first, w.hour + HOUR, w.now)):
            if isinstance(row["_id"], datetime):
                self._waiting[utc(row["_id"])] = (row["entered"], row["left"])
        hours = tuple(first + k * HOUR for k in range(int((w.hour - first) / HOUR) + 1))
        self.last = Refreshed(False, len(ids), hours)

    def _figures(
        self,
        w: Window,
        sums: _Sums,
        waiting_now: int,
        entered: Mapping[datetime, int],
        left: Mapping[datetime, int],
        people: Mapping[ObjectId, Any],
    ) -> Pulse:
        h = sums.hourly

        def backlog(samples: list[datetime]) -> Backlog:
            return Backlog(
                tuple(samples),
                series(samples, w.now, sums.open, h["arrivals"], h["resolutions"]),
                series(samples, w.now, waiting_now, entered, left),
                series(samples, w.now, sums.breaching, h["breachStarts"], h["breachEnds"]),
            )

        days = [w.first_day + k * figures.DAY for k in range(7)]
        by_day = tuple(
            _attainment(
                day.date().isoformat(),
                _total([v for (d, _), v in sums.sla.items() if d == day]),
            )
            for day in days
        )
        priorities = [p.value for p in Priority] + ["other"]
        by_priority = tuple(
            _attainment(p, _total([v for (_, q), v in sums.sla.items() if q == p]))
            for p in priorities
            if p != "other" or any(q == "other" for _, q in sums.sla)
        )
        agents = []
        for agent in set(sums.agents) | set(sums.first_responses):
            open_, breaches = sums.agents.get(agent, [0, 0])
            durations = sums.first_responses.get(agent, [])
            middle = median(durations)
            user = people.get(agent)
            agents.append(
                AgentPulse(
                    agent,
                    user.display if user is not None else str(agent),
                    open_,
                    breaches,
                    len(durations),
                    timedelta(milliseconds=middle) if middle is not None else None,
                )
            )
        agents.sort(key=lambda a: (-a.open, -a.breaches, a.name, str(a.agent)))
        histogram = tuple(
            (label, sums.histogram.get(bound, 0))
            for label, bound in zip(figures.HISTOGRAM_LABELS, figures.HISTOGRAM_BOUNDS, strict=True)
        )
        last_week = w.today - figures.WEEK
        return Pulse(
            now=w.now,
            backlog_day=backlog(w.day_samples()),
            backlog_week=backlog(w.week_samples()),
            sla_by_day=by_day,
            sla_by_priority=by_priority,
            arrivals_today=per_hour(h["arrivals"], w.today),
            resolved_today=per_hour(h["resolutions"], w.today),
            arrivals_last_week=per_hour(h["arrivals"], last_week),
            resolved_last_week=per_hour(h["resolutions"], last_week),
            agents=tuple(agents),
            first_response_histogram=histogram,
        )


_stores: weakref.WeakKeyDictionary[Any, PulseStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def pulses_of(store: Any) -> PulseStore:
    """This TicketStore's one PulseStore (its cache and what it has read so far)."""
    with _stores_lock:
        pulses = _stores.get(store)
        if pulses is None:
            pulses = _stores[store] = PulseStore(store)
    return pulses


def tickets_deleted(store: Any, ids: Iterable[ObjectId]) -> None:
    """The live feed saw these tickets deleted: this TicketStore's PulseStore, if the pulse
    has been asked for, re-reads them (a deletion changes no ``updatedAt``, so a refresh with
    the Pulse screen closed would not find it). No PulseStore is made for this."""
    with _stores_lock:
        pulses = _stores.get(store)
    if pulses is not None:
        pulses.changed(ids)


def pulse_of(store: Any) -> Pulse:
    """The pulse of this TicketStore's helpdesk, through its one cache."""
    return pulses_of(store).pulse()
