"""Snooze (``z``): hide tickets from my views until a time; they come back at that time, or
earlier when the customer writes. Nothing is written on the ticket (store/snooze.py)."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from textual import on, work
from textual.message import Message

from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.domain.snooze import TYPED_HELP, parse_until, presets, shown, zone
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog, TextDialog

TYPED, WAKE = "typed", "wake"


class Snoozed(Message):
    """The snoozes were written; ``said`` is what to tell the agent."""

    def __init__(self, said: str) -> None:
        super().__init__()
        self.said = said


class SnoozeActions(HelpdeskScreen):
    """``action_snooze`` on ``snooze_targets()``; ``after_snooze`` reloads the screen."""

    def snooze_targets(self) -> list[Ticket]:
        raise NotImplementedError

    def after_snooze(self) -> None:
        """The snoozes changed."""

    def action_snooze(self) -> None:
        tickets = self.snooze_targets()
        if not tickets:
            self.notify("No ticket here.", severity="warning")
            return
        ids: list[ObjectId] = []
        if not self._guarded(lambda: ids.extend(t.object_id for t in tickets)):
            return  # a foreign _id among them: said which
        store = self.helpdesk.store
        try:
            tz = zone(self.helpdesk.config.snooze.timezone)
        except HelpdeskError as error:
            self.helpdesk.report_error(error)
            return
        now = store.now()
        options: list[tuple[str, datetime | str, str]] = [
            (label, until, shown(until, tz)) for label, until in presets(now, tz)
        ]
        options += [("A time I type…", TYPED, TYPED_HELP), ("Wake now (end the snooze)", WAKE, "")]
        what = tickets[0].label if len(ids) == 1 else f"{len(ids)} tickets"
        label = what if len(ids) == 1 else f"{len(ids)} tickets"

        def typed(text: str | None) -> None:
            if text is None:
                return
            try:
                until = parse_until(text, store.now(), tz)
            except HelpdeskError as error:
                self.helpdesk.report_error(error)
                return
            chosen(until)

        def chosen(choice: datetime | str | None) -> None:
            if choice is None:
                return
            if choice == TYPED:
                self.app.push_screen(
                    TextDialog(
                        f"Snooze {what} until…", placeholder="tomorrow 14:30", help=TYPED_HELP
                    ),
                    typed,
                )
                return
            if isinstance(choice, datetime):
                self._snooze(
                    ids,
                    choice,
                    f"{label} snoozed until {shown(choice, tz)}; "
                    "back early if the customer writes.",
                )
            else:
                self._snooze(ids, None, f"{label}: awake.")

        self.app.push_screen(ChoiceDialog(f"Snooze {what} until…", options), chosen)

    def _snooze(self, ids: list[ObjectId], until: datetime | None, said: str) -> None:
        self._write_snooze(ids, until, self.helpdesk.me.id, said)

    @work(thread=True, exit_on_error=False, group="snooze")
    def _write_snooze(
        self, ids: list[ObjectId], until: datetime | None, me: ObjectId, said: str
    ) -> None:
        snoozes = self.helpdesk.store.snoozes
        if until is None:
            snoozes.wake(ids, me)
        else:
            snoozes.snooze(ids, me, until)
        self.post_message(Snoozed(said))

    @on(Snoozed)
    def _snoozed(self, message: Snoozed) -> None:
        self.notify(message.said)
        self.after_snooze()
