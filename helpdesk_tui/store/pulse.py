"""The supervisor's pulse, computed by the server (issue 30).

Three aggregations, each starting with an index-backed ``$match`` (tests/pulse checks the
plans):

* ``queue_index`` twice, once per part of what the figures can touch: every active ticket
  (an index led by ``phase``), and the done ones resolved since the window's start
  (``qi_phase_resolved``). (One ``$or`` of the two would do on MongoDB, which plans each branch
  on its own index; SecantusDB scans the collection for it, so they are two pipelines with the
  same stages, their groups summed here.) A ``$project`` computes each ticket's deadlines
  (``$dateAdd`` of the priority's targets) and the moment it started breaching; a ``$facet``
  groups arrivals, resolutions, breach starts and ends per hour (``$dateTrunc``), SLA
  attainment per day and priority, per agent load and breaches, and the first-response
  histogram (``$bucket``). Arrivals and resolutions come from the index rather than from the
  audit trail: a ticket the Ticket Service created or resolved has no audit entry of ours, but
  it has an entry here.
* ``ticket_events`` (the audit trail): status changes since the window's start, grouped per
  hour into entries into and exits from ``waiting`` (the one figure only the trail knows),
  on the ``pulse_action_at`` index this module adds.

What is left to Python is bounded by hours, days, priorities and agents, not by tickets: the
backlog series walked back from today's counts, and the medians (``$median`` needs MongoDB
7.0; the durations are ``$push``ed per agent, for the week's first responses only).

Cached per minute of the store's clock: a pulse is never more than a minute old.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

from helpdesk_tui.domain import pulse as figures
from helpdesk_tui.domain.models import Priority, Status, utc
from helpdesk_tui.domain.pulse import (
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


def ticket_pipeline(match: dict[str, Any], policy: SlaPolicy, w: Window) -> list[dict[str, Any]]:
    """The queue-index aggregation for one part (``match``) of the tickets."""
    now, start = w.now, w.start
    has_fr = _is_date("$fr")
    unresolved = {"$not": [_is_date("$resolved")]}
    fr_met = {"$and": [has_fr, {"$lte": ["$fr", "$frDue"]}]}
    fr_breached = {
        "$or": [
            {"$and": [has_fr, {"$gt": ["$fr", "$frDue"]}]},
            {"$and": [{"$not": [has_fr]}, {"$lte": ["$frDue", now]}]},
        ]
    }
    res_met = {"$and": [{"$not": [unresolved]}, {"$lte": ["$resolved", "$resDue"]}]}
    res_breached = {
        "$or": [
            {"$and": [{"$not": [unresolved]}, {"$gt": ["$resolved", "$resDue"]}]},
            {"$and": [unresolved, {"$lte": ["$resDue", now]}]},
        ]
    }
    in_window = {"$gte": start, "$lte": now}
    return [
        # The part's own filter only: SecantusDB leaves its index for a scan once a $type is
        # added beside it (tests/pulse/test_pulse_plans.py); the type is checked after.
        {"$match": match},
        {
            "$project": {
                "_id": 0,
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
        # Breaching from the first response's due time if it came late or not at all, else
        # from the resolution's; it counts only if the ticket was not resolved before then.
        {"$set": {"breachAt": {"$cond": [fr_met, "$resDue", "$frDue"]}}},
        {"$set": {"breached": {"$or": [unresolved, {"$lt": ["$breachAt", "$resolved"]}]}}},
        {
            "$facet": {
                "totals": [
                    {
                        "$group": {
                            "_id": None,
                            "open": _count(unresolved),
                            "breaching": _count(
                                {"$and": [unresolved, {"$lte": ["$breachAt", now]}]}
                            ),
                        }
                    }
                ],
                "arrivals": [
                    {"$match": {"created": in_window}},
                    {"$group": {"_id": _hour("$created"), "n": {"$sum": 1}}},
                ],
                "resolutions": [
                    {"$match": {"resolved": in_window}},
                    {"$group": {"_id": _hour("$resolved"), "n": {"$sum": 1}}},
                ],
                "breachStarts": [
                    {"$match": {"breached": True, "breachAt": in_window}},
                    {"$group": {"_id": _hour("$breachAt"), "n": {"$sum": 1}}},
                ],
                "breachEnds": [
                    {"$match": {"breached": True, "resolved": in_window}},
                    {"$group": {"_id": _hour("$resolved"), "n": {"$sum": 1}}},
                ],
                "sla": [
                    {"$match": {"created": {"$gte": w.first_day, "$lte": now}}},
                    {
                        "$group": {
                            "_id": {
                                "day": {"$dateTrunc": {"date": "$created", "unit": "day"}},
                                "priority": "$priority",
                            },
                            "n": {"$sum": 1},
                            "frMet": _count(fr_met),
                            "frBreached": _count(fr_breached),
                            "resMet": _count(res_met),
                            "resBreached": _count(res_breached),
                        }
                    },
                ],
                "agents": [
                    {"$match": {"assignedTo": {"$type": "objectId"}}},
                    {
                        "$group": {
                            "_id": "$assignedTo",
                            "open": _count(unresolved),
                            "breaches": _count(
                                {
                                    "$and": [
                                        "$breached",
                                        {"$gte": ["$breachAt", w.week_ago]},
                                        {"$lte": ["$breachAt", now]},
                                    ]
                                }
                            ),
                        }
                    },
                ],
                "agentFirstResponses": [
                    {
                        "$match": {
                            "assignedTo": {"$type": "objectId"},
                            "fr": {"$gte": w.week_ago, "$lte": now},
                        }
                    },
                    {
                        "$group": {
                            "_id": "$assignedTo",
                            "ms": {"$push": {"$subtract": ["$fr", "$created"]}},
                        }
                    },
                ],
                "histogram": [
                    {"$match": {"fr": {"$gte": w.week_ago, "$lte": now}}},
                    {"$match": {"$expr": {"$gte": ["$fr", "$created"]}}},
                    {
                        "$bucket": {
                            "groupBy": {"$divide": [{"$subtract": ["$fr", "$created"]}, 60_000]},
                            "boundaries": BOUNDS,
                            "default": "other",
                            "output": {"n": {"$sum": 1}},
                        }
                    },
                ],
            }
        },
    ]


def ticket_parts(w: Window) -> list[dict[str, Any]]:
    """The two index-backed parts of ``queue_index`` the figures can touch."""
    return [{"phase": "active"}, {"phase": "done", "resolvedAt": {"$gte": w.start}}]


def waiting_pipeline(w: Window) -> list[dict[str, Any]]:
    """Status changes since the window's start, per hour: into and out of ``waiting``."""
    return [
        {"$match": {"action": "status", "at": {"$gte": w.start, "$lte": w.now}}},
        {
            "$group": {
                "_id": _hour("$at"),
                "entered": _count({"$eq": ["$to", WAITING]}),
                "left": _count({"$eq": ["$from", WAITING]}),
            }
        },
    ]


