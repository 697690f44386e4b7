"""The customer's context for the ticket screen: their other tickets, count, last contact, orders.

Bounded reads, whatever the customer's history or the collection's size:

* the customer's ``CONTEXT_SCAN`` most recent tickets, one aggregate whose ``$match {user}`` +
  ``$sort {createdAt: -1}`` + ``$limit`` is the ``customer_tickets`` index ({user: 1,
  createdAt: -1}: the equality field, then exactly the sort) walked in order; the row fields
  are computed by the server, ``messages`` never leave it;
* their ticket count, a count of that index's keys for the customer (no documents);
* the orders this ticket and those tickets name, by ``_id`` (at most ``ORDERS_SHOWN``; the
  collection is optional and read only).

Open tickets older than the customer's ``CONTEXT_SCAN`` newest are not listed (the count still
includes them); "last contact" is the newest message on those tickets.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.context import CustomerContext, order_others
from helpdesk_tui.domain.models import ACTIVE_STATUSES, Ticket
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.queries import DERIVED_FIELDS, QUEUE_FIELDS, row_fields
from helpdesk_tui.store.tickets import TicketStore

CONTEXT_SCAN = 50
SHOWN = 9  # digits 1-9 open them
ORDERS_SHOWN = 5
INDEX = "customer_tickets"


def context_pipeline(customer: ObjectId, limit: int = CONTEXT_SCAN) -> list[dict[str, Any]]:
    """The customer's newest tickets as queue rows: index-served match, sort and limit first."""
    return [
        {"$match": {"user": customer}},
        {"$sort": {"createdAt": -1}},
        {"$limit": limit},
        {"$addFields": row_fields()},
        {"$project": {name: 1 for name in (*QUEUE_FIELDS, *DERIVED_FIELDS)}},
    ]


@db_errors
def customer_context(store: TicketStore, ticket: Ticket) -> CustomerContext | None:
    """The context of ``ticket``'s customer, or None for a ticket without one."""
    customer = ticket.user
    if customer is None:
        return None
    options: dict[str, Any] = {"hint": INDEX} if store.hints else {}
    docs = list(store.tickets.aggregate(context_pipeline(customer), **options))
    tickets = [Ticket.from_mongo(d) for d in docs]
    total = store.tickets.count_documents({"user": customer}, **options)
    ordered = order_others(tickets, ticket.id)
    times = [t.last_message_at or t.created_at for t in tickets]
    known = [t for t in times if t is not None]
    order_ids = list(dict.fromkeys(t.order for t in [ticket, *tickets] if t.order is not None))
    orders: list[dict[str, Any]] = []
    if order_ids:  # a missing (optional) collection simply finds nothing
        projection = {"orderNumber": 1, "status": 1, "total": 1, "totalAmount": 1}
        found = {
            d["_id"]: d
            for d in store.orders.find({"_id": {"$in": order_ids[:ORDERS_SHOWN]}}, projection)
        }
        orders = [found[i] for i in order_ids[:ORDERS_SHOWN] if i in found]
    return CustomerContext(
        customer=customer,
        others=tuple(ordered[:SHOWN]),
        total=total,
        open_count=sum(t.status in ACTIVE_STATUSES for t in ordered),
        last_contact=max(known) if known else None,
        orders=tuple(orders),
        scanned_all=len(docs) < CONTEXT_SCAN,
    )
