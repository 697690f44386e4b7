"""A customer's reply wakes a waiting ticket: ``waiting → open``, once, whoever sees it first.

Every running app follows the same change stream, so every app sees the customer's message.
Each one tries the same compare-and-set: status still ``waiting`` and ``updatedAt`` still what
the event showed (the snapshot in which the customer's message was the last public one). The
first write moves ``updatedAt``, so every other app's filter matches nothing: exactly one
transition and one audit entry, however many apps saw the event. A loser re-reads the ticket
only to tell "someone else woke it" (status no longer waiting: done) from "an unrelated write
came in between" (still waiting, the customer's message still the last public one: try again
on the new ``updatedAt``).

What does not wake a ticket: an agent setting ``waiting`` while the customer spoke last (no new
message in that change), an internal note, an event seen late after an agent has answered (the
snapshot no longer shows the customer last), a read-only app (it writes nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from helpdesk_tui.domain.models import Status
from helpdesk_tui.store.live import Change
from helpdesk_tui.store.tickets import TicketStore

# The audit action of a wake-up (``from: waiting, to: open``, no actor: the customer did it).
WAKE_ACTION = "wake"
ATTEMPTS = 3
_SEEN = {"status": 1, "updatedAt": 1, "user": 1, "messages._id": 1}
_SEEN |= {"messages.sender": 1, "messages.isInternal": 1}


def customer_reply(change: Change) -> Any | None:
    """The ``_id`` of a public message from the ticket's customer that this change added to a
    waiting ticket (None if it added none: a status change, a note, an agent's reply)."""
    doc = change.doc
    if doc is None or doc.get("status") != Status.WAITING.value:
        return None
    customer = doc.get("user")
    if customer is None:
        return None
    for message in change.new_messages:
        if message.get("isInternal") is not True and message.get("sender") == customer:
            return message.get("_id")
    return None


def _customer_last(doc: Mapping[str, Any], message_id: Any) -> bool:
    """Whether ``message_id`` is still the last public message of ``doc`` (read whole)."""
    messages = doc.get("messages")
    if not isinstance(messages, list):
        return False
    public = [m for m in messages if isinstance(m, Mapping) and m.get("isInternal") is not True]
    return bool(public) and public[-1].get("_id") == message_id and message_id is not None


@dataclass
class Waker:
    """Moves woken tickets back to open with a compare-and-set (see the module docstring)."""

    store: TicketStore

    def __call__(self, changes: Iterable[Change]) -> list[ObjectId]:
        """Wake what these changes call for; the ids this app moved (usually none)."""
        woken = []
        for change in changes:
            message_id = customer_reply(change)
            doc = change.doc
            if message_id is not None and doc is not None and self.wake(change.id, doc, message_id):
                woken.append(change.id)
        return woken

    def wake(self, ticket_id: ObjectId, seen: Mapping[str, Any], message_id: Any) -> bool:
        """``waiting → open`` iff the ticket is still as ``seen``; True if this call moved it."""
        tickets = self.store.tickets
        # A live event says who spoke last (``_lastFromCustomer``, computed by the server from
        # the same snapshot); a polled one does not: read the ticket to know.
        trusted = seen.get("_lastFromCustomer") is True
        for _ in range(ATTEMPTS):
            stamp = seen.get("updatedAt")
            if trusted and isinstance(stamp, datetime):
                doc = tickets.find_one_and_update(
                    {"_id": ticket_id, "status": Status.WAITING.value, "updatedAt": stamp},
                    {"$set": {"status": Status.OPEN.value, "updatedAt": self.store.now()}},
                    return_document=ReturnDocument.AFTER,
                )
                if doc is not None:
                    self.store.queue.apply([doc])
                    self.store.audit.record(
                        ticket_id, None, WAKE_ACTION, Status.WAITING.value, Status.OPEN.value
                    )
                    return True
            current = tickets.find_one({"_id": ticket_id}, _SEEN)
            if current is None or current.get("status") != Status.WAITING.value:
                return False  # gone, or another app (or an agent) moved it first
            if not _customer_last(current, message_id):
                return False  # answered since, or a newer message: its own event decides
            seen, trusted = current, True
        return False
