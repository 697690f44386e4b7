"""Queue queries as MongoDB aggregation pipelines: filter, next-deadline sort, projection.

Design note (next-deadline sort). The Ticket Service stores no SLA field, and a derived field of
ours would go stale whenever the service writes. So the deadline is computed by the server in
the pipeline from ``createdAt``, ``priority`` and whether an agent has answered publicly (the
first element of a ``$filter`` over ``messages``). Trade-offs:

* + always right for documents any writer made; no migration, no extra field on tickets;
  one indexed ``$match`` and a top-k ``$sort``+``$limit`` per page; ``messages`` never leaves
  the server (the final ``$project`` is an inclusion list).
* - the sort is not index-backed: the server reads every ticket the view matches (with its
  messages) to rank them. Views are bounded by the indexed ``$match`` (active statuses, an
  assignee), which keeps this to the open backlog, not the collection's history.
* - with a business-hours calendar the server ranks by calendar-hour targets; the page is then
  re-sorted exactly in Python (``sla.sort_key``). Across page boundaries the order can differ
  slightly from the exact business-hours order.
* - a paused (waiting) ticket's remaining time is not known without status history, so paused
  tickets rank after running ones.

Only operators a MongoDB 6 server accepts are used; "is a date" is the ``$type`` expression
(BSON order is no test: Timestamps, Regex and MaxKey sort above dates), and dates become epoch
milliseconds with ``$toLong``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Category, Priority, Status, mongo_time
from helpdesk_tui.domain.sla import SlaPolicy

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_MS = 60_000

# What the queue needs of a ticket: never `messages`, never `description`.
QUEUE_FIELDS = (
    "_id",
    "ticketNumber",
    "subject",
    "user",
    "order",
    "category",
    "priority",
    "status",
    "assignedTo",
    "tags",
    "resolvedAt",
    "closedAt",
    "createdAt",
    "updatedAt",
    "__v",
)
DERIVED_FIELDS = ("_firstResponseAt", "_messageCount", "_lastMessageAt", "_lastFromCustomer")


class SortKey(StrEnum):
    DEADLINE = "deadline"
    PRIORITY = "priority"
    UPDATED = "updated"
    CREATED = "created"
    NUMBER = "number"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return {"deadline": "next deadline", "resolved": "recently resolved"}.get(
            self.value, self.value
        )


class Assignee(StrEnum):
    ANY = "any"
    UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class QueueQuery:
    """One view of the queue: what to match and how to order it."""

    statuses: tuple[Status, ...] = ACTIVE_STATUSES
    assignee: ObjectId | Assignee = Assignee.ANY
    priorities: tuple[Priority, ...] = ()
    categories: tuple[Category, ...] = ()
    tags: tuple[str, ...] = ()
    text: str = ""
    # Only tickets whose running clock is breached or at risk (the "Breaching" view).
    breaching: bool = False
    # Only tickets whose last public message is the customer's (the "Needs reply" view).
    needs_reply: bool = False
    sort: SortKey = SortKey.DEADLINE
    descending: bool = False
    ids: tuple[ObjectId, ...] = field(default=())
    # Tickets this view hides (the agent's snoozed ones, store/snooze.py).
    exclude: tuple[ObjectId, ...] = field(default=())


def match_filter(query: QueueQuery) -> dict[str, Any]:
    """The indexed ``$match`` of a view (also the change-stream/poll relevance filter)."""
    clauses: list[dict[str, Any]] = []
    if query.statuses == ACTIVE_STATUSES:
        # Every ticket not done, a status we cannot read included ("escalated", null,
        # missing): it must show up somewhere (flagged ⚠), not vanish from every view.
        done = [s.value for s in Status if s.is_done]
        clauses.append({"status": {"$nin": done}})
    elif query.statuses:
        clauses.append({"status": {"$in": [s.value for s in query.statuses]}})
    if isinstance(query.assignee, ObjectId):
        clauses.append({"assignedTo": query.assignee})
    elif query.assignee is Assignee.UNASSIGNED:
        clauses.append({"assignedTo": None})
    if query.priorities:
        clauses.append({"priority": {"$in": [p.value for p in query.priorities]}})
    if query.categories:
        clauses.append({"category": {"$in": [c.value for c in query.categories]}})
    if query.tags:
        clauses.append({"tags": {"$all": list(query.tags)}})
    if query.ids:
        clauses.append({"_id": {"$in": list(query.ids)}})
    if query.exclude:
        clauses.append({"_id": {"$nin": list(query.exclude)}})
    text = query.text.strip()
    if text.startswith("#") and len(text) > 1:
        clauses.append({"tags": text[1:]})
    elif text:
        pattern = re.escape(text)
        clauses.append(
            {
                "$or": [
                    {"ticketNumber": {"$regex": pattern, "$options": "i"}},
                    {"subject": {"$regex": pattern, "$options": "i"}},
                    {"tags": text},
                ]
            }
        )
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# Where a ticket without a readable createdAt ranks: after every real deadline, as in the SLA
# engine (year 9999 in epoch ms).
NO_DEADLINE_MS = 253_402_300_799_000


def _ms(expression: Any) -> dict[str, Any]:
    """A date as epoch milliseconds; anything that is not a date as ``NO_DEADLINE_MS``."""
    return {
        "$cond": [
            {"$eq": [{"$type": expression}, "date"]},
            {"$toLong": expression},
            NO_DEADLINE_MS,
        ]
    }


def row_fields(root: str = "") -> dict[str, Any]:
    """Expressions of what a queue row needs from ``messages`` (never the messages themselves):
    first agent public reply, count, newest message time, and whether the customer wrote last.

    ``root`` is a path prefix, e.g. ``"fullDocument."`` inside a change-stream pipeline.
    """
    messages = {"$cond": [{"$isArray": f"${root}messages"}, f"${root}messages", []]}
    agent_public = {
        "$filter": {
            "input": messages,
            "as": "m",
            "cond": {
                "$and": [{"$ne": ["$$m.isInternal", True]}, {"$ne": ["$$m.sender", f"${root}user"]}]
            },
        }
    }

    public = _public(messages)

    def last(field: str, among: Any = messages) -> dict[str, Any]:
        return {"$arrayElemAt": [{"$map": {"input": among, "as": "m", "in": f"$$m.{field}"}}, -1]}

    return {
        "_firstResponseAt": {
            "$arrayElemAt": [{"$map": {"input": agent_public, "as": "m", "in": "$$m.createdAt"}}, 0]
        },
        "_messageCount": {"$size": messages},
        "_lastMessageAt": last("createdAt"),
        # The last *public* message is the customer's (notes answer nobody): ``Ticket``'s rule.
        "_lastFromCustomer": {
            "$and": [
                {"$gt": [{"$size": public}, 0]},
                {"$eq": [last("sender", public), f"${root}user"]},
            ]
        },
    }


def _public(messages: Any) -> dict[str, Any]:
    """The public messages (``isInternal`` not true) of a messages expression."""
    return {"$filter": {"input": messages, "as": "m", "cond": {"$ne": ["$$m.isInternal", True]}}}


def _by_priority(values: dict[Priority, Any], default: Any) -> dict[str, Any]:
    return {
        "$switch": {
            "branches": [
                {"case": {"$eq": ["$priority", p.value]}, "then": v} for p, v in values.items()
            ],
            "default": default,
        }
    }


def deadline_stages(policy: SlaPolicy) -> list[dict[str, Any]]:
    """Stages that add ``_due``/``_riskAt`` (epoch ms), ``_rank`` and the derived message fields."""
    # A `messages` that is not an array (hand-written document) counts as no messages.
    messages = {"$cond": [{"$isArray": "$messages"}, "$messages", []]}
    agent_public = {
        "$filter": {
            "input": messages,
            "as": "m",
            "cond": {"$and": [{"$ne": ["$$m.isInternal", True]}, {"$ne": ["$$m.sender", "$user"]}]},
        }
    }
    fr = {p: policy.target(p).first_response_minutes * MINUTE_MS for p in Priority}
    res = {p: policy.target(p).resolution_minutes * MINUTE_MS for p in Priority}
    share = 1 - policy.at_risk_share
    # Paused: waiting, unless the customer has answered (woken: ``sla.evaluate``).
    paused: Any = (
        {
            "$and": [
                {"$eq": ["$status", Status.WAITING.value]},
                {"$ne": ["$_lastFromCustomer", True]},
            ]
        }
        if policy.pause_when_waiting
        else False
    )
    done = {"$in": ["$status", [Status.RESOLVED.value, Status.CLOSED.value]]}
    return [
        {
            "$addFields": {
                "_firstReply": {"$arrayElemAt": [agent_public, 0]},
                "_lastMessage": {"$arrayElemAt": [messages, -1]},
                "_lastPublic": {"$arrayElemAt": [_public(messages), -1]},
                "_messageCount": {"$size": messages},
            }
        },
        {
            "$addFields": {
                "_firstResponseAt": "$_firstReply.createdAt",
                "_lastMessageAt": "$_lastMessage.createdAt",
                "_lastFromCustomer": {
                    "$and": [
                        {"$eq": [{"$type": "$_lastPublic"}, "object"]},
                        {"$eq": ["$_lastPublic.sender", "$user"]},
                    ]
                },
                "_responded": {"$gt": [{"$size": agent_public}, 0]},
            }
        },
        {
            "$addFields": {
                "_frTarget": _by_priority(fr, fr[Priority.MEDIUM]),
                "_resTarget": _by_priority(res, res[Priority.MEDIUM]),
                "_rank": {"$cond": [done, 2, {"$cond": [paused, 1, 0]}]},
                "_prio": _by_priority({p: p.rank for p in Priority}, Priority.MEDIUM.rank),
            }
        },
        {
            "$addFields": {
                "_target": {"$cond": ["$_responded", "$_resTarget", "$_frTarget"]},
            }
        },
        {
            "$addFields": {
                "_due": {"$add": [_ms("$createdAt"), "$_target"]},
                "_riskAt": {"$add": [_ms("$createdAt"), {"$multiply": ["$_target", share]}]},
            }
        },
    ]


_SORTS: dict[SortKey, list[tuple[str, int]]] = {
    SortKey.DEADLINE: [("_rank", 1), ("_due", 1)],
    SortKey.PRIORITY: [("_prio", 1), ("_rank", 1), ("_due", 1)],
    SortKey.UPDATED: [("updatedAt", -1)],
    SortKey.CREATED: [("createdAt", -1)],
    SortKey.NUMBER: [("ticketNumber", 1)],
    SortKey.RESOLVED: [("resolvedAt", -1)],
}


def sort_spec(query: QueueQuery) -> dict[str, int]:
    keys = _SORTS[query.sort]
    if query.descending:
        keys = [(name, -direction) for name, direction in keys]
    spec = dict(keys)
    spec["_id"] = -1 if query.descending else 1  # a total order, so pages never overlap
    return spec


def epoch_ms(moment: datetime) -> int:
    return int((mongo_time(moment) - EPOCH).total_seconds() * 1000)


def _breaching_stage(now: datetime) -> dict[str, Any]:
    return {"$match": {"_rank": 0, "_riskAt": {"$lt": epoch_ms(now)}}}


NEEDS_REPLY_STAGE: dict[str, Any] = {"$match": {"_lastFromCustomer": True}}


def queue_pipeline(
    query: QueueQuery, now: datetime, policy: SlaPolicy, *, skip: int = 0, limit: int = 200
) -> list[dict[str, Any]]:
    """One page of a view, most urgent first by default, without ``messages``."""
    stages: list[dict[str, Any]] = [{"$match": match_filter(query)}, *deadline_stages(policy)]
    if query.breaching:
        stages.append(_breaching_stage(now))
    if query.needs_reply:
        stages.append(NEEDS_REPLY_STAGE)
    stages += [
        {"$sort": sort_spec(query)},
        {"$skip": max(skip, 0)},
        {"$limit": max(limit, 1)},
        {"$project": {name: 1 for name in (*QUEUE_FIELDS, *DERIVED_FIELDS)}},
    ]
    return stages


def count_pipeline(
    queries: dict[str, QueueQuery], now: datetime, policy: SlaPolicy
) -> list[dict[str, Any]]:
    """Counts of several views in one round trip (``$facet``)."""
    facets: dict[str, list[dict[str, Any]]] = {}
    for name, query in queries.items():
        stages: list[dict[str, Any]] = [{"$match": match_filter(query)}]
        if query.breaching or query.needs_reply:
            stages += deadline_stages(policy)
        if query.breaching:
            stages.append(_breaching_stage(now))
        if query.needs_reply:
            stages.append(NEEDS_REPLY_STAGE)
        facets[name] = [*stages, {"$count": "n"}]
    return [{"$facet": facets}]


def index_plan() -> Sequence[tuple[list[tuple[str, int]], dict[str, Any]]]:
    """The indexes on ``tickets`` our reads need (the views are served by ``queue_index``)."""
    return (
        ([("ticketNumber", 1)], {"unique": True, "name": "ticketNumber_1"}),
        ([("updatedAt", 1)], {"name": "poll_updatedAt"}),  # polling, catch-up
        ([("assignedTo", 1), ("updatedAt", -1)], {"name": "assignee_updated"}),  # away, alerts
        ([("user", 1), ("createdAt", -1)], {"name": "customer_tickets"}),
        # search's bounded scan: its window ends at an (updatedAt, _id) pair (store/search.py)
        ([("updatedAt", -1), ("_id", -1)], {"name": "search_updated"}),
    )


# --- the queue index (store/queue_index.py) -----------------------------------------------------

# What a queue-index entry holds in ``assignedTo`` for a ticket nobody has (the ticket's own
# field is null or missing). Not null: MongoDB cannot count an equality to null from an index
# alone (null also matches a missing field, which the keys do not tell apart), so the
# Unassigned count would read every unassigned entry.
UNASSIGNED_ENTRY = False

_INDEX_SORTS: dict[SortKey, list[tuple[str, int]]] = {
    SortKey.DEADLINE: [("rank", 1), ("due", 1)],
    SortKey.PRIORITY: [("prio", 1), ("rank", 1), ("due", 1)],
    SortKey.UPDATED: [("updatedAt", -1)],
    SortKey.CREATED: [("createdAt", -1)],
    SortKey.NUMBER: [("ticketNumber", 1)],
    SortKey.RESOLVED: [("resolvedAt", -1)],
}
_DONE = {Status.RESOLVED, Status.CLOSED}


def index_served(query: QueueQuery) -> bool:
    """Whether the queue index can serve this view (free-text search cannot: it reads tickets)."""
    return not query.text.strip()


# The ticket fields the queue index derives its deadline and whose-turn fields from
# (queue_index.derive): the ``rank``/``riskAt`` of Breaching, the ``needsReply`` of Needs reply.
_DEADLINE_FIELDS = frozenset({"status", "priority", "createdAt", "user", "messages"})
_TURN_FIELDS = frozenset({"status", "user", "messages"})


def count_fields(query: QueueQuery) -> frozenset[str] | None:
    """The top-level ticket fields whose change can move a ticket into or out of ``query``
    (what ``index_filter`` reads, traced back to the ticket); None: any field can (a free-text
    search). An update that changes none of them leaves the view's count as it was."""
    if not index_served(query):
        return None
    fields = {"status"}  # every view has a status clause, the default "not done" included
    if query.assignee is not Assignee.ANY:
        fields.add("assignedTo")
    if query.priorities:
        fields.add("priority")
    if query.categories:
        fields.add("category")
    if query.tags:
        fields.add("tags")
    if query.needs_reply:
        fields |= _TURN_FIELDS
    if query.breaching:
        fields |= _DEADLINE_FIELDS
    return frozenset(fields)


