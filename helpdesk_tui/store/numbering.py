"""Numbering: ticket numbers from the shared counter document, one or a block at a time."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from helpdesk_tui.domain.errors import (
    ConflictError,
)
from helpdesk_tui.store.core import StoreCore
from helpdesk_tui.store.errors import db_errors


class Numbering(StoreCore):
    """Ticket numbers, allocated atomically so no two writers share one."""

    @db_errors
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

    @db_errors
    def reserve_numbers(self, count: int) -> list[str]:
        """``count`` consecutive ticket numbers from one atomic ``$inc`` of the shared counter,
        so a bulk import never collides with numbers other writers allocate."""
        if count <= 0:
            return []
        s = self.settings
        block = self.counters.find_one_and_update(
            {"_id": s.counter_key},
            {"$inc": {s.counter_field: count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if block is None:  # an upsert returns the document after: only a racing create
            raise ConflictError("could not reserve ticket numbers: the counter is contended")
        first = int(block[s.counter_field]) - count + 1
        return [s.number_format.format(seq=first + i) for i in range(count)]
