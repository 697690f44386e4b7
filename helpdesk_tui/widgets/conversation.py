"""The ticket header and its conversation: customer text always rendered literally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from helpdesk_tui.domain.models import Message, Status, Ticket, User, utc
from helpdesk_tui.domain.people import audit_origin
from helpdesk_tui.domain.sla import SlaPolicy, evaluate
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.widgets.sla_badge import badge, clock_text
from helpdesk_tui.widgets.ticket_table import ago


def _name(users: Mapping[ObjectId, User], user_id: ObjectId | None, missing: str) -> str:
    if user_id is None:
        return missing
    user = users.get(user_id)
    return user.display if user else f"unknown user …{str(user_id)[-6:]}"


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "unknown time"
    age = ago(now - at)
    return f"{at:%Y-%m-%d %H:%M} UTC ({'just now' if age == 'now' else age + ' ago'})"


# What the header keeps of a subject or a customer's name and address: more than any terminal
# is wide, so a 10,000-character subject costs no more to lay out than a short one (the whole
# text is a key away: ``full_text``).
HEADER_CHARS = 400


def _cell(label: str, value: str | Text) -> Text:
    """One ``Label: value`` cell on one line, cut with an ellipsis where its column ends."""
    return Text.assemble((f"{label}: ", "dim"), value, no_wrap=True, overflow="ellipsis")


class TicketHeader(Static):
    """Number, subject, status, priority, category, customer, order, assignee, tags, clocks.

    Every line is one line, cut with an ellipsis: a long subject or customer name never pushes
    status, priority, assignee, customer, the SLA clocks or presence out of the header."""

    _shown: tuple[object, ...] = ()  # what the last update showed

    def show(
        self,
        ticket: Ticket,
        users: Mapping[ObjectId, User],
        now: datetime,
        policy: SlaPolicy,
        *,
        order: Mapping[str, Any] | None = None,
        presence: str = "",
    ) -> None:
        sla = evaluate(ticket, now, policy)
        # The fixed fields first, the subject gets the room that is left (cut with an ellipsis).
        title = Text.assemble(
            (f"{one_line(ticket.ticket_number or '?', 20)}  ", "bold"),
            badge(sla),
            "  ",
            (one_line(ticket.subject or "(no subject)", HEADER_CHARS), "bold"),
            no_wrap=True,
            overflow="ellipsis",
        )
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        order_text = "—"
        if ticket.order is not None:
            number = (order or {}).get("orderNumber")
            order_text = one_line(str(number), 40) if number else f"…{str(ticket.order)[-8:]}"
        fields = [
            ("Status", ticket.status.label),
            ("Priority", ticket.priority.value),
            ("Category", ticket.category.value),
            ("Assignee", one_line(_name(users, ticket.assigned_to, "unassigned"), 60)),
            ("Customer", customer_text(ticket, users, HEADER_CHARS)),
            ("Order", order_text),
            ("Tags", one_line(", ".join(ticket.tags), HEADER_CHARS) or "—"),
            ("Created", _when(ticket.created_at, now)),
        ]
        cells = [_cell(label, value) for label, value in fields]
        for left, right in zip(cells[::2], cells[1::2], strict=True):
            grid.add_row(left, right)
        grid.add_row(
            clock_text(sla.first_response),
            clock_text(sla.resolution),
        )
        parts: list[RenderableType] = [title, grid]
        if presence:
            parts.append(
                Text(
                    f"👁 {one_line(presence, HEADER_CHARS)}",
                    style="bold magenta",
                    no_wrap=True,
                    overflow="ellipsis",
                )
            )
        for problem in ticket.problems:
            parts.append(
                Text(
                    f"⚠ malformed document: {one_line(problem, HEADER_CHARS)}",
                    style="bold yellow",
                    no_wrap=True,
                    overflow="ellipsis",
                )
            )
        # The clock ticks every second: repaint only when something shown changed.
        looks = [title, *cells, clock_text(sla.first_response), clock_text(sla.resolution)]
        looks += [p for p in parts[2:] if isinstance(p, Text)]
        signature = tuple((t.plain, tuple(t.spans), str(t.style)) for t in looks)
        if signature == self._shown:
            return
        self._shown = signature
        self.update(Group(*parts))


def customer_text(ticket: Ticket, users: Mapping[ObjectId, User], width: int | None = None) -> str:
    """``Name <email>`` of the ticket's customer, on one line (``width``: at most that long)."""
    customer = users.get(ticket.user) if ticket.user else None
    if customer is None:
        return one_line(_name(users, ticket.user, "missing"), width)
    half = None if width is None else width // 2
    return f"{one_line(customer.name, half)} <{one_line(customer.email, half)}>"


