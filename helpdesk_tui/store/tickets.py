"""TicketStore: every query and write the app makes on the helpdesk database.

Writes are targeted (``$set``/``$push``/``$inc``/``$unset``), never replacements, so the Ticket
Service and other agents can write the same documents at the same time. Anything that depends on
the current state is a compare-and-set in the update's filter; losing the race raises
``ConflictError`` and writes nothing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DocumentTooLarge, DuplicateKeyError, OperationFailure, PyMongoError

from helpdesk_tui.domain.errors import (
    ConflictError,
    InvalidRequest,
    NotFound,
    StoreUnavailable,
)
from helpdesk_tui.domain.models import (
    NewTicket,
    Priority,
    Status,
    Ticket,
    User,
    mongo_time,
    new_message_doc,
    new_ticket_doc,
    utc,
)
from helpdesk_tui.domain.sla import SlaPolicy, evaluate, sort_key
from helpdesk_tui.domain.workflow import Workflow
from helpdesk_tui.store.queries import (
    Assignee,
    QueueQuery,
    SortKey,
    count_pipeline,
    index_filter,
    index_hint,
    index_plan,
    index_served,
    index_sort,
    queue_pipeline,
    rows_pipeline,
)
from helpdesk_tui.store.queue_index import QueueIndex
from helpdesk_tui.store.queue_index import index_plan as queue_index_plan

Clock = Callable[[], datetime]
P = ParamSpec("P")
R = TypeVar("R")

# Server codes for "the updated document would exceed 16 MB" (BSONObjectTooLarge and kin).
TOO_LARGE_CODES = frozenset({10334, 17419, 17420})


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreSettings:
    """Collection names and policies; built from the config by the CLI/app."""

    tickets: str = "tickets"
    users: str = "users"
    orders: str = "orders"
    events: str = "ticket_events"
    counters: str = "counters"
    queue_index: str = "queue_index"
    meta: str = "helpdesk_meta"
    counter_key: str = "ticketNumber"
    counter_field: str = "seq"
    number_format: str = "TKT-{seq:06d}"
    max_reply_chars: int = 10_000
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    workflow: Workflow = field(default_factory=Workflow)


@dataclass(frozen=True)
class QueuePage:
    tickets: tuple[Ticket, ...]
    skip: int
    limit: int

    @property
    def has_more(self) -> bool:
        return len(self.tickets) == self.limit


def _db_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Turn driver errors into one typed, one-line error (never a credential-bearing URI)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except DocumentTooLarge as error:
            raise InvalidRequest(TOO_LARGE) from error
        except OperationFailure as error:
            if error.code in TOO_LARGE_CODES:
                raise InvalidRequest(TOO_LARGE) from error
            raise StoreUnavailable(f"database error: {_first_line(error)}") from error
        except PyMongoError as error:
            raise StoreUnavailable(f"database error: {_first_line(error)}") from error

    return wrapper


# BadValue, TypeMismatch: e.g. $push to a field that is not an array.
MALFORMED_CODES = (2, 14)
TOO_LARGE = "this ticket is at MongoDB's 16 MB document limit; open a follow-up ticket"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def as_object_id(value: ObjectId | str) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as error:
        raise InvalidRequest(f"not a ticket id: {value!r}") from error


class TicketStore:
    """The helpdesk database as the app sees it: domain models in, domain models out."""

    def __init__(
        self,
        db: Database[Any],
        settings: StoreSettings | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.settings = settings or StoreSettings()
        self.clock = clock
        self.tickets: Collection[Any] = db[self.settings.tickets]
        self.users: Collection[Any] = db[self.settings.users]
        self.orders: Collection[Any] = db[self.settings.orders]
        self.events: Collection[Any] = db[self.settings.events]
        self.counters: Collection[Any] = db[self.settings.counters]
        self.queue = QueueIndex(
            db[self.settings.queue_index], db[self.settings.meta], self.tickets, self.settings.sla
        )
        self._user_cache: dict[ObjectId, User] = {}
        # Whether some app keeps the queue index true for other writers, checked every few s.
        self._maintained_until = 0.0
        self.maintained_by_us = False
        self._hints: bool | None = None

    @property
    def hints(self) -> bool:
        """Whether page queries name their index. MongoDB: yes, so every server walks the
        view's ESR index whatever its plan cache says. SecantusDB runs a hinted query several
        times slower than the same plan unhinted (and sorts what it matched either way), so
        there the planner chooses. Asked of the server once."""
        if self._hints is None:
            try:
                info = self.db.client.admin.command("buildInfo")
            except PyMongoError:
                return True
            self._hints = not info.get("secantusVersion")
        return self._hints

    @property
    def database_name(self) -> str:
        """The database's name: what names this helpdesk across restarts (drafts use it)."""
        return str(self.db.name)

    def now(self) -> datetime:
        return mongo_time(self.clock())

    # --- schema ------------------------------------------------------------------------------

    @_db_errors
    def init_db(self, *, rebuild: bool = False) -> list[str]:
        """Create the indexes our queries need and bring the queue index up to date
        (``rebuild``: derive every ticket's entry again). Idempotent; never drops anything."""
        created = [
            f"{self.settings.tickets}.{self.tickets.create_index(keys, **options)}"
            for keys, options in index_plan()
        ]
        created.append(
            f"{self.settings.events}."
            + self.events.create_index([("ticket", 1), ("at", 1)], name="ticket_timeline")
        )
        created += [f"{self.settings.queue_index}.{name}" for name in self.queue.init()]
        # The counter exists before the first allocation, so no two first allocations race to
        # create it (SecantusDB answered such a race with no document but an increment: a gap).
        s = self.settings
        self.counters.update_one(
            {"_id": s.counter_key}, {"$setOnInsert": {s.counter_field: 0}}, upsert=True
        )
        if rebuild:
            self.queue.rebuild(self.now())
        else:
            self.queue.catch_up(self.now())  # builds the index if it has never been built
        return created

    # --- reads -------------------------------------------------------------------------------

    @_db_errors
    def get_ticket(self, ticket_id: ObjectId | str) -> Ticket:
        doc = self.tickets.find_one({"_id": as_object_id(ticket_id)})
        if doc is None:
            raise NotFound(f"no ticket with id {ticket_id}")
        return Ticket.from_mongo(doc)

    @_db_errors
    def find_ticket(self, ref: str) -> Ticket:
        """A ticket by number (``TKT-000123``, case-insensitive, or ``123``) or by id."""
        ref = ref.strip()
        doc = self.tickets.find_one({"ticketNumber": ref}) or self.tickets.find_one(
            {"ticketNumber": ref.upper()}
        )
        if doc is None and ref.isdigit():
            number = self.settings.number_format.format(seq=int(ref))
            doc = self.tickets.find_one({"ticketNumber": number})
        if doc is None and ObjectId.is_valid(ref):
            doc = self.tickets.find_one({"_id": ObjectId(ref)})
        if doc is None:
            raise NotFound(f"no ticket {ref}")
        return Ticket.from_mongo(doc)

    def _fresh_index(self) -> None:
        """Catch the queue index up unless a running app keeps it true (checked every 5 s)."""
        if self.maintained_by_us or time.monotonic() < self._maintained_until:
            return
        now = self.now()
        if self.queue.maintained(now):
            self._maintained_until = time.monotonic() + 5
        else:
            self.queue.catch_up(now)

    @_db_errors
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
            cursor = self.queue.entries.find(where, {"updatedAt": 1}).sort(order)
            hint = index_hint(where, order, queue_index_plan())
            if hint and self.hints:
                cursor = cursor.hint(hint)
            entries = list(cursor.skip(max(skip, 0)).limit(max(limit, 1)))
            ids = [e["_id"] for e in entries]
            pipeline = rows_pipeline(ids, self.settings.sla)
            docs = {d["_id"]: d for d in self.tickets.aggregate(pipeline)}
            stale = [
                i
                for i, e in zip(ids, entries, strict=True)
                if i not in docs or _index_time(docs[i].get("updatedAt")) != e.get("updatedAt")
            ]
            if not stale:
                break
            self.queue.refresh(stale)
        tickets = [Ticket.from_mongo(docs[i]) for i in ids if i in docs]
        return QueuePage(tuple(tickets), skip, limit)

    @_db_errors
    def count_views(self, queries: Mapping[str, QueueQuery]) -> dict[str, int]:
        """How many tickets each view holds: an index-only count per view."""
        if not queries:
            return {}
        now = self.now()
        counts: dict[str, int] = {}
        searched = {n: q for n, q in queries.items() if not index_served(q)}
        if searched:
            pipeline = count_pipeline(searched, now, self.settings.sla)
            result = next(iter(self.tickets.aggregate(pipeline)), {})
            counts = {n: (result.get(n) or [{}])[0].get("n", 0) for n in searched}
        if len(searched) < len(queries):
            self._fresh_index()
        for name, query in queries.items():
            if name not in searched:
                counts[name] = self.queue.entries.count_documents(index_filter(query, now))
        return {name: counts[name] for name in queries}

    @_db_errors
    def assigned_ids(self, agent: ObjectId, limit: int = 5_000) -> list[ObjectId]:
        """Ids of the agent's most recently updated tickets, any status (indexed, ids only)."""
        query = {"assignedTo": agent}
        cursor = self.tickets.find(query, {"_id": 1}).sort("updatedAt", -1).limit(limit)
        return [doc["_id"] for doc in cursor]

    @_db_errors
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

    @_db_errors
    def workload(self) -> dict[ObjectId, dict[str, Any]]:
        """Per agent, in one query over the queue index: active tickets by status, breached and
        at-risk counts and the oldest active ticket's creation time."""
        self._fresh_index()
        now = self.now()
        running = {"$eq": ["$rank", 0]}
        pipeline = [
            {"$match": {"phase": "active", "assignedTo": {"$ne": None}}},
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
            counts = load.setdefault(
                row["_id"]["agent"], {"breached": 0, "at_risk": 0, "oldest": None}
            )
            counts[row["_id"]["status"]] = row["n"]
            counts["breached"] += row["breached"]
            counts["at_risk"] += row["at_risk"]
            oldest = row.get("oldest")
            if isinstance(oldest, datetime) and (
                counts["oldest"] is None or utc(oldest) < counts["oldest"]
            ):
                counts["oldest"] = utc(oldest)
        return load

    @_db_errors
    def users_by_ids(self, ids: Iterable[ObjectId | None]) -> dict[ObjectId, User]:
        """Users in one ``$in`` query, cached for the life of the store (users are read only)."""
        wanted = {i for i in ids if isinstance(i, ObjectId)}
        missing = wanted - self._user_cache.keys()
        if missing:
            projection = {"name": 1, "email": 1, "role": 1}
            for doc in self.users.find({"_id": {"$in": list(missing)}}, projection):
                user = User.from_mongo(doc)
                if user.id is not None:
                    self._user_cache[user.id] = user
        return {i: self._user_cache[i] for i in wanted if i in self._user_cache}

    @_db_errors
    def user_by_email(self, email: str) -> User:
        email = email.strip()
        doc = self.users.find_one({"email": email}) or self.users.find_one({"email": email.lower()})
        if doc is None:
            raise NotFound(f"no user with email {email!r} in '{self.settings.users}'")
        user = User.from_mongo(doc)
        if user.id is not None:
            self._user_cache[user.id] = user
        return user

    @_db_errors
    def staff(self, roles: Sequence[str]) -> list[User]:
        """Users whose role is one of ``roles``, by name."""
        cursor = self.users.find({"role": {"$in": list(roles)}}, {"name": 1, "email": 1, "role": 1})
        users = [User.from_mongo(doc) for doc in cursor.sort("name", 1)]
        self._user_cache.update({u.id: u for u in users if u.id is not None})
        return users

    @_db_errors
    def order_summary(self, order_id: ObjectId) -> dict[str, Any] | None:
        """A few fields of an order for the ticket header (the collection is optional)."""
        projection = {"orderNumber": 1, "status": 1, "total": 1, "totalAmount": 1}
        return self.orders.find_one({"_id": order_id}, projection)

    # --- writes ------------------------------------------------------------------------------

    @_db_errors
    def next_ticket_number(self) -> str:
        """Allocate a number atomically from the shared counter document (upserted)."""
        s = self.settings
        for _ in range(5):
            # Two first-ever allocations racing to create the counter: MongoDB may answer one
            # with a duplicate key, SecantusDB with no document; either way the counter exists
            # now, so the next try increments it.
            try:
                doc = self.counters.find_one_and_update(
                    {"_id": s.counter_key},
                    {"$inc": {s.counter_field: 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue
            if doc is not None:
                return s.number_format.format(seq=int(doc[s.counter_field]))
        raise ConflictError("could not allocate a ticket number: the counter is contended")

    @_db_errors
    def import_demo(
        self, users: Sequence[dict[str, Any]], tickets: Sequence[dict[str, Any]]
    ) -> int:
        """Bulk-load generated people and tickets (demo/seed), numbering the tickets from one
        atomically reserved block of the shared counter so they never collide with real ones."""
        if users:
            self.users.insert_many(list(users), ordered=False)
        if not tickets:
            return 0
        s = self.settings
        block = self.counters.find_one_and_update(
            {"_id": s.counter_key},
            {"$inc": {s.counter_field: len(tickets)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        first = int(block[s.counter_field]) - len(tickets) + 1
        numbered = [
            {**doc, "ticketNumber": s.number_format.format(seq=first + i)}
            for i, doc in enumerate(tickets)
        ]
        self.tickets.insert_many(numbered, ordered=False)
        self.queue.add_new(numbered)
        return len(numbered)

    @_db_errors
    def create_ticket(self, new: NewTicket, *, actor: ObjectId | None = None) -> Ticket:
        for _ in range(20):
            doc = new_ticket_doc(new, ticket_number=self.next_ticket_number(), now=self.now())
            try:
                self.tickets.insert_one(doc)
            except DuplicateKeyError as error:
                key = (error.details or {}).get("keyPattern") or {}
                taken = "ticketNumber" in key or "ticketNumber" in str(error)
                if not taken and not self.tickets.find_one(
                    {"ticketNumber": doc["ticketNumber"]}, {"_id": 1}
                ):
                    raise  # a duplicate of something else: not ours to retry
                continue  # another writer holds that number: draw the next one
            self.queue.apply([doc])
            self._record(doc["_id"], actor, "created", None, doc["ticketNumber"])
            return Ticket.from_mongo(doc)
        raise ConflictError("could not allocate a free ticket number after 20 tries")

    def _update(
        self,
        ticket_id: ObjectId,
        condition: Mapping[str, Any],
        update: dict[str, Any],
        conflict: Callable[[Ticket], str],
    ) -> Ticket:
        """Apply ``update`` iff the ticket still matches ``condition``; else explain who won."""
        update.setdefault("$set", {})["updatedAt"] = self.now()
        try:
            doc = self.tickets.find_one_and_update(
                {"_id": ticket_id, **condition}, update, return_document=ReturnDocument.AFTER
            )
        except OperationFailure as error:
            # An array update on a field that is not an array (``tags: "x"``, ``messages:
            # "hello"``): the server answers BadValue/TypeMismatch.
            if error.code not in MALFORMED_CODES:
                raise
            arrays = sorted(
                {k for op in ("$push", "$addToSet", "$pull") for k in update.get(op, {})}
            )
            stored = self.tickets.find_one({"_id": ticket_id}, {"ticketNumber": 1}) or {}
            name = Ticket.from_mongo(stored).label if stored else f"ticket {ticket_id}"
            raise InvalidRequest(
                f"{name}: malformed document ({', '.join(arrays) or 'a field'} is not a list); "
                "it was not changed"
            ) from error
        if doc is not None:
            self.queue.apply([doc])
            return Ticket.from_mongo(doc)
        current = self.tickets.find_one({"_id": ticket_id}, {"messages": 0})
        if current is None:
            raise NotFound(f"ticket {ticket_id} no longer exists")
        now = Ticket.from_mongo(current)
        for key in condition:
            # Not someone else: the stored value is one we cannot read (status "escalated",
            # assignedTo "bob"), so it never matches what we expected.
            problem = now.problem_with(key)
            if problem is not None:
                raise InvalidRequest(f"{now.label}: malformed {problem}; it was not changed")
        raise ConflictError(conflict(now))

    @_db_errors
    def add_message(
        self,
        ticket_id: ObjectId | str,
        *,
        sender: ObjectId,
        content: str,
        internal: bool = False,
        attachments: Sequence[str] = (),
        set_status: Status | None = None,
        expected_updated_at: datetime | None = None,
    ) -> Ticket:
        """Append a reply or internal note in one atomic ``$push`` (optionally moving status).

        ``expected_updated_at`` makes it a compare-and-set: if anyone touched the ticket since
        the agent looked at it, nothing is written and ``ConflictError`` says so.
        """
        ticket_id = as_object_id(ticket_id)
        text = content.strip()
        if not text:
            raise InvalidRequest("the reply is empty")
        limit = self.settings.max_reply_chars
        if len(content) > limit:
            raise InvalidRequest(
                f"the reply is {len(content):,} characters; the limit is {limit:,}"
            )
        attachments = [a.strip() for a in attachments if a.strip()]
        message = new_message_doc(
            sender=sender,
            content=content.rstrip(),
            now=self.now(),
            is_internal=internal,
            attachments=attachments,
        )
        condition: dict[str, Any] = {}
        update: dict[str, Any] = {"$push": {"messages": message}, "$inc": {"__v": 1}}
        current: Ticket | None = None
        if set_status is not None:
            current = self.get_ticket(ticket_id)
            self.settings.workflow.check(current.status, set_status)
            condition["status"] = current.status.value
            update["$set"] = self._status_fields(set_status, update)
        if expected_updated_at is not None:
            condition["updatedAt"] = mongo_time(expected_updated_at)
        ticket = self._update(ticket_id, condition, update, self._changed_since)
        kind = "note" if internal else "reply"
        self._record(ticket_id, sender, kind, None, str(message["_id"]))
        if set_status is not None and current is not None:
            self._record(ticket_id, sender, "status", current.status.value, set_status.value)
        return ticket

    @staticmethod
    def _changed_since(current: Ticket) -> str:
        return (
            f"{current.ticket_number} changed since you opened it "
            f"(now {current.status.label}); nothing was sent: review and send again"
        )

    def _status_fields(self, target: Status, update: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        fields: dict[str, Any] = {"status": target.value}
        if target is Status.RESOLVED:
            fields["resolvedAt"] = now
        elif target is Status.CLOSED:
            fields["closedAt"] = now
        else:  # reopened (if the workflow allows it): the resolution clock runs again
            update["$unset"] = {"resolvedAt": "", "closedAt": ""}
        return fields

    @_db_errors
    def set_status(
        self,
        ticket_id: ObjectId | str,
        target: Status,
        *,
        actor: ObjectId | None = None,
        expected: Status | None = None,
    ) -> Ticket:
        """Move along the workflow; compare-and-set on the status the agent saw."""
        ticket_id = as_object_id(ticket_id)
        current = expected or self.get_ticket(ticket_id).status
        self.settings.workflow.check(current, target)
        update: dict[str, Any] = {}
        update["$set"] = self._status_fields(target, update)
        ticket = self._update(
            ticket_id,
            {"status": current.value},
            update,
            lambda now: (
                f"{now.ticket_number} is already {now.status.label} "
                f"(changed by someone else); it was not moved"
            ),
        )
        self._record(ticket_id, actor, "status", current.value, target.value)
        return ticket

    @_db_errors
    def assign(
        self,
        ticket_id: ObjectId | str,
        agent: ObjectId | None,
        *,
        actor: ObjectId | None = None,
        expected: ObjectId | Assignee | None = Assignee.ANY,
    ) -> Ticket:
        """Set or clear the assignee; with ``expected`` only if it is still who the caller saw."""
        ticket_id = as_object_id(ticket_id)
        condition: dict[str, Any] = {}
        if expected is Assignee.UNASSIGNED:
            condition["assignedTo"] = None
        elif expected is not Assignee.ANY:
            condition["assignedTo"] = expected
        update: dict[str, Any] = (
            {"$set": {"assignedTo": agent}} if agent else {"$unset": {"assignedTo": ""}}
        )
        before = self.tickets.find_one({"_id": ticket_id}, {"assignedTo": 1})
        ticket = self._update(
            ticket_id,
            condition,
            update,
            lambda now: f"{now.ticket_number} was reassigned by someone else meanwhile",
        )
        previous = (before or {}).get("assignedTo")
        self._record(ticket_id, actor, "assign", _str(previous), _str(agent))
        return ticket

    @_db_errors
    def take(self, ticket_id: ObjectId | str, agent: ObjectId) -> Ticket:
        """Assign an unassigned ticket to ``agent``; of two agents racing, exactly one wins."""
        ticket_id = as_object_id(ticket_id)
        ticket = self._update(
            ticket_id,
            {"assignedTo": None},
            {"$set": {"assignedTo": agent}},
            lambda now: f"{now.ticket_number} was already taken",
        )
        self._record(ticket_id, agent, "assign", None, str(agent))
        return ticket

    @_db_errors
    def take_next(self, agent: ObjectId, *, candidates: int = 10) -> Ticket | None:
        """Take the most urgent unassigned open ticket, skipping any another agent just took."""
        query = QueueQuery(statuses=(Status.OPEN,), assignee=Assignee.UNASSIGNED)
        for _ in range(5):
            page = self.list_queue(query, limit=candidates)
            for ticket in page.tickets:
                if ticket.id is None:
                    continue
                try:
                    return self.take(ticket.id, agent)
                except ConflictError:
                    continue
            if not page.has_more:
                return None
        return None

    @_db_errors
    def set_priority(
        self, ticket_id: ObjectId | str, priority: Priority, *, actor: ObjectId | None = None
    ) -> Ticket:
        ticket_id = as_object_id(ticket_id)
        before = self.tickets.find_one({"_id": ticket_id}, {"priority": 1})
        ticket = self._update(
            ticket_id, {}, {"$set": {"priority": priority.value}}, lambda now: "unreachable"
        )
        self._record(ticket_id, actor, "priority", (before or {}).get("priority"), priority.value)
        return ticket

    @_db_errors
    def change_tags(
        self,
        ticket_id: ObjectId | str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        actor: ObjectId | None = None,
    ) -> Ticket:
        """Add and remove tags without overwriting tags someone else set meanwhile."""
        ticket_id = as_object_id(ticket_id)
        added = _clean_tags(add)
        removed = [t for t in _clean_tags(remove) if t not in added]
        if not added and not removed:
            raise InvalidRequest("no tags to change")
        ticket: Ticket | None = None
        if removed:
            # $addToSet and $pull on one path conflict in a single update: pull first.
            ticket = self._update(
                ticket_id,
                {},
                {"$pull": {"tags": {"$in": removed}}, "$inc": {"__v": 1}},
                lambda now: "unreachable",
            )
        if added:
            ticket = self._update(
                ticket_id,
                {},
                {"$addToSet": {"tags": {"$each": added}}, "$inc": {"__v": 1}},
                lambda now: "unreachable",
            )
        assert ticket is not None  # one of the two ran: checked above
        self._record(ticket_id, actor, "tags", ",".join(removed) or None, ",".join(added) or None)
        return ticket

    # --- audit -------------------------------------------------------------------------------

    def _record(
        self,
        ticket_id: ObjectId,
        actor: ObjectId | None,
        action: str,
        before: str | None,
        after: str | None,
    ) -> None:
        """Append to the audit trail (who, what, from, to, when)."""
        self.events.insert_one(
            {
                "ticket": ticket_id,
                "actor": actor,
                "action": action,
                "from": before,
                "to": after,
                "at": self.now(),
            }
        )

    @_db_errors
    def history(self, ticket_id: ObjectId) -> list[dict[str, Any]]:
        return list(self.events.find({"ticket": ticket_id}).sort("at", 1).limit(500))


def _index_time(value: Any) -> datetime:
    """A ticket's ``updatedAt`` as the queue index stores it."""
    from helpdesk_tui.store.queue_index import _date

    return _date(value)


def _count_if(condition: dict[str, Any]) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
