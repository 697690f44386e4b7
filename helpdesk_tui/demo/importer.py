"""Loading generated demo data through the store (a demo concern, kept out of TicketStore)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpdesk_tui.store.tickets import TicketStore


def import_demo(
    store: TicketStore, users: Sequence[dict[str, Any]], tickets: Sequence[dict[str, Any]]
) -> int:
    """Bulk-load generated people and tickets, numbering the tickets from one atomically
    reserved block of the shared counter so they never collide with real ones."""
    store.people.insert(users)
    numbers = store.reserve_numbers(len(tickets))
    numbered = [{**doc, "ticketNumber": n} for doc, n in zip(tickets, numbers, strict=True)]
    return store.insert_tickets(numbered)
