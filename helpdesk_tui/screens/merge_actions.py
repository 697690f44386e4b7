"""On the ticket screen: merge one of the customer's other tickets into this one (``m``).

The candidates are the customer's open tickets from the context panel (same customer: a merge
never crosses customers). The merge itself is ``store/merge.py``: one transaction, all or
nothing; a source that changed meanwhile is reported and nothing is written.
"""

from __future__ import annotations

from bson import ObjectId
from rich.text import Text
from textual import on, work
from textual.message import Message

from helpdesk_tui.domain.context import CustomerContext
from helpdesk_tui.domain.models import ACTIVE_STATUSES, Ticket
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.store.merge import MERGED_PREFIX, Merger, MergeResult


def merge_candidates(context: CustomerContext | None) -> list[Ticket]:
    """The customer's other open tickets that were not merged already."""
    others = context.others if context else ()
    return [
        t
        for t in others
        if t.status in ACTIVE_STATUSES
        and isinstance(t.id, ObjectId)  # a foreign _id cannot be merged
        and not any(tag.startswith(MERGED_PREFIX) for tag in t.tags)
    ]


class Merged(Message, bubble=False):
    """``source`` was merged into ``target``."""

    def __init__(self, target: str, source: str, result: MergeResult) -> None:
        super().__init__()
        self.target, self.source, self.result = target, source, result


class MergeActions(HelpdeskScreen):
    """``start_merge`` on the ticket screen: its ``ticket`` and the customer's ``context``;
    ``load`` and ``load_context`` show them again after the merge."""

    ticket: Ticket | None
    context: CustomerContext | None

    def load(self) -> None:
        raise NotImplementedError

    def load_context(self) -> None:
        raise NotImplementedError

    def start_merge(self) -> None:
        """Ask which ticket to merge into this one, confirm, merge in a worker, reload."""
        target = self.ticket
        if target is None or self.context is None:
            self.notify("The customer's tickets are still loading.", timeout=3)
            return
        if not self._guarded(self.helpdesk.me.require_write):
            return
        candidates = merge_candidates(self.context)
        if not candidates:
            self.notify("The customer has no other open ticket to merge into this one.", timeout=4)
            return
        options = [
            (f"{one_line(t.ticket_number, 12)}  {one_line(t.subject, 50)}", t, t.status.label)
            for t in candidates
        ]
        target_id = target.object_id  # opened by it

        def chosen(source: Ticket | None) -> None:
            if source is None:
                return
            source_id = source.object_id  # a candidate: it has one
            body = Text(
                f"{source.label} is closed with a note and the tag {MERGED_PREFIX}{target.label}; "
                f"its messages and tags are copied into {target.label}. All of it or nothing."
            )

            def answered(yes: bool | None) -> None:
                if yes:
                    self._merge(
                        target_id, source_id, target.label, source.label, self.helpdesk.me.id
                    )

            self.app.push_screen(
                ConfirmDialog(f"Merge {source.label} into {target.label}?", body), answered
            )

        self.app.push_screen(ChoiceDialog(f"Merge into {target.label}…", options), chosen)

    @work(thread=True, exit_on_error=False, group="merge")
    def _merge(
        self, target_id: ObjectId, source_id: ObjectId, target: str, source: str, me: ObjectId
    ) -> None:
        result = Merger(self.helpdesk.store).merge(target_id, [source_id], actor=me)
        self.post_message(Merged(target, source, result))

    @on(Merged)
    def _merged(self, message: Merged) -> None:
        copied = f"{message.result.copied} message{'' if message.result.copied == 1 else 's'}"
        self.notify(f"Merged {message.source} into {message.target}: {copied} copied.", timeout=5)
        self.load()
        self.load_context()
