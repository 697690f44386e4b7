"""Undo a bulk change: put back each ticket's fields, with compare-and-set on what we wrote.

Each ticket is reverted on its own: only if the fields we changed still hold the values we
wrote. A ticket someone else changed meanwhile (reassigned it, moved its status) is left as it
is and reported, never overwritten. Messages are never taken back (a sent reply is sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.models import Ticket, mongo_time

if TYPE_CHECKING:
    from helpdesk_tui.store.tickets import TicketStore

_AUDIT = {"assignedTo": "assign", "status": "status", "priority": "priority", "tags": "tags"}


def _fields(ticket: Ticket) -> dict[str, Any]:
    return {
        "assignedTo": ticket.assigned_to,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "tags": list(ticket.tags),
    }


@dataclass(frozen=True)
class Revert:
    """One ticket's way back: the fields a bulk change wrote, before and after."""

    ticket_id: ObjectId
    label: str
    before: dict[str, Any]
    after: dict[str, Any]
    dates: dict[str, Any] = field(default_factory=dict)  # resolvedAt/closedAt before


def revert_of(before: Ticket, after: Ticket) -> Revert | None:
    """What undoing ``before`` → ``after`` writes; ``None`` when no field of ours changed."""
    old, new = _fields(before), _fields(after)
    changed = [k for k in old if old[k] != new[k]]
    if not changed:
        return None
    dates = {}
    if "status" in changed:
        dates = {"resolvedAt": before.resolved_at, "closedAt": before.closed_at}
    return Revert(
        before.object_id,  # a change was written: by this ObjectId
        before.label,
        {k: old[k] for k in changed},
        {k: new[k] for k in changed},
        dates,
    )


@dataclass(frozen=True)
class UndoResult:
    undone: int
    kept: list[str]


def undo(store: TicketStore, reverts: Sequence[Revert], *, actor: ObjectId) -> UndoResult:
    """Revert each ticket (compare-and-set on the values we wrote); report the others."""
    undone, kept = 0, []
    for revert in reverts:
        condition: dict[str, Any] = dict(revert.after)
        sets: dict[str, Any] = {}
        unsets: dict[str, Any] = {}
        for key, value in {**revert.before, **revert.dates}.items():
            if value is None:
                unsets[key] = ""
            else:
                sets[key] = mongo_time(value) if key in revert.dates else value
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        if unsets:
            update["$unset"] = unsets
        if "tags" in revert.before:
            update["$inc"] = {"__v": 1}

        def conflict(now: Ticket, revert: Revert = revert) -> str:
            current = _fields(now)
            what = [
                "reassigned" if k == "assignedTo" else f"{k} is now {_shown(current[k])}"
                for k in revert.after
                if current[k] != revert.after[k]
            ]
            return f"{revert.label} changed meanwhile ({'; '.join(what)}); left as it is"

        try:
            store.update_if(revert.ticket_id, condition, update, conflict)
        except HelpdeskError as error:
            kept.append(str(error))
            continue
        undone += 1
        for key in revert.before:
            store.audit.record(
                revert.ticket_id,
                actor,
                _AUDIT[key],
                _text(revert.after[key]),
                _text(revert.before[key]),
            )
    return UndoResult(undone, kept)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(value) or None
    return str(value)


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value)
