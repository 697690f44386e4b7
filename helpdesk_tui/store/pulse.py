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
minute. (A ``$merge`` into a ``pulse_hours`` collection, which SecantusDB accepts, was
weighed: it needs a write grant the least-privilege roles of store/auth.py do not give, and
the rollups would still have to be checked against changes made while no app ran.)

Cached per minute of the store's clock: a pulse is never more than a minute old.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

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


def _is_date(path: str) -> dict[str, Any]:
    return {"$eq": [{"$type": path}, "date"]}


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
        return cls(
            doc.get("phase"),
            doc.get("status"),
            doc.get("priority"),
            doc.get("assignedTo"),
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
    those of audit entries inserted since). One answer per minute of the store's clock."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._cached: Pulse | None = None
        self._lock = threading.Lock()  # screens ask from worker threads
        self._facts: dict[ObjectId, Fact] = {}
        self._waiting: dict[datetime, tuple[int, int]] = {}  # hour -> (entered, left)
        self._at: datetime | None = None  # the moment of the last computation (store clock)
        self._pending: set[ObjectId] = set()
        self._reload = True
        self._pending_lock = threading.Lock()  # changed() comes from the event loop
        self.last: Refreshed | None = None

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
        try:
            if reload or self._at is None or w.now < self._at:
                self._read_all(w)
            else:
                self._read_changes(w, ids)
        except BaseException:
            self.changed(ids, reload=reload)  # not read: the next computation reads them
            raise
        self._at = w.now
        for key in [k for k, f in self._facts.items() if not f.counts_at(w)]:
            del self._facts[key]  # the window only moves on: resolved before it, gone for good
        for hour in [h for h in self._waiting if h < w.start]:
            del self._waiting[hour]
        sums = tally(self._facts.values(), w)
        people = self.store.users_by_ids(list(sums.agents) + list(sums.first_responses))
        entered = {h: n for h, (n, _) in self._waiting.items()}
        left = {h: n for h, (_, n) in self._waiting.items()}
        return self._figures(w, sums, sums.waiting, entered, left, people)

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


def pulse_of(store: Any) -> Pulse:
    """The pulse of this TicketStore's helpdesk, through its one cache."""
    return pulses_of(store).pulse()
