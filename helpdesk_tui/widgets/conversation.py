"""The ticket header and its conversation: customer text always rendered literally.

The conversation is a virtual log (widgets/message_log.py): one entry per message or history
line, laid out as lines at the current width, only the lines in view rendered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from heapq import merge
from typing import Any

from bson import ObjectId
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.message import Message as TextualMessage
from textual.widgets import Static

from helpdesk_tui.domain.models import Message, Status, Ticket, User, utc
from helpdesk_tui.domain.people import audit_origin
from helpdesk_tui.domain.sla import SlaPolicy, evaluate
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.widgets.message_log import LogEntry, MessageLog
from helpdesk_tui.widgets.sla_badge import badge, clock_text
from helpdesk_tui.widgets.ticket_table import ago


class NotReadYet(dict[ObjectId, User]):
    """The people of a ticket before they were read (or while their read failed): a name not
    in it is "…", never "unknown user" (who may be the agent herself)."""


def _name(users: Mapping[ObjectId, User], user_id: ObjectId | None, missing: str) -> str:
    if user_id is None:
        return missing
    user = users.get(user_id)
    if user:
        return user.display
    return "…" if isinstance(users, NotReadYet) else f"unknown user …{str(user_id)[-6:]}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


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
        assignee = one_line(_name(users, ticket.assigned_to, "unassigned"), 60)
        fields = [
            ("Status", ticket.status.label, "status"),
            ("Priority", ticket.priority.value, "priority"),
            ("Category", ticket.category.value, "category"),
            ("Assignee", assignee, "assignedTo"),
            ("Customer", customer_text(ticket, users, HEADER_CHARS), "user"),
            ("Order", order_text, "order"),
            ("Tags", one_line(", ".join(ticket.tags), HEADER_CHARS) or "—", "tags"),
            ("Created", _when(ticket.created_at, now), "createdAt"),
        ]
        # A stored value the model could not read shows as such, never as its safe default
        # (status "escalated" is not "open"); the ⚠ lines below say what was stored.
        cells = [
            _cell(label, "⚠ unreadable" if ticket.problem_with(key) else value)
            for label, value, key in fields
        ]
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
PAGE_MESSAGES = 100  # older messages asked for each time the agent scrolls up to the oldest


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
    full_length: int = -1  # the whole body's length when the server cut it (else -1)
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
        full_length: int = -1,
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
            full_length=full_length,
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
    def length(self) -> int:
        """The whole body's length (what was read of it may be cut: ``full_length``)."""
        return max(self.full_length, len(self.message.content))

    @property
    def truncated(self) -> bool:
        return self.length > self.shown_chars

    @property
    def needs_body(self) -> bool:
        """The next ``show_more`` would show more than was read: the whole body is needed."""
        read = len(self.message.content)
        return self.full_length > read and self.shown_chars * MORE_FACTOR > read

    def fill(self, content: str) -> None:
        """The whole body, read on demand (``store/opened.py`` ``full_bodies``)."""
        if len(content) > len(self.message.content):
            self.message = self.message.model_copy(update={"content": content})
            self.full_length = -1

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
            rest = self.length - self.shown_chars
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


EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(eq=False)
class EarlierEntry(LogEntry):
    """The line at the top of a conversation read from its newest messages: how many older
    ones there are, and that scrolling up (or ``home``) reads them."""

    at: datetime = EARLIEST
    rank: int = -9

    @classmethod
    def of(cls, count: int) -> EarlierEntry:
        entry = cls(chunks=[], box=False)
        entry.say(count)
        return entry

    def say(self, count: int) -> None:
        noun = "message" if count == 1 else "messages"
        line = f"⋯ {count:,} earlier {noun}: scroll up or press home to read them"
        self.chunks = [(line, "more")]


