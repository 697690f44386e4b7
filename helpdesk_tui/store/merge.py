"""Merge duplicate tickets into one, and split messages off into a new ticket.

Design note (why a transaction, not an ordered resumable sequence). A merge writes 1 + N
tickets, a record of ours and N + 1 audit entries. Run as an ordered sequence (copy, then close
each source with a compare-and-set), a crash or a lost race between the steps leaves the target
holding copies of a source that is still open: half-merged, visible at once to every agent and
to the Ticket Service, and only a resume journal plus a second run could repair it. In one
multi-document transaction the server does that bookkeeping: every source is read in the
transaction's snapshot and closed with a compare-and-set on the ``updatedAt`` (and ``__v``)
that was read, so a reply the service pushes onto a source meanwhile makes the close fail (no
match, or the server's ``WriteConflict``); the transaction is aborted, nothing at all is
written, and the agent is told which ticket changed. Nothing is lost: the reply stays on the
source, and merging again copies it too. The cost: transactions need a replica set (or
mongos). The live feed needs one too (change streams), a standalone deployment is told so in
one line, and the demo's embedded server is one.

How origin is marked. A ``messages[]`` element may hold only the schema's fields (``sender``,
``content``, ``attachments``, ``isInternal``, ``createdAt``): Mongoose drops other paths when it
saves the array, and prefixing ``content`` would change the customer's words (which the service
shows back to them). So each copy keeps its content, sender and time, gets a fresh ``_id`` as
Mongoose would give it, and the origin of every copy (source ticket, original message id, copy
id) is kept in a collection of ours, ``ticket_merges``, one document per merge; the ticket
screen reads it to label copies "from TKT-…". An internal note on the target names the sources,
so the service's own UI shows the merge too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, OperationFailure

from helpdesk_tui.domain.errors import ConflictError, InvalidRequest, NotFound
from helpdesk_tui.domain.models import (
    NewTicket,
    Status,
    Ticket,
    mongo_time,
    new_message_doc,
    new_ticket_doc,
)
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import MERGES, origins_of
from helpdesk_tui.store.tickets import MERGED_PREFIX, TicketStore, as_object_id

MERGED_TAG = MERGED_PREFIX + "{number}"
# IllegalOperation: "Transaction numbers are only allowed on a replica set member or mongos".
NO_TRANSACTIONS = (20,)
ORIGINS_LIMIT = 100


@dataclass(frozen=True)
class MergeResult:
    """What a merge did, for the screen and the CLI."""

    target: Ticket
    sources: tuple[Ticket, ...]
    copied: int
    tags_added: tuple[str, ...]


@dataclass(frozen=True)
class SplitResult:
    source: Ticket
    created: Ticket
    moved: int


class _Changed(Exception):
    """A compare-and-set inside the transaction lost: abort, then report ``label``."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


def merged_tag(number: str) -> str:
    """The tag a merged source carries, naming its target."""
    return MERGED_TAG.format(number=number)


def _schema_message(raw: Any, fallback_time: datetime | None) -> dict[str, Any] | None:
    """A copy of a stored message with only the schema's fields (and a new ``_id``); None for
    an element that is not a document (nothing in it to copy)."""
    if not isinstance(raw, dict):
        return None
    at = raw.get("createdAt")
    if not isinstance(at, datetime):
        at = fallback_time
    attachments = raw.get("attachments")
    message: dict[str, Any] = {
        "_id": ObjectId(),
        "content": str(raw.get("content") or ""),
        "attachments": [str(a) for a in attachments] if isinstance(attachments, list) else [],
        "isInternal": raw.get("isInternal") is True,
    }
    if isinstance(raw.get("sender"), ObjectId):
        message["sender"] = raw["sender"]
    if at is not None:
        message["createdAt"] = mongo_time(at)
    return message


def _guarded(label: str, write: Callable[[], Any]) -> Any:
    """Run one write of the transaction; a write conflict (another writer changed that ticket
    after the transaction read it) becomes ``_Changed(label)``, so the report names it."""
    try:
        return write()
    except OperationFailure as error:
        if error.has_error_label("TransientTransactionError"):
            raise _Changed(label) from error
        raise


def _time_of(message: dict[str, Any]) -> tuple[int, datetime | None]:
    at = message.get("createdAt")
    return (0, at) if at is not None else (1, None)


