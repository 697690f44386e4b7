"""Patch a loaded queue window from change events, without asking the server.

A change-stream event carries a ticket's queue fields and its message-derived row fields (see
``live.stream_pipeline``), so the queue can decide locally whether the ticket belongs to the
view, where it sorts, and what falls out of the window. The server is asked only when the
window must be refilled (a row left a full window: the rows after it are unknown here), and
then for the missing rows only. The order is the queue index's (``queries.index_sort``) and the
membership its filter's (``queries.index_filter``), computed with the same SLA engine, so a
patched window equals a fresh load (tests/queue/test_window.py holds it to that). One thing no event
says: a ticket whose at-risk moment passes enters the Breaching view by time alone, so the
queue reloads that view on its minute tick.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Priority, Ticket, utc
from helpdesk_tui.domain.sla import SlaPolicy, SlaState, evaluate, sort_key
from helpdesk_tui.store.queries import Assignee, QueueQuery, SortKey

FAR = datetime(9999, 12, 31, tzinfo=UTC).timestamp()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PRIORITIES = frozenset(p.value for p in Priority)
_DERIVED = "_messageCount"  # present when the document came from our stream pipeline


def can_patch(query: QueueQuery) -> bool:
    """Free-text search is matched by the server (regex on number and subject): reload."""
    return not query.text.strip()


def complete(doc: Any) -> bool:
    """Whether a change's document carries every field a row shows (the stream's do)."""
    return isinstance(doc, dict) and "_id" in doc and _DERIVED in doc


def matches(
    query: QueueQuery, ticket: Ticket, raw: dict[str, Any], now: datetime, policy: SlaPolicy
) -> bool:
    """The view's filter (``queries.index_filter``) evaluated on one ticket."""
    status = raw.get("status")
    statuses = {s.value for s in query.statuses}
    if statuses:
        active = {s.value for s in ACTIVE_STATUSES}
        if statuses == active:
            if status not in active:
                return False
        elif status not in statuses:
            return False
    assignee = raw.get("assignedTo")
    if isinstance(query.assignee, ObjectId) and assignee != query.assignee:
        return False
    if query.assignee is Assignee.UNASSIGNED and assignee is not None:
        return False
    if query.priorities and raw.get("priority") not in {p.value for p in query.priorities}:
        return False
    if query.categories and raw.get("category") not in {c.value for c in query.categories}:
        return False
    raw_tags = raw.get("tags")
    tags = raw_tags if isinstance(raw_tags, list) else []
    if query.tags and not set(query.tags) <= set(tags):
        return False
    if query.ids and raw.get("_id") not in set(query.ids):
        return False
    if query.exclude and raw.get("_id") in set(query.exclude):
        return False
    if query.needs_reply and not ticket.customer_turn:
        return False
    if query.breaching:
        state = evaluate(ticket, now, policy).row_state
        if state not in (SlaState.BREACHED, SlaState.AT_RISK):
            return False
    return True


def order_key(
    query: QueueQuery, ticket: Ticket, raw: dict[str, Any], policy: SlaPolicy
) -> tuple[tuple[Any, int], ...]:
    """The queue index's order (``queries.index_sort``) for one ticket: (value, direction) pairs
    compared in turn, ``_id`` last (ObjectIds compare as the index compares them)."""
    flip = -1 if query.descending else 1

    def stamp(value: Any) -> float:
        return utc(value).timestamp() if isinstance(value, datetime) else EPOCH.timestamp()

    parts: list[tuple[Any, int]]
    if query.sort in (SortKey.DEADLINE, SortKey.PRIORITY):
        status = evaluate(ticket, ticket.created_at or EPOCH, policy)
        rank, due = sort_key(status)
        due = due if status.next is not None and status.next.due else FAR
        parts = [(rank, flip), (due, flip)]
        if query.sort is SortKey.PRIORITY:
            prio = ticket.priority.rank if raw.get("priority") in _PRIORITIES else 2
            parts.insert(0, (prio, flip))
    elif query.sort is SortKey.UPDATED:
        parts = [(stamp(raw.get("updatedAt")), -flip)]
    elif query.sort is SortKey.CREATED:
        parts = [(stamp(ticket.created_at), -flip)]
    elif query.sort is SortKey.RESOLVED:
        parts = [(stamp(raw.get("resolvedAt")), -flip)]
    else:
        number = raw.get("ticketNumber")
        parts = [(number if isinstance(number, str) else "", flip)]
    oid = raw.get("_id")
    return (*parts, (str(oid) if isinstance(oid, ObjectId) else "", flip))


def compare(left: tuple[tuple[Any, int], ...], right: tuple[tuple[Any, int], ...]) -> int:
    for (a, direction), (b, _) in zip(left, right, strict=True):
        if a != b:
            return direction if a > b else -direction
    return 0