def full_text(ticket: Ticket, users: Mapping[ObjectId, User]) -> Text:
    """The whole subject and customer, for the dialog the header's ellipses point to: plain
    text (controls spelled out, markup never parsed), wrapped where the dialog is."""
    text = Text()
    text.append("Subject\n", style="bold")
    text.append(literal(ticket.subject or "(no subject)") + "\n\n")
    text.append("Customer\n", style="bold")
    text.append(customer_text(ticket, users))
    return text


# A message longer than this shows its first part (a 15 MB message would take the screen
# half a minute to lay out); ``e`` on the ticket shows ten times more at each press.
PREVIEW_CHARS = 20_000
MORE_FACTOR = 10


class MessageView(Static):
    """One message; internal notes carry a class (and a label) that cannot be missed."""

    def __init__(
        self,
        message: Message,
        author: str,
        customer: bool,
        now: datetime,
        origin: str = "",
        more_key: str = "e",
    ) -> None:
        """``origin``: the ticket this message was copied from by a merge (store/merge.py);
        ``more_key``: the key that shows more of a long message (``[keys]`` may move it)."""
        self.more_key = more_key
        classes = "message -internal" if message.is_internal else "message"
        if customer:
            classes += " -customer"
        super().__init__(classes=classes)
        self.message = message
        # A Text, not a str: Textual parses a str title as markup, and names are untrusted.
        title = Text("🔒 INTERNAL NOTE · " if message.is_internal else "")
        title.append(one_line(author))
        if origin:
            title.append(f" · from {one_line(origin, 20)}")
        self.border_title = title
        self.border_subtitle = _when(message.created_at, now)
        self.shown_chars = PREVIEW_CHARS
        self._show_body()

    @property
    def truncated(self) -> bool:
        return len(self.message.content) > self.shown_chars

    def show_more(self) -> bool:
        """Show ``MORE_FACTOR`` times more of a long message; False if all of it is shown."""
        if not self.truncated:
            return False
        self.shown_chars *= MORE_FACTOR
        self._show_body()
        return True

    def _show_body(self) -> None:
        message, content = self.message, self.message.content
        body = Text(literal(content[: self.shown_chars]) or "(empty message)")
        if self.truncated:
            rest = len(content) - self.shown_chars
            body.append(
                f"\n… {rest:,} more characters not shown: press {self.more_key} to show more",
                style="bold yellow",
            )
        if message.attachments:
            body.append("\n")
            for attachment in message.attachments:
                body.append(f"\n📎 {one_line(attachment)}", style="cyan")
        self.update(body)


def describe_event(event: Mapping[str, Any], users: Mapping[ObjectId, User]) -> str | None:
    """One audit-trail entry as a line; None for entries the conversation already shows."""
    action = event.get("action")
    actor = _name(users, event.get("actor"), "someone")

    def person(value: Any) -> str:
        if value in (None, ""):
            return "nobody"
        oid = ObjectId(value) if isinstance(value, str) and ObjectId.is_valid(value) else value
        return _name(users, oid if isinstance(oid, ObjectId) else None, str(value))

    before, after = event.get("from"), event.get("to")
    if action == "status":
        return f"{actor} changed status {_label(before)} → {_label(after)}"
    if action == "wake":  # store/wake.py: no actor, the customer's reply did it
        return f"the customer replied: status {_label(before)} → {_label(after)}"
    if action == "priority":
        return f"{actor} changed priority {before} → {after}"
    if action == "assign":
        return f"{actor} assigned {person(before)} → {person(after)}"
    if action == "tags":
        parts = [f"+{t}" for t in str(after or "").split(",") if t]
        parts += [f"-{t}" for t in str(before or "").split(",") if t]
        return f"{actor} changed tags {' '.join(parts)}"
    if action == "created":
        return f"{actor} opened the ticket"
    if action == "merge":
        return f"{actor} merged {before} into this ticket"
    if action == "merged_into":
        return f"{actor} merged this ticket into {after}"
    if action == "split":
        return f"{actor} moved messages to {after} (split)"
    if action == "split_from":
        return f"{actor} split this ticket off {before}"
    return None


def _label(value: Any) -> str:
    return Status(value).label if value in set(Status) else str(value)


