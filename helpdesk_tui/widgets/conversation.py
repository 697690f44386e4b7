"""The ticket header and its conversation: customer text always rendered literally.

The conversation is a virtual log (widgets/message_log.py): one entry per message or history
line, laid out as lines at the current width, only the lines in view rendered."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from helpdesk_tui.domain.models import Message, Status, Ticket, User, utc
from helpdesk_tui.domain.people import audit_origin
from helpdesk_tui.domain.sla import SlaPolicy, evaluate
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.widgets.message_log import LogEntry, MessageLog
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
        people_loaded: bool = True,
    ) -> None:
        """``people_loaded``: False while the people are still being read (or the read failed):
        a name not in ``users`` is then "…", not an "unknown user" that exists."""
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
        ]
        if not people_loaded:  # not read yet: a name we lack is not "unknown"
            for at, person in ((3, ticket.assigned_to), (4, ticket.user)):
                if person is not None and person not in users:
                    fields[at] = (fields[at][0], "…")
        fields += [
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


@dataclass(eq=False)
class MessageEntry(LogEntry):
    """One message of the conversation; an internal note's box cannot be missed (heavy border,
    background, a label in its title)."""

    message: Message = field(default_factory=lambda: Message(content=""))
    author: str = ""
    customer: bool = False
    origin: str = ""  # the ticket this message was copied from by a merge (store/merge.py)
    more_key: str = "e"  # the key that shows more of a long message ([keys] may move it)
    at: datetime = datetime.min
    now: datetime = datetime.min
    rank: int = 1
    shown_chars: int = PREVIEW_CHARS
    _title: Text | None = None

    @classmethod
    def of(
        cls,
        message: Message,
        author: str,
        customer: bool,
        now: datetime,
        origin: str = "",
        more_key: str = "e",
        rank: int = 1,
    ) -> MessageEntry:
        look = "internal" if message.is_internal else "customer" if customer else ""
        entry = cls(
            chunks=[],
            look=look,
            message=message,
            author=author,
            customer=customer,
            origin=origin,
            more_key=more_key,
            at=message.created_at or now,
            now=now,
            rank=rank,
        )
        entry.chunks = entry._chunks()
        return entry

    @property
    def title(self) -> Text:
        """Who wrote it, an internal note's label, the ticket a merge copied it from. A Text,
        not a str: names are untrusted, drawn as characters, never parsed as markup. Made
        when first drawn: opening 5,000 messages formats only the ones on screen."""
        if self._title is None:
            title = Text("🔒 INTERNAL NOTE · " if self.message.is_internal else "")
            title.append(one_line(self.author))
            if self.origin:
                title.append(f" · from {one_line(self.origin, 20)}")
            self._title = title
        return self._title

    @property
    def subtitle(self) -> str:
        return _when(self.message.created_at, self.now)

    def decorations(self) -> tuple[Text, str]:
        return self.title, self.subtitle

    @property
    def internal(self) -> bool:
        return self.message.is_internal

    @property
    def truncated(self) -> bool:
        return len(self.message.content) > self.shown_chars

    def show_more(self) -> bool:
        """Show ``MORE_FACTOR`` times more of a long message; False if all of it is shown."""
        if not self.truncated:
            return False
        self.shown_chars *= MORE_FACTOR
        self.chunks = self._chunks()
        return True

    def _chunks(self) -> list[tuple[str, str]]:
        content = self.message.content
        chunks = [(literal(content[: self.shown_chars]) or "(empty message)", "")]
        if self.truncated:
            rest = len(content) - self.shown_chars
            more = f"… {rest:,} more characters not shown: press {self.more_key} to show more"
            chunks.append((more, "more"))
        if self.message.attachments:
            chunks.append(("", ""))
            chunks += [(f"📎 {one_line(a)}", "attachment") for a in self.message.attachments]
        return chunks

    def body(self) -> Text:
        """What the box shows, as one ``Text`` (the message made safe, then the notes)."""
        text = Text()
        styles = {"": "", "more": "bold yellow", "attachment": "cyan"}
        for index, (chunk, role) in enumerate(self.chunks):
            text.append(("\n" if index else "") + chunk, style=styles[role])
        return text


@dataclass(eq=False)
class EventEntry(LogEntry):
    """An audit-trail entry between the messages: who changed what, when."""

    text: str = ""
    at: datetime = datetime.min
    rank: int = 2

    @classmethod
    def of(cls, text: str, at: datetime | None, when: datetime, rank: int) -> EventEntry:
        stamp = f"{at:%Y-%m-%d %H:%M}" if at else "?"
        line = f"· {stamp}  {literal(text)}"
        return cls(chunks=[(line, "event")], box=False, text=line, at=at or when, rank=rank)

    @property
    def plain(self) -> str:
        return self.text


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


class Conversation(MessageLog):
    """The messages and the history in time order, drawn as one virtual log: opening a ticket
    of 5,000 messages lays them out as lines, and only the lines in view are rendered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: set[str] = set()
        self.more_key = "e"  # the screen's key for "show more", named in a long message

    @property
    def messages(self) -> list[MessageEntry]:
        """The messages shown, in the order they are shown."""
        return [e for e in self.entries if isinstance(e, MessageEntry)]

    @property
    def events(self) -> list[EventEntry]:
        return [e for e in self.entries if isinstance(e, EventEntry)]

    async def clear(self) -> None:
        """Forget what is shown (messages left the ticket: a split); the next ``show`` draws
        the conversation again from the top."""
        self.clear_entries()
        self._shown.clear()

    def show_more(self) -> bool:
        """Show more of every message cut short; False if every one is shown in full."""
        grown = [entry for entry in self.messages if entry.show_more()]
        if grown:
            self.relayout_entries(grown)
        return bool(grown)

    def relayout_entries(self, entries: Sequence[LogEntry]) -> None:
        for entry in entries:
            self.entry_changed(entry)

    async def show(
        self,
        ticket: Ticket,
        users: Mapping[ObjectId, User],
        now: datetime,
        events: Sequence[Mapping[str, Any]] = (),
        origins: Mapping[ObjectId, str] | None = None,
    ) -> int:
        """Add what is not shown yet: messages and audit events, each in its place in time."""
        new: list[MessageEntry | EventEntry] = []
        if (
            not self._shown
            and ticket.description
            and not (ticket.messages and ticket.messages[0].content == ticket.description)
        ):
            opening = Message(
                content=ticket.description, sender=ticket.user, created_at=ticket.created_at
            )
            author = _name(users, ticket.user, "customer") + " (opened)"
            new.append(MessageEntry.of(opening, author, True, now, more_key=self.more_key, rank=0))
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
            new.append(MessageEntry.of(message, author, customer, now, origin, self.more_key))
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
            new.append(EventEntry.of(text, at, now, rank))
        if not new:
            return 0
        new.sort(key=lambda entry: (entry.at, entry.rank))
        if not self.entries:
            self.set_entries(list(new))
            return len(new)
        places = [(e.at, e.rank) for e in self.entries if isinstance(e, MessageEntry | EventEntry)]
        for entry in new:
            position = bisect_right(places, (entry.at, entry.rank))
            places.insert(position, (entry.at, entry.rank))
            self.insert(position, entry)
        return len(new)
