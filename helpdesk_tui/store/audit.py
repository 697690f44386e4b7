"""The audit trail: who changed what on a ticket, from what, to what, when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

from helpdesk_tui.store.auth import current_login, machine
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import EVENTS

HISTORY_LIMIT = 500


class AuditTrail:
    """Appends to and reads the events collection; ``now`` is the store's Mongo-precision clock.

    Every entry says where it was written from: the database login of an authenticated
    connection (``login``; the person is who that login proves, whatever ``actor`` says), and
    the OS user and host (``osUser``, ``host``) of the process.
    """

    def __init__(self, events: Collection[Any], now: Callable[[], datetime]) -> None:
        self.events = events
        self.now = now
        self._origin: dict[str, Any] | None = None

    def signed_by(self, login: str | None) -> None:
        """Name the connection's login (the CLI has asked the server already): no second
        ``connectionStatus`` before the first entry."""
        self._origin = ({"login": login} if login else {}) | machine()

    def origin(self) -> dict[str, Any]:
        """The login (asked once, on the first entry) and the machine, for every entry."""
        if self._origin is None:
            found = current_login(self.events.database, inherited=False)
            self.signed_by(found.user if found is not None else None)
        assert self._origin is not None
        return self._origin

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
                **self.origin(),
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
