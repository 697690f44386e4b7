"""The reply screen's editor side: the draft as the agent types (saved on a timer, at every
outcome and on unmount), the mode and status keys, canned text, and the conversation pane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId
from textual import on, work
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, TextArea

from helpdesk_tui.domain.models import Status
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.drafts import Draft
from helpdesk_tui.models.reply import ReplyModel
from helpdesk_tui.models.reply_commands import load_ticket
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.reply_parts import PaneLoaded
from helpdesk_tui.widgets.conversation_pane import ConversationPane

if TYPE_CHECKING:
    from helpdesk_tui.config import CannedResponse
    from helpdesk_tui.models.reply_commands import ReplyStore

# A draft is written at most this long after a change, even while the agent keeps typing: a
# killed process loses at most the last half second.
DRAFT_SAVE_DELAY = 0.5
# From this many rows up the conversation shows above the editor at once; below, F2 shows it.
CONVERSATION_ROWS = 30


# --- drafts and the conversation pane ---------------------------------------------------------


class ReplyDrafts(HelpdeskScreen):
    """The draft as the agent types: saved on a timer, at every outcome, and on unmount."""

    model: ReplyModel
    # Public reply or internal note: the key that opened the screen decides, ctrl+t changes it,
    # nothing else does (a restored draft never does). The mode bar follows it at once.
    internal: reactive[bool] = reactive(False, init=False)
    status_on_send: Status | None = None
    other: Draft | None = None  # a saved draft of the other mode, offered on ctrl+l
    _save_timer: Timer | None = None
    _last_draft: Draft | None = None
    _draft_error: str | None = None  # the last save failure shown, not repeated at every pause
    _moved_other = False  # the other mode's draft was brought in: discarded at the next save

    @property
    def editor(self) -> TextArea:
        return self.query_one("#reply-editor", TextArea)

    @property
    def attachments(self) -> Input:
        return self.query_one("#reply-attachments", Input)

    @property
    def draft_key(self) -> str:
        """What the drafts of this ticket are filed under (``ReplyModel.draft_key``)."""
        return self.model.draft_key

    def render_mode(self) -> None:
        raise NotImplementedError

    def render_context(self) -> None:
        raise NotImplementedError

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_toasts)
        self.show_conversation()  # the conversation pane: shown when the terminal is tall

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

    @on(TextArea.Changed)
    @on(Input.Changed, "#reply-attachments")
    def _changed(self) -> None:
        self._last_draft = self.draft()
        self.render_mode()
        if self._save_timer is None:  # not restarted by each key: typing on still saves
            self._save_timer = self.after(DRAFT_SAVE_DELAY, self._timed_save)

    def _timed_save(self) -> None:
        self._save_timer = None
        self.save_draft()

    def stop_saving(self) -> None:
        """A pending save must not bring the draft back (it was sent, or is being closed)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None

    def draft(self) -> Draft:
        return Draft(
            ticket_id=self.draft_key,
            text=self.editor.text,
            internal=self.internal,
            attachments=self.attachments.value,
            status=self.status_on_send.value if self.status_on_send else None,
            saved_at=self.helpdesk.store.now().strftime("%H:%M UTC"),
            extra=self.model.draft_extra(),
        )

    def save_draft(self) -> None:
        self._last_draft = self.draft()
        self._write_draft(self._last_draft)
        if self._moved_other and not self._last_draft.is_empty:
            # The other mode's text now lives in this draft: one copy, not two audiences.
            self._moved_other = False
            self.helpdesk.drafts.discard(self.draft_key, internal=not self.internal)

    def _write_draft(self, draft: Draft) -> None:
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
        if not self.model.finished and self._last_draft is not None:
            self._write_draft(self._last_draft)
        # Back to the ticket: still viewing it. Back to the queue: gone from the ticket.
        self.helpdesk.stop_replying(self.model.ticket_id)

    # --- the conversation pane (widgets/conversation_pane.py) ----------------------------------

    conversation_open: bool | None = None  # None: shown when the terminal is tall enough

    def show_conversation(self) -> None:
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
        self.show_conversation()

    def action_scroll_conversation(self, lines: int) -> None:
        self.query_one(ConversationPane).scroll_relative(y=lines * 3, animate=False)

    @work(thread=True, exit_on_error=False, group="conversation", exclusive=True)
    def refresh_pane(self, store: ReplyStore, ticket_id: ObjectId) -> None:
        """Someone wrote meanwhile: show it in the pane (the baseline stays what was opened)."""
        ticket, users = load_ticket(store, ticket_id)
        self.post_message(PaneLoaded(ticket, users))

    @on(PaneLoaded)
    def _pane_loaded(self, loaded: PaneLoaded) -> None:
        pane = self.query_one(ConversationPane)
        pane.show(loaded.ticket, loaded.users, self.helpdesk.store.now())

    # --- the editor's own keys -----------------------------------------------------------------

    def action_toggle_internal(self) -> None:
        """Move what is typed to the other mode; never over a saved draft of that mode."""
        if self.model.locked:
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
        if other is None or self.model.locked:
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
        known = self.model.known
        if known is None or self.model.locked:
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
        ticket = self.model.baseline
        customer = self.model.users.get(ticket.user) if ticket and ticket.user else None
        # Database values go into the editor (and on to the customer): by the rendering rule.
        text = canned.render(
            customer_name=one_line(customer.name) if customer else "there",
            ticket_number=one_line(ticket.ticket_number) if ticket else "",
            agent_name=one_line(self.helpdesk.me.user.display),
            subject=one_line(ticket.subject) if ticket else "",
        )
        self.editor.insert(text)
        self.editor.focus()
