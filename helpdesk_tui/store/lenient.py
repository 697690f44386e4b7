"""Our own collections, read leniently: a record of the wrong shape is skipped, never fatal.

Tickets are read leniently (``Ticket.from_mongo`` never raises); the collections the app
writes itself (snoozes, followers, presence, the queue index and its lease, the audit trail,
merges) deserve the same: a record a script, a hand edit or an older version left in another
shape must not empty a view, stop the start or kill the live feed. Each reader checks a record
against its collection's :class:`Shape` (the BSON type of every field it reads); a record that
fails is skipped and named in the log (its ``_id``, the field and the type found, never a value:
a value could be customer text), once per process. ``helpdesk-tui doctor`` counts them with the
same shapes as ``$type`` queries (``malformed_counts``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

from helpdesk_tui.store.settings import StoreSettings

log = logging.getLogger(__name__)

MISSING = "missing"
INTEGER = ("int", "long")  # what we write for counts and ranks (a double is not one)
# Records named in the log already (by collection and _id): each is named once per process.
_NAMED: set[tuple[str, str]] = set()
_NAMED_MAX = 10_000
_PLAIN_ID = re.compile(r"^[\w.:-]{1,64}$")
# Doctor's count of one collection's malformed records stops after this (a scan of the audit
# trail of a large helpdesk can take long): the check then says it could not count.
COUNT_MS = 15_000
MAX_TIME_EXPIRED = 50


# The ``$type`` alias of what pymongo decodes a BSON value to, tried in this order: bool and
# Int64 (pymongo's int64; an int32 comes as int) are ints too, so they come first; a plain int
# is told apart by its range (``bson_type``).
_ALIASES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    (Int64, "long"),
    (float, "double"),
    (str, "string"),
    (datetime, "date"),
    (ObjectId, "objectId"),
    ((list, tuple), "array"),
    (Mapping, "object"),
    (bytes, "binData"),
    (Decimal128, "decimal"),
)


def bson_type(value: Any) -> str:
    """The ``$type`` alias MongoDB gives a value as pymongo decodes it."""
    if value is None:
        return "null"
    for kind, alias in _ALIASES:
        if isinstance(value, kind):
            return alias
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "long"
    return type(value).__name__.lower()  # never one of ours (Timestamp, Regex, ...)


@dataclass(frozen=True)
class Shape:
    """What a reader needs of a record: each field's allowed ``$type`` aliases (``missing``
    allowed where the field may be absent). ``where``: which documents of the collection have
    this shape (the lease and the sync point share ``helpdesk_meta``)."""

    name: str  # as the log and doctor name it
    fields: Mapping[str, tuple[str, ...]]
    where: Mapping[str, Any] = field(default_factory=dict)

    def fault(self, doc: Any) -> str | None:
        """``field is string (want date)`` for the first field of the wrong type; None if fine."""
        if not isinstance(doc, Mapping):
            return f"not a document ({bson_type(doc)})"
        for name, allowed in self.fields.items():
            found = bson_type(doc[name]) if name in doc else MISSING
            if found not in allowed:
                return f"{name} is {found} (want {' or '.join(allowed)})"
        return None

    def malformed_filter(self) -> dict[str, Any]:
        """The documents of the wrong shape, as a query MongoDB 6+ runs (``$expr``/``$type``:
        the aggregation ``$type`` tells an array from its elements and names a missing field)."""
        wrong = [
            {"$not": [{"$in": [{"$type": f"${name}"}, list(allowed)]}]}
            for name, allowed in self.fields.items()
        ]
        return {**self.where, "$expr": {"$or": wrong}}

    def keep(self, doc: Any) -> bool:
        """Whether ``doc`` has this shape; a record that has not is named in the log."""
        fault = self.fault(doc)
        if fault is None:
            return True
        skipped(self.name, doc, fault)
        return False

    def records(self, docs: Iterable[Any]) -> Iterator[Any]:
        """The records of ``docs`` that have this shape (the others skipped and logged)."""
        return (doc for doc in docs if self.keep(doc))

    def misshapen(self, docs: Iterable[Any], done: str) -> Iterator[Any]:
        """The records of ``docs`` that have not this shape, each named in the log with what
        is ``done`` about it (a derived record is re-derived, not skipped)."""
        for doc in docs:
            fault = self.fault(doc)
            if fault is not None:
                skipped(self.name, doc, fault, done)
                yield doc


def record_name(doc: Any) -> str:
    """A record's ``_id`` as the log names it: an ObjectId or a plain word; else its type."""
    key = doc.get("_id") if isinstance(doc, Mapping) else None
    if isinstance(key, ObjectId) or (isinstance(key, str) and _PLAIN_ID.match(key)):
        return str(key)
    return f"({bson_type(key)} _id)"


def skipped(collection: str, doc: Any, fault: str, done: str = "skipped") -> None:
    """Name a malformed record in the log (and what was ``done`` about it), once per process."""
    key = (collection, record_name(doc))
    if key in _NAMED:
        return
    if len(_NAMED) >= _NAMED_MAX:
        _NAMED.clear()
    _NAMED.add(key)
    log.warning(
        "%s a malformed %s record %s: %s (helpdesk-tui doctor counts them)",
        done,
        collection,
        key[1],
        fault,
    )


# --- the shapes ------------------------------------------------------------------------------

OID = ("objectId",)
DATE = ("date",)
TEXT = ("string",)
OPTIONAL_DATE = ("date", "null")