@dataclass(frozen=True)
class Patch:
    """The window after the changes, and how many rows must be fetched to fill it again."""

    tickets: tuple[Ticket, ...]
    docs: dict[Any, dict[str, Any]]
    missing: int  # rows to fetch after the last one (0: the window is whole)
    has_more: bool
    changed: frozenset[Any]  # ids whose rows were added, moved, recoloured or removed


def row_doc(ticket: Ticket) -> dict[str, Any]:
    """What ordering needs of a row already shown (its document's queue fields)."""
    return {
        "_id": ticket.id,
        "status": ticket.status.value,
        "assignedTo": ticket.assigned_to,
        "priority": None if ticket.problem_with("priority") else ticket.priority.value,
        "category": ticket.category.value,
        "tags": list(ticket.tags),
        "ticketNumber": ticket.ticket_number,
        "updatedAt": ticket.updated_at,
        "resolvedAt": ticket.resolved_at,
    }


def patch(
    window: Sequence[Ticket],
    docs: dict[Any, dict[str, Any]],
    changes: Iterable[tuple[Any, str, dict[str, Any] | None]],
    query: QueueQuery,
    *,
    limit: int,
    has_more: bool,
    now: datetime,
    policy: SlaPolicy,
) -> Patch:
    """Apply ``changes`` ((id, kind, complete document or None)) to the first-page ``window``.

    ``docs`` maps each window row's id to its document (queue and row fields). When rows exist
    beyond the window (``has_more``), only what sorts up to the old last row is known here: a
    ticket sorting after it is left to the refill, which fetches the ``missing`` rows from the
    server in its own order.
    """
    rows: dict[Any, tuple[Ticket, dict[str, Any]]] = {
        t.id: (t, docs[t.id]) for t in window if t.id in docs
    }

    keys: dict[Any, tuple[tuple[Any, int], ...]] = {}

    def key(ticket_id: Any) -> tuple[tuple[Any, int], ...]:
        if ticket_id not in keys:  # once per row, not once per comparison
            ticket, doc = rows[ticket_id]
            keys[ticket_id] = order_key(query, ticket, doc, policy)
        return keys[ticket_id]

    ordering = functools.cmp_to_key(lambda a, b: compare(key(a), key(b)))

    boundary = key(window[-1].id) if has_more and window and window[-1].id in rows else None
    changed: set[Any] = set()
    latest: dict[Any, tuple[str, dict[str, Any] | None]] = {}
    for ticket_id, kind, doc in changes:  # a ticket changed twice: only its last state counts
        latest.pop(ticket_id, None)
        latest[ticket_id] = (kind, doc)
    for ticket_id, (kind, doc) in latest.items():
        keys.pop(ticket_id, None)
        if rows.pop(ticket_id, None) is not None:
            changed.add(ticket_id)
        if kind == "delete" or doc is None:
            continue
        ticket = Ticket.from_mongo(doc)
        if matches(query, ticket, doc, now, policy):
            rows[ticket_id] = (ticket, doc)
            changed.add(ticket_id)
    ranked = sorted(rows, key=ordering)
    if boundary is not None:  # past the old last row: not known here
        ranked = [i for i in ranked if compare(key(i), boundary) <= 0]
    more = has_more or len(ranked) > limit
    ranked = ranked[:limit]
    missing = limit - len(ranked) if has_more else 0
    return Patch(
        tuple(rows[i][0] for i in ranked),
        {i: rows[i][1] for i in ranked},
        missing,
        more,
        frozenset(changed),
    )


REFILL_OVERLAP = 50  # rows re-read on each side of the window's edge by a refill


def refill_span(shown: int, missing: int) -> tuple[int, int]:
    """``(skip, limit)`` of the refill query for a window of ``shown`` rows missing ``missing``.

    By ``skip`` alone the refill trusts that the server's order up to the edge is the window's:
    a write the server already holds but whose event has not arrived yet (a row resolved, a
    ticket created) shifts the server's positions, and the row just past the edge was skipped
    or read twice. So the refill reads ``REFILL_OVERLAP`` rows before and after too, and
    ``merge_refill`` puts them together."""
    overlap = min(shown, REFILL_OVERLAP)
    return shown - overlap, missing + 2 * REFILL_OVERLAP + (REFILL_OVERLAP - overlap)


def merge_refill(
    window: Sequence[Ticket],
    fetched: Sequence[Ticket],
    query: QueueQuery,
    *,
    limit: int,
    policy: SlaPolicy,
) -> list[Ticket]:
    """The window and the refill's rows as one window in the view's order: each ticket once
    (the window's row when both have it: its own events bring it up to date), at most
    ``limit`` rows."""
    rows: dict[Any, Ticket] = {t.id: t for t in fetched}
    rows.update({t.id: t for t in window})
    keys = {i: order_key(query, t, row_doc(t), policy) for i, t in rows.items()}
    ordering = functools.cmp_to_key(lambda a, b: compare(keys[a], keys[b]))
    return [rows[i] for i in sorted(rows, key=ordering)[:limit]]
