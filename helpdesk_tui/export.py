"""Tickets as JSON-ready dicts and plain text lines, for the scriptable CLI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.search import SearchPage, Snippet, snippet_parts
from helpdesk_tui.domain.sla import ClockStatus, SlaPolicy, evaluate
from helpdesk_tui.domain.text import one_line


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
        "id": str(ticket.id) if isinstance(ticket.id, ObjectId) else None,
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


def _snippet_json(snippet: Snippet | None, users: Mapping[ObjectId, User]) -> Any:
    if snippet is None:
        return None
    before, match, after = snippet_parts(snippet)
    return {
        "where": snippet.where,
        "line": before + match + after,
        "match": match,
        "sender": _person(snippet.sender, users),
        "at": _iso(snippet.at),
    }


def search_json(
    page: SearchPage, users: Mapping[ObjectId, User], now: datetime, policy: SlaPolicy
) -> dict[str, Any]:
    """A search page for ``tickets search --json``: results best first, and what was searched."""
    return {
        "results": [
            {
                **ticket_json(hit.ticket, users, now, policy),
                "matched": hit.why,
                "snippet": _snippet_json(hit.snippet, users),
            }
            for hit in page.hits
        ],
        "skip": page.skip,
        "hasMore": page.has_more,
        "path": page.path,
        "scanned": page.scanned,
        "bounded": page.bounded,
        "searched": page.cost,
        "notes": list(page.notes),
    }


def search_lines(page: SearchPage, users: Mapping[ObjectId, User]) -> list[str]:
    """A search page as text: one line a result, its snippet under it, then what was searched."""
    lines = []
    for hit in page.hits:
        t = hit.ticket
        customer = users.get(t.user) if t.user else None
        lines.append(
            f"{one_line(t.ticket_number):<11} {t.status.value:<11} "
            f"{one_line(t.subject, 48):<48} {one_line(customer.display if customer else '-', 24)}"
        )
        if hit.snippet is not None:
            before, match, after = snippet_parts(hit.snippet, 100)
            lines.append(f"    {hit.snippet.where}: {before}{match}{after}")
    shown = len(page.hits)
    more = f" (more: --skip {page.skip + shown})" if page.has_more else ""
    lines.append(f"-- {shown} result{'s' if shown != 1 else ''}{more}; {page.cost}")
    lines += [f"-- note: {one_line(note)}" for note in page.notes]
    return lines
