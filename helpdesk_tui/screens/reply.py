"""Write a public reply or an internal note; drafts survive crashes; stale tickets are caught.

The "ticket updated" guard: sending first re-reads the ticket; if anything changed since the
agent opened it (a new message, a status or assignee change), the agent sees what and decides.
The write itself is a compare-and-set on ``updatedAt``, so a change in the last millisecond is
caught too.

What a send goes through (held, checking, confirming, unknown, sent, not sent, late checks) is
``models/reply.py`` ``ReplyModel``: this screen is its adapter. It reads the widgets, hands the
model events, carries out the commands it returns (a line, a dialog, a store call on Textual's
``@work``) and turns the store's answers into messages for the model.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from bson import ObjectId
from textual import on, work
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import Input, Static

from helpdesk_tui.domain.errors import HelpdeskError, InvalidRequest
from helpdesk_tui.domain.models import Status, Ticket, User
from helpdesk_tui.messages import TicketsChanged
from helpdesk_tui.models.reply import ReplyModel, moved_draft
from helpdesk_tui.models.reply_commands import (
    CheckAgainLater,
    Close,
    Command,
    Confirm,
    DiscardDraft,
    EndHold,
    FollowMentions,
    LateCheckLater,
    Notify,
    OfferMove,
    ReadBack,
    ReadTicket,
    Refuse,
    ReplyStore,
    SaveDraft,
    Say,
    StartHold,
    StoreCall,
    WaitForTicket,
    Write,
    load_ticket,
)
from helpdesk_tui.screens.dialogs import ConfirmDialog
from helpdesk_tui.screens.hold import HoldBar
from helpdesk_tui.screens.macros import ReplyMacros
from helpdesk_tui.screens.reply_editor import ReplyDrafts
from helpdesk_tui.screens.reply_parts import (
    REPLY_BINDINGS,
    TYPING_ACTIONS,
    Opened,
    ReadBackAnswered,
    ReplyWritten,
    TicketChecked,
    changes_question,
    context_lines,
    header_line,
    merged_question,
    mode_line,
)
from helpdesk_tui.store.presence import HEARTBEAT_SECONDS
from helpdesk_tui.widgets.conversation_pane import ConversationPane
from helpdesk_tui.widgets.footer import KeyFooter
from helpdesk_tui.widgets.safe import SafeTextArea
from helpdesk_tui.workers import WorkFailed

if TYPE_CHECKING:
    from helpdesk_tui.store.presence import PresenceStore

# While a reply's outcome is unknown and the database does not answer, ask again this often.
CHECK_AGAIN_SECONDS = 3.0
# A write that was not on the ticket when read back is read back again this often
# (``models.reply.LATE_CHECKS`` times: two minutes in all).
LATE_CHECK_SECONDS = 10.0
# The model's names for the store calls below, for a call that failed (WorkFailed.work).
CALLS: dict[str, StoreCall] = {
    "_open": "open",
    "_check_ticket": "check",
    "_write_reply": "write",
    "_read_back": "read_back",
}


class ReplyScreen(ReplyDrafts, ReplyMacros):
    BINDINGS = REPLY_BINDINGS
    TYPING_ACTIONS = TYPING_ACTIONS
    # How often the undo-send countdown looks at the clock.
    HOLD_TICK = 0.2

    def __init__(
        self, ticket_id: ObjectId, *, internal: bool = False, ticket: Ticket | None = None
    ) -> None:
        """``ticket``: what the opening screen knows of it (number, status) before the load."""
        super().__init__()
        self.ticket_id = ticket_id
        self.summary = ticket
        self.set_reactive(ReplyScreen.internal, internal)
        self.other = None
        self.model = ReplyModel(ticket_id, ticket)
        self._countdown: Timer | None = None

    @property
    def baseline(self) -> Ticket | None:  # type: ignore[override]
        """The ticket as the agent last saw it (the macro picker's target)."""
        return self.model.baseline

    @property
    def users(self) -> dict[ObjectId, User]:
        return self.model.users

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
            self.model.restore(draft.extra)
            self.editor.move_cursor(self.editor.document.end)
            self.notify(f"Draft restored (saved {draft.saved_at or 'earlier'}).")
        other = drafts.load(self.draft_key, internal=not self.internal)
        self.other = other if other is not None and not other.is_empty else None
        self.set_focus(self.editor)  # now: keys typed ahead land in the editor
        self.render_mode()
        self.render_context()
        self._open(self.helpdesk.store, self.ticket_id)
        self._beat()
        self.every(HEARTBEAT_SECONDS, self._beat)

    # --- the store calls (Textual's @work): plain values in, a message out ----------------------

    @work(thread=True, exit_on_error=False, group="reply-open")
    def _open(self, store: ReplyStore, ticket_id: ObjectId) -> None:
        self.post_message(Opened(*load_ticket(store, ticket_id)))

    def _beat(self) -> None:
        me = self.helpdesk.me
        self._beat_work(self.helpdesk.presence, self.ticket_id, me.id, me.user.display)

    @work(thread=True, exit_on_error=False, group="presence")
    def _beat_work(
        self, presence: PresenceStore, ticket_id: ObjectId, me: ObjectId, name: str
    ) -> None:
        presence.beat(ticket_id, me, name, "replying")

    @work(thread=True, exit_on_error=False, group="reply-send")
    def _check_ticket(self, store: ReplyStore, call: ReadTicket) -> None:
        self.post_message(TicketChecked(call.run(store)))

    @work(thread=True, exit_on_error=False, group="reply-send")
    def _write_reply(self, store: ReplyStore, call: Write) -> None:
        self.post_message(ReplyWritten(call.run(store)))

    @work(thread=True, exit_on_error=False, group="reply-check")
    def _read_back(self, store: ReplyStore, call: ReadBack) -> None:
        self.post_message(ReadBackAnswered(call, call.run(store)))

    # --- the answers, to the model -----------------------------------------------------------

    @on(Opened)
    def _opened(self, opened: Opened) -> None:
        commands = self.model.opened(opened.ticket, opened.users)
        self.render_header()
        self.render_context()
        self.query_one(ConversationPane).show(
            opened.ticket, opened.users, self.helpdesk.store.now()
        )
        self.do(commands)

    @on(TicketChecked)
    def _checked(self, checked: TicketChecked) -> None:
        self.do(self.model.ticket_read(checked.result))

    @on(ReplyWritten)
    def _written(self, written: ReplyWritten) -> None:
        self.do(self.model.written(written.result))

    @on(ReadBackAnswered)
    def _read_back_answered(self, answer: ReadBackAnswered) -> None:
        if answer.check.late:
            self.do(self.model.late_checked(answer.check, answer.landed))
        else:
            self.do(self.model.read_back(answer.landed))

    @on(WorkFailed)
    def _work_failed(self, failed: WorkFailed) -> None:
        call = CALLS.get(failed.work)
        if call is not None:  # reported once already; the model settles what waited on it
            self.do(self.model.call_failed(call))

    def macro_applied(self, ticket: Ticket) -> None:
        """The macro (``ReplyMacros``) was written: it is the ticket the agent saw now."""
        self.model.macro_applied(ticket)
        self.render_header()
        self.render_context()

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        """Never touch the draft; say that the ticket moved under us (send will show what)."""
        if changed.reload or self.ticket_id in changed.ids:
            self.model.ticket_changed()
            self.render_context()
            self.refresh_pane(self.helpdesk.store, self.ticket_id)

    # --- the model's commands ------------------------------------------------------------------

    def do(self, commands: list[Command]) -> None:
        """Carry out what the model said, in order; then show its state (lock, lines)."""
        store = self.helpdesk.store
        for command in commands:
            match command:
                case ReadTicket():
                    self._check_ticket(store, command)
                case Write():
                    self._write_reply(store, command)
                case ReadBack():
                    self._read_back(store, command)
                case CheckAgainLater():
                    self.after(CHECK_AGAIN_SECONDS, lambda: self.do(self.model.check_again()))
                case LateCheckLater(chain=chain):
                    self.after(
                        LATE_CHECK_SECONDS,
                        lambda chain=chain: self.do(self.model.late_check_due(chain)),
                    )
                case WaitForTicket():
                    self.after(store.bounds.read, lambda: self.do(self.model.load_too_slow()))
                case Refuse(text=text):
                    self.helpdesk.report_error(InvalidRequest(text))
                case Say(text=text, tone=tone):
                    self.notify(text, severity=tone, timeout=10)
                case Notify(text=text, tone=tone, lasting=lasting):
                    self.notify(text, severity=tone, timeout=10 if lasting else None)
                case SaveDraft():
                    self.save_draft()
                case DiscardDraft(internal=internal):
                    self.stop_saving()
                    problem = self.helpdesk.drafts.discard(self.draft_key, internal=internal)
                    if problem is not None:  # the reply is sent: say so, and what is left
                        self.notify(f"Sent, but {problem}.", severity="warning", timeout=10)
                case StartHold():
                    self._start_hold()
                case EndHold():
                    self._end_hold()
                case Confirm(changes=changes, kind=kind):
                    self.app.push_screen(
                        ConfirmDialog(
                            "This ticket was updated",
                            changes_question(changes, kind),
                            yes="send anyway",
                            no="review first",
                        ),
                        self._confirmed,
                    )
                case OfferMove(merged=merged, kind=kind):
                    self.app.push_screen(
                        ConfirmDialog(
                            "This ticket was merged",
                            merged_question(merged, kind),
                            yes="move the draft",
                            no="keep it here",
                        ),
                        partial(self._move_draft, merged.target),
                    )
                case FollowMentions(text=text, label=label):
                    self.helpdesk.follow_mentions(self.ticket_id, text, label)
                case Close(sent=sent):
                    if self.alive:
                        self.dismiss(sent)
                    return  # the screen is going: nothing more to show on it
        self._show_state()

    def _show_state(self) -> None:
        locked = self.model.locked
        if self.editor.read_only != locked:
            self.editor.read_only = locked
            self.attachments.disabled = locked
        self.render_mode()
        self.render_context()

    def _confirmed(self, send: bool | None) -> None:
        commands = self.model.confirmed(bool(send))
        self.render_header()
        self.do(commands)

    def _move_draft(self, target: str, move: bool | None) -> None:
        """The draft, filed under the target's number (after any draft already there)."""
        if not move:
            return
        drafts, mine = self.helpdesk.drafts, self.draft()
        moved = moved_draft(mine, drafts.load(target, internal=mine.internal), target)
        try:
            drafts.save(moved)
        except OSError as error:
            self.notify(f"The draft was not moved: {error}; it stays here.", severity="error")
            return
        drafts.discard(self.draft_key, internal=mine.internal)
        self.do(self.model.draft_moved(target))

    # --- undo send: the countdown (screens/hold.py HoldBar) -------------------------------------

    def _start_hold(self) -> None:
        bar = self.query_one(HoldBar)
        bar.display = True
        self.set_focus(bar)  # now, not on the next refresh: keys typed ahead see it
        self._hold_tick()
        if self.model.held is not None:
            self._countdown = self.every(self.HOLD_TICK, self._hold_tick)
        self.refresh_bindings()

    def _hold_tick(self) -> None:
        """Repaint the countdown; once the clock passes the deadline, send (exactly once)."""
        held, now = self.model.held, self.helpdesk.store.clock()
        commands = self.model.tick(now)
        if commands:
            self.do(commands)
        elif held is not None:
            key = self.key_for("undo_send", "u")
            self.query_one(HoldBar).show_left(held.seconds_left(now), held.what, key)

    def _end_hold(self) -> None:
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
        self.query_one(HoldBar).display = False
        self.set_focus(self.editor)
        self.refresh_bindings()

    def action_undo_send(self) -> None:
        """Recall the held reply: back in the editor as it was, nothing written."""
        self.do(self.model.undo())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_send":
            # Only while a reply is held; then the editor is read-only, so `u` is never text,
            # even when it arrives with ctrl+s before the focus has moved to the hold bar.
            return self.model.held is not None
        return super().check_action(action, parameters)

    # --- rendering -----------------------------------------------------------------------------

    def render_header(self) -> None:
        if self.model.baseline is None:
            return
        self.call_after_refresh(self._fit_toasts)  # the header's height moves the editor
        header = header_line(self.model.baseline, self.model.users)
        self.query_one("#reply-header", Static).update(header)

    def render_context(self) -> None:
        key = self.key_for("other_draft", "ctrl+l")
        text = context_lines(self.model, self.other, self.internal, key)
        self.query_one("#reply-context", Static).update(text)

    def watch_internal(self) -> None:
        self.render_mode()
        self.render_context()

    def render_mode(self) -> None:
        limit, length = self.helpdesk.config.reply.max_chars, len(self.editor.text)
        line = mode_line(self.internal, self.status_on_send, self.model.sending, length, limit)
        self.query_one("#reply-mode", Static).update(line)
        self.set_class(self.internal, "-internal")

    # --- actions ---------------------------------------------------------------------------

    def action_cancel(self) -> None:
        commands = self.model.cancel(has_text=bool(self.editor.text.strip()))
        if any(isinstance(command, Close) for command in commands):
            self.stop_saving()
        self.do(commands)

    def action_send(self) -> None:
        self._submit(self.status_on_send)

    def action_send_as(self, status: str) -> None:
        """Submit as: send, then set ``status`` (through the workflow's intermediate steps)."""
        if self.model.locked:
            return
        target, known = Status(status), self.model.known
        if known is not None:
            try:
                self.helpdesk.store.settings.workflow.path(known.status, target)
            except HelpdeskError as error:  # no path: say which, send nothing
                self.helpdesk.report_error(InvalidRequest(f"Not sent: {error}."))
                return
        self._submit(target)

    def _submit(self, status: Status | None) -> None:
        commands = self.model.submit(
            text=self.editor.text,
            internal=self.internal,
            attachments=self.attachments.value,
            status=status,
            limit=self.helpdesk.config.reply.max_chars,
            undo_seconds=self.helpdesk.config.reply.undo_seconds,
            now=self.helpdesk.store.clock(),
            me=self.helpdesk.me.id,
        )
        self.do(commands)
