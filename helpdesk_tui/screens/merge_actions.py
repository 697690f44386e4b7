"""On the ticket screen: merge one of the customer's other tickets into this one (``m``).

The candidates are the customer's open tickets from the context panel (same customer: a merge
never crosses customers). The merge itself is ``store/merge.py``: one transaction, all or
nothing; a source that changed meanwhile is reported and nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from helpdesk_tui.domain.models import ACTIVE_STATUSES, Ticket
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.store.merge import MERGED_PREFIX, Merger, MergeResult

if TYPE_CHECKING:
    from helpdesk_tui.screens.ticket_view import TicketView


def merge_candidates(screen: TicketView) -> list[Ticket]:
    """The customer's other open tickets that were not merged already."""
    others = screen.context.others if screen.context else ()
    return [
        t
        for t in others
        if t.status in ACTIVE_STATUSES
        and t.id is not None
        and not any(tag.startswith(MERGED_PREFIX) for tag in t.tags)
    ]


def start_merge(screen: TicketView) -> None:
    """Ask which ticket to merge into this one, confirm, merge in a worker, reload."""
    target = screen.ticket
    if target is None or target.id is None or screen.context is None:
        screen.notify("The customer's tickets are still loading.", timeout=3)
        return
    if not screen._guarded(screen.helpdesk.me.require_write):
        return
    candidates = merge_candidates(screen)
    if not candidates:
        screen.notify("The customer has no other open ticket to merge into this one.", timeout=4)
        return
    options = [
        (f"{one_line(t.ticket_number, 12)}  {one_line(t.subject, 50)}", t, t.status.label)
        for t in candidates
    ]

    def chosen(source: Ticket | None) -> None:
        if source is None:
            return
        body = Text(
            f"{source.label} is closed with a note and the tag {MERGED_PREFIX}{target.label}; "
            f"its messages and tags are copied into {target.label}. All of it or nothing."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                _merge(screen, target, source)

        screen.app.push_screen(
            ConfirmDialog(f"Merge {source.label} into {target.label}?", body), answered
        )

    screen.app.push_screen(ChoiceDialog(f"Merge into {target.label}…", options), chosen)


def _merge(screen: TicketView, target: Ticket, source: Ticket) -> None:
    store, me = screen.helpdesk.store, screen.helpdesk.me
    assert target.id is not None and source.id is not None  # checked by the caller

    def merged(result: MergeResult) -> None:
        copied = f"{result.copied} message{'' if result.copied == 1 else 's'}"
        screen.notify(
            f"Merged {source.label} into {target.label}: {copied} copied.",
            timeout=5,
        )
        screen.load()
        screen.load_context()

    target_id, source_id = target.id, source.id
    screen.call_store(
        lambda: Merger(store).merge(target_id, [source_id], actor=me.id), merged, group="merge"
    )
