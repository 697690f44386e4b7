"""QueueReads: the queue's pages, view counts and per-agent load, served by the queue index."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import (
    Ticket,
    mongo_time,
    utc,
)
from helpdesk_tui.domain.sla import evaluate, sort_key
from helpdesk_tui.store.core import StoreCore
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.queries import (
    QUEUE_FIELDS,
    UNASSIGNED_ENTRY,
    QueueQuery,
    SortKey,
    count_pipeline,
    index_filter,
    index_hint,
    index_served,
    index_sort,
    queue_pipeline,
)
from helpdesk_tui.store.queue_index import ROW_FIELDS, index_time, misshapen_entry
from helpdesk_tui.store.queue_index import index_plan as queue_index_plan

# A page: its entries (order, freshness, the row's conversation fields), then its tickets.
ENTRY_PAGE_PROJECTION: dict[str, Any] = {"updatedAt": 1} | {name: 1 for name in ROW_FIELDS}
ROW_PROJECTION: dict[str, Any] = {name: 1 for name in QUEUE_FIELDS}


def row_fields_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's conversation fields under the row document's names (see ROW_FIELDS)."""
    return {row: entry.get(name) for name, row in ROW_FIELDS.items()} | {
        "_messageCount": entry.get("messageCount") or 0,
        "_lastFromCustomer": entry.get("lastFromCustomer") is True,
    }


@dataclass(frozen=True)
class QueuePage:
    tickets: tuple[Ticket, ...]
    skip: int
    limit: int

    @property
    def has_more(self) -> bool:
        return len(self.tickets) == self.limit


def _count_if(condition: dict[str, Any]) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


