"""Tickets as JSON-ready dicts and plain text lines, for the scriptable CLI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.sla import ClockStatus, SlaPolicy, evaluate


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _person(user_id: ObjectId | None, users: Mapping[ObjectId, User]) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = users.get(user_id)
    return {
        "id": str(user_id),
        "name": user.name if user else None,
        "email": user.email if user else None,
    }


def _clock(clock: ClockStatus) -> dict[str, Any]:
    return {
        "state": clock.state.value,
        "due": _iso(clock.due),
        "metAt": _iso(clock.met_at),
        "remainingMinutes": (
            int(clock.remaining.total_seconds() // 60) if clock.remaining is not None else None
        ),
    }


def ticket_json(
    ticket: Ticket,
    users: Mapping[ObjectId, User],
    now: datetime,
    policy: SlaPolicy,
    *,
    messages: bool = False,
) -> dict[str, Any]:
    sla = evaluate(ticket, now, policy)
    data: dict[str, Any] = {
        "id": str(ticket.id) if ticket.id else None,
        "ticketNumber": ticket.ticket_number,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "category": ticket.category.value,
        "customer": _person(ticket.user, users),
        "assignee": _person(ticket.assigned_to, users),
        "order": str(ticket.order) if ticket.order else None,
        "tags": list(ticket.tags),
        "createdAt": _iso(ticket.created_at),
        "updatedAt": _iso(ticket.updated_at),
        "resolvedAt": _iso(ticket.resolved_at),
        "closedAt": _iso(ticket.closed_at),
        "sla": {
            "state": sla.row_state.value,
            "countdown": sla.countdown,
            "firstResponse": _clock(sla.first_response),
            "resolution": _clock(sla.resolution),
        },
        "problems": list(ticket.problems),
    }
    if messages:
        data["description"] = ticket.description
        data["messages"] = [
            {
                "id": str(m.id) if m.id else None,
                "sender": _person(m.sender, users),
                "content": m.content,
                "attachments": list(m.attachments),
                "isInternal": m.is_internal,
                "createdAt": _iso(m.created_at),
            }
            for m in ticket.messages
        ]
    return data