def index_filter(query: QueueQuery, now: datetime) -> dict[str, Any]:
    """The view as a filter on the queue index: its equality prefix first (ESR)."""
    clauses: dict[str, Any] = {}
    statuses = set(query.statuses)
    if statuses == set(ACTIVE_STATUSES):
        clauses["phase"] = "active"
    elif statuses == _DONE:
        clauses["phase"] = "done"
    elif len(statuses) == 1:
        clauses["status"] = query.statuses[0].value
    elif statuses:
        clauses["status"] = {"$in": [s.value for s in query.statuses]}
    if isinstance(query.assignee, ObjectId):
        clauses["assignedTo"] = query.assignee
    elif query.assignee is Assignee.UNASSIGNED:
        clauses["assignedTo"] = UNASSIGNED_ENTRY
    if query.priorities:
        clauses["priority"] = {"$in": [p.value for p in query.priorities]}
    if query.categories:
        clauses["category"] = {"$in": [c.value for c in query.categories]}
    if len(query.tags) == 1:
        clauses["tags"] = query.tags[0]  # equality on the multikey index
    elif query.tags:
        clauses["tags"] = {"$all": list(query.tags)}
    if query.ids:
        clauses["_id"] = {"$in": list(query.ids)}
    if query.exclude:
        clauses["_id"] = {**clauses.get("_id", {}), "$nin": list(query.exclude)}
    if query.needs_reply:
        clauses["needsReply"] = True
    if query.breaching:
        clauses["rank"] = 0
        clauses["riskAt"] = {"$lt": mongo_time(now)}
    return clauses


