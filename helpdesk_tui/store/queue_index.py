"""The queue index: one small document per ticket, in a collection of ours, that orders the queue.

Why. The default order of every view is the next SLA deadline, which the Ticket Service does not
store: it follows from ``createdAt``, the priority's targets (business hours included) and
whether an agent has answered. Computing it in an aggregation ranks every ticket a view matches
on every page load, so the server's work grows with the backlog. Here the deadline is computed
once per ticket *write* (by the SLA engine, so business hours are exact) and kept in
``queue_index`` beside what the views filter on. A page is then two index-backed queries: the
ids of one page from an index whose prefix is the view's equality filter and whose suffix is the
sort (``rank, due, _id``), and those tickets by ``_id``. Counts are ``count_documents`` on index
prefixes. Nothing of ours is ever written to ``tickets``.

Keeping it true (who writes it):

* Our own writes: the store that changes a ticket derives its entry from the document the write
  returned and upserts it (one extra write), so the writer sees its change at once.
* Other writers (the Ticket Service, a script): one running app holds a lease
  (``helpdesk_meta``, renewed by its live feed) and applies the change stream's events to the
  index; the others only read. With no app running nothing applies events, so the lease holder
  first catches up from the tickets written since the last sync point (``updatedAt`` index,
  with an overlap) and moves the sync point forward as it goes.
* Every entry is derived from a document as written or as just read, and upserted whole. The
  lease holder re-reads the ticket for every change it sees, so whatever order two writers'
  own upserts landed in, the current state is back within one event.

Failure modes and their repair:

* A stale entry (an event missed, two writes in one millisecond): every page compares the
  tickets it fetched with their entries; an entry whose ``updatedAt`` differs is re-derived from
  the ticket and written back, and the page re-sorted.
* An entry whose ticket was deleted: dropped when a page finds no ticket for it.
* A ticket without an entry (written while no app ran, before a catch-up): found by the
  catch-up; ``doctor`` compares the counts; ``init-db`` rebuilds the whole index.
* A change of the SLA policy (targets, business hours): the policy's fingerprint is stored with
  the sync point; an app with another policy rebuilds the index when it takes the lease.
  (Teams whose agents run different SLA settings on one database would fight over it: the
  settings are a team's, not an agent's.)
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Priority, Status, Ticket, mongo_time, utc
from helpdesk_tui.domain.sla import ClockKind, SlaPolicy, due_at, evaluate, sort_key
from helpdesk_tui.store.lenient import LEASE, QUEUE_PAGE, SYNC
from helpdesk_tui.store.queries import UNASSIGNED_ENTRY

# Where a ticket without a deadline sorts: after every real one.
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEASE_SECONDS = 30
CATCH_UP_OVERLAP = timedelta(minutes=5)

# What deriving an entry needs of a ticket: never message text.
DERIVE_PROJECTION: dict[str, Any] = {
    name: 1
    for name in (
        "ticketNumber",
        "user",
        "priority",
        "status",
        "category",
        "assignedTo",
        "tags",
        "createdAt",
        "updatedAt",
        "resolvedAt",
        "closedAt",
    )
} | {"messages.sender": 1, "messages.isInternal": 1, "messages.createdAt": 1}

ACTIVE = frozenset(s.value for s in ACTIVE_STATUSES)
DONE = frozenset((Status.RESOLVED.value, Status.CLOSED.value))


def phase_of(status: Any) -> str:
    # An unknown or missing status ("escalated", null) is not done: it stays in the active
    # views, flagged ⚠ on its row, rather than vanishing from every view (issue 12).
    return "done" if status in DONE else "active"


# Bumped when ``derive`` changes what it writes (2: unknown statuses are "active"; 3: a
# customer's reply wakes a waiting ticket, ``needsReply``; 4: the row's conversation fields,
# ``ROW_FIELDS``; 5: unassigned is ``UNASSIGNED_ENTRY``, not null), so the fingerprint differs
# and an existing index is rebuilt like after a policy change.
ENTRY_FORMAT = 5

# An entry's fields a queue row takes, under the names the row's document uses for them (the
# names the stream pipeline computes, queries.DERIVED_FIELDS).
ROW_FIELDS = {
    "firstResponseAt": "_firstResponseAt",
    "messageCount": "_messageCount",
    "lastMessageAt": "_lastMessageAt",
    "lastFromCustomer": "_lastFromCustomer",
}


def policy_fingerprint(policy: SlaPolicy) -> str:
    text = json.dumps(policy.model_dump(mode="json"), sort_keys=True) + f"|{ENTRY_FORMAT}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def derive(doc: Mapping[str, Any], policy: SlaPolicy) -> dict[str, Any]:
    """The index entry of a ticket document (which may be malformed: never raises)."""
    ticket = Ticket.from_mongo(doc)
    created = ticket.created_at
    status = evaluate(ticket, created or EPOCH, policy)  # deadlines do not depend on "now"
    rank, _ = sort_key(status)
    due = status.next.due if status.next is not None and status.next.due else None
    risk = None
    if created is not None and status.next is not None:
        target = policy.target(ticket.priority)
        share = 1 - policy.at_risk_share
        moments = []
        for clock in (status.first_response, status.resolution):
            if not clock.running:
                continue
            minutes = (
                target.first_response_minutes
                if clock.kind is ClockKind.FIRST_RESPONSE
                else target.resolution_minutes
            )
            try:
                moments.append(
                    due_at(created, timedelta(minutes=minutes * share), policy.business_hours)
                )
            except (OverflowError, ValueError):
                pass
        risk = min(moments, default=None)
    raw_status = doc.get("status")
    assignee = doc.get("assignedTo")
    tags = doc.get("tags")
    priority = doc.get("priority")
    return {
        "status": raw_status if isinstance(raw_status, str) else None,
        "phase": phase_of(raw_status),
        "assignedTo": assignee if assignee is not None else UNASSIGNED_ENTRY,
        "priority": priority if isinstance(priority, str) else None,
        "prio": ticket.priority.rank if priority in {p.value for p in Priority} else 2,
        "category": doc.get("category") if isinstance(doc.get("category"), str) else None,
        "tags": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        # The customer wrote the last public message of an active ticket: the agents' turn.
        "needsReply": ticket.customer_turn and phase_of(raw_status) == "active",
        "rank": rank,
        "due": mongo_time(due) if due else FAR_FUTURE,
        "riskAt": mongo_time(risk) if risk else FAR_FUTURE,
        # What a queue row shows of the conversation (no message is read for a page: the
        # rows come from these and the ticket's own fields, see ROW_FIELDS).
        "firstResponseAt": mongo_time(ticket.first_response_at)
        if ticket.first_response_at
        else None,
        "messageCount": ticket.message_count,
        "lastMessageAt": mongo_time(ticket.last_message_at) if ticket.last_message_at else None,
        "lastFromCustomer": ticket.last_message_from_customer,
        "ticketNumber": doc.get("ticketNumber") if isinstance(doc.get("ticketNumber"), str) else "",
        "createdAt": mongo_time(created) if created else None,
        "updatedAt": index_time(doc.get("updatedAt")),
        "resolvedAt": index_time(doc.get("resolvedAt")),
    }


def misshapen_entry(entry: Mapping[str, Any]) -> bool:
    """Whether a page's entry holds a field of another shape (store/lenient.py): a page
    re-derives it like a stale one, rather than show the ticket as malformed."""
    return any(True for _ in QUEUE_PAGE.misshapen([entry], "re-derived"))


def index_time(value: Any) -> datetime:
    return mongo_time(utc(value)) if isinstance(value, datetime) else EPOCH


# Indexes an earlier version created that a newer one in ``index_plan`` replaces.
REPLACED_INDEXES = frozenset({"qi_phase_risk"})


def index_plan() -> Sequence[tuple[list[tuple[str, int]], dict[str, Any]]]:
    """Indexes on ``queue_index``: equality prefix of a view, then its sort (ESR)."""
    deadline = [("rank", ASCENDING), ("due", ASCENDING), ("_id", ASCENDING)]
    plan: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
        # The default order (next deadline) for every standard view's equality prefix.
        ([("phase", 1), *deadline], {"name": "qi_phase_deadline"}),
        ([("assignedTo", 1), ("phase", 1), *deadline], {"name": "qi_assignee_deadline"}),
        ([("status", 1), *deadline], {"name": "qi_status_deadline"}),
        ([("needsReply", 1), ("phase", 1), *deadline], {"name": "qi_reply_deadline"}),
        ([("assignedTo", 1), ("status", 1), *deadline], {"name": "qi_assignee_status_deadline"}),
        # The Breaching count: running tickets past their at-risk moment; `_id` last, so the
        # count of my snoozed ones among them (subtracted) is read from the keys too
        # (tests/queue/test_count_shapes.py). A new name: `init-db` adds it beside an older index.
        ([("phase", 1), ("rank", 1), ("riskAt", 1), ("_id", 1)], {"name": "qi_phase_risk_id"}),
        ([("phase", 1), ("resolvedAt", DESCENDING), ("_id", 1)], {"name": "qi_phase_resolved"}),
    ]
    # Every index here is written on every ticket change, so they are few: the other sorts
    # (`o`) and tag views walk their view's equality index and sort what matched (bounded by the
    # view's size, not the collection's).
    return tuple(plan)


@dataclass
class QueueIndex:
    """Reads and maintains ``queue_index`` (see the module docstring)."""

    entries: Collection[Any]
    meta: Collection[Any]
    tickets: Collection[Any]
    policy: SlaPolicy
    # This process holds the lease (set by its IndexMaintainer): no need to ask who does.
    held: bool = False

    def init(self) -> list[str]:
        names = [self.entries.create_index(keys, **options) for keys, options in index_plan()]
        for name in REPLACED_INDEXES & set(self.entries.index_information()):
            self.entries.drop_index(name)  # its successor is built: one index less to write
        return names

    # --- writing -------------------------------------------------------------------------------

    def apply(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Upsert the entries of these ticket documents (each as it was just written or read).

        Unconditional: ``updatedAt`` cannot order two versions (a writer whose clock is behind
        stamps an older time on a newer state), so nothing here compares them. Two writers
        applying their own results in the opposite order of their writes leave the older one
        for a moment; the lease holder re-reads the ticket on that write's event and puts the
        current state back (and a page that reads the entry repairs it too).
        """
        self._upsert([(doc["_id"], derive(doc, self.policy)) for doc in docs if "_id" in doc])

    def _upsert(self, entries: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        operations = [UpdateOne({"_id": i}, {"$set": entry}, upsert=True) for i, entry in entries]
        if not operations:
            return
        try:
            self.entries.bulk_write(operations, ordered=False)
        except BulkWriteError as error:
            # A duplicate key here means the entry is newer than this change: keep it.
            others = [e for e in error.details.get("writeErrors", []) if e.get("code") != 11000]
            if others:
                raise

    def add_new(self, docs: Sequence[Mapping[str, Any]]) -> None:
        """Entries for tickets just inserted (a bulk import): one insert, not an upsert each."""
        entries = [{"_id": d["_id"], **derive(d, self.policy)} for d in docs if "_id" in d]
        if not entries:
            return
        try:
            self.entries.insert_many(entries, ordered=False)
        except BulkWriteError as error:
            taken = {
                entries[e["index"]]["_id"]
                for e in error.details.get("writeErrors", [])
                if e.get("code") == 11000
            }
            if len(taken) < len(error.details.get("writeErrors", [])):
                raise
            self.apply([d for d in docs if d.get("_id") in taken])  # already there: replace

    def remove(self, ids: Iterable[Any]) -> None:
        ids = list(ids)
        if ids:
            self.entries.delete_many({"_id": {"$in": ids}})

    def refresh(self, ids: Iterable[Any]) -> None:
        """Re-derive these tickets' entries from the tickets (repair; missing ones removed)."""
        wanted = list(ids)
        if not wanted:
            return
        docs = list(self.tickets.find({"_id": {"$in": wanted}}, DERIVE_PROJECTION))
        self.apply(docs)
        found = {d["_id"] for d in docs}
        self.remove(i for i in wanted if i not in found)

    def rebuild(self, now: datetime, batch: int = 1_000) -> int:
        """Derive every ticket's entry (init-db, or a changed SLA policy). Idempotent.

        ``now`` is the writers' clock (the store's), in which ``updatedAt`` is written.
        """
        count = 0
        pending: list[Mapping[str, Any]] = []
        started = now
        for doc in self.tickets.find({}, DERIVE_PROJECTION):
            pending.append(doc)
            if len(pending) >= batch:
                self.apply(pending)
                count, pending = count + len(pending), []
        self.apply(pending)
        count += len(pending)
        self._set_sync(started - CATCH_UP_OVERLAP)
        return count

    def catch_up(self, now: datetime) -> int:
        """Apply the tickets written since the last sync point (or rebuild if there is none).

        Returns how many entries it changed: only entries that differ from what their ticket
        derives are written (the overlap re-reads tickets whose events the last lease holder
        already applied, and most are).
        """
        sync = self.meta.find_one({"_id": "queue_index.sync"})
        # A sync point of another shape (store/lenient.py) is as good as none: rebuild, which
        # writes a new one.
        if (
            sync is None
            or not SYNC.keep(sync)
            or sync.get("policy") != policy_fingerprint(self.policy)
        ):
            return self.rebuild(now)
        since = utc(sync["until"]) - CATCH_UP_OVERLAP
        started = now
        docs = list(self.tickets.find({"updatedAt": {"$gte": since}}, DERIVE_PROJECTION))
        stale = self.differing(docs)
        self._upsert(stale)
        self._set_sync(started)
        return len(stale)

    def differing(self, docs: Sequence[Mapping[str, Any]]) -> list[tuple[Any, dict[str, Any]]]:
        """(id, entry) for each ticket whose stored entry is missing or differs from its own."""
        derived = [(d["_id"], derive(d, self.policy)) for d in docs if "_id" in d]
        if not derived:
            return []
        stored = {e["_id"]: e for e in self.entries.find({"_id": {"$in": [i for i, _ in derived]}})}
        return [
            (i, entry)
            for i, entry in derived
            if (old := stored.get(i)) is None or any(old.get(k) != v for k, v in entry.items())
        ]

    def check(self, now: datetime, sample: int = 50) -> tuple[bool, str]:
        """For doctor: whether the index covers the tickets and is in step with the latest."""
        tickets = self.tickets.count_documents({})
        entries = self.entries.count_documents({})
        recent = list(
            self.tickets.find({}, {"updatedAt": 1}).sort("updatedAt", DESCENDING).limit(sample)
        )
        known = {
            e["_id"]: e.get("updatedAt")
            for e in self.entries.find(
                {"_id": {"$in": [d["_id"] for d in recent]}}, {"updatedAt": 1}
            )
        }
        behind = sum(1 for d in recent if known.get(d["_id"]) != index_time(d.get("updatedAt")))
        lease = "kept live by a running app" if self.maintained(now) else "no app keeps it live"
        text = (
            f"{entries} entries for {tickets} tickets; "
            f"{behind} of the {len(recent)} latest behind; {lease}"
        )
        return entries == tickets and behind == 0, text

    def maintained(self, now: datetime) -> bool:
        """Whether a running app holds the lease (and so applies other writers' changes)."""
        lease = self.meta.find_one({"_id": "queue_index.lease"}, {"holder": 1, "until": 1})
        return bool(lease and LEASE.keep(lease) and utc(lease["until"]) > utc(now))

    def _set_sync(self, until: datetime) -> None:
        self.meta.update_one(
            {"_id": "queue_index.sync"},
            {"$set": {"until": mongo_time(until), "policy": policy_fingerprint(self.policy)}},
            upsert=True,
        )

    def mark_synced(self, until: datetime) -> None:
        """The lease holder has applied every change up to ``until``."""
        self._set_sync(until)

    # --- the lease -----------------------------------------------------------------------------

    def take_lease(self, holder: str, now: datetime) -> bool:
        """Hold (or renew) the right to apply other writers' changes; False if another has it."""
        now = mongo_time(now)
        try:
            doc = self.meta.find_one_and_update(
                {
                    "_id": "queue_index.lease",
                    # Mine, expired, or of another shape (store/lenient.py: a lease no one can
                    # renew is as good as expired, and is rewritten whole here).
                    "$or": [
                        {"holder": holder},
                        {"until": {"$lt": now}},
                        LEASE.malformed_filter(),
                    ],
                },
                {"$set": {"holder": holder, "until": now + timedelta(seconds=LEASE_SECONDS)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False  # held by another app, still valid
        return bool(doc and doc.get("holder") == holder)

    def release_lease(self, holder: str) -> None:
        self.meta.delete_one({"_id": "queue_index.lease", "holder": holder})


def new_holder() -> str:
    return uuid.uuid4().hex


@dataclass
class IndexMaintainer:
    """The live feed's side of the index: hold the lease, catch up, apply others' changes.

    ``tick`` is called by the feed's loop (at least once a second); ``changed`` with the ids of
    every batch of changes the feed saw. Only the lease holder reads or writes anything.
    """

    index: QueueIndex
    clock: Any
    holder: str = ""
    renew_every: float = 10.0
    _holding: bool = False
    _last: datetime | None = None

    def __post_init__(self) -> None:
        self.holder = self.holder or new_holder()

    @property
    def holding(self) -> bool:
        return self._holding

    def starting(self) -> None:
        """The feed is about to take the lease (and catch up if it gets it): the views' pages
        need not catch the index up themselves meanwhile. They read it as it is; a catch-up
        that changes an entry makes the views reload (``tick`` says so)."""
        self.index.held = True

    def tick(self) -> int:
        """Renew (or take) the lease; returns how many entries a catch-up changed."""
        now = mongo_time(self.clock())
        if self._last is not None and (now - self._last).total_seconds() < self.renew_every:
            return 0
        self._last = now
        had = self._holding
        self._holding = self.index.held = self.index.take_lease(self.holder, now)
        if self._holding and not had:
            return self.index.catch_up(now)
        if self._holding:
            self.index.mark_synced(now)
        return 0

    def changed(self, ids: Iterable[Any]) -> None:
        if self._holding:
            self.index.refresh(ids)

    def stop(self) -> None:
        if self._holding:
            self.index.release_lease(self.holder)
            self._holding = self.index.held = False
