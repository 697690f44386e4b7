"""The conversation beside the reply editor: compact, read-only, newest at the bottom.

So the agent reads what the customer wrote without leaving the editor. One ``Static`` of plain
text (``literal``: controls spelled out, never markup), not a widget per message: it is redrawn
only when the ticket changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bson import ObjectId
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.widgets.ticket_table import ago

SHOWN_MESSAGES = 30  # the newest; older ones are on the ticket screen
MESSAGE_CHARS = 4_000  # of each, so a 10 MB message cannot stall a redraw


def conversation_text(
    ticket: Ticket,
    users: Mapping[ObjectId, User],
    now: datetime,
    origins: Mapping[ObjectId, str] | None = None,
) -> Text:
    """The newest messages as text: who, when, internal or not, then what they wrote."""
    text = Text()
    messages = ticket.messages[-SHOWN_MESSAGES:]
    if len(ticket.messages) > len(messages):
        text.append(f"({len(ticket.messages) - len(messages)} older messages not shown)\n", "dim")
    if not messages:
        text.append("No messages yet.", style="dim")
    for index, message in enumerate(messages):
        who = users.get(message.sender) if message.sender else None
        name = one_line(who.display if who else "unknown", 30)
        customer = message.sender is not None and message.sender == ticket.user
        age = ago(now - message.created_at) if message.created_at else None
        when = "unknown time" if age is None else "just now" if age == "now" else f"{age} ago"
        if index:
            text.append("\n")
        if message.is_internal:
            text.append(f"▌ INTERNAL NOTE · {name} · {when}", style="bold yellow")
        else:
            label = "customer" if customer else "agent"
            text.append(f"▌ {name} ({label}) · {when}", style="bold cyan" if customer else "bold")
        origin = (origins or {}).get(message.id) if message.id else None
        if origin:
            text.append(f" · from {one_line(origin, 20)}", style="dim")
        body = message.content[:MESSAGE_CHARS]
        text.append("\n" + literal(body).rstrip())
        if len(message.content) > MESSAGE_CHARS:
            text.append(" …", style="dim")
        for attachment in message.attachments:
            text.append(f"\n  [attachment] {one_line(attachment, 60)}", style="dim")
        text.append("\n")
    return text


class ConversationPane(VerticalScroll, can_focus=False):
    """A scrollable, read-only view of the conversation (never takes the editor's focus)."""

    def compose(self) -> ComposeResult:
        yield Static("loading the conversation…", classes="pane-text")

    def show(
        self,
        ticket: Ticket,
        users: Mapping[ObjectId, User],
        now: datetime,
        origins: Mapping[ObjectId, str] | None = None,
    ) -> None:
        self.query_one(".pane-text", Static).update(conversation_text(ticket, users, now, origins))
        self.call_after_refresh(self.scroll_end, animate=False)
