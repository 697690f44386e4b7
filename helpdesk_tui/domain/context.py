"""The customer's context beside a ticket: pure data the store fills and the widgets show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Ticket, TicketId


@dataclass(frozen=True)
class CustomerContext:
    """The customer's other tickets (rows, no messages), their count, last contact, orders."""

    customer: ObjectId
    others: tuple[Ticket, ...]  # open first (newest first), then the rest by recency
    total: int  # every ticket of the customer, this one included
    open_count: int  # open among the scanned ones, this one excluded
    last_contact: datetime | None
    orders: tuple[Mapping[str, Any], ...]
    scanned_all: bool  # False: the customer has more tickets than were scanned


def order_others(tickets: list[Ticket], exclude: TicketId | None) -> list[Ticket]:
    """Open ones first, then the rest; each group keeps the given (newest first) order."""
    others = [t for t in tickets if t.id != exclude]
    active = [t for t in others if t.status in ACTIVE_STATUSES]
    return active + [t for t in others if t.status not in ACTIVE_STATUSES]
