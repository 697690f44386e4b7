"""The reply screen's parts that are not its send states (those are ``models/reply.py``):
its keys, its result messages and what its lines say."""

from __future__ import annotations

from bson import ObjectId
from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from helpdesk_tui.domain.errors import HelpdeskError, MergedAway
from helpdesk_tui.domain.models import Status, Ticket, User
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.drafts import Draft
from helpdesk_tui.models.reply import ReplyModel
from helpdesk_tui.models.reply_commands import ReadBack

STYLES = {"error": "bold red", "warning": "bold yellow", "information": "bold"}


# --- the store's answers, as messages (posted by the screen's @work methods) ----------------


class Opened(Message):
    """The ticket and the people it names, read when the editor opened."""

    def __init__(self, ticket: Ticket, users: dict[ObjectId, User]) -> None:
        super().__init__()
        self.ticket, self.users = ticket, users


class PaneLoaded(Message):
    """The ticket as it is now, for the conversation pane only (the baseline stays)."""

    def __init__(self, ticket: Ticket, users: dict[ObjectId, User]) -> None:
        super().__init__()
        self.ticket, self.users = ticket, users


class TicketChecked(Message):
    """The "ticket updated" re-read before the write."""

    def __init__(self, result: tuple[Ticket, dict[ObjectId, User]] | HelpdeskError) -> None:
        super().__init__()
        self.result = result


class ReplyWritten(Message):
    def __init__(self, result: Ticket | HelpdeskError) -> None:
        super().__init__()
        self.result = result


class ReadBackAnswered(Message):
    """Whether an unsettled write is on the ticket (None: the database did not answer)."""

    def __init__(self, check: ReadBack, landed: bool | None) -> None:
        super().__init__()
        self.check, self.landed = check, landed


# --- what the lines say -----------------------------------------------------------------------


def header_line(ticket: Ticket, users: dict[ObjectId, User]) -> Text:
    customer = users.get(ticket.user) if ticket.user else None
    to = f"{one_line(customer.name)} <{one_line(customer.email)}>" if customer else "?"
    return Text.assemble(
        (f"{one_line(ticket.ticket_number)}  ", "bold"),
        (one_line(ticket.subject, 60), "bold"),
        f"   to {to}   ({ticket.status.label})",
    )


def context_lines(model: ReplyModel, other: Draft | None, internal: bool, other_key: str) -> Text:
    """Above the editor: the last outcome, a draft of the other mode (named, offered), a
    change under us, or what the customer last wrote."""
    text = Text()
    if model.outcome is not None:
        text.append(model.outcome.text, style=STYLES[model.outcome.tone])
        text.append("\n")
    if model.not_sent:
        text.append("Not sent: your draft is kept; the ticket above is up to date.\n", style="bold")
    if other is not None:
        kind = "an internal note" if other.internal else "a public reply"
        here = "note" if internal else "reply"
        text.append(
            f"⚠ You also have {kind} draft on this ticket: “{one_line(other.text, 50)}”. "
            f"{other_key} brings its text into this {here}; otherwise it stays where it is.\n",
            style="bold yellow",
        )
    ticket = model.baseline
    if model.changed_under_us:
        text.append(
            "⚠ This ticket changed since you opened it: sending will show what changed.",
            style="bold yellow",
        )
    elif ticket is not None:
        last = next(
            (m for m in reversed(ticket.messages) if m.sender == ticket.user and not m.is_internal),
            None,
        )
        if last is not None:
            who = model.users.get(last.sender) if last.sender else None
            text.append(
                f"customer wrote, {one_line(who.display) if who else 'unknown'}: "
                f"{one_line(last.content, 200)}",
                style="dim",
            )
    return text


def mode_line(
    internal: bool, status: Status | None, sending: bool, length: int, limit: int
) -> Text:
    if internal:
        mode = Text(" 🔒 INTERNAL NOTE: only agents see this ", style="bold black on yellow")
    else:
        mode = Text(" ✉ PUBLIC REPLY: the customer will see this ", style="bold white on blue")
    if status is not None:
        mode.append(f"   then set status: {status.label}", style="bold")
    if sending:
        mode.append("   sending…", style="bold")
    mode.append(f"   {length:,}/{limit:,}", style="bold red" if length > limit else "dim")
    return mode


def changes_question(changes: tuple[str, ...], kind: str) -> Text:
    body = Text("While you were writing:\n\n")
    for change in changes:
        body.append(f" • {change}\n")
    body.append(f"\nSend your {kind} anyway?")
    return body


def merged_question(merged: MergedAway, kind: str) -> Text:
    return Text(
        f"{one_line(merged.label)} was merged into {one_line(merged.target)} and is "
        f"closed; nothing was sent.\n\nMove your {kind} draft to {one_line(merged.target)}?"
    )


# --- the keys ---------------------------------------------------------------------------------

REPLY_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("ctrl+s", "send", "Send", priority=True, id="send"),
    # Submit as: "+Wait" / "+Resolve" beside "Send" read as "send and …" (short: the
    # footer fits 80 columns).
    Binding(
        "ctrl+n",
        "send_as('waiting')",
        "+Wait",
        priority=True,
        tooltip="Send and set waiting",
        id="send_waiting",
    ),
    Binding(
        "ctrl+f",
        "send_as('resolved')",
        "+Resolve",
        priority=True,
        tooltip="Send and resolve",
        id="send_resolved",
    ),
    Binding("ctrl+t", "toggle_internal", "Reply/Note", priority=True, id="toggle_internal"),
    Binding("ctrl+r", "canned", "Canned", priority=True, id="canned"),
    Binding("ctrl+o", "status_on_send", "Status", priority=True, id="status_on_send"),
    # Shown on the countdown line itself while a reply is held (the footer is full).
    Binding("u", "undo_send", "Undo send", show=False, priority=True, id="undo_send"),
    Binding("ctrl+l", "other_draft", "Other draft", show=False, priority=True, id="other_draft"),
    Binding("f3", "macro", "Macro", show=False, priority=True, id="macro"),
    Binding("ctrl+g", "cancel", "Close", priority=True, id="cancel"),
    Binding("escape", "cancel", "Close", show=False, priority=True, id="cancel"),
    # F2: main's ctrl+f sends and resolves; the other control keys are the editor's.
    Binding("f2", "toggle_conversation", "Conversation", priority=True, id="conversation"),
    Binding(
        "ctrl+up",
        "scroll_conversation(-1)",
        "Scroll the conversation up",
        show=False,
        priority=True,
        id="conversation_up",
    ),
    Binding(
        "ctrl+down",
        "scroll_conversation(1)",
        "Scroll the conversation down",
        show=False,
        priority=True,
        id="conversation_down",
    ),
]
# Every binding is a control key or escape: all of them act while the editor has focus.
TYPING_ACTIONS = frozenset(
    {
        "send",
        "send_as",
        "toggle_internal",
        "canned",
        "status_on_send",
        "other_draft",
        "cancel",
        "toggle_conversation",
        "scroll_conversation",
        "macro",
    }
)