class Conversation(MessageLog):
    """The messages and the history in time order, drawn as one virtual log: opening a ticket
    of 5,000 messages lays them out as lines, and only the lines in view are rendered.

    The screen may give it a window of the conversation (issue 29: ``store/opened.py``): the
    newest messages, ``start`` being the position of the first one in the ticket's
    ``messages``. It then says how many older ones there are and asks for them
    (``EarlierWanted``) when the agent scrolls up to the oldest one read, or presses home;
    the screen gives them with ``show_earlier``."""

    class EarlierWanted(TextualMessage):
        """Read the messages before ``start`` (``first``: the ``_id`` read there): ``count``
        of them (the screen reads at most that many)."""

        def __init__(self, conversation: Conversation, start: int, first: Any, count: int):
            super().__init__()
            self.conversation = conversation
            self.start = start
            self.first = first
            self.count = count

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: set[str] = set()
        self.more_key = "e"  # the screen's key for "show more", named in a long message
        self._forget_window()

    def _forget_window(self) -> None:
        self.start = 0  # the position in the ticket's messages of the oldest one read
        self.total = 0  # the ticket's messages when last read
        self._first: Any = None  # the _id of messages[start] as read
        self._last: Any = None  # the _id of messages[total - 1] as read
        self.asked = False  # an EarlierWanted is being answered
        self._home = False  # go to the top once the earlier messages are read
        self._events: list[Mapping[str, Any]] = []  # held back: older than what is read
        self._origins: dict[ObjectId, str] = {}
        self._earlier: EarlierEntry | None = None

    @property
    def messages(self) -> list[MessageEntry]:
        """The messages shown, in the order they are shown."""
        return [e for e in self.entries if isinstance(e, MessageEntry)]

    @property
    def events(self) -> list[EventEntry]:
        return [e for e in self.entries if isinstance(e, EventEntry)]

    @property
    def read_after(self) -> tuple[int, Any] | None:
        """For the screen's next read: the count read and the last message's ``_id`` then
        (None before the first read)."""
        return (self.total, self._last) if self._shown else None

    def with_messages_read(self, ticket: Ticket) -> Ticket:
        """``ticket`` with every message read so far (in time order), not only the last
        read's: what the copy and split choosers offer."""
        read = tuple(entry.message for entry in self.messages if entry.rank == 1)
        return ticket.model_copy(update={"messages": read})

    def counts(self) -> str:
        """How many messages and notes there are: counted among those shown once all are."""
        if self.start > 0:
            return f"{_plural(self.total, 'message')} and notes · {self.start:,} older not read yet"
        read = [entry for entry in self.messages if entry.rank == 1]
        notes = sum(entry.internal for entry in read)
        return f"{_plural(len(read) - notes, 'message')} · {_plural(notes, 'internal note')}"

    async def clear(self) -> None:
        """Forget what is shown (messages left the ticket: a split); the next ``show`` draws
        the conversation again from the top."""
        self.clear_entries()
        self._shown.clear()
        self._forget_window()

    def show_more(self) -> bool:
        """Show more of every message cut short; False if every one is shown in full."""
        grown = [entry for entry in self.messages if entry.show_more()]
        if grown:
            self.relayout_entries(grown)
        return bool(grown)

    def bodies_needed(self) -> list[Any]:
        """The messages whose next ``show_more`` needs their whole body: their ``_id``
        (``"description"``: the opening message)."""
        return [
            "description" if entry.rank == 0 else entry.message.id
            for entry in self.messages
            if entry.needs_body and (entry.rank == 0 or entry.message.id is not None)
        ]

    def fill_bodies(self, bodies: Mapping[Any, str]) -> None:
        """The whole bodies asked for (``bodies_needed``), by ``_id``."""
        for entry in self.messages:
            key = "description" if entry.rank == 0 else entry.message.id
            if key in bodies:
                entry.fill(bodies[key])

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
        *,
        start: int = 0,
        cut: Mapping[Any, int] | None = None,
        follows: bool = True,
    ) -> int:
        """Add what is not shown yet: messages and audit events, each in its place in time.

        ``ticket.messages`` are the ticket's ``messages[start:]``, bodies longer than the
        preview cut (``cut``: their whole length by ``_id``). ``follows``: they continue what
        was read before; else (a merge or a split moved the messages) the conversation is
        drawn afresh from them."""
        if not follows and self._shown:
            await self.clear()
        fresh = not self._shown
        self._events = list(events)
        self._origins = dict(origins or {})
        if fresh:
            self.start = start
            self._first = ticket.messages[0].id if ticket.messages else None
        self.total = ticket.message_count
        if ticket.messages:
            self._last = ticket.messages[-1].id
        return self._add(ticket, users, now, cut or {})

    async def show_earlier(
        self,
        page: Ticket,
        users: Mapping[ObjectId, User],
        now: datetime,
        *,
        start: int,
        cut: Mapping[Any, int] | None = None,
        follows: bool = True,
    ) -> bool:
        """Add the messages read before the oldest one shown (``page.messages`` are the
        ticket's ``messages[start:self.start]``). False if they do not follow (the messages
        moved meanwhile): the screen reads the conversation again."""
        self.asked = False
        if not follows or page.message_count != self.total:
            return False
        if page.messages:
            self._first = page.messages[0].id
        self.start = start
        self._add(page, users, now, cut or {})
        if self._home and self.start > 0:
            self.want_earlier(self.start)  # home asked for all of them: the rest
        elif self._home:
            self._home = False
            self._to_top()
        return True

    def earlier_failed(self) -> None:
        """The read of earlier messages failed (said by the app): asked again on the next
        scroll up."""
        self.asked = False
        self._home = False

    def _add(
        self, ticket: Ticket, users: Mapping[ObjectId, User], now: datetime, cut: Mapping[Any, int]
    ) -> int:
        new: list[MessageEntry | EventEntry] = []
        if (
            self.start == 0
            and "description" not in self._shown
            and ticket.description
            and not (ticket.messages and ticket.messages[0].content == ticket.description)
        ):
            opening = Message(
                content=ticket.description, sender=ticket.user, created_at=ticket.created_at
            )
            author = _name(users, ticket.user, "customer") + " (opened)"
            length = cut.get("description", -1)
            new.append(
                MessageEntry.of(
                    opening, author, True, now, more_key=self.more_key, rank=0, full_length=length
                )
            )
        if self.start == 0:
            self._shown.add("description")  # decided once, by the first read that reaches it
        copies: dict[str, int] = {}
        for index, message in enumerate(ticket.messages):
            key = str(message.id) if message.id else f"index-{self.start + index}"
            # Two messages with one _id (a malformed document): both are shown.
            copies[key] = copies.get(key, 0) + 1
            if copies[key] > 1:
                key = f"{key}#{copies[key]}"
            if key in self._shown:
                continue
            self._shown.add(key)
            author = _name(users, message.sender, "unknown sender")
            origin = self._origins.get(message.id, "") if message.id else ""
            customer = message.sender == ticket.user
            length = cut.get(message.id, -1) if message.id else -1
            new.append(
                MessageEntry.of(
                    message, author, customer, now, origin, self.more_key, full_length=length
                )
            )
        # History older than the oldest message read waits until that part is read.
        oldest = min((e.at for e in [*self.messages, *new] if e.rank == 1), default=None)
        for event in self._events:
            key = f"event-{event.get('_id') or (event.get('at'), event.get('action'))}"
            if key in self._shown:
                continue
            at = event.get("at")
            at = utc(at) if isinstance(at, datetime) else None
            if self.start > 0 and oldest is not None and (at is None or at < oldest):
                continue
            text = describe_event(event, users)
            if text is None:
                continue
            if origin := audit_origin(event, declared=False):  # the login that signed it
                text += f"  [{origin}]"
            self._shown.add(key)
            rank = -1 if event.get("action") == "created" else 2
            new.append(EventEntry.of(text, at, now, rank))
        earlier = self._earlier_line()
        if not new and not earlier:
            return 0
        new.sort(key=lambda entry: (entry.at, entry.rank))
        kept = [e for e in self.entries if isinstance(e, MessageEntry | EventEntry)]
        top: list[LogEntry] = [self._earlier] if self._earlier is not None else []
        merged = merge(kept, new, key=lambda entry: (entry.at, entry.rank))  # stable: kept first
        if not self.entries:
            self.set_entries([*top, *merged])
        else:
            self.replace_entries([*top, *merged])
        return len(new)

    def _earlier_line(self) -> bool:
        """Keep the line that counts the older messages true; True if it changed."""
        if self.start > 0 and self._earlier is None:
            self._earlier = EarlierEntry.of(self.start)
            return True
        if self.start > 0 and self._earlier is not None:
            before = list(self._earlier.chunks)
            self._earlier.say(self.start)
            if before != self._earlier.chunks:
                self._earlier.lay_out(self._earlier.laid_width, again=True)
                return True
            return False
        if self._earlier is not None:
            self._earlier = None
            return True
        return False

    # --- reading older messages as the agent scrolls up to them ------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value < old_value and new_value < max(self.size.height, 1) * 2:
            self.want_earlier(PAGE_MESSAGES)

    def want_earlier(self, count: int) -> bool:
        """Ask the screen for up to ``count`` messages before the oldest one read (once at a
        time); False if every message is read."""
        if self.start <= 0 or not self._shown:
            return False
        if not self.asked:
            self.asked = True
            self.post_message(self.EarlierWanted(self, self.start, self._first, count))
        return True

    def action_scroll_up(self) -> None:
        self._near_top()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._near_top()
        super().action_page_up()

    def _near_top(self) -> None:
        """A key up at (or near) the top asks for older messages even when the view cannot
        move (all that was read fits on the screen)."""
        if self.scroll_y < max(self.size.height, 1) * 2:
            self.want_earlier(PAGE_MESSAGES)

    def action_scroll_home(self) -> None:
        """To the first message: read the ones not read yet first (all of them)."""
        if self.want_earlier(self.start):
            self._home = True
        self._to_top()

    def _to_top(self) -> None:
        # Now, and again once a new height is laid out (as ``_restore`` goes to the end).
        self.scroll_home(animate=False, x_axis=False, immediate=True)
        self.call_after_refresh(self.scroll_home, animate=False, x_axis=False)
