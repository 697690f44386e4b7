"""StoreCore: what every part of the ticket store shares: the database, its collections and
settings, the clock, people, the audit trail, snoozes and single-ticket reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

from helpdesk_tui.domain.errors import (
    InvalidRequest,
    NotFound,
)
from helpdesk_tui.domain.models import (
    Ticket,
    User,
    mongo_time,
)
from helpdesk_tui.store.audit import AuditTrail
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.outcome import Bounds, bounded
from helpdesk_tui.store.people import People
from helpdesk_tui.store.presence import PresenceStore
from helpdesk_tui.store.queue_index import QueueIndex
from helpdesk_tui.store.settings import Clock, StoreSettings, system_clock
from helpdesk_tui.store.snooze import Snoozes


def as_object_id(value: ObjectId | str) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as error:
        raise InvalidRequest(f"not a ticket id: {value!r}") from error


class StoreCore:
    """The helpdesk database as the app sees it: domain models in, domain models out.

    The parts by purpose build on it: ``QueueReads`` (store/queue_reads.py), ``Numbering``
    (store/numbering.py), ``TicketWrites`` (store/ticket_writes.py); ``TicketStore`` joins them.
    """

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
        self.orders: Collection[Any] = db[self.settings.orders]
        self.counters: Collection[Any] = db[self.settings.counters]
        self.queue = QueueIndex(
            db[self.settings.queue_index], db[self.settings.meta], self.tickets, self.settings.sla
        )
        # The other concerns, each its own module; TicketStore delegates to them.
        self.people = People(db[self.settings.users])
        self.audit = AuditTrail(db[self.settings.events], self.now)
        self.snoozes = Snoozes(db[self.settings.snoozes], self.tickets, self.now)
        # How long a write and the reads around it may take (store/outcome.py).
        self.bounds = Bounds()
        self._hints: bool | None = None

    @property
    def users(self) -> Collection[Any]:
        """The users collection (owned by ``people``)."""
        return self.people.users

    @property
    def events(self) -> Collection[Any]:
        """The audit trail's collection (owned by ``audit``)."""
        return self.audit.events

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

    def bounded_read(self) -> AbstractContextManager[None]:
        """Every driver call inside ends within ``bounds.read`` (a read before a write)."""
        return bounded(self.bounds.read)

    def now(self) -> datetime:
        return mongo_time(self.clock())

    def presence(self) -> PresenceStore:
        """Presence on this database, in the configured collection, on the store's clock."""
        return PresenceStore(self.db, self.settings.presence, clock=self.clock)

    # --- single tickets ----------------------------------------------------------------------

    @db_errors
    def get_ticket(self, ticket_id: ObjectId | str) -> Ticket:
        doc = self.tickets.find_one({"_id": as_object_id(ticket_id)})
        if doc is None:
            raise NotFound(f"no ticket with id {ticket_id}")
        return Ticket.from_mongo(doc)

    @db_errors
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

    # --- people (store/people.py) -------------------------------------------------------------

    def users_by_ids(self, ids: Iterable[ObjectId | None]) -> dict[ObjectId, User]:
        """Users in one ``$in`` query, cached for the life of the store (users are read only)."""
        return self.people.by_ids(ids)

    def people_of(self, tickets: Iterable[Ticket]) -> dict[ObjectId, User]:
        """The customers and assignees these tickets name (one ``users_by_ids``)."""
        rows = list(tickets)
        return self.users_by_ids([t.user for t in rows] + [t.assigned_to for t in rows])

    def user_by_email(self, email: str) -> User:
        return self.people.by_email(email)

    def staff(self, roles: Sequence[str]) -> list[User]:
        """Users whose role is one of ``roles``, by name."""
        return self.people.staff(roles)

    @db_errors
    def order_summary(self, order_id: ObjectId) -> dict[str, Any] | None:
        """A few fields of an order for the ticket header (the collection is optional)."""
        projection = {"orderNumber": 1, "status": 1, "total": 1, "totalAmount": 1}
        return self.orders.find_one({"_id": order_id}, projection)
