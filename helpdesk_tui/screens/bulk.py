"""Bulk safety: confirm a bulk action over ``[bulk] confirm_over`` tickets, and undo (``u``)
the last bulk or workload move for ``[bulk] undo_seconds``.

Undo reverts each ticket with a compare-and-set on the values we wrote (store/undo.py); what
someone else changed meanwhile is reported, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import ObjectId
from rich.text import Text
from textual import on, work
from textual.message import Message

from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ConfirmDialog
from helpdesk_tui.store.undo import Revert, UndoResult, undo


@dataclass(frozen=True)
class Undoable:
    verb: str
    reverts: tuple[Revert, ...]
    until: datetime


class Undone(Message, bubble=False):
    """The undo of ``undoable`` was written: what it reverted, what it left."""

    def __init__(self, undoable: Undoable, result: UndoResult) -> None:
        super().__init__()
        self.undoable, self.result = undoable, result


class BulkSafety(HelpdeskScreen):
    """``confirm_bulk`` before, ``remember_undo`` after, ``action_undo`` on ``u``."""

    _undoable: Undoable | None = None

    def confirm_bulk(self, count: int, what: str, go: Callable[[], None]) -> None:
        """Run ``go`` now, or after a yes when ``count`` is over the configured limit."""
        limit = self.helpdesk.config.bulk.confirm_over
        if count <= 1 or count <= limit:
            go()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                go()
            else:
                self.notify("Nothing changed.")

        body = Text(
            f"{what} on {count} tickets?\n\n"
            "Each ticket is changed on its own terms and logged in its audit trail."
        )
        self.app.push_screen(
            ConfirmDialog(f"{count} tickets", body, yes=f"change {count}", no="cancel"),
            answered,
        )

    def remember_undo(self, verb: str, reverts: Sequence[Revert | None]) -> None:
        """Offer ``u`` for the changes just written (the newest bulk change only)."""
        seconds = self.helpdesk.config.bulk.undo_seconds
        kept = tuple(r for r in reverts if r is not None)
        if not seconds or not kept:
            return
        until = self.helpdesk.store.now() + timedelta(seconds=seconds)
        self._undoable = Undoable(verb, kept, until)

    def action_undo(self) -> None:
        undoable = self._undoable
        store, me = self.helpdesk.store, self.helpdesk.me
        if undoable is None:
            self.notify("Nothing to undo.")
            return
        if store.now() > undoable.until:
            self._undoable = None
            self.notify(f"Too late to undo “{one_line(undoable.verb, 60)}”.", severity="warning")
            return
        if not self._guarded(me.require_write):
            return
        self._undoable = None
        self._undo(undoable, me.id)

    @work(thread=True, exit_on_error=False, group="undo")
    def _undo(self, undoable: Undoable, me: ObjectId) -> None:
        result = undo(self.helpdesk.store, undoable.reverts, actor=me)
        self.post_message(Undone(undoable, result))

    @on(Undone)
    def _undone(self, message: Undone) -> None:
        undoable, result = message.undoable, message.result
        total = len(undoable.reverts)
        if not result.kept:
            self.notify(f"Undone: {one_line(undoable.verb, 60)} ({result.undone} tickets).")
        else:
            lines = "\n".join(one_line(k, 90) for k in result.kept[:8])
            more = f"\n… and {len(result.kept) - 8} more" if len(result.kept) > 8 else ""
            self.notify(
                f"Undo: {result.undone} of {total} reverted; changed meanwhile, "
                f"left as they are:\n{lines}{more}",
                severity="warning",
                timeout=12,
            )
        self.after_undo()

    def after_undo(self) -> None:
        """Reload what the screen shows."""