SNOOZES = Shape(
    "snoozes", {"ticket": OID, "agent": OID, "until": DATE, "since": DATE}
)  # since: the customer's later reply wakes it, so a snooze without it could hide for good
FOLLOWERS = Shape("followers", {"ticket": OID, "agent": OID})  # since only orders them
PRESENCE = Shape("presence", {"ticket": OID, "agent": OID, "name": TEXT, "mode": TEXT, "at": DATE})
LEASE = Shape("helpdesk_meta", {"holder": TEXT, "until": DATE}, where={"_id": "queue_index.lease"})
SYNC = Shape("helpdesk_meta", {"until": DATE, "policy": TEXT}, where={"_id": "queue_index.sync"})
# What a page reads of an entry (store/tickets.py ENTRY_PAGE_PROJECTION), and what the views
# filter and sort on. ``assignedTo`` is not checked: it mirrors the ticket's, whatever it holds.
QUEUE_ENTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "updatedAt": DATE,
    "firstResponseAt": OPTIONAL_DATE,
    "messageCount": INTEGER,
    "lastMessageAt": OPTIONAL_DATE,
    "lastFromCustomer": ("bool",),
}
QUEUE_INDEX = Shape(
    "queue_index",
    QUEUE_ENTRY_FIELDS
    | {
        "phase": TEXT,
        "status": ("string", "null"),
        "rank": INTEGER,
        "due": DATE,
        "riskAt": DATE,
        "needsReply": ("bool",),
        "resolvedAt": DATE,
        "createdAt": OPTIONAL_DATE,
        "prio": INTEGER,
        "priority": ("string", "null"),
        "category": ("string", "null"),
        "tags": ("array",),
        "ticketNumber": TEXT,
    },
)
QUEUE_PAGE = Shape("queue_index", QUEUE_ENTRY_FIELDS)
OPTIONAL_TEXT = ("string", "null", MISSING)
EVENTS = Shape(
    "ticket_events",
    {
        "ticket": OID,
        "action": TEXT,
        "at": DATE,
        "actor": ("objectId", "null", MISSING),
        "from": OPTIONAL_TEXT,
        "to": OPTIONAL_TEXT,
    },
)
MERGES = Shape("ticket_merges", {"target": OID, "sources": ("array",)})


def origins_of(merge: Mapping[str, Any]) -> Iterator[tuple[str, ObjectId]]:
    """(source label, copied message id) of one merge record; malformed parts skipped."""
    for source in merge.get("sources") or ():
        if not isinstance(source, Mapping):
            continue
        number = source.get("number")
        label = number if isinstance(number, str) and number else "another ticket"
        pairs = source.get("messages")
        for pair in pairs if isinstance(pairs, list) else ():
            if isinstance(pair, Mapping) and isinstance(pair.get("to"), ObjectId):
                yield label, pair["to"]


def collections(
    db: Database[Any], settings: StoreSettings, followers: str = "followers"
) -> list[tuple[Shape, Collection[Any]]]:
    """(shape, collection) of every collection of ours that readers check, for doctor."""
    return [
        (SNOOZES, db[settings.snoozes]),
        (FOLLOWERS, db[followers]),
        (PRESENCE, db[settings.presence]),
        (LEASE, db[settings.meta]),
        (SYNC, db[settings.meta]),
        (QUEUE_INDEX, db[settings.queue_index]),
        (EVENTS, db[settings.events]),
        (MERGES, db[settings.merges]),
    ]


def malformed_counts(
    db: Database[Any], settings: StoreSettings, followers: str = "followers"
) -> dict[str, int]:
    """Per collection, how many records readers skip (collections without any left out).
    A scan (``$expr`` uses no index), bounded by ``COUNT_MS`` per collection: a driver error
    (a timeout, a login without ``find`` on it) is raised."""
    counts: dict[str, int] = {}
    for shape, collection in collections(db, settings, followers):
        found = collection.count_documents(shape.malformed_filter(), maxTimeMS=COUNT_MS)
        if found:
            counts[collection.name] = counts.get(collection.name, 0) + found
    return counts


# Unexpected errors (a bug, not a driver error) seen by a loop that must carry on (the live
# feed's index maintenance), by where and type: each is recorded once per process.
_UNEXPECTED: set[tuple[str, str]] = set()


def carry_on(error: Exception, where: str) -> None:
    """A loop that must not die met a bug: log it (its type only: the message could quote
    customer data) and, the first time, keep its traceback in the private crash log."""
    key = (where, type(error).__name__)
    if key in _UNEXPECTED:
        return
    _UNEXPECTED.add(key)
    from helpdesk_tui.crash import record_crash  # the app's private crash log (0600)

    path = record_crash(error)
    log.error(
        "%s: unexpected %s, carrying on (details in %s)",
        where,
        key[1],
        path or "no crash log: it could not be written",
    )


# Collections the app rewrites whole on its own: `init-db` re-derives the index and its sync
# point; an app taking the lease rewrites the lease.
REDERIVED = frozenset({"queue_index", "helpdesk_meta"})


def malformed_report(
    db: Database[Any], settings: StoreSettings, followers: str = "followers"
) -> tuple[bool, str]:
    """For doctor: whether every record of ours has the shape its reader needs, and if not,
    how many have not, per collection, with what to do about them."""
    try:
        counts = malformed_counts(db, settings, followers)
    except PyMongoError as error:
        if getattr(error, "code", None) == MAX_TIME_EXPIRED:
            return False, f"not counted: a collection took over {COUNT_MS // 1000} s to scan"
        first = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        return False, f"not counted ({first})"
    if not counts:
        return True, "none: every record of ours has the shape the app reads"
    listed = ", ".join(f"{name} {n}" for name, n in counts.items())
    hint = (
        "the app skips them (each named in its log); inspect them in the database, then fix "
        "or delete them"
    )
    if counts.keys() & REDERIVED:
        hint += "; `helpdesk-tui init-db` re-derives the queue index and its sync point"
    return False, f"{listed}: {hint}"
