"""The Ticket Service, as another process sees it: bursts of writes with its own pymongo client.

Run in a spawned process by tests/live/test_nothing_lost.py. Every write goes straight to
``tickets`` (never through our store), as the Ticket Service's Mongoose models write it: the
running app's change stream is the only way the queue and its index learn of them.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import MongoClient

from helpdesk_tui.domain.models import (
    Category,
    NewTicket,
    Priority,
    Status,
    new_message_doc,
    new_ticket_doc,
)

BURSTS = (1, 3, 8, 20, 45, 70, 150)  # 70 and 150: more than the queue patches one by one
# The last writes come in small bursts with pauses, each patched into the window: a final big
# burst would reload the window and hide what the patches before it lost.
TAIL = 250
TAIL_BURSTS = (1, 2, 3, 5, 8)
KINDS = {"status": 22, "priority": 18, "assign": 18, "new": 10, "resolve": 10, "message": 22}


def write_bursts(
    uri: str,
    database: str,
    *,
    hot: list[str],
    others: list[str],
    agents: list[str],
    customers: list[str],
    start: datetime,
    count: int = 1_000,
    seed: int = 14,
) -> dict[str, Any]:
    """``count`` writes in bursts (a burst back to back, a short pause between bursts).

    ``hot`` are tickets the app's window shows (so rows move, recolour and leave), ``others``
    any tickets (so rows enter). Returns the ids touched and the last write's ticket and
    ``updatedAt``, for the test to know when the app has seen everything.
    """
    rng = random.Random(seed)
    client: MongoClient[Any] = MongoClient(uri, tz_aware=True)
    tickets = client[database].tickets
    staff = [ObjectId(a) for a in agents]
    people = [ObjectId(c) for c in customers]
    pool_hot = [ObjectId(t) for t in hot]
    pool_all = [ObjectId(t) for t in others]
    touched: list[ObjectId] = []
    kinds = list(KINDS)
    weights = [KINDS[k] for k in kinds]
    written = 0
    last: tuple[ObjectId, datetime] | None = None
    try:
        while written < count:
            tail = count - written <= TAIL
            burst = min(rng.choice(TAIL_BURSTS if tail else BURSTS), count - written)
            for _ in range(burst):
                written += 1
                at = start + timedelta(seconds=written)
                kind = rng.choices(kinds, weights)[0]
                target = rng.choice(pool_hot if rng.random() < 0.6 else pool_all)
                if kind == "new":
                    doc = _new(rng, written, at, people, staff)
                    tickets.insert_one(doc)
                    pool_all.append(doc["_id"])
                    pool_hot.append(doc["_id"])
                    target = doc["_id"]
                else:
                    customer = None
                    if kind == "message" and rng.random() < 0.5:  # the ticket's own customer
                        found = tickets.find_one({"_id": target}, {"user": 1}) or {}
                        customer = found.get("user")
                    tickets.update_one({"_id": target}, _update(rng, kind, at, staff, customer))
                touched.append(target)
                last = (target, at)
            time.sleep(rng.choice((0.3, 0.5) if tail else (0.0, 0.05, 0.2, 0.5)))
    finally:
        client.close()
    assert last is not None
    return {
        "touched": [str(t) for t in dict.fromkeys(touched)],
        "last": str(last[0]),
        "last_at": last[1],
        "writes": written,
    }


def _new(
    rng: random.Random, n: int, at: datetime, people: list[ObjectId], staff: list[ObjectId]
) -> dict[str, Any]:
    new = NewTicket(
        subject=f"Service ticket {n}",
        description="Written by the Ticket Service during the test.",
        user=rng.choice(people),
        category=rng.choice(list(Category)),
        priority=rng.choice(list(Priority)),
        assigned_to=rng.choice([None, *staff]),
    )
    doc = new_ticket_doc(new, ticket_number=f"SVC-{n:06d}", now=at)
    doc["messages"] = [new_message_doc(sender=new.user, content=new.description, now=at)]
    return doc


def _update(
    rng: random.Random,
    kind: str,
    at: datetime,
    staff: list[ObjectId],
    customer: ObjectId | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"updatedAt": at}
    if kind == "status":  # any status, a reopen included
        fields["status"] = rng.choice([s.value for s in Status if not s.is_done])
    elif kind == "priority":
        fields["priority"] = rng.choice([p.value for p in Priority])
    elif kind == "assign":
        fields["assignedTo"] = rng.choice([None, *staff])
    elif kind == "resolve":
        done = rng.choice([Status.RESOLVED, Status.CLOSED])
        fields["status"] = done.value
        fields["resolvedAt"] = at
    else:  # a message: the customer's reply, or an agent's (which stops the first-response clock)
        sender = customer if customer is not None else rng.choice(staff)
        message = new_message_doc(sender=sender, content="A reply.", now=at)
        return {"$set": fields, "$push": {"messages": message}, "$inc": {"__v": 1}}
    return {"$set": fields, "$inc": {"__v": 1}}


def object_ids(ids: list[str]) -> list[ObjectId]:
    return [ObjectId(i) for i in ids]
