"""The macro picker: the queue (highlighted or selected tickets), the ticket and reply screens.

On a selection the same macro runs on each ticket on its own terms (compare-and-set on what the
agent saw) and the report says "N of M done" and why the others were refused.
"""

from __future__ import annotations

from textual import on, work
from textual.message import Message

from helpdesk_tui.domain.macros import ME, Macro
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.store.macros import MacroRunner


def macro_picker(macros: list[Macro], tickets: list[Ticket]) -> ChoiceDialog[int]:
    """The picker: one option a macro, what it does as the hint; typing filters."""
    title = (
        f"Macro for {tickets[0].label}"
        if len(tickets) == 1
        else f"Macro for {len(tickets)} tickets (each on its own terms)"
    )
    options = [(m.name, index, m.summary()) for index, m in enumerate(macros)]
    return ChoiceDialog(title, options, filterable=True)


class MacroApplied(Message, bubble=False):
    """The macro ``name`` was written on the reply screen's ticket; ``ticket`` is it now."""

    def __init__(self, ticket: Ticket, name: str) -> None:
        super().__init__()
        self.ticket, self.name = ticket, name


class MacroActions(HelpdeskScreen):
    """``action_macro`` for a screen that says which tickets (``macro_targets``) and how to run
    the chosen macro on them (``run_macro``)."""

    def macro_targets(self) -> list[Ticket] | None:
        raise NotImplementedError

    def run_macro(self, tickets: list[Ticket], runner: MacroRunner) -> None:
        raise NotImplementedError

    def action_macro(self) -> None:
        macros = list(self.helpdesk.config.macros)
        if not macros:
            self.notify(
                "No macros configured: add [[macros]] entries to the config (see README).",
                severity="warning",
            )
            return
        tickets = self.macro_targets()
        if not tickets:
            return
        me = self.helpdesk.me

        def chosen(index: int | None) -> None:
            if index is None:
                return
            macro = macros[index]

            def allowed() -> None:
                if macro.needs_supervisor:
                    me.require_supervisor("assign tickets to someone else")
                if macro.assignee == ME:  # taking another agent's ticket is a supervisor's
                    for ticket in tickets:
                        me.check_assign(ticket.assigned_to, me.id)

            if not self._guarded(allowed):
                return
            runner = MacroRunner(self.helpdesk.store, macro, me=me.id, agent_name=me.user.display)
            self.run_macro(tickets, runner)

        self.app.push_screen(macro_picker(macros, tickets), chosen)


class ReplyMacros(MacroActions):
    """On the reply screen: the macro applies to this ticket at once, in its own write; the
    draft in the editor stays as it is (it is not the macro's text)."""

    baseline: Ticket | None

    def macro_targets(self) -> list[Ticket] | None:
        if not self._guarded(self.helpdesk.me.require_write):
            return None
        if self.baseline is None:
            self.notify("The ticket is still loading.", severity="warning")
            return None
        return [self.baseline]

    def run_macro(self, tickets: list[Ticket], runner: MacroRunner) -> None:
        self._apply_macro(runner, tickets[0])

    @work(thread=True, exit_on_error=False, group="macro")
    def _apply_macro(self, runner: MacroRunner, seen: Ticket) -> None:
        runner.prepare([seen])
        self.post_message(MacroApplied(runner.apply(seen), runner.macro.name))

    @on(MacroApplied)
    def _macro_applied(self, message: MacroApplied) -> None:
        ticket = message.ticket
        self.macro_applied(ticket)
        self.notify(f"{ticket.label}: macro “{one_line(message.name, 40)}” applied.")

    def macro_applied(self, ticket: Ticket) -> None:
        """The macro was written; the screen takes the ticket as it is now as what the agent
        saw (our own change is no news to the "ticket updated" guard) and shows it."""
