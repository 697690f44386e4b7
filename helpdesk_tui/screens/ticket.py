"""One ticket: header with both SLA clocks, the conversation, and the actions on it."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import ScreenResume
from textual.message import Message
from textual.widgets import Static

from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.messages import ClockTick, FeedStateChanged, TicketsChanged
from helpdesk_tui.screens.actions import TicketActions
from helpdesk_tui.screens.customer_context import CustomerContextActions
from helpdesk_tui.screens.earlier import ConversationReads
from helpdesk_tui.screens.merge_actions import MergeActions
from helpdesk_tui.screens.split_actions import SplitActions
from helpdesk_tui.store.merge import Merger
from helpdesk_tui.store.opened import OpenedTicket, ticket_and_history
from helpdesk_tui.store.presence import HEARTBEAT_SECONDS, Presence
from helpdesk_tui.widgets.conversation import (
    Conversation,
    NotReadYet,
    TicketHeader,
    full_text,
)
from helpdesk_tui.widgets.customer_panel import CustomerPanel
from helpdesk_tui.widgets.footer import KeyFooter
from helpdesk_tui.workers import WorkFailed

# The ticket's first read, if it comes within this, is in the screen's first frame: one paint
# of the ticket instead of a "loading…" frame and then the ticket (each a whole screen of
# bytes and a layout). A slower read shows the loading state, as before. Keys typed meanwhile
# wait (screens/base.py: a screen takes keys once mounted) and act on the ticket, in order.
FIRST_FRAME_WAIT = 0.15


@dataclass(frozen=True)
class Opened:
    """One load of the ticket screen, fetched off the event loop."""

    ticket: Ticket
    users: dict[ObjectId, User]
    order: dict[str, Any] | None
    now: datetime
    events: list[dict[str, Any]]
    origins: dict[ObjectId, str]  # merged-in copies: which ticket each came from
    window: OpenedTicket  # which of the messages were read (store/opened.py)


@dataclass
class TicketOpened(Message, bubble=False):
    """One load of the ticket; ``generation``: which load (a later one replaces it)."""

    opened: Opened
    generation: int


@dataclass
class PresenceSeen(Message, bubble=False):
    """Who else has this ticket open."""

    others: list[Presence]


class TicketScreen(
    ConversationReads, CustomerContextActions, TicketActions, MergeActions, SplitActions
):
    # Priority: each key acts on this screen as soon as it is current (see screens/base.py).
    BINDINGS = [
        Binding("r", "reply", "Reply", priority=True, id="reply"),
        Binding("i", "note", "Note", priority=True, id="note"),
        Binding("s", "status", "Status", priority=True, id="status"),
        Binding("p", "priority", "Priority", priority=True, id="priority"),
        Binding("a", "take", "Take", priority=True, id="take"),
        Binding("A", "assign", "Assign", priority=True, id="assign"),
        Binding("t", "tags", "Tags", show=False, priority=True, id="tags"),
        Binding("m", "macro", "Macro", show=False, priority=True, id="macro"),
        Binding("z", "snooze", "Snooze", show=False, priority=True, id="snooze"),
        Binding("e", "more", "Show more", show=False, priority=True, id="more"),
        Binding("y", "copy", "Copy", show=False, priority=True, id="copy"),
        Binding("f", "follow", "Follow", show=False, priority=True, id="follow"),
        Binding(
            "v", "full_text", "Full subject and customer", show=False, priority=True, id="full_text"
        ),
        Binding("j", "scroll(1)", "Down", show=False, priority=True, id="scroll_down"),
        Binding("k", "scroll(-1)", "Up", show=False, priority=True, id="scroll_up"),
        Binding("question_mark", "help", "Help", priority=True, id="help"),
        Binding("q,escape,backspace", "close", "Back", priority=True, id="close"),
        Binding("c", "context", "Customer", priority=True, id="customer_context"),
        Binding("M", "merge", "Merge", show=False, priority=True, id="merge"),
        Binding("S", "split", "Split", show=False, priority=True, id="split"),
        *(
            Binding(
                str(n),
                f"open_other({n})",
                f"Open the customer's ticket {n}",
                show=False,
                priority=True,
                id=f"open_other_{n}",
            )
            for n in range(1, 10)
        ),
    ]

    def __init__(self, ticket_id: ObjectId, summary: Ticket | None = None) -> None:
        """``summary``: the queue's row of this ticket, so its actions work before the load."""
        super().__init__()
        self.ticket_id = ticket_id
        self.viewing_ticket = ticket_id
        self.ticket: Ticket | None = summary
        self.loaded = False
        self.users: dict[ObjectId, User] = NotReadYet()
        self._load_failed = False  # read again when the feed is live again
        self.order: dict[str, Any] | None = None
        self.presence_text = ""
        self._covered = False  # another screen was pushed over this one since it was shown
        self._load_generation = 0  # the newest load: an older one's result is not shown
        self._shown_generation = 0  # the load shown (the first one may be shown in on_mount)
        self._first_read: Future[Opened | None] = Future()  # set by the first load's worker

    def compose(self) -> ComposeResult:
        # The read starts now, while the screen is built and first painted, not after.
        self.load()
        # Where the customer's context goes, before the first layout (not on the first resize:
        # the conversation would be laid out at one width and then at another).
        # Its rules style the widgets below, as they mount (no restyle of the empty screen).
        self.set_class(not self._context_beside(), "-context-under", update=False)
        yield TicketHeader("loading…", id="ticket-header")
        yield CustomerPanel(id="customer-context")
        yield Conversation(id="conversation")
        yield Static(id="ticket-info")
        # At 80 columns the keys that do not fit go (they stay in `?` and the palette).
        yield KeyFooter(first=("reply", "note", "status", "assign", "close", "help", "take"))

    async def on_mount(self) -> None:  # type: ignore[override]  # Textual awaits either kind
        self.set_focus(self.query_one(Conversation))  # now, not on the next idle
        self.render_header(self.helpdesk.store.now())
        # After the first frame: its two round trips (and the context's, in ``_loaded``) are
        # threads that would take Python's lock from the frame's layout and paint meanwhile.
        self.call_after_refresh(self.beat)
        self.every(HEARTBEAT_SECONDS, self.beat)
        # Before the first frame (see FIRST_FRAME_WAIT): the screen paints once mounted.
        first = asyncio.wrap_future(self._first_read)
        done, _ = await asyncio.wait({first}, timeout=FIRST_FRAME_WAIT)
        if done and (opened := first.result()) is not None and self._load_generation == 1:
            self._shown_generation = 1
            await self._loaded(opened)

    def beat(self) -> None:
        """Tell others I am here, and see who else is (one small upsert, one small find)."""
        mode = "replying" if self.helpdesk.replying_to(self.ticket_id) else "viewing"
        self._beat(self.ticket_id, self.helpdesk.me, mode)

    @work(thread=True, exit_on_error=False, group="presence")
    def _beat(self, ticket_id: ObjectId, me: Identity, mode: str) -> None:
        presence = self.helpdesk.presence
        if not me.read_only:
            presence.beat(ticket_id, me.id, me.user.display, mode)
        self.post_message(PresenceSeen(presence.others([ticket_id], me.id).get(ticket_id, [])))

    @on(PresenceSeen)
    def _show_presence(self, message: PresenceSeen) -> None:
        self.presence_text = ", ".join(p.text for p in message.others)
        self.render_header(self.helpdesk.store.now())

    def on_unmount(self) -> None:
        self.helpdesk.leave_ticket(self.ticket_id)  # the app's: this screen has gone

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        """Someone changed this ticket: show it at once (new messages are appended)."""
        if changed.reload or self.ticket_id in changed.ids:
            self.load()
        elif self.context and {t.id for t in self.context.others} & set(changed.ids):
            self.load_context()

    def on_clock_tick(self, message: ClockTick) -> None:
        self.tick(message.now)

    def load(self) -> None:
        """One indexed query for the ticket, one batched query for the people in it."""
        self._load_generation += 1
        # Read only what is not shown (the first read, from compose: everything).
        shown = self.query(Conversation)
        after = shown.first().read_after if shown else None
        self._fetch_ticket(self.ticket_id, after, self._load_generation)

    @work(thread=True, exit_on_error=False, group="load", exclusive=True)
    def _fetch_ticket(
        self, ticket_id: ObjectId, after: tuple[int, Any] | None, generation: int
    ) -> None:
        opened = None
        try:
            opened = self._read_ticket(ticket_id, after)
            self.post_message(TicketOpened(opened, generation))
        finally:  # the first read for on_mount; failed (None): the loading state at once
            if generation == 1:
                self._first_read.set_result(opened)

    def _read_ticket(self, ticket_id: ObjectId, after: tuple[int, Any] | None) -> Opened:
        store = self.helpdesk.store
        window = ticket_and_history(store, ticket_id, after=after)  # one command
        ticket, events = window
        people = [ticket.user, ticket.assigned_to, *(m.sender for m in ticket.messages)]
        people += [e.get("actor") for e in events]
        people += [
            ObjectId(v)
            for e in events
            if e.get("action") == "assign"
            for v in (e.get("from"), e.get("to"))
            if isinstance(v, str) and ObjectId.is_valid(v)
        ]
        order = store.order_summary(ticket.order) if ticket.order else None
        merged = any(e.get("action") == "merge" for e in events)  # else no query at all
        origins = Merger(store).origins(ticket_id) if merged else {}
        users = store.users_by_ids(people)
        return Opened(ticket, users, order, store.now(), events, origins, window)

    @on(WorkFailed)
    def _not_loaded(self, message: WorkFailed) -> None:
        if message.work == "_fetch_ticket":
            self._load_failed = True  # said by the app's one error path; tried again when live

    def on_feed_state_changed(self, message: FeedStateChanged) -> None:
        """Back from a stall or a lost link: a load that failed meanwhile is tried again (the
        ticket may not change, so no change event would ever bring it)."""
        if self._load_failed and self.helpdesk.feed_live:
            self._load_failed = False
            self.load()

    @on(TicketOpened)
    async def _opened(self, message: TicketOpened) -> None:
        # Not an older load (a later one is coming), nor the one on_mount showed already.
        if message.generation == self._load_generation != self._shown_generation:
            self._shown_generation = message.generation
            await self._loaded(message.opened)

    async def _loaded(self, result: Opened) -> None:
        self._load_failed = False
        self.ticket, self.users, self.order, now = (
            result.ticket,
            result.users,
            result.order,
            result.now,
        )
        self.loaded = True
        self.render_header(now)
        if self.context is None:
            self.call_after_refresh(self.load_context)
        conversation = self.query_one(Conversation)
        conversation.more_key = self.key_for("more", "e")
        window = result.window
        await conversation.show(
            self.ticket,
            self.users,
            now,
            result.events,
            result.origins,
            start=window.start,
            cut=window.cut,
            follows=window.follows,
        )
        self.ticket = conversation.with_messages_read(self.ticket)  # a re-read: the new ones
        if not self.alive:
            return  # closed while the conversation was drawn
        if self._scroll_to_end:
            self._scroll_to_end = False
            conversation.scroll_end(animate=False)
        self.show_info()

    def show_info(self) -> None:
        self.query_one("#ticket-info", Static).update(
            f"{self.query_one(Conversation).counts()}"
            f" · {self.key_for('reply', 'r')} reply · {self.key_for('note', 'i')} note"
            f" · {self.key_for('close', 'q')} back"
        )

    def render_header(self, now: datetime) -> None:
        if self.ticket is None:
            return
        self.query_one(TicketHeader).show(
            self.ticket,
            self.users,
            now,
            self.helpdesk.store.settings.sla,
            order=self.order,
            presence=self.presence_text,
        )

    def tick(self, now: datetime) -> None:
        self.render_header(now)

    def targets(self) -> list[Ticket]:
        return [self.ticket] if self.ticket else []

    def after_change(self, tickets: list[Ticket]) -> None:
        self.load()

    def _open_reply(self, *, internal: bool) -> None:
        """The editor needs only the ticket's id: it opens even before the ticket has loaded."""
        if self.ticket is not None:
            super()._open_reply(internal=internal)
        elif self._guarded(self.helpdesk.me.require_write):
            self.helpdesk.open_reply(self.ticket_id, internal=internal, done=self.after_reply)

    def after_reply(self, sent: bool | None) -> None:
        if sent:
            self._scroll_to_end = True  # the next load shows what was sent, at the bottom

    _scroll_to_end = False

    def on_screen_suspend(self) -> None:
        self._covered = True

    def on_screen_resume(self, event: ScreenResume | None = None) -> None:
        covered, self._covered = self._covered, False
        if not covered:
            # Shown for the first time: on_mount is loading it already (not a second read).
            # This runs before Textual's own handler (a subclass's first), which styles every
            # widget of a resumed screen again (one shown again may have missed a theme
            # change); these were styled as they mounted, a moment ago: on an open that was
            # 4-10 ms of the first frame for nothing.
            if event is not None:
                event.refresh_styles = False
            return
        if self.ticket is not None:
            self.load()  # back from the reply screen: show what was sent
            self.load_context()  # back from another of the customer's tickets

    def action_merge(self) -> None:
        """Merge one of the customer's other open tickets into this one (screens/merge_actions)."""
        self.start_merge()

    def action_split(self) -> None:
        """Move chosen messages into a new ticket (screens/split_actions)."""
        self.start_split()

    def action_more(self) -> None:
        """Show more of every long message cut short on this ticket."""
        self.more_of_messages()  # screens/earlier.py: reads the whole bodies if needed

    def action_scroll(self, lines: int) -> None:
        self.query_one(Conversation).scroll_relative(y=lines * 3, animate=False)

    def action_follow(self) -> None:
        """``f``: follow this ticket without owning it (again: stop following)."""
        if self.ticket is not None:
            self.toggle_follow(self.ticket)

    def action_copy(self) -> None:
        """``y``: copy the number, the customer's e-mail or a message (OSC 52)."""
        if self.ticket is not None and self.loaded:
            self.offer_copy(self.ticket, self.users, list(self.ticket.messages))
        elif self.ticket is not None:
            self.fetch_and_offer(self.ticket)

    def action_full_text(self) -> None:
        """``v``: the subject and the customer in full (the header cuts them to one line)."""
        if self.ticket is not None:
            self.helpdesk.open_full_text(self.ticket.label, full_text(self.ticket, self.users))

    def action_help(self) -> None:
        self.helpdesk.show_help(self)

    def action_close(self) -> None:
        self.dismiss()
