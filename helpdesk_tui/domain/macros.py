"""Macros: named actions from config that change a ticket in one go (Zendesk, Zammad, osTicket).

A macro may carry a public reply or an internal note (placeholders as in canned responses), a
status, a priority, tag edits (``+tag`` / ``-tag``) and an assignee (``me``, ``nobody`` or an
agent's e-mail). :func:`plan_macro` turns one macro and one ticket, as the agent saw it, into
the :class:`MacroChange` the store writes in one compare-and-set update. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk_tui.domain.models import Priority, Status, Ticket
from helpdesk_tui.domain.text import check_placeholders
from helpdesk_tui.domain.workflow import Workflow

# The same placeholders as canned responses (config.PLACEHOLDERS).
MACRO_PLACEHOLDERS = frozenset({"customer_name", "ticket_number", "agent_name", "subject"})
ME, NOBODY = "me", "nobody"


class Macro(BaseModel):
    """One ``[[macros]]`` entry of the config."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    reply: str | None = None
    note: str | None = None
    status: Status | None = None
    priority: Priority | None = None
    # "+vip" or "vip" adds, "-refund" removes.
    tags: list[str] = Field(default_factory=list)
    # "me", "nobody" or an agent's e-mail.
    assignee: str | None = None

    @field_validator("reply", "note")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("must not be empty (leave the key out instead)")
        return check_placeholders(value, MACRO_PLACEHOLDERS)

    @field_validator("tags")
    @classmethod
    def _tag_edits(cls, value: list[str]) -> list[str]:
        for edit in value:
            if not edit.strip().lstrip("+-").strip():
                raise ValueError(f"{edit!r} names no tag; write +tag or -tag")
        return value

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        if value is not None and value not in (ME, NOBODY) and "@" not in value:
            raise ValueError("expected 'me', 'nobody' or an agent's email")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> Macro:
        if self.reply is not None and self.note is not None:
            raise ValueError("a macro sends a reply or a note, not both")
        if (
            self.reply is None
            and self.note is None
            and self.status is None
            and self.priority is None
            and not self.tags
            and self.assignee is None
        ):
            raise ValueError(
                "a macro must do something: reply, note, status, priority, tags or assignee"
            )
        return self

    @property
    def adds(self) -> list[str]:
        return [t.strip().lstrip("+").strip() for t in self.tags if not t.strip().startswith("-")]

    @property
    def removes(self) -> list[str]:
        return [t.strip()[1:].strip() for t in self.tags if t.strip().startswith("-")]

    @property
    def needs_supervisor(self) -> bool:
        """Assigning to someone else is a supervisor's action, as it is without a macro."""
        return self.assignee not in (None, ME)

    def summary(self) -> str:
        """One line: what the macro does (for the picker's hint)."""
        parts: list[str] = []
        if self.reply is not None:
            parts.append("reply")
        if self.note is not None:
            parts.append("note")
        if self.status is not None:
            parts.append(f"status → {self.status.label}")
        if self.priority is not None:
            parts.append(f"priority → {self.priority.value}")
        if self.tags:
            parts.append("tags " + " ".join(_signed(t) for t in self.tags))
        if self.assignee is not None:
            parts.append(f"assign → {self.assignee}")
        return " · ".join(parts)


def _signed(edit: str) -> str:
    edit = edit.strip()
    return edit if edit.startswith(("+", "-")) else f"+{edit}"


KEEP = object()  # the assignee stays as it is


@dataclass(frozen=True)
class MacroChange:
    """What one macro does to one ticket: ``None`` fields stay as they are."""

    text: str | None = None
    internal: bool = False
    status: Status | None = None
    priority: Priority | None = None
    tags: tuple[str, ...] | None = None  # the complete new list (written under compare-and-set)
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    assignee: object = KEEP  # ObjectId, None (nobody) or KEEP

    @property
    def empty(self) -> bool:
        return (
            self.text is None
            and self.status is None
            and self.priority is None
            and self.tags is None
            and self.assignee is KEEP
        )


def plan_macro(
    macro: Macro,
    ticket: Ticket,
    *,
    workflow: Workflow,
    me: ObjectId,
    agent_name: str,
    customer_name: str,
    named: ObjectId | None = None,
) -> MacroChange:
    """The change ``macro`` makes to ``ticket`` (as the agent saw it); only what differs.

    A status the ticket already has is no change; any other must be a workflow transition
    (``InvalidTransition`` names the allowed ones). ``named``: the id of the macro's e-mail
    assignee, looked up by the caller.
    """
    text = macro.reply if macro.reply is not None else macro.note
    rendered = None
    if text is not None:
        rendered = text.format_map(
            {
                "customer_name": customer_name,
                "ticket_number": ticket.ticket_number,
                "agent_name": agent_name,
                "subject": ticket.subject,
            }
        )
    status = None
    if macro.status is not None and macro.status is not ticket.status:
        workflow.check(ticket.status, macro.status)
        status = macro.status
    priority = macro.priority if macro.priority not in (None, ticket.priority) else None
    tags = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    if macro.tags:
        current = list(ticket.tags)
        removed = tuple(t for t in macro.removes if t in current)
        added = tuple(t for t in dict.fromkeys(macro.adds) if t not in current)
        if added or removed:
            tags = tuple([t for t in current if t not in removed] + list(added))
    assignee: object = KEEP
    if macro.assignee == ME:
        target: ObjectId | None = me
    elif macro.assignee == NOBODY:
        target = None
    elif macro.assignee is not None:
        target = named
    if macro.assignee is not None and target != ticket.assigned_to:
        assignee = target
    return MacroChange(
        text=rendered,
        internal=macro.note is not None,
        status=status,
        priority=priority,
        tags=tags,
        added=added,
        removed=removed,
        assignee=assignee,
    )
