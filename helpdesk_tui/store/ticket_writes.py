"""TicketWrites: every change the app makes to tickets.

Writes are targeted (``$set``/``$push``/``$inc``/``$unset``), never replacements, so the Ticket
Service and other agents can write the same documents at the same time. Anything that depends on
the current state is a compare-and-set in the update's filter; losing the race raises
``ConflictError`` and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId, Regex
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from helpdesk_tui.domain.errors import (
    ConflictError,
    HistoryNotWritten,
    InvalidRequest,
    MergedAway,
    NotFound,
    NotSent,
    OutcomeUnknown,
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
)
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.store.core import as_object_id
from helpdesk_tui.store.errors import TOO_LARGE_CODES, db_errors, why
from helpdesk_tui.store.numbering import Numbering
from helpdesk_tui.store.outcome import Pending, bounded, classify, read_back
from helpdesk_tui.store.queries import (
    Assignee,
)

# BadValue, TypeMismatch: e.g. $push to a field that is not an array.
MALFORMED_CODES = (2, 14)

# A ticket closed by a merge carries the tag ``merged-into-<target number>`` (store/merge.py).
MERGED_PREFIX = "merged-into-"
MERGED_PATTERN = Regex(f"^{MERGED_PREFIX}")


def merged_into(ticket: Ticket) -> str | None:
    """The number of the ticket this one was merged into, or None."""
    for tag in ticket.tags:
        if tag.startswith(MERGED_PREFIX) and len(tag) > len(MERGED_PREFIX):
            return tag[len(MERGED_PREFIX) :]
    return None


def _why_of(error: StoreUnavailable) -> str:
    cause = error.__cause__
    return classify(cause).args[0] if isinstance(cause, PyMongoError) else str(error)


def _outcome(error: PyMongoError, pending: Pending) -> NotSent | OutcomeUnknown:
    outcome = classify(error)
    if isinstance(outcome, OutcomeUnknown):
        outcome.pending = pending
    return outcome


TRANSACTION_TRIES = 5
WRITE_CONFLICT = 112
# An audit entry to write with a change: (actor, action, from, to).
Entry = tuple[ObjectId | None, str, str | None, str | None]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))


class TicketWrites(Numbering):
    """New tickets, replies and notes, status, assignment, priority and tags, with their audit
    entries."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._has_transactions: bool | None = None  # asked of the server at the first write

    @db_errors
    def insert_tickets(self, docs: Sequence[dict[str, Any]]) -> int:
        """Bulk-insert complete ticket documents (numbered already) and their queue entries."""
        if not docs:
            return 0
        self.tickets.insert_many(list(docs), ordered=False)
        self.queue.add_new(docs)
        return len(docs)

    @db_errors
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

    def update_if(
        self,
        ticket_id: ObjectId,
        condition: Mapping[str, Any],
        update: dict[str, Any],
        conflict: Callable[[Ticket], str],
        record: Entry | None = None,
    ) -> Ticket:
        """Apply ``update`` iff the ticket still matches ``condition``; else explain who won.

        ``record``: its audit entry (actor, action, from, to), written in the same transaction
        where the server has them (a replica set), so a change is never in the ticket without
        its entry, even one the server applies after our bound ran out (fault walk #33);
        without transactions (a standalone server) it is written after, as ``_record`` says.
        """
        update.setdefault("$set", {})["updatedAt"] = self.now()
        together = record is not None and self._transactions()
        try:
            with bounded(self.bounds.write):
                doc = self._write(ticket_id, condition, update, record if together else None)
        except PyMongoError as error:  # a dropped link or a stall: say whether it was changed
            # An array update on a field that is not an array (``tags: "x"``, ``messages:
            # "hello"``): the server answers BadValue/TypeMismatch.
            if isinstance(error, OperationFailure) and error.code in MALFORMED_CODES:
                raise self._malformed(ticket_id, update, error) from error
            if isinstance(error, OperationFailure) and error.code in TOO_LARGE_CODES:
                raise  # db_errors says it
            outcome = classify(error)
            if isinstance(outcome, NotSent):
                raise NotSent(f"not changed: {outcome}") from error
            raise OutcomeUnknown(
                f"no answer from the database ({outcome}); it may have been changed: "
                "look again before retrying"
            ) from error
        if doc is not None:
            if record is not None and not together:
                self._record(ticket_id, *record)
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

    def _write(
        self,
        ticket_id: ObjectId,
        condition: Mapping[str, Any],
        update: dict[str, Any],
        record: Entry | None,
    ) -> dict[str, Any] | None:
        """The compare-and-set write, and with ``record`` its audit entry in one transaction."""
        where = {"_id": ticket_id, **condition}
        if record is None:
            found: dict[str, Any] | None = self.tickets.find_one_and_update(
                where, update, return_document=ReturnDocument.AFTER
            )
            return found
        # A concurrent writer makes the transaction's write a WriteConflict (labelled
        # TransientTransactionError) where a plain write would simply not match: the retry then
        # finds the condition gone and the loser is told who won, as without a transaction.
        # Bounded by the caller's ``pymongo.timeout`` as well as by the count.
        for _ in range(TRANSACTION_TRIES):
            try:
                with self.db.client.start_session() as session, session.start_transaction():
                    doc: dict[str, Any] | None = self.tickets.find_one_and_update(
                        where, update, return_document=ReturnDocument.AFTER, session=session
                    )
                    if doc is not None:
                        self.audit.record(ticket_id, *record, session=session)
                    return doc
            except OperationFailure as error:
                if error.code != WRITE_CONFLICT:  # a stall or a dropped link is no conflict
                    raise
        # Still conflicting: others keep writing this ticket. Nothing of ours was written (an
        # aborted transaction); the caller reads the ticket and says it changed meanwhile.
        return None

    def _transactions(self) -> bool:
        """Whether the server takes multi-document transactions (a replica set or a sharded
        cluster; asked once)."""
        if self._has_transactions is None:
            try:
                hello = self.db.command("hello")
            except PyMongoError:
                return False  # ask again next time
            self._has_transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
        return self._has_transactions

    def _malformed(
        self, ticket_id: ObjectId, update: dict[str, Any], error: OperationFailure
    ) -> InvalidRequest | NotSent | OutcomeUnknown:
        """An array update refused (BadValue/TypeMismatch): the stored field is not an array,
        if it is one of those the update touches; else the server refused for another reason
        (its own words), and the document is not blamed."""
        arrays = sorted({k for op in ("$push", "$addToSet", "$pull") for k in update.get(op, {})})
        fields = {"ticketNumber": 1, **dict.fromkeys(arrays, 1)}
        stored = self.tickets.find_one({"_id": ticket_id}, fields) or {}
        name = Ticket.from_mongo(stored).label if stored else f"ticket {ticket_id}"
        wrong = [k for k in arrays if k in stored and not isinstance(stored[k], list)]
        if stored and arrays and not wrong:
            return classify(error)  # not sent: the server answered with an error
        return InvalidRequest(
            f"{name}: malformed document ({', '.join(wrong or arrays) or 'a field'} is not a "
            "list); it was not changed"
        )

    @db_errors
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
        message_id: ObjectId | None = None,
    ) -> Ticket:
        """Append a reply or internal note in one atomic ``$push`` (optionally moving status).

        ``set_status`` is "submit as": where the workflow needs intermediate steps (open →
        in_progress → waiting) they are taken in the same compare-and-set write, each one
        audited; where no chain of steps leads there, ``InvalidTransition`` says so and nothing
        is written. ``expected_updated_at`` makes it a compare-and-set: if anyone touched the
        ticket since the agent looked at it, nothing is written and ``ConflictError`` says so.

        The message's ``_id`` (``message_id``, or a new one) is chosen before the write and the
        write only matches a ticket that does not hold it yet, so a retry (the driver's, or a
        second send of the same message) never stores two copies. A ticket closed by a merge is
        refused (``MergedAway`` names the target). The write is bounded (``bounds.write``):
        it raises ``NotSent`` or ``OutcomeUnknown`` (see store/outcome.py), never hangs.
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
        if message_id is not None:
            message["_id"] = message_id
        condition: dict[str, Any] = {}
        update: dict[str, Any] = {"$push": {"messages": message}, "$inc": {"__v": 1}}
        current: Ticket | None = None
        steps: tuple[Status, ...] = ()
        if set_status is not None:
            current = self._read_before_write(ticket_id)
            steps = self.settings.workflow.path(current.status, set_status)
            condition["status"] = current.status.value
            if steps:
                update["$set"] = self._path_fields(steps, update)
        if expected_updated_at is not None:
            condition["updatedAt"] = mongo_time(expected_updated_at)
        ticket = self._push_message(ticket_id, message["_id"], condition, update)
        kind = "note" if internal else "reply"
        try:  # sent: the audit trail must not turn that into an error (nor keep it waiting)
            with bounded(self.bounds.read):
                self._record(ticket_id, sender, kind, None, str(message["_id"]))
                if current is not None:
                    for before, after in zip((current.status, *steps), steps, strict=False):
                        self._record(ticket_id, sender, "status", before.value, after.value)
        except PyMongoError:
            pass
        return ticket

    def _read_before_write(self, ticket_id: ObjectId) -> Ticket:
        """The ticket, read before a write within ``bounds.read``: a failure is ``NotSent``."""
        try:
            with bounded(self.bounds.read):
                return self.get_ticket(ticket_id)
        except StoreUnavailable as error:
            raise NotSent(_why_of(error)) from error

    def before_reply(self, ticket_id: ObjectId) -> tuple[Ticket, dict[ObjectId, User]]:
        """The reply screen's "ticket updated" re-read and the people it names, within
        ``bounds.read``; nothing is sent yet, so a failure is ``NotSent`` (says why), and a
        ticket merged away meanwhile is ``MergedAway``."""
        current = self._read_before_write(ticket_id)
        target = merged_into(current)
        if target is not None:
            raise MergedAway(current.label, target)
        ids = [current.assigned_to, *(m.sender for m in current.messages)]
        try:
            with bounded(self.bounds.read):
                users = self.users_by_ids(ids)
        except StoreUnavailable as error:
            raise NotSent(_why_of(error)) from error
        return current, users

    def _push_message(
        self,
        ticket_id: ObjectId,
        message_id: ObjectId,
        condition: dict[str, Any],
        update: dict[str, Any],
    ) -> Ticket:
        """The reply's write: idempotent by the message ``_id``, never on a merged-away ticket,
        bounded; a lost compare-and-set explains itself as ``update_if`` does."""
        update.setdefault("$set", {})["updatedAt"] = self.now()
        where = {
            "_id": ticket_id,
            **condition,
            "messages._id": {"$ne": message_id},
            "tags": {"$not": MERGED_PATTERN},
        }
        deadline = time.monotonic() + self.bounds.write
        pending = Pending(ticket_id, message_id, deadline + self.bounds.settle)
        try:
            with bounded(self.bounds.write):
                doc = self.tickets.find_one_and_update(
                    where, update, return_document=ReturnDocument.AFTER
                )
        except OperationFailure as error:
            if error.code in MALFORMED_CODES:
                raise self._malformed(ticket_id, update, error) from error
            if error.code in TOO_LARGE_CODES:
                raise  # nothing written: db_errors says so as for every write
            raise _outcome(error, pending) from error
        except PyMongoError as error:
            raise _outcome(error, pending) from error
        if doc is None:
            try:
                with bounded(self.bounds.read):
                    doc = self.tickets.find_one({"_id": ticket_id})
            except PyMongoError as error:
                # Nothing matched this time; an earlier attempt (the driver's retry) may have.
                raise OutcomeUnknown(classify(error).args[0], pending) from error
            if doc is None:
                raise NotFound(f"ticket {ticket_id} no longer exists")
            now = Ticket.from_mongo(doc)
            if not any(m.id == message_id for m in now.messages):
                target = merged_into(now)
                if target is not None:
                    raise MergedAway(now.label, target)
                for key in condition:
                    problem = now.problem_with(key)
                    if problem is not None:
                        raise InvalidRequest(
                            f"{now.label}: malformed {problem}; it was not changed"
                        )
                raise ConflictError(self._changed_since(now))
            # Already there: an earlier attempt of this same message was applied.
        try:
            with bounded(self.bounds.read):
                self.queue.apply([doc])
        except PyMongoError:
            pass  # readers repair a stale entry (its updatedAt differs from the ticket's)
        return Ticket.from_mongo(doc)

    @db_errors
    def message_landed(self, pending: Pending) -> bool | None:
        """Read back a write whose outcome is unknown: is its message on the ticket? ``None``:
        the database did not answer (ask again later; never send again)."""
        return read_back(self.tickets, pending, self.bounds)

    @staticmethod
    def _changed_since(current: Ticket) -> str:
        return (
            f"{current.ticket_number} changed since you opened it "
            f"(now {current.status.label}); nothing was sent: review and send again"
        )

    def _path_fields(self, steps: Sequence[Status], update: dict[str, Any]) -> dict[str, Any]:
        """The fields of a chain of steps taken in one write: each step's, the last status.

        Through resolved to closed sets both stamps; ending active unsets them (a reopen)."""
        fields: dict[str, Any] = {}
        for step in steps:
            fields.update(self.status_fields(step, update))
        if not steps[-1].is_done:
            for stamp in ("resolvedAt", "closedAt"):
                fields.pop(stamp, None)
        elif "$unset" in update:  # reopened on the way, done at the end: $set wins
            update["$unset"] = {k: v for k, v in update["$unset"].items() if k not in fields}
            if not update["$unset"]:
                del update["$unset"]
        return fields

    def status_fields(self, target: Status, update: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        fields: dict[str, Any] = {"status": target.value}
        if target is Status.RESOLVED:
            fields["resolvedAt"] = now
        elif target is Status.CLOSED:
            fields["closedAt"] = now
        else:  # reopened (if the workflow allows it): the resolution clock runs again
            update["$unset"] = {"resolvedAt": "", "closedAt": ""}
        return fields

    @db_errors
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
        update["$set"] = self.status_fields(target, update)
        return self.update_if(
            ticket_id,
            {"status": current.value},
            update,
            lambda now: (
                f"{now.ticket_number} is already {now.status.label} "
                f"(changed by someone else); it was not moved"
            ),
            (actor, "status", current.value, target.value),
        )

    @db_errors
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
        previous = (before or {}).get("assignedTo")
        return self.update_if(
            ticket_id,
            condition,
            update,
            lambda now: f"{now.ticket_number} was reassigned by someone else meanwhile",
            (actor, "assign", _str(previous), _str(agent)),
        )

    @db_errors
    def take(self, ticket_id: ObjectId | str, agent: ObjectId) -> Ticket:
        """Assign an unassigned ticket to ``agent``; of two agents racing, exactly one wins."""
        ticket_id = as_object_id(ticket_id)
        return self.update_if(
            ticket_id,
            {"assignedTo": None},
            {"$set": {"assignedTo": agent}},
            self.taken_by,
            (agent, "assign", None, str(agent)),
        )

    def taken_by(self, ticket: Ticket) -> str:
        """Why a take of ``ticket`` lost: who holds it now, by name ("already taken by Bo")."""
        holder = ticket.assigned_to
        if holder is None:
            return f"{ticket.label} changed meanwhile; it was not taken: look again"
        try:
            user = self.users_by_ids([holder]).get(holder)
        except PyMongoError:
            user = None
        name = one_line(user.display, 40) if user is not None else "another agent"
        return f"{ticket.label} was already taken by {name}"

    @db_errors
    def set_priority(
        self, ticket_id: ObjectId | str, priority: Priority, *, actor: ObjectId | None = None
    ) -> Ticket:
        ticket_id = as_object_id(ticket_id)
        before = self.tickets.find_one({"_id": ticket_id}, {"priority": 1})
        entry = (actor, "priority", _str((before or {}).get("priority")), priority.value)
        return self.update_if(
            ticket_id,
            {},
            {"$set": {"priority": priority.value}},
            lambda now: "unreachable",
            record=entry,
        )

    @db_errors
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
        entry = (actor, "tags", ",".join(removed) or None, ",".join(added) or None)
        # $addToSet and $pull on one path conflict in a single update: pull first. The entry
        # goes with the last of the two writes (in its transaction where the server has them).
        updates = []
        if removed:
            updates.append({"$pull": {"tags": {"$in": removed}}, "$inc": {"__v": 1}})
        if added:
            updates.append({"$addToSet": {"tags": {"$each": added}}, "$inc": {"__v": 1}})
        for update in updates[:-1]:
            self.update_if(ticket_id, {}, update, lambda now: "unreachable")
        return self.update_if(ticket_id, {}, updates[-1], lambda now: "unreachable", record=entry)

    # --- audit (store/audit.py) ---------------------------------------------------------------

    def _record(
        self,
        ticket_id: ObjectId,
        actor: ObjectId | None,
        action: str,
        before: str | None,
        after: str | None,
    ) -> None:
        """Append to the audit trail (who, what, from, to, when), after the change it records
        was made: a failure here is ``HistoryNotWritten`` (the change stands; the agent is told
        both), never a generic error that reads as if the change failed. The driver retries
        the insert once on a dropped link (retryable writes, same ``_id``: never two entries).
        """
        try:
            with bounded(self.bounds.read):
                self.audit.record(ticket_id, actor, action, before, after)
        except PyMongoError as error:
            raise HistoryNotWritten(
                f"{action} done, but its entry in the ticket's history could not be written "
                f"({why(error)})"
            ) from error

    def history(self, ticket_id: ObjectId) -> list[dict[str, Any]]:
        return self.audit.history(ticket_id)


# Tries of a change and its audit entry when a concurrent writer conflicts with it.
