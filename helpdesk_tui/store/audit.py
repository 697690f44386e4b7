"""The audit trail: who changed what on a ticket, from what, to what, when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import EVENTS

HISTORY_LIMIT = 500


class AuditTrail:
    """Appends to and reads the events collection; ``now`` is the store's Mongo-precision clock."""

    def __init__(self, events: Collection[Any], now: Callable[[], datetime]) -> None:
        self.events = events
        self.now = now

    def record(
        self,
        ticket_id: ObjectId,
        actor: ObjectId | None,
        action: str,
        before: str | None,
        after: str | None,
        *,
        session: Any = None,
    ) -> None:
        """Append one entry (called inside a write the caller already wraps in ``db_errors``;
        ``session``: part of that write's transaction)."""
        self.events.insert_one(
            {
                "ticket": ticket_id,
                "actor": actor,
                "action": action,
                "from": before,
                "to": after,
                "at": self.now(),
            },
            session=session,
        )

    @db_errors
    def history(self, ticket_id: ObjectId) -> list[dict[str, Any]]:
        """A ticket's entries, oldest first (at most ``HISTORY_LIMIT``)."""
        cursor = self.events.find({"ticket": ticket_id}).sort("at", 1).limit(HISTORY_LIMIT)
        return list(EVENTS.records(cursor))  # another shape: skipped (store/lenient.py)

    def init(self) -> str:
        """The timeline index ``history`` walks; returns its name."""
        return str(self.events.create_index([("ticket", 1), ("at", 1)], name="ticket_timeline"))