@dataclass
class _Sums:
    """The facets of both parts, summed (each part's groups are disjoint sets of tickets)."""

    open: int = 0
    breaching: int = 0
    hourly: dict[str, dict[datetime, int]] = field(default_factory=dict)
    sla: dict[tuple[datetime, str], list[int]] = field(default_factory=dict)
    agents: dict[ObjectId, list[int]] = field(default_factory=dict)
    first_responses: dict[ObjectId, list[float]] = field(default_factory=dict)
    histogram: dict[Any, int] = field(default_factory=dict)

    def add(self, facets: Mapping[str, Any]) -> None:
        for row in facets["totals"]:
            self.open += row["open"]
            self.breaching += row["breaching"]
        for name in ("arrivals", "resolutions", "breachStarts", "breachEnds"):
            counts = self.hourly.setdefault(name, {})
            for row in facets[name]:
                if isinstance(row["_id"], datetime):
                    hour = utc(row["_id"])
                    counts[hour] = counts.get(hour, 0) + row["n"]
        known = {p.value for p in Priority}
        for row in facets["sla"]:
            priority = row["_id"].get("priority")
            key = (utc(row["_id"]["day"]), priority if priority in known else "other")
            sums = self.sla.setdefault(key, [0, 0, 0, 0, 0])
            for i, name in enumerate(("n", "frMet", "frBreached", "resMet", "resBreached")):
                sums[i] += row[name]
        for row in facets["agents"]:
            sums = self.agents.setdefault(row["_id"], [0, 0])
            sums[0] += row["open"]
            sums[1] += row["breaches"]
        for row in facets["agentFirstResponses"]:
            self.first_responses.setdefault(row["_id"], []).extend(
                m for m in row["ms"] if isinstance(m, int | float)
            )
        for row in facets["histogram"]:
            self.histogram[row["_id"]] = self.histogram.get(row["_id"], 0) + row["n"]


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
    """Computes the pulse on the server; ``store`` is a TicketStore (its collections, clock
    and people). One answer per minute of the store's clock."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._cached: Pulse | None = None
        self._lock = threading.Lock()  # screens ask from worker threads

    @property
    def policy(self) -> SlaPolicy:
        policy: SlaPolicy = self.store.settings.sla
        return policy

    def pulse(self) -> Pulse:
        """The pulse as of now, or as of less than a minute ago (the cache)."""
        with self._lock:
            now = self.store.now()
            cached = self._cached
            if cached is not None and timedelta(0) <= now - cached.now < timedelta(
                seconds=CACHE_SECONDS
            ):
                return cached
            self._cached = self.compute(now)
            return self._cached

    @db_errors
    def compute(self, now: datetime) -> Pulse:
        w = Window(utc(now))
        sums = _Sums()
        entries = self.store.queue.entries
        for match in ticket_parts(w):
            for facets in entries.aggregate(ticket_pipeline(match, self.policy, w)):
                sums.add(facets)
        waiting_now = entries.count_documents({"status": WAITING})
        entered: dict[datetime, int] = {}
        left: dict[datetime, int] = {}
        for row in self.store.events.aggregate(waiting_pipeline(w)):
            if isinstance(row["_id"], datetime):
                entered[utc(row["_id"])] = row["entered"]
                left[utc(row["_id"])] = row["left"]
        people = self.store.users_by_ids(list(sums.agents) + list(sums.first_responses))
        return self._figures(w, sums, waiting_now, entered, left, people)

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


def pulse_of(store: Any) -> Pulse:
    """The pulse of this TicketStore's helpdesk, through its one cache."""
    with _stores_lock:
        pulses = _stores.get(store)
        if pulses is None:
            pulses = _stores[store] = PulseStore(store)
    return pulses.pulse()