class QueueReads(StoreCore):
    """Pages of a view, counts of views, the agent's tickets and the team's load."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whether some app keeps the queue index true for other writers, checked every few s.
        self._maintained_until = 0.0

    def _fresh_index(self) -> None:
        """Catch the queue index up unless a running app keeps it true (checked every 5 s)."""
        if self.queue.held or time.monotonic() < self._maintained_until:
            return
        now = self.now()
        if self.queue.maintained(now):
            self._maintained_until = time.monotonic() + 5
        else:
            self.queue.catch_up(now)

    @db_errors
    def list_queue(self, query: QueueQuery, *, skip: int = 0, limit: int = 200) -> QueuePage:
        """One page of a view, most urgent first by default.

        Served by the queue index: the page's ids from an index that matches the view's filter
        and sort, then those tickets by ``_id``; about a page of documents examined whatever the
        collection's size. Entries found stale are repaired and the page re-sorted. Free-text
        search reads the tickets (see ``queue_pipeline``).
        """
        now = self.now()
        if not index_served(query):
            pipeline = queue_pipeline(query, now, self.settings.sla, skip=skip, limit=limit)
            tickets = [Ticket.from_mongo(doc) for doc in self.tickets.aggregate(pipeline)]
            if query.sort is SortKey.DEADLINE:
                tickets.sort(key=lambda t: sort_key(evaluate(t, now, self.settings.sla)))
            return QueuePage(tuple(tickets), skip, limit)
        self._fresh_index()
        where, order = index_filter(query, now), index_sort(query)
        for _ in range(2):  # a second pass only after repairing stale entries
            cursor = self.queue.entries.find(where, ENTRY_PAGE_PROJECTION).sort(order)
            hint = index_hint(where, order, queue_index_plan())
            # Hidden (snoozed) ids: a `$nin` some planners answer with a collection scan, so
            # the view's index is named whatever the server.
            if hint and (self.hints or query.exclude):
                cursor = cursor.hint(hint)
            entries = list(cursor.skip(max(skip, 0)).limit(max(limit, 1)))
            ids = [e["_id"] for e in entries]
            # The tickets' own fields (no messages); what a row shows of the conversation
            # comes with the entry, derived from the same version of the ticket (checked below).
            docs = {d["_id"]: d for d in self.tickets.find({"_id": {"$in": ids}}, ROW_PROJECTION)}
            stale = [
                i
                for i, e in zip(ids, entries, strict=True)
                if i not in docs
                or index_time(docs[i].get("updatedAt")) != e.get("updatedAt")
                or misshapen_entry(e)
            ]
            if not stale:
                break
            self.queue.refresh(stale)
        tickets = [
            Ticket.from_mongo({**docs[i], **row_fields_of(e)})
            for i, e in zip(ids, entries, strict=True)
            if i in docs
        ]
        return QueuePage(tuple(tickets), skip, limit)

    @db_errors
    def count_views(self, queries: Mapping[str, QueueQuery]) -> dict[str, int]:
        """How many tickets each view holds: an index-only count per view."""
        if not queries:
            return {}
        now = self.now()
        counts: dict[str, int] = {}
        searched = {n: q for n, q in queries.items() if not index_served(q)}
        if searched:
            pipeline = count_pipeline(searched, now, self.settings.sla)
            result: dict[str, Any] = next(iter(self.tickets.aggregate(pipeline)), {})
            counts = {n: (result.get(n) or [{}])[0].get("n", 0) for n in searched}
        if len(searched) < len(queries):
            self._fresh_index()
        for name, query in queries.items():
            if name not in searched:
                counts[name] = self._count_index(query, now)
        return {name: counts[name] for name in queries}

    def _count_index(self, query: QueueQuery, now: datetime) -> int:
        """A view's count on the queue index; hidden ids are subtracted by an ``_id`` lookup
        (a ``$nin`` in the count could scan the collection)."""
        if not query.exclude:
            return self.queue.entries.count_documents(index_filter(query, now))
        seen = replace(query, exclude=())
        total = self.queue.entries.count_documents(index_filter(seen, now))
        hidden = (
            replace(seen, ids=query.exclude)
            if not seen.ids
            else replace(seen, ids=tuple(set(seen.ids) & set(query.exclude)))
        )
        if not hidden.ids:
            return total
        return total - self.queue.entries.count_documents(index_filter(hidden, now))

    @db_errors
    def assigned_ids(self, agent: ObjectId, limit: int = 5_000) -> list[ObjectId]:
        """Ids of the agent's most recently updated tickets, any status (indexed, ids only)."""
        query = {"assignedTo": agent}
        cursor = self.tickets.find(query, {"_id": 1}).sort("updatedAt", -1).limit(limit)
        return [doc["_id"] for doc in cursor]

    @db_errors
    def changed_since(self, agent: ObjectId, since: datetime, limit: int = 50) -> list[str]:
        """Numbers of the agent's tickets written since ``since``, newest first."""
        cursor = (
            self.tickets.find(
                {"assignedTo": agent, "updatedAt": {"$gt": mongo_time(since)}},
                {"ticketNumber": 1},
            )
            .sort("updatedAt", -1)
            .limit(limit)
        )
        return [str(doc.get("ticketNumber", "?")) for doc in cursor]

    @db_errors
    def workload(self) -> dict[ObjectId, dict[str, Any]]:
        """Per agent, in one query over the queue index: active tickets by status, breached and
        at-risk counts and the oldest active ticket's creation time."""
        self._fresh_index()
        now = self.now()
        running = {"$eq": ["$rank", 0]}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"phase": "active", "assignedTo": {"$nin": [None, UNASSIGNED_ENTRY]}}},
            {
                "$group": {
                    "_id": {"agent": "$assignedTo", "status": "$status"},
                    "n": {"$sum": 1},
                    "breached": _count_if({"$and": [running, {"$lt": ["$due", now]}]}),
                    "at_risk": _count_if(
                        {"$and": [running, {"$gte": ["$due", now]}, {"$lt": ["$riskAt", now]}]}
                    ),
                    "oldest": {"$min": "$createdAt"},
                }
            },
        ]
        load: dict[ObjectId, dict[str, Any]] = {}
        for row in self.queue.entries.aggregate(pipeline):
            agent, status = row["_id"].get("agent"), row["_id"].get("status")
            if isinstance(status, list | dict) or isinstance(agent, list | dict):
                continue  # an array or subdocument (a malformed entry or assignee) is no key
            counts = load.setdefault(agent, {"breached": 0, "at_risk": 0, "oldest": None})
            counts[status] = row["n"]
            counts["breached"] += row["breached"]
            counts["at_risk"] += row["at_risk"]
            oldest = row.get("oldest")
            if isinstance(oldest, datetime) and (
                counts["oldest"] is None or utc(oldest) < counts["oldest"]
            ):
                counts["oldest"] = utc(oldest)
        return load
