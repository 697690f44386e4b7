"""TicketStore: every query and write the app makes on the helpdesk database, joined from its
parts by purpose: queue reads (store/queue_reads.py), ticket writes (store/ticket_writes.py),
numbering (store/numbering.py), on what they share (store/core.py). People, the audit trail and
snoozes are their own modules, used directly (``store.people``, ``store.audit``,
``store.snoozes``).
"""

from __future__ import annotations

from collections.abc import Callable

from bson import ObjectId

from helpdesk_tui.domain.errors import (
    ConflictError,
)
from helpdesk_tui.domain.models import (
    Status,
    Ticket,
)
from helpdesk_tui.store.core import StoreCore, as_object_id
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.queries import (
    Assignee,
    QueueQuery,
)
from helpdesk_tui.store.queue_reads import QueuePage, QueueReads
from helpdesk_tui.store.schema import init_schema
from helpdesk_tui.store.search_index import create_people_indexes
from helpdesk_tui.store.settings import Clock, StoreSettings, system_clock
from helpdesk_tui.store.ticket_writes import MERGED_PREFIX, TicketWrites, merged_into

__all__ = [
    "MERGED_PREFIX",
    "Clock",
    "QueuePage",
    "StoreCore",
    "StoreSettings",
    "TicketStore",
    "as_object_id",
    "merged_into",
    "system_clock",
]


class TicketStore(QueueReads, TicketWrites):
    """The whole store: the schema, and what needs both reads and writes (take the next)."""

    def sibling(self) -> TicketStore:
        """A second store on the same database and settings (its own user cache), as another
        program writing the same helpdesk would have (the demo's simulated team)."""
        return TicketStore(self.db, self.settings, clock=self.clock)

    # --- schema ------------------------------------------------------------------------------

    @db_errors
    def init_db(self, *, rebuild: bool = False) -> list[str]:
        """Create the indexes our queries need and bring the queue index up to date
        (``rebuild``: derive every ticket's entry again). Idempotent; never drops anything."""
        # The counter exists before the first allocation, so no two first allocations race to
        # create it (SecantusDB answered such a race with no document but an increment: a gap).
        s = self.settings
        self.counters.update_one(
            {"_id": s.counter_key}, {"$setOnInsert": {s.counter_field: 0}}, upsert=True
        )
        created = init_schema(self.tickets, self.audit, self.queue, self.now(), rebuild=rebuild)
        merges = self.db[s.merges]  # store/merge.py: origins of merged messages, by target
        created.append(f"{s.merges}.{merges.create_index([('target', 1), ('at', -1)])}")
        created += [f"{self.snoozes.entries.name}.{name}" for name in self.snoozes.init()]
        created += [f"{s.users}.{name}" for name in create_people_indexes(self.users)]
        return created

    # --- reads -------------------------------------------------------------------------------

    @db_errors
    def take_next(
        self,
        agent: ObjectId,
        *,
        candidates: int = 10,
        claiming: Callable[[ObjectId], None] | None = None,
    ) -> Ticket | None:
        """Take the most urgent unassigned open ticket, skipping any another agent just took.

        ``claiming`` is told each ticket just before the attempt to take it (the app mutes the
        echo of its own write, which can arrive before this call returns)."""
        query = QueueQuery(statuses=(Status.OPEN,), assignee=Assignee.UNASSIGNED)
        for _ in range(5):
            page = self.list_queue(query, limit=candidates)
            for ticket in page.tickets:
                if not isinstance(ticket.id, ObjectId):
                    continue  # a foreign _id: nobody can take it here
                if claiming is not None:
                    claiming(ticket.id)
                try:
                    return self.take(ticket.id, agent)
                except ConflictError:
                    continue
            if not page.has_more:
                return None
        return None