class EventLine(Static):
    """An audit-trail entry between the messages: who changed what, when."""

    def __init__(self, text: str, at: datetime | None) -> None:
        super().__init__(classes="event")
        when = f"{at:%Y-%m-%d %H:%M}" if at else "?"
        self.update(Text.assemble(("· ", "dim"), (when, "dim"), "  ", (literal(text), "italic")))


# Messages mounted before the first paint of a ticket; older ones follow right after.
FIRST_PAINT = 30


class Conversation(VerticalScroll):
    """The messages in time order; ``show`` mounts only messages not shown yet."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: set[str] = set()
        # Where each mounted message or event sits in time, so a late arrival that is older
        # (messages copied in by a merge) goes to its place, not to the end.
        self._places: dict[Widget, tuple[datetime, int]] = {}
        self.more_key = "e"  # the screen's key for "show more", named in a long message

    async def clear(self) -> None:
        """Forget what is shown (messages left the ticket: a split); the next ``show`` draws
        the conversation again from the top."""
        await self.remove_children()
        self._shown.clear()

    async def show(
        self,
        ticket: Ticket,
        users: Mapping[ObjectId, User],
        now: datetime,
        events: Sequence[Mapping[str, Any]] = (),
        origins: Mapping[ObjectId, str] | None = None,
    ) -> int:
        """Mount what is not shown yet: messages and audit events, in time order."""
        new: list[tuple[datetime, int, Static]] = []
        if (
            not self._shown
            and ticket.description
            and not (ticket.messages and ticket.messages[0].content == ticket.description)
        ):
            opening = Message(
                content=ticket.description, sender=ticket.user, created_at=ticket.created_at
            )
            author = _name(users, ticket.user, "customer") + " (opened)"
            opened = MessageView(opening, author, True, now, more_key=self.more_key)
            new.append((ticket.created_at or now, 0, opened))
            self._shown.add("description")
        copies: dict[str, int] = {}
        for index, message in enumerate(ticket.messages):
            key = str(message.id) if message.id else f"index-{index}"
            # Two messages with one _id (a malformed document): both are shown.
            copies[key] = copies.get(key, 0) + 1
            if copies[key] > 1:
                key = f"{key}#{copies[key]}"
            if key in self._shown:
                continue
            self._shown.add(key)
            author = _name(users, message.sender, "unknown sender")
            origin = (origins or {}).get(message.id, "") if message.id else ""
            customer = message.sender == ticket.user
            view = MessageView(message, author, customer, now, origin, self.more_key)
            new.append((message.created_at or now, 1, view))
        for event in events:
            key = f"event-{event.get('_id') or (event.get('at'), event.get('action'))}"
            text = describe_event(event, users)
            if text is None or key in self._shown:
                continue
            if origin := audit_origin(event, declared=False):  # the login that signed it
                text += f"  [{origin}]"
            self._shown.add(key)
            at = event.get("at")
            at = utc(at) if isinstance(at, datetime) else None
            rank = -1 if event.get("action") == "created" else 2
            new.append((at or now, rank, EventLine(text, at)))
        if new:
            first = len(self.children) == 0
            at_end = self.is_vertical_scroll_end or first
            new.sort(key=lambda item: (item[0], item[1]))
            for at, rank, widget in new:
                self._places[widget] = (at, rank)
            if not first:
                new = await self._mount_in_place(new)
            widgets = [widget for _, _, widget in new]
            older: list[Static] = []
            if first and len(widgets) > FIRST_PAINT:
                # A long conversation: paint the newest first, mount the history after.
                older, widgets = widgets[:-FIRST_PAINT], widgets[-FIRST_PAINT:]
            await self.mount_all(widgets)
            if at_end:
                self.scroll_end(animate=False)
            if older:
                self.call_after_refresh(self._mount_older, older)
        return len(new)

    async def _mount_in_place(
        self, new: list[tuple[datetime, int, Static]]
    ) -> list[tuple[datetime, int, Static]]:
        """Mount each of ``new`` older than something shown before the first shown thing
        that is later; return the rest (later than everything shown: they go at the end)."""
        shown = [c for c in self.children if c in self._places]
        if not shown:
            return new
        last = max(self._places[c] for c in shown)
        rest = []
        for at, rank, widget in new:
            if (at, rank) >= last:
                rest.append((at, rank, widget))
                continue
            later = next(c for c in self.children if self._places.get(c, last) > (at, rank))
            await self.mount(widget, before=later)
        return rest

    async def _mount_older(self, older: list[Static]) -> None:
        at_end = self.is_vertical_scroll_end
        await self.mount_all(older, before=0)
        if at_end:
            self.scroll_end(animate=False)
