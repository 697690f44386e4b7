"""Write a public reply or an internal note; drafts survive crashes; stale tickets are caught.

The "ticket updated" guard: sending first re-reads the ticket; if anything changed since the
agent opened it (a new message, a status or assignee change), the agent sees what and decides.
The write itself is a compare-and-set on ``updatedAt``, so a change in the last millisecond is
caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bson import ObjectId
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Static, TextArea

from helpdesk_tui.domain.errors import (
    ConflictError,
    HelpdeskError,
    InvalidRequest,
    MergedAway,
    OutcomeUnknown,
)
from helpdesk_tui.domain.models import Status, Ticket, User
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.drafts import Draft
from helpdesk_tui.messages import TicketsChanged
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.screens.hold import Held, HoldBar
from helpdesk_tui.screens.macros import ReplyMacros
from helpdesk_tui.store.outcome import Pending
from helpdesk_tui.store.presence import HEARTBEAT_SECONDS
from helpdesk_tui.widgets.conversation_pane import ConversationPane
from helpdesk_tui.widgets.footer import KeyFooter
from helpdesk_tui.widgets.safe import SafeTextArea

# From this many rows up the conversation shows above the editor at once; below, F2 shows it.
CONVERSATION_ROWS = 30

if TYPE_CHECKING:
    from helpdesk_tui.config import CannedResponse

# A draft is written at most this long after a change, even while the agent keeps typing: a
# killed process loses at most the last half second.
DRAFT_SAVE_DELAY = 0.5
# While a reply's outcome is unknown and the database does not answer, ask again this often.
CHECK_AGAIN_SECONDS = 3.0
# A write that was not on the ticket when read back is read back again this often, this many
# times (a stalled server may still apply it): two minutes in all.
LATE_CHECK_SECONDS = 10.0
LATE_CHECKS = 12
# The draft remembers the message id of an attempt whose outcome was never settled, so sending
# the same text again (even after a restart) cannot make a second copy.
PENDING_ID, PENDING_OF = "pending_message", "pending_of"


@dataclass(frozen=True)
class Outgoing:
    """What ``ctrl+s`` sends, read from the widgets on the event loop at the moment of sending.

    The mode bar is drawn from the same ``internal`` value, and the editor is locked until the
    send finishes, so what goes out is exactly what the agent saw when they pressed the key.
    """

    text: str
    internal: bool
    attachments: tuple[str, ...]
    status: Status | None
    # Chosen before the first attempt and kept for every later one of the same text: the store
    # writes a message only where its ``_id`` is not yet, so no retry can deliver it twice.
    message_id: ObjectId = field(default_factory=ObjectId)

    @property
    def fingerprint(self) -> str:
        """What must be unchanged for a new attempt to reuse ``message_id``."""
        what = json.dumps([self.text, self.internal, list(self.attachments)])
        return hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()


def describe_changes(
    before: Ticket, after: Ticket, users: dict[ObjectId, User], me: ObjectId
) -> list[str]:
    """What another writer changed between two reads of a ticket, one line each."""
    changes: list[str] = []
    seen = {m.id for m in before.messages}
    for message in after.messages:
        if message.id in seen or message.sender == me:
            continue
        who = users.get(message.sender) if message.sender else None
        name = who.display if who else "someone"
        kind = "left an internal note" if message.is_internal else "replied"
        changes.append(f"{one_line(name, 30)} {kind}: “{one_line(message.content, 60)}”")
    if after.status is not before.status:
        changes.append(f"status {before.status.label} → {after.status.label}")
    if after.assigned_to != before.assigned_to:
        who = users.get(after.assigned_to) if after.assigned_to else None
        changes.append(f"reassigned to {one_line(who.display) if who else 'nobody'}")
    if after.priority is not before.priority:
        changes.append(f"priority {before.priority.value} → {after.priority.value}")
    return changes


class ReplyScreen(ReplyMacros):
    BINDINGS = [
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
        Binding(
            "ctrl+l", "other_draft", "Other draft", show=False, priority=True, id="other_draft"
        ),
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
    # How often the undo-send countdown looks at the clock.
    HOLD_TICK = 0.2

    # Public reply or internal note: the key that opened the screen decides, ctrl+t changes it,
    # nothing else does (a restored draft never does). The mode bar follows it at once.
    internal: reactive[bool] = reactive(False, init=False)
    # The last draft-save failure shown, so the same one is not repeated at every pause.
    _draft_error: str | None = None

    def __init__(
        self, ticket_id: ObjectId, *, internal: bool = False, ticket: Ticket | None = None
    ) -> None:
        """``ticket``: what the opening screen knows of it (number, status) before the load."""
        super().__init__()
        self.ticket_id = ticket_id
        self.summary = ticket
        self._send_when_loaded: Outgoing | None = None
        self.set_reactive(ReplyScreen.internal, internal)
        self.other: Draft | None = None  # a saved draft of the other mode, offered on ctrl+l
        self.status_on_send: Status | None = None
        self.baseline: Ticket | None = None
        self.users: dict[ObjectId, User] = {}
        self._save_timer: Timer | None = None
        self._sending = False  # a send is in flight: the editor is locked
        self._sent = False
        self._cancelled = False  # cancel already saved (or discarded) the draft
        self._last_draft: Draft | None = None
        self._not_sent = False  # the agent chose to review a change: said above the editor
        self._held: Held[Outgoing] | None = None  # a sent reply in its undo window
        self._hold_timer: Timer | None = None
        # The last send's outcome when it was not "sent", shown above the editor.
        self._outcome: Text | None = None
        # (fingerprint, message id) of an attempt that may have landed: reused by the same text.
        self._unsettled: tuple[str, ObjectId] | None = None
        self._checking = False  # reading back a write whose outcome is unknown
        self._late_checks = 0

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="reply-header")
        yield Static(id="reply-context")
        yield ConversationPane(id="reply-conversation")
        yield Static(id="reply-mode")
        yield HoldBar(id="reply-hold")
        yield SafeTextArea(id="reply-editor", soft_wrap=True, show_line_numbers=False)
        yield Input(
            placeholder="attachments: file names or URLs, comma-separated", id="reply-attachments"
        )
        # No "^p palette" hint here (ctrl+p still opens it): the reply keys fill 80 columns;
        # below that, the ones that do not fit go (they stay in the palette).
        yield KeyFooter(
            first=(
                *("send", "send_waiting", "send_resolved", "cancel", "conversation"),
                *("toggle_internal", "canned", "status_on_send"),
            ),
            show_command_palette=False,
        )

    @property
    def editor(self) -> TextArea:
        return self.query_one("#reply-editor", TextArea)

    @property
    def attachments(self) -> Input:
        return self.query_one("#reply-attachments", Input)

    @property
    def draft_key(self) -> str:
        """What the drafts of this ticket are filed under: its number, which stays across
        restarts (with the database, in ``Drafts.scope``); the id only if no number is known."""
        known = self.summary or self.baseline
        return known.ticket_number if known and known.ticket_number else str(self.ticket_id)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_toasts)
        self._show_conversation()  # the conversation pane: shown when the terminal is tall

    def _fit_toasts(self) -> None:
        """Toasts show above the editor, never over the text being typed: the rack (Textual's,
        found by its type name) is docked at the top, as tall as the rows above the editor, and
        shows the newest toasts (it scrolls to its end); older ones are cut until they expire."""
        top = self.editor.region.y - self.region.y
        for rack in self.query("ToastRack"):
            rack.styles.dock = "top"
            rack.styles.align_vertical = "top"
            rack.styles.margin = (0, 0)
            rack.styles.max_height = max(top, 1)

    def on_mount(self) -> None:
        drafts = self.helpdesk.drafts
        refusal = drafts.refusal(self.draft_key, internal=self.internal)
        if refusal is not None:
            self.notify(f"Draft: {refusal}.", severity="warning", timeout=10)
        draft = drafts.load(self.draft_key, internal=self.internal)
        if draft is not None and not draft.is_empty:
            self.editor.text = draft.text
            self.attachments.value = draft.attachments
            self.status_on_send = Status(draft.status) if draft.status in set(Status) else None
            pending, of = draft.extra.get(PENDING_ID), draft.extra.get(PENDING_OF)
            if isinstance(of, str) and isinstance(pending, str) and ObjectId.is_valid(pending):
                self._unsettled = (of, ObjectId(pending))
            self.editor.move_cursor(self.editor.document.end)
            self.notify(f"Draft restored (saved {draft.saved_at or 'earlier'}).")
        other = drafts.load(self.draft_key, internal=not self.internal)
        self.other = other if other is not None and not other.is_empty else None
        self.set_focus(self.editor)  # now: keys typed ahead land in the editor
        self.render_mode()
        self.render_context()
        store, ticket_id = self.helpdesk.store, self.ticket_id

        def fetch() -> tuple[Ticket, dict[ObjectId, User]]:
            ticket = store.get_ticket(ticket_id)
            ids = [ticket.user, ticket.assigned_to, *(m.sender for m in ticket.messages)]
            return ticket, store.users_by_ids(ids)

        self.call_store(fetch, self._opened, failed=self._open_failed)
        self._beat()
        self.set_interval(HEARTBEAT_SECONDS, self._beat)

    def _beat(self) -> None:
        me, presence, ticket_id = self.helpdesk.me, self.helpdesk.presence, self.ticket_id
        self.call_store(
            lambda: presence.beat(ticket_id, me.id, me.user.display, "replying"), group="presence"
        )

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        """Never touch the draft; say that the ticket moved under us (send will show what)."""
        if changed.reload or self.ticket_id in changed.ids:
            self._changed_under_us = True
            self.render_context()
            self._refresh_conversation()

    _changed_under_us = False

    def _opened(self, result: tuple[Ticket, dict[ObjectId, User]]) -> None:
        self.baseline, self.users = result
        self.render_header()
        self.render_context()
        self.query_one(ConversationPane).show(self.baseline, self.users, self.helpdesk.store.now())
        outgoing, self._send_when_loaded = self._send_when_loaded, None
        if outgoing is not None:  # ctrl+s came before the ticket: send what was captured then
            self._check_then_send(self.baseline, outgoing)

    def macro_applied(self, ticket: Ticket) -> None:
        self.render_header()
        self.render_context()

    def _open_failed(self) -> None:
        if self._send_when_loaded is not None:
            self._send_when_loaded = None
            self._not_delivered("the ticket could not be loaded")  # nothing was sent

    def render_header(self) -> None:
        ticket = self.baseline
        if ticket is None:
            return
        self.call_after_refresh(self._fit_toasts)  # the header's height moves the editor
        customer = self.users.get(ticket.user) if ticket.user else None
        to = f"{one_line(customer.name)} <{one_line(customer.email)}>" if customer else "?"
        self.query_one("#reply-header", Static).update(
            Text.assemble(
                (f"{one_line(ticket.ticket_number)}  ", "bold"),
                (one_line(ticket.subject, 60), "bold"),
                f"   to {to}   ({ticket.status.label})",
            )
        )

    def render_context(self) -> None:
        """Above the editor: a draft of the other mode (named, offered), a change, or context."""
        text = Text()
        if self._outcome is not None:
            text.append_text(self._outcome)
            text.append("\n")
        if self._not_sent:
            text.append(
                "Not sent: your draft is kept; the ticket above is up to date.\n", style="bold"
            )
        if self.other is not None:
            kind = "an internal note" if self.other.internal else "a public reply"
            here = "note" if self.internal else "reply"
            text.append(
                f"⚠ You also have {kind} draft on this ticket: “{one_line(self.other.text, 50)}”. "
                f"{self.key_for('other_draft', 'ctrl+l')} brings its text into this {here}; "
                "otherwise it stays where it is.\n",
                style="bold yellow",
            )
        if self._changed_under_us:
            text.append(
                "⚠ This ticket changed since you opened it: sending will show what changed.",
                style="bold yellow",
            )
        elif self.baseline is not None:
            ticket = self.baseline
            last = next(
                (
                    m
                    for m in reversed(ticket.messages)
                    if m.sender == ticket.user and not m.is_internal
                ),
                None,
            )
            if last is not None:
                who = self.users.get(last.sender) if last.sender else None
                text.append(
                    f"customer wrote, {one_line(who.display) if who else 'unknown'}: "
                    f"{one_line(last.content, 200)}",
                    style="dim",
                )
        self.query_one("#reply-context", Static).update(text)

    def watch_internal(self) -> None:
        self.render_mode()
        self.render_context()

    def render_mode(self) -> None:
        if self.internal:
            mode = Text(" 🔒 INTERNAL NOTE: only agents see this ", style="bold black on yellow")
        else:
            mode = Text(" ✉ PUBLIC REPLY: the customer will see this ", style="bold white on blue")
        if self.status_on_send is not None:
            mode.append(f"   then set status: {self.status_on_send.label}", style="bold")
        if self._sending and self._held is None:
            mode.append("   sending…", style="bold")
        limit = self.helpdesk.config.reply.max_chars
        length = len(self.editor.text)
        mode.append(f"   {length:,}/{limit:,}", style="bold red" if length > limit else "dim")
        self.query_one("#reply-mode", Static).update(mode)
        self.set_class(self.internal, "-internal")

    # --- drafts ----------------------------------------------------------------------------

    @on(TextArea.Changed)
    @on(Input.Changed, "#reply-attachments")
    def _changed(self) -> None:
        self._last_draft = self.draft()
        self.render_mode()
        if self._save_timer is None:  # not restarted by each key: typing on still saves
            self._save_timer = self.set_timer(DRAFT_SAVE_DELAY, self._timed_save)

    def _timed_save(self) -> None:
        self._save_timer = None
        self.save_draft()

    def draft(self) -> Draft:
        return Draft(
            ticket_id=self.draft_key,
            text=self.editor.text,
            internal=self.internal,
            attachments=self.attachments.value,
            status=self.status_on_send.value if self.status_on_send else None,
            saved_at=self.helpdesk.store.now().strftime("%H:%M UTC"),
            extra=(
                {PENDING_OF: self._unsettled[0], PENDING_ID: str(self._unsettled[1])}
                if self._unsettled is not None
                else {}
            ),
        )

    def save_draft(self) -> None:
        self._last_draft = self.draft()
        self._write(self._last_draft)
        if self._moved_other and not self._last_draft.is_empty:
            # The other mode's text now lives in this draft: one copy, not two audiences.
            self._moved_other = False
            self.helpdesk.drafts.discard(self.draft_key, internal=not self.internal)

    _moved_other = False

    def _write(self, draft: Draft) -> None:
        try:
            aside = self.helpdesk.drafts.save(draft)
        except OSError as error:  # DraftError: too large, or the directory is unusable
            said = f"Could not save the draft: {error}"
            if said != self._draft_error:  # once, not at every pause
                self._draft_error = said
                self.notify(said, severity="error", timeout=10)
        else:
            self._draft_error = None
            if aside is not None:  # the too-large draft the agent was told about: kept
                self.notify(
                    f"The over-limit draft was moved to {aside}; this draft is saved in its place.",
                    severity="warning",
                    timeout=10,
                )

    def on_unmount(self) -> None:
        # The widgets are gone by now: save what was last read from them (the link may have
        # dropped or the app quit with this screen open).
        if not self._sent and not self._cancelled and self._last_draft is not None:
            self._write(self._last_draft)
        me, presence, ticket_id = self.helpdesk.me, self.helpdesk.presence, self.ticket_id
        still_viewing = any(
            isinstance(screen, HelpdeskScreen) and screen.viewing_ticket == ticket_id
            for screen in self.app.screen_stack
        )
        # Back to the ticket: still viewing it. Back to the queue: gone from the ticket.
        self.helpdesk.call_store(
            lambda: (
                presence.beat(ticket_id, me.id, me.user.display, "viewing")
                if still_viewing
                else presence.leave(ticket_id, me.id)
            ),
            group="presence",
        )

    # --- the conversation pane (widgets/conversation_pane.py) ----------------------------------

    conversation_open: bool | None = None  # None: shown when the terminal is tall enough

    def _show_conversation(self) -> None:
        shown = self.conversation_open
        if shown is None:
            shown = self.size.height >= CONVERSATION_ROWS
        if shown and not self.has_class("-conversation"):
            pane = self.query_one(ConversationPane)  # hidden, it could not scroll: now, newest
            self.call_after_refresh(pane.scroll_end, animate=False)
        self.set_class(shown, "-conversation")

    def action_toggle_conversation(self) -> None:
        """Show or hide the conversation above the editor (the draft and focus stay put)."""
        self.conversation_open = not self.has_class("-conversation")
        self._show_conversation()

    def action_scroll_conversation(self, lines: int) -> None:
        self.query_one(ConversationPane).scroll_relative(y=lines * 3, animate=False)

    def _refresh_conversation(self) -> None:
        """Someone wrote meanwhile: show it in the pane (the baseline stays what was opened)."""
        store, ticket_id = self.helpdesk.store, self.ticket_id

        def fetch() -> tuple[Ticket, dict[ObjectId, User]]:
            ticket = store.get_ticket(ticket_id)
            return ticket, store.users_by_ids([ticket.user, *(m.sender for m in ticket.messages)])

        def shown(result: tuple[Ticket, dict[ObjectId, User]]) -> None:
            self.query_one(ConversationPane).show(*result, store.now())

        self.call_store(fetch, shown, group="conversation", exclusive=True)

    # --- actions ---------------------------------------------------------------------------

    def action_toggle_internal(self) -> None:
        """Move what is typed to the other mode; never over a saved draft of that mode."""
        if self._sending:
            return
        if self.other is not None:
            kind = "internal note" if self.other.internal else "public reply"
            self.notify(
                f"You have a saved {kind} draft on this ticket: bring it in with "
                f"{self.key_for('other_draft', 'ctrl+l')}, "
                "or send or clear it first.",
                severity="warning",
            )
            return
        self.helpdesk.drafts.discard(self.draft_key, internal=self.internal)
        self.internal = not self.internal
        self.save_draft()

    def action_other_draft(self) -> None:
        """Bring the other mode's draft into this one: the mode stays what the bar shows."""
        other = self.other
        if other is None or self._sending:
            return
        here = self.editor.text
        self.editor.text = f"{here.rstrip()}\n\n{other.text}" if here.strip() else other.text
        if other.attachments and not self.attachments.value.strip():
            self.attachments.value = other.attachments
        self.editor.move_cursor(self.editor.document.end)
        self.other = None
        self._moved_other = True
        self.save_draft()
        self.render_context()

    def action_status_on_send(self) -> None:
        known = self.baseline or self.summary
        if known is None or self._sending:
            return
        allowed = list(self.helpdesk.store.settings.workflow.allowed(known.status))
        cycle: list[Status | None] = [None, *allowed]
        index = cycle.index(self.status_on_send) if self.status_on_send in cycle else 0
        self.status_on_send = cycle[(index + 1) % len(cycle)]
        if not allowed:
            self.notify(f"No status can follow {known.status.label}.")
        self.render_mode()

    def action_canned(self) -> None:
        canned = self.helpdesk.config.canned
        if not canned:
            self.notify("No canned responses configured ([[canned]] in the config).")
            return
        options = [(c.name, c, one_line(c.body, 50)) for c in canned]
        self.app.push_screen(
            ChoiceDialog("Insert canned response", options, filterable=True), self._insert_canned
        )

    def _insert_canned(self, canned: CannedResponse | None) -> None:
        if canned is None:
            return
        ticket = self.baseline
        customer = self.users.get(ticket.user) if ticket and ticket.user else None
        # Database values go into the editor (and on to the customer): by the rendering rule.
        text = canned.render(
            customer_name=one_line(customer.name) if customer else "there",
            ticket_number=one_line(ticket.ticket_number) if ticket else "",
            agent_name=one_line(self.helpdesk.me.user.display),
            subject=one_line(ticket.subject) if ticket else "",
        )
        self.editor.insert(text)
        self.editor.focus()

    def action_cancel(self) -> None:
        if self._held is not None:
            self.action_undo_send()  # closing while held: recall first, nothing is lost
            return
        if self._checking:
            # The outcome is still unknown: close, keep the draft with the message's id (sending
            # it again later cannot make a second copy).
            self._sending = self._checking = False
            self.save_draft()
            self.notify(
                "Closed while checking whether your reply was sent: the draft is kept; sending "
                "it again cannot deliver it twice.",
                severity="warning",
                timeout=10,
            )
            self._cancelled = True
            self.dismiss()
            return
        if self._sending:
            return  # the send closes the screen itself; closing now would leave a sent draft
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        self.save_draft()  # an empty draft removes the file
        if self.editor.text.strip():
            self.notify("Draft kept: it will be here when you reply again.")
        self._cancelled = True
        self.dismiss()

    def action_send(self) -> None:
        self._submit(self.status_on_send)

    def action_send_as(self, status: str) -> None:
        """Submit as: send, then set ``status`` (through the workflow's intermediate steps)."""
        if self._sending:
            return
        target = Status(status)
        known = self.baseline or self.summary
        if known is not None:
            try:
                self.helpdesk.store.settings.workflow.path(known.status, target)
            except HelpdeskError as error:  # no path: say which, send nothing
                self.helpdesk.report_error(InvalidRequest(f"Not sent: {error}."))
                return
        self._submit(target)

    def _submit(self, status: Status | None) -> None:
        if self._sending:
            return
        text = self.editor.text
        limit = self.helpdesk.config.reply.max_chars
        if not text.strip():
            self.helpdesk.report_error(InvalidRequest("The reply is empty: nothing was sent."))
            return
        if len(text) > limit:
            self.helpdesk.report_error(
                InvalidRequest(f"The reply is {len(text):,} characters; the limit is {limit:,}.")
            )
            return
        outgoing = Outgoing(
            text=text,
            internal=self.internal,
            attachments=tuple(a.strip() for a in self.attachments.value.split(",") if a.strip()),
            status=status,
        )
        if self._unsettled is not None:
            fingerprint, message_id = self._unsettled
            if fingerprint == outgoing.fingerprint:  # the same text again: the same message
                outgoing = replace(outgoing, message_id=message_id)
            else:
                self._unsettled = None
        self.save_draft()
        if self._outcome is not None:  # a new attempt: the last one's outcome is history
            self._outcome = None
            self.render_context()
        self._lock(True)
        seconds = self.helpdesk.config.reply.undo_seconds
        if seconds > 0:
            self._hold(outgoing, seconds)
            return
        self._release(outgoing)

    # --- undo send (screens/hold.py) -------------------------------------------------------

    def _hold(self, outgoing: Outgoing, seconds: float) -> None:
        """Start the undo window: a countdown, ``u`` to recall; nothing is written yet."""
        what = "note" if outgoing.internal else "reply"
        if outgoing.status is not None:
            what += f", then {outgoing.status.label}"
        deadline = self.helpdesk.store.clock() + timedelta(seconds=seconds)
        self._held = Held(outgoing, deadline, what)
        bar = self.query_one(HoldBar)
        bar.display = True
        self.set_focus(bar)  # now, not on the next refresh: keys typed ahead see it
        self._hold_tick()
        if self._held is not None:
            self._hold_timer = self.set_interval(self.HOLD_TICK, self._hold_tick)
        self.refresh_bindings()

    def _hold_tick(self) -> None:
        """Repaint the countdown; once the clock passes the deadline, send (exactly once)."""
        held = self._held
        if held is None:
            return
        now = self.helpdesk.store.clock()
        if not held.due(now):
            self.query_one(HoldBar).show_left(
                held.seconds_left(now), held.what, self.key_for("undo_send", "u")
            )
            return
        self._end_hold()
        self._release(held.outgoing)

    def _end_hold(self) -> None:
        self._held = None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        self.query_one(HoldBar).display = False
        self.set_focus(self.editor)
        self.refresh_bindings()

    def action_undo_send(self) -> None:
        """Recall the held reply: back in the editor as it was, nothing written."""
        if self._held is None:
            return
        self._end_hold()
        self._lock(False)
        self.notify("Not sent: your reply is back in the editor.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_send":
            # Only while a reply is held; then the editor is read-only, so `u` is never text,
            # even when it arrives with ctrl+s before the focus has moved to the hold bar.
            return self._held is not None
        return super().check_action(action, parameters)

    def _release(self, outgoing: Outgoing) -> None:
        """The hold is over (or off): on to the "ticket updated" guard and the write."""
        if self.baseline is None:
            self._send_when_loaded = outgoing  # the ticket is still loading: send on arrival
            self.set_timer(self.helpdesk.store.bounds.read, self._load_too_slow)
            return
        self._check_then_send(self.baseline, outgoing)

    def _load_too_slow(self) -> None:
        """Still loading a bound after the hold: nothing was sent; say so (the load goes on)."""
        if self._send_when_loaded is not None and self.baseline is None:
            self._send_when_loaded = None
            self._not_delivered("the ticket did not load in time (the database did not answer)")

    def _lock(self, sending: bool) -> None:
        """While a send is in flight nothing that decides what is sent can change."""
        self._sending = sending
        self.editor.read_only = sending
        self.attachments.disabled = sending
        self.render_mode()

    def _check_then_send(self, baseline: Ticket, outgoing: Outgoing) -> None:
        """Re-read the ticket; if someone changed it, show what and ask; else send."""
        store, me = self.helpdesk.store, self.helpdesk.me
        if self._not_sent:  # a new attempt: the last one's "not sent" is history
            self._not_sent = False
            self.render_context()

        ticket_id = self.ticket_id

        def fetch() -> tuple[Ticket, dict[ObjectId, User]] | HelpdeskError:
            try:  # bounded (store.bounds.read): a stalled database is "not sent", not a wait
                return store.before_reply(ticket_id)
            except HelpdeskError as error:
                return error

        def compare(result: tuple[Ticket, dict[ObjectId, User]] | HelpdeskError) -> None:
            if isinstance(result, HelpdeskError):
                self._failed(result, outgoing)
                return
            current, users = result
            self.users.update(users)
            changes = describe_changes(baseline, current, self.users, me.id)
            if not changes:
                self._send(current, outgoing)
                return
            body = Text("While you were writing:\n\n")
            for change in changes:
                body.append(f" • {change}\n")
            kind = "internal note" if outgoing.internal else "public reply"
            body.append(f"\nSend your {kind} anyway?")

            def answer(send: bool | None) -> None:
                self.baseline = current
                self.render_header()
                if send:
                    self._send(current, outgoing)
                else:
                    self._lock(False)
                    self._not_sent = True
                    self.render_context()

            self.app.push_screen(
                ConfirmDialog(
                    "This ticket was updated", body, yes="send anyway", no="review first"
                ),
                answer,
            )

        self.call_store(fetch, compare, failed=lambda: self._not_delivered("an internal error"))

    def _send(self, current: Ticket, outgoing: Outgoing) -> None:
        store, me, ticket_id = self.helpdesk.store, self.helpdesk.me, self.ticket_id

        def send() -> Ticket | HelpdeskError:
            # Errors come back as values: each one is an outcome said here, not a toast.
            try:
                return store.add_message(
                    ticket_id,
                    sender=me.id,
                    content=outgoing.text,
                    internal=outgoing.internal,
                    attachments=list(outgoing.attachments),
                    set_status=outgoing.status,
                    expected_updated_at=current.updated_at,
                    message_id=outgoing.message_id,
                )
            except HelpdeskError as error:
                return error

        def sent(result: Ticket | HelpdeskError) -> None:
            if isinstance(result, ConflictError):
                self._check_then_send(current, outgoing)
            elif isinstance(result, HelpdeskError):
                self._failed(result, outgoing)
            else:
                self._delivered(outgoing, result.label)

        self.call_store(send, sent, failed=lambda: self._not_delivered("an internal error"))

    # --- outcomes: sent / not sent, kept as a draft / unknown, checking (store/outcome.py) ------

    def _failed(self, error: HelpdeskError, outgoing: Outgoing) -> None:
        """A send that did not end in "sent": unknown (read it back), merged away, or not sent."""
        if isinstance(error, OutcomeUnknown):
            self._check_outcome(outgoing, error.pending, str(error))
        elif isinstance(error, MergedAway):
            self._merged_away(error, outgoing)
        else:
            self._not_delivered(str(error))

    def _say(self, text: str, style: str, severity: str) -> None:
        """The outcome, above the editor (until the next attempt) and as a toast."""
        self._outcome = Text(text, style=style)
        self.render_context()
        self.notify(text, severity=severity, timeout=10)  # type: ignore[arg-type]

    def _not_delivered(self, why: str) -> None:
        """Nothing was written: the editor is back, the draft is kept, and the agent knows why."""
        self._checking = False
        self._lock(False)
        self.save_draft()
        self._say(f"Not sent, kept as a draft: {one_line(why, 200)}.", "bold red", "error")

    def _check_outcome(self, outgoing: Outgoing, pending: object, why: str) -> None:
        """The write went out and no answer came: read it back (never send it again)."""
        self._unsettled = (outgoing.fingerprint, outgoing.message_id)
        self.save_draft()  # the draft now carries the message id: a resend reuses it
        self._checking = True
        self._say(
            f"Unknown, checking whether it was sent ({one_line(why, 120)})…",
            "bold yellow",
            "warning",
        )
        self._read_back(outgoing, pending)

    def _read_back(self, outgoing: Outgoing, pending: object) -> None:
        known = self.baseline or self.summary
        label = known.label if known is not None else "the ticket"

        def checked(landed: bool | None) -> None:
            if not self._checking:
                return  # closed meanwhile: the draft keeps the message id
            if landed is True:
                self._checking = False
                self._delivered(outgoing, label)
            elif landed is False:
                # Not there: but a server that stalled holding the write (or one that had not
                # started it when our deadline ran out) may still apply it, so this is no
                # proof of "not sent". The editor is back, the draft keeps the message id (the
                # same text sent again cannot make a second copy), and the checks go on.
                self._not_there_yet(outgoing, pending, label)
            else:
                self._say(
                    "Unknown: still checking whether it was sent (the database does not "
                    "answer); do not send it again.",
                    "bold yellow",
                    "warning",
                )
                self.set_timer(CHECK_AGAIN_SECONDS, lambda: self._read_back(outgoing, pending))

        self.call_store(self._landed(pending), checked, failed=lambda: checked(None))

    def _not_there_yet(self, outgoing: Outgoing, pending: object, label: str) -> None:
        self._checking = False
        self._lock(False)
        self.save_draft()
        self._say(
            f"Not on {label} yet, so probably not sent, but a slow database may still deliver "
            "it: kept as a draft, still checking. Sending the same text again cannot send it "
            "twice.",
            "bold yellow",
            "warning",
        )
        self._late_checks = LATE_CHECKS
        self.set_timer(LATE_CHECK_SECONDS, lambda: self._late_check(outgoing, pending, label))

    def _landed(self, pending: object) -> Callable[[], bool | None]:
        """The read-back of an unsettled write, to run off the event loop."""
        store = self.helpdesk.store
        return lambda: store.message_landed(pending) if isinstance(pending, Pending) else None

    def _late_check(self, outgoing: Outgoing, pending: object, label: str) -> None:
        """A few more read-backs of a write that was not there: say it if it arrives late."""
        if self._sent or self._unsettled is None or self._unsettled[1] != outgoing.message_id:
            return  # sent since, or the agent changed the text: the new attempt speaks

        def checked(landed: bool | None) -> None:
            if self._sent or self._unsettled is None:
                return
            if landed is True:
                self._say(f"It arrived after all: your reply is on {label}.", "bold", "information")
                self._delivered(outgoing, label)
                if self.is_attached and self in self.app.screen_stack:
                    self.dismiss()
                return
            self._late_checks -= 1
            if self._late_checks > 0:
                self.set_timer(
                    LATE_CHECK_SECONDS, lambda: self._late_check(outgoing, pending, label)
                )

        self.call_store(self._landed(pending), checked, failed=lambda: checked(None))

    def _delivered(self, outgoing: Outgoing, label: str) -> None:
        ticket_id = self.ticket_id
        if self._save_timer is not None:
            self._save_timer.stop()  # a pending save must not bring the draft back
            self._save_timer = None
        self._unsettled = None
        problem = self.helpdesk.drafts.discard(self.draft_key, internal=outgoing.internal)
        if problem is not None:  # the reply is sent: say so, and what is left behind
            self.notify(f"Sent, but {problem}.", severity="warning", timeout=10)
        self._sent = True  # nothing left to save on unmount
        kind = "Internal note added to" if outgoing.internal else "Reply sent on"
        self.notify(f"{kind} {label}.")
        if outgoing.internal:  # @name in a note: that colleague follows the ticket
            from helpdesk_tui.screens.following import follow_mentions

            follow_mentions(self.helpdesk, ticket_id, outgoing.text, label)
        self.dismiss(True)

    def _merged_away(self, merged: MergedAway, outgoing: Outgoing) -> None:
        """Never onto the closed source: offer to move the draft to the ticket it went into."""
        self._not_delivered(str(merged))
        kind = "note" if outgoing.internal else "reply"
        body = Text(
            f"{one_line(merged.label)} was merged into {one_line(merged.target)} and is "
            f"closed; nothing was sent.\n\nMove your {kind} draft to {one_line(merged.target)}?"
        )

        def answer(move: bool | None) -> None:
            if move:
                self._move_draft(merged.target)

        self.app.push_screen(
            ConfirmDialog("This ticket was merged", body, yes="move the draft", no="keep it here"),
            answer,
        )

    def _move_draft(self, target: str) -> None:
        """The draft, filed under the target's number (after any draft already there)."""
        drafts, mine = self.helpdesk.drafts, self.draft()
        there = drafts.load(target, internal=mine.internal)
        text = (
            f"{there.text.rstrip()}\n\n{mine.text}" if there and not there.is_empty else mine.text
        )
        moved = replace(mine, ticket_id=target, text=text, extra={})
        try:
            drafts.save(moved)
        except OSError as error:
            self.notify(f"The draft was not moved: {error}; it stays here.", severity="error")
            return
        drafts.discard(self.draft_key, internal=mine.internal)
        self._cancelled = True  # nothing left to save here
        self.notify(f"Draft moved to {one_line(target)}: open it there and send.", timeout=10)
        self.dismiss(False)
