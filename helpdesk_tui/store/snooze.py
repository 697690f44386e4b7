"""Snoozes: a ticket hidden from one agent's views until a time, in a collection of ours.

``{ticket, agent, until, since}``: the Ticket Service's schema has no field for it, so nothing
is written on the ticket. A snooze ends at ``until``, or earlier when the customer has written
on the ticket since it was snoozed (checked on read, in one query over the agent's snoozed
tickets, computed by the server without shipping messages). Views exclude the agent's snoozed
ids in the queue-index query itself (``QueueQuery.exclude``): no per-ticket reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

from helpdesk_tui.domain.models import mongo_time, utc
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import SNOOZES
from helpdesk_tui.store.queries import QueueQuery

# At most this many snoozes per agent are honoured (the oldest wake-ups first).
MAX_SNOOZES = 500
SNOOZED_VIEW = "snoozed"
# Matches no ticket: the Snoozed view when nothing is snoozed.
NO_TICKET = ObjectId("000000000000000000000000")


def snoozed_view_query() -> QueueQuery:
    """The Snoozed view before the snoozes are known: any status (no filter on it, so the
    server looks the ids up by ``_id``), no ticket yet."""
    return QueueQuery(statuses=(), ids=(NO_TICKET,))


def with_snoozes(key: str, query: QueueQuery, snoozed: dict[ObjectId, datetime]) -> QueueQuery:
    """A view with my snoozes applied: the Snoozed view lists them, every other hides them."""
    ids = tuple(sorted(snoozed))
    if key == SNOOZED_VIEW:
        return replace(query, ids=ids or (NO_TICKET,))
    return replace(query, exclude=ids) if ids else query


class Snoozes:
    """The ``snoozes`` collection; ``now`` is the store's clock."""

    def __init__(
        self, entries: Collection[Any], tickets: Collection[Any], now: Callable[[], datetime]
    ) -> None:
        self.entries = entries
        self.tickets = tickets
        self.now = now

    def init(self) -> list[str]:
        return [
            str(
                self.entries.create_index(
                    [("agent", 1), ("ticket", 1)], unique=True, name="agent_ticket"
                )
            ),
            str(self.entries.create_index([("agent", 1), ("until", 1)], name="agent_until")),
        ]

    @db_errors
    def snooze(self, tickets: list[ObjectId], agent: ObjectId, until: datetime) -> None:
        now = self.now()
        for ticket in tickets:
            self.entries.update_one(
                {"agent": agent, "ticket": ticket},
                {"$set": {"until": mongo_time(until), "since": now}},
                upsert=True,
            )

    @db_errors
    def wake(self, tickets: list[ObjectId], agent: ObjectId) -> int:
        return self.entries.delete_many({"agent": agent, "ticket": {"$in": tickets}}).deleted_count

    @db_errors
    def active(self, agent: ObjectId) -> dict[ObjectId, datetime]:
        """My snoozed tickets and when each wakes; ends those past their time or answered by
        the customer since (two indexed queries, one delete when something woke)."""
        now = self.now()
        cursor = self.entries.find({"agent": agent}).sort("until", 1).limit(MAX_SNOOZES)
        # A record of another shape is skipped and named in the log (store/lenient.py), left
        # for doctor to count: one bad record never hides the queue.
        docs = list(SNOOZES.records(cursor))
        woke = [d["_id"] for d in docs if utc(d["until"]) <= utc(now)]
        live = [d for d in docs if utc(d["until"]) > utc(now)]
        if live:
            replied = self._customer_wrote(live)
            woke += [d["_id"] for d in live if d["ticket"] in replied]
            live = [d for d in live if d["ticket"] not in replied]
        if woke:
            self.entries.delete_many({"_id": {"$in": woke}})
        return {d["ticket"]: utc(d["until"]) for d in live}

    def _customer_wrote(self, docs: list[dict[str, Any]]) -> set[ObjectId]:
        """Tickets whose customer wrote after the snooze began."""
        since = {d["ticket"]: d.get("since") for d in docs}
        messages = {"$cond": [{"$isArray": "$messages"}, "$messages", []]}
        from_customer = {
            "$filter": {
                "input": messages,
                "as": "m",
                "cond": {
                    "$and": [{"$eq": ["$$m.sender", "$user"]}, {"$ne": ["$$m.isInternal", True]}]
                },
            }
        }
        pipeline: list[dict[str, Any]] = [
            {"$match": {"_id": {"$in": list(since)}}},
            {
                "$project": {
                    "last": {
                        "$max": {"$map": {"input": from_customer, "as": "m", "in": "$$m.createdAt"}}
                    }
                }
            },
        ]
        replied = set()
        for doc in self.tickets.aggregate(pipeline):
            last, start = doc.get("last"), since.get(doc["_id"])
            if (
                isinstance(last, datetime)
                and isinstance(start, datetime)
                and utc(last) > utc(start)
            ):
                replied.add(doc["_id"])
        return replied