def index_sort(query: QueueQuery) -> list[tuple[str, int]]:
    keys = _INDEX_SORTS[query.sort]
    if query.descending:
        keys = [(name, -direction) for name, direction in keys]
    return [*keys, ("_id", -1 if query.descending else 1)]


def rows_pipeline(ids: Sequence[Any], policy: SlaPolicy) -> list[dict[str, Any]]:
    """The queue rows of these tickets (by ``_id``: index-backed), without ``messages``."""
    return [
        {"$match": {"_id": {"$in": list(ids)}}},
        {"$addFields": row_fields()},  # the SLA itself is computed from these, in Python
        {"$project": {name: 1 for name in (*QUEUE_FIELDS, *DERIVED_FIELDS)}},
    ]


def index_hint(
    filter: dict[str, Any],
    sort: list[tuple[str, int]],
    plan: Sequence[tuple[list[tuple[str, int]], dict[str, Any]]],
) -> str | None:
    """The index that serves ``filter`` + ``sort`` without a blocking sort: its keys are some of
    the filter's equality fields, then exactly the sort (either direction). Named as a hint, so
    every server (including planners that would pick a shorter prefix) runs the same plan."""
    equal = {
        k
        for k, v in filter.items()
        if not (isinstance(v, dict) and any(o.startswith("$") for o in v))
    }
    best: tuple[int, str] | None = None
    flipped = [(k, -d) for k, d in sort]
    for keys, options in plan:
        prefix, suffix = keys[: len(keys) - len(sort)], keys[len(keys) - len(sort) :]
        if suffix not in (sort, flipped) or not {k for k, _ in prefix} <= equal:
            continue
        if best is None or len(prefix) > best[0]:
            best = (len(prefix), options["name"])
    return best[1] if best else None
