"""Apply a macro to a ticket: one compare-and-set update, one audit entry per part.

The update's filter holds what the agent saw (``updatedAt`` and ``status``): a ticket changed
meanwhile (a customer's message, another agent's move) is refused with ``ConflictError`` and
nothing is written, so a macro never answers a conversation the agent has not seen. Tags are
written as the complete new list, which is safe under the same compare-and-set (``$addToSet``
and ``$pull`` on one path cannot share an update).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from helpdesk_tui.domain.errors import InvalidRequest, NotFound
from helpdesk_tui.domain.macros import KEEP, NOBODY, Macro, MacroChange, plan_macro
from helpdesk_tui.domain.models import Ticket, mongo_time, new_message_doc
from helpdesk_tui.store.errors import db_errors

if TYPE_CHECKING:
    from helpdesk_tui.store.tickets import TicketStore


class MacroRunner:
    """One macro, applied to tickets one at a time (each on its own terms) by one agent."""

    def __init__(self, store: TicketStore, macro: Macro, *, me: ObjectId, agent_name: str) -> None:
        self.store = store
        self.macro = macro
        self.me = me
        self.agent_name = agent_name
        self._named: ObjectId | None = None

    @db_errors
    def prepare(self, tickets: Sequence[Ticket]) -> None:
        """Look up, once for all tickets, the macro's named assignee and the customers' names."""
        assignee = self.macro.assignee
        if assignee is not None and assignee not in ("me", NOBODY):
            try:
                user = self.store.user_by_email(assignee)
            except NotFound as error:
                raise InvalidRequest(
                    f"macro {self.macro.name!r}: no user {assignee} to assign to"
                ) from error
            self._named = user.object_id  # a foreign _id: refused, not read as nobody
        if self.macro.reply is not None or self.macro.note is not None:
            self.store.users_by_ids([t.user for t in tickets])

    def plan(self, ticket: Ticket) -> MacroChange:
        customer = self.store.users_by_ids([ticket.user]).get(ticket.user) if ticket.user else None
        return plan_macro(
            self.macro,
            ticket,
            workflow=self.store.settings.workflow,
            me=self.me,
            agent_name=self.agent_name,
            customer_name=customer.name if customer and customer.name else "there",
            named=self._named,
        )

    @db_errors
    def apply(self, seen: Ticket) -> Ticket:
        """Apply the macro to ``seen`` iff the ticket is still as the agent saw it."""
        ticket_id = seen.object_id  # a foreign _id is refused here, before anything is planned
        change = self.plan(seen)
        if change.empty:
            return seen  # nothing to do: already as the macro would leave it
        store = self.store
        now = store.now()
        update: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        if change.status is not None:
            fields.update(store.status_fields(change.status, update))
        unset: dict[str, Any] = dict(update.get("$unset", {}))
        if change.priority is not None:
            fields["priority"] = change.priority.value
        if change.tags is not None:
            fields["tags"] = list(change.tags)
        if change.assignee is not KEEP:
            if change.assignee is None:
                unset["assignedTo"] = ""
            else:
                fields["assignedTo"] = change.assignee
        message: dict[str, Any] | None = None
        if change.text is not None:
            limit = store.settings.max_reply_chars
            if len(change.text) > limit:
                raise InvalidRequest(
                    f"the macro's text is {len(change.text):,} characters; the limit is {limit:,}"
                )
            message = new_message_doc(
                sender=self.me, content=change.text.rstrip(), now=now, is_internal=change.internal
            )
            update["$push"] = {"messages": message}
        if message is not None or change.tags is not None:
            update["$inc"] = {"__v": 1}  # an array changed: a stale Mongoose save() must fail
        if fields:
            update["$set"] = fields
        if unset:
            update["$unset"] = unset
        else:
            update.pop("$unset", None)
        condition: dict[str, Any] = {"status": seen.status.value}
        if seen.updated_at is not None:
            condition["updatedAt"] = mongo_time(seen.updated_at)
        ticket = store.update_if(
            ticket_id,
            condition,
            update,
            lambda now: (
                f"{now.ticket_number} changed since you saw it (now {now.status.label}); "
                f"macro {self.macro.name!r} was not applied"
            ),
        )
        record = store.audit.record
        if message is not None:
            kind = "note" if change.internal else "reply"
            record(ticket_id, self.me, kind, None, str(message["_id"]))
        if change.status is not None:
            record(ticket_id, self.me, "status", seen.status.value, change.status.value)
        if change.priority is not None:
            record(ticket_id, self.me, "priority", seen.priority.value, change.priority.value)
        if change.tags is not None:
            record(
                ticket_id,
                self.me,
                "tags",
                ",".join(change.removed) or None,
                ",".join(change.added) or None,
            )
        if change.assignee is not KEEP:
            before = None if seen.assigned_to is None else str(seen.assigned_to)
            after = None if change.assignee is None else str(change.assignee)
            record(ticket_id, self.me, "assign", before, after)
        return ticket
