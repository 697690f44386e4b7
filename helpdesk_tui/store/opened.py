"""An open ticket and its audit trail in one round trip (issue 14: the open ticket re-reads
itself on every change event, so what it reads per event is one command, not two)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.errors import NotFound
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.store.audit import HISTORY_LIMIT
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import EVENTS
from helpdesk_tui.store.tickets import TicketStore, as_object_id

HISTORY = "_history"


@db_errors
def ticket_and_history(
    store: TicketStore, ticket_id: ObjectId | str
) -> tuple[Ticket, list[dict[str, Any]]]:
    """The ticket by ``_id`` and its audit entries (oldest first, at most ``HISTORY_LIMIT``),
    as ``get_ticket`` and ``history`` read them, in one aggregation: a ``$lookup`` on the
    events' ``ticket_timeline`` index (equality on ``ticket``, sorted by ``at``)."""
    oid = as_object_id(ticket_id)
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": oid}},
        {
            "$lookup": {
                "from": store.events.name,
                "localField": "_id",
                "foreignField": "ticket",
                "pipeline": [{"$sort": {"at": 1}}, {"$limit": HISTORY_LIMIT}],
                "as": HISTORY,
            }
        },
    ]
    doc = next(iter(store.tickets.aggregate(pipeline)), None)
    if doc is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    history = doc.pop(HISTORY, None)
    events = list(EVENTS.records(history)) if isinstance(history, list) else []
    return Ticket.from_mongo(doc), events  # entries of another shape skipped (store/lenient.py)