class Merger:
    """Merge and split on one store, each in one transaction (see the module's design note)."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store
        self.merges: Collection[Any] = store.db[store.settings.merges]

    @contextmanager
    def _transaction(self) -> Iterator[ClientSession]:
        try:
            with self.store.db.client.start_session() as session, session.start_transaction():
                yield session
        except OperationFailure as error:
            if error.code in NO_TRANSACTIONS:
                raise InvalidRequest(
                    "this server has no transactions (a standalone server): merge and split "
                    "need a replica set; nothing was changed"
                ) from error
            if error.has_error_label("TransientTransactionError"):
                raise ConflictError(
                    "another writer changed one of these tickets meanwhile; nothing was "
                    "changed: look again and retry"
                ) from error
            raise

    # --- merge ---------------------------------------------------------------------------------

    @db_errors
    def merge(
        self,
        target_id: ObjectId | str,
        source_ids: Sequence[ObjectId | str],
        *,
        actor: ObjectId,
        keep_earliest_created: bool | None = None,
    ) -> MergeResult:
        """Merge ``source_ids`` into ``target_id`` all at once or not at all.

        The target gains the sources' messages (copies, in time order with its own) and tags,
        an internal note naming them, and optionally the earliest ``createdAt``. Each source is
        closed, gains an internal note and the tag ``merged-into-<target>``. A source that
        changed during the merge aborts all of it with ``ConflictError`` naming it.
        """
        target_oid = as_object_id(target_id)
        sources = list(dict.fromkeys(as_object_id(s) for s in source_ids))
        if not sources:
            raise InvalidRequest("no tickets to merge: name at least one source")
        if target_oid in sources:
            raise InvalidRequest("a ticket cannot be merged into itself")
        earliest = (
            self.store.settings.keep_earliest_created
            if keep_earliest_created is None
            else keep_earliest_created
        )
        try:
            with self._transaction() as session:
                result = self._merge(target_oid, sources, actor, earliest, session)
        except _Changed as changed:
            raise ConflictError(
                f"{changed.label} changed during the merge (a new message or another "
                "writer's change); nothing was merged: look at it and merge again"
            ) from None
        self._refresh_queue([target_oid, *sources])
        return result

    def _merge(
        self,
        target_id: ObjectId,
        source_ids: list[ObjectId],
        actor: ObjectId,
        earliest: bool,
        session: ClientSession,
    ) -> MergeResult:
        tickets, now = self.store.tickets, self.store.now()
        target_doc = tickets.find_one({"_id": target_id}, session=session)
        if target_doc is None:
            raise NotFound(f"no ticket with id {target_id}")
        target = Ticket.from_mongo(target_doc)
        self._check_open(target, "the target")
        found = {d["_id"]: d for d in tickets.find({"_id": {"$in": source_ids}}, session=session)}
        missing = [str(s) for s in source_ids if s not in found]
        if missing:
            raise NotFound(f"no ticket with id {', '.join(missing)}")
        raw_sources = [found[s] for s in source_ids]
        parsed = [Ticket.from_mongo(d) for d in raw_sources]
        for source in parsed:
            self._check_open(source, "a source")
            if source.user != target.user:
                raise InvalidRequest(
                    f"{source.label} belongs to another customer than {target.label}; "
                    "only one customer's tickets merge"
                )
        number = target.ticket_number or str(target_id)
        copies: list[dict[str, Any]] = []
        origins: list[dict[str, Any]] = []
        for raw, source in zip(raw_sources, parsed, strict=True):
            moved = []
            stored = raw.get("messages")
            for item in stored if isinstance(stored, list) else []:
                copy = _schema_message(item, source.created_at)
                if copy is None:
                    continue
                copies.append(copy)
                original = item.get("_id")
                moved.append({"from": original, "to": copy["_id"]})
            origins.append({"ticket": source.id, "number": source.ticket_number, "messages": moved})
        copies.sort(key=_time_of)
        names = ", ".join(s.label for s in parsed)
        note = new_message_doc(
            sender=actor,
            content=f"Merged {names} into this ticket ({len(copies)} messages copied).",
            now=now,
            is_internal=True,
        )
        tags = list(dict.fromkeys(t for s in parsed for t in s.tags if t not in target.tags))
        tags = [t for t in tags if not t.startswith(MERGED_PREFIX)]
        update: dict[str, Any] = {
            "$push": {"messages": {"$each": [*copies, note], "$sort": {"createdAt": 1}}},
            "$inc": {"__v": 1},
            "$set": {"updatedAt": now},
        }
        if tags:
            update["$addToSet"] = {"tags": {"$each": tags}}
        created = [s.created_at for s in parsed if s.created_at is not None]
        if earliest and created and target.created_at is not None:
            first = min(created)
            if first < target.created_at:
                update["$min"] = {"createdAt": mongo_time(first)}
        written = _guarded(
            target.label, lambda: tickets.update_one({"_id": target_id}, update, session=session)
        )
        if not written.matched_count:
            raise _Changed(target.label)
        for raw, source in zip(raw_sources, parsed, strict=True):
            self._close_source(raw, source, number, actor, now, session)
        self.merges.insert_one(
            {
                "target": target_id,
                "targetNumber": number,
                "sources": origins,
                "actor": actor,
                "at": now,
            },
            session=session,
        )
        audit = self.store.audit
        audit.record(target_id, actor, "merge", names, number, session=session)
        for source in parsed:
            audit.record(
                source.object_id, actor, "merged_into", source.label, number, session=session
            )
        after = tickets.find_one({"_id": target_id}, session=session)
        closed = tickets.find({"_id": {"$in": source_ids}}, {"messages": 0}, session=session)
        return MergeResult(
            Ticket.from_mongo(after),
            tuple(Ticket.from_mongo(d) for d in closed),
            len(copies),
            tuple(tags),
        )

    @staticmethod
    def _check_open(ticket: Ticket, role: str) -> None:
        merged = next((t for t in ticket.tags if t.startswith(MERGED_PREFIX)), None)
        if merged is not None:
            raise InvalidRequest(f"{role}, {ticket.label}, was merged already ({merged})")
        if ticket.status is Status.CLOSED:
            raise InvalidRequest(f"{role}, {ticket.label}, is closed")

    def _close_source(
        self,
        raw: dict[str, Any],
        source: Ticket,
        number: str,
        actor: ObjectId,
        now: datetime,
        session: ClientSession,
    ) -> None:
        """Close one source iff it is still exactly what was read (``updatedAt`` and ``__v``)."""
        note = new_message_doc(
            sender=actor,
            content=f"Merged into {number}; continue the conversation there.",
            now=now,
            is_internal=True,
        )
        fields: dict[str, Any] = {"status": Status.CLOSED.value, "closedAt": now, "updatedAt": now}
        if source.resolved_at is None:
            fields["resolvedAt"] = now  # resolved by the merge: its resolution clock stops
        condition = {"_id": raw["_id"], "updatedAt": raw.get("updatedAt"), "__v": raw.get("__v")}
        update = {
            "$set": fields,
            "$push": {"messages": note},
            "$addToSet": {"tags": merged_tag(number)},
            "$inc": {"__v": 1},
        }
        tickets = self.store.tickets
        written = _guarded(
            source.label, lambda: tickets.update_one(condition, update, session=session)
        )
        if not written.matched_count:
            raise _Changed(source.label)

    # --- split ---------------------------------------------------------------------------------

    @db_errors
    def split(
        self,
        ticket_id: ObjectId | str,
        message_ids: Sequence[ObjectId | str],
        *,
        actor: ObjectId,
        subject: str | None = None,
    ) -> SplitResult:
        """Move ``message_ids`` of a ticket into a new ticket for the same customer.

        The new ticket takes its number from the shared counter (as ``create_ticket`` does),
        the source's category, priority, order, assignee and tags, and an internal note naming
        the source; the source loses those messages and gains a note naming the new ticket. One
        transaction, compare-and-set on the source's ``updatedAt``: all or nothing.
        """
        source_id = as_object_id(ticket_id)
        chosen = list(dict.fromkeys(as_object_id(m) for m in message_ids))
        if not chosen:
            raise InvalidRequest("no messages chosen to split off")
        for _ in range(5):
            number = self.store.next_ticket_number()  # a gap if aborted, as any counter has
            try:
                with self._transaction() as session:
                    result = self._split(source_id, chosen, number, actor, subject, session)
            except _Changed as changed:
                raise ConflictError(
                    f"{changed.label} changed during the split; nothing was moved: "
                    "look at it and split again"
                ) from None
            except DuplicateKeyError:
                continue  # another writer holds that number: draw the next one
            self._refresh_queue([source_id, result.created.object_id])
            return result
        raise ConflictError("could not allocate a free ticket number for the split")

    def _split(
        self,
        source_id: ObjectId,
        chosen: list[ObjectId],
        number: str,
        actor: ObjectId,
        subject: str | None,
        session: ClientSession,
    ) -> SplitResult:
        tickets, now = self.store.tickets, self.store.now()
        raw = tickets.find_one({"_id": source_id}, session=session)
        if raw is None:
            raise NotFound(f"no ticket with id {source_id}")
        source = Ticket.from_mongo(raw)
        if source.user is None:
            raise InvalidRequest(f"{source.label} has no customer; it cannot be split")
        stored = raw.get("messages") if isinstance(raw.get("messages"), list) else []
        by_id = {m.get("_id"): m for m in stored if isinstance(m, dict)}
        unknown = [str(m) for m in chosen if m not in by_id]
        if unknown:
            raise NotFound(f"{source.label} has no message {', '.join(unknown)}")
        if len(chosen) >= len(stored):
            raise InvalidRequest(
                f"that is every message of {source.label}: leave at least one (or merge instead)"
            )
        # The moved messages keep their _id: they leave the source, so they stay unique.
        moved = [
            {**copy, "_id": m}
            for m in chosen
            if (copy := _schema_message(by_id[m], source.created_at)) is not None
        ]
        moved.sort(key=_time_of)
        try:
            new = NewTicket(
                subject=subject or f"Split from {source.label}: {source.subject}"[:500],
                description="",
                user=source.user,
                category=source.category,
                priority=source.priority,
                order=source.order,
                assigned_to=source.assigned_to,
                tags=list(source.tags),
            )
        except ValueError as error:
            raise InvalidRequest(f"the new ticket's subject: {error}") from error
        doc = new_ticket_doc(new, ticket_number=number, now=now)
        doc["messages"] = [
            *moved,
            new_message_doc(
                sender=actor,
                content=f"Split from {source.label}: {len(moved)} messages moved here.",
                now=now,
                is_internal=True,
            ),
        ]
        tickets.insert_one(doc, session=session)
        condition = {"_id": source_id, "updatedAt": raw.get("updatedAt"), "__v": raw.get("__v")}
        pulled = _guarded(
            source.label,
            lambda: tickets.update_one(
                condition,
                {"$pull": {"messages": {"_id": {"$in": chosen}}}, "$inc": {"__v": 1}},
                session=session,
            ),
        )
        if not pulled.matched_count:
            raise _Changed(source.label)
        note = new_message_doc(
            sender=actor,
            content=f"{len(moved)} message{'' if len(moved) == 1 else 's'} moved to {number} "
            "(split).",
            now=now,
            is_internal=True,
        )
        tickets.update_one(
            {"_id": source_id},
            {"$push": {"messages": note}, "$set": {"updatedAt": now}},
            session=session,
        )
        audit = self.store.audit
        audit.record(doc["_id"], actor, "created", None, number, session=session)
        audit.record(doc["_id"], actor, "split_from", source.label, number, session=session)
        audit.record(source_id, actor, "split", source.label, number, session=session)
        after = tickets.find_one({"_id": source_id}, session=session)
        return SplitResult(Ticket.from_mongo(after), Ticket.from_mongo(doc), len(moved))

    # --- reads ---------------------------------------------------------------------------------

    @db_errors
    def origins(self, ticket_id: ObjectId) -> dict[ObjectId, str]:
        """Which source ticket each copied message of ``ticket_id`` came from (by copy id):
        one indexed query over this ticket's merges (at most ``ORIGINS_LIMIT``)."""
        found: dict[ObjectId, str] = {}
        shape = {"target": 1, "sources": 1}
        cursor = self.merges.find({"target": ticket_id}, shape).limit(ORIGINS_LIMIT)
        for merge in MERGES.records(cursor):  # another shape: skipped (store/lenient.py)
            found.update((copy, label) for label, copy in origins_of(merge))
        return found

    def _refresh_queue(self, ids: Sequence[ObjectId | None]) -> None:
        """After the commit: re-derive the queue-index entries of the tickets written."""
        self.store.queue.refresh([i for i in ids if i is not None])
