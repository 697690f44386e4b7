"""Ticket actions shared by the queue (highlighted or selected rows) and the ticket screen.

Every store call runs in a thread worker; every error becomes one notification (in the app).
A bulk action updates each ticket on its own terms and reports what was refused and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.errors import HelpdeskError, HistoryNotWritten, InvalidRequest
from helpdesk_tui.domain.models import Priority, Status, Ticket
from helpdesk_tui.domain.tags import parse_tag_edit
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.screens.bulk import BulkSafety
from helpdesk_tui.screens.dialogs import ChoiceDialog, TextDialog
from helpdesk_tui.screens.macros import MacroActions
from helpdesk_tui.screens.snooze import SnoozeActions
from helpdesk_tui.store.errors import unanswered
from helpdesk_tui.store.macros import MacroRunner
from helpdesk_tui.store.queries import Assignee
from helpdesk_tui.store.undo import Revert, revert_of

NOBODY = "nobody"
# A refusal reason in a bulk report: whole (store messages are one sentence), but never a
# whole field of database text.
REASON_CHARS = 240


class TicketActions(MacroActions, BulkSafety, SnoozeActions):
    """Actions on ``targets()``; subclasses say which tickets and what to do afterwards."""

    def targets(self) -> list[Ticket]:
        raise NotImplementedError

    def after_change(self, tickets: list[Ticket]) -> None:
        """Called with the updated tickets once a change has been written."""

    def _one(self) -> Ticket | None:
        tickets = self.targets()
        if not tickets:
            self.notify("No ticket here.", severity="warning")
            return None
        return tickets[0]

    def _bulk(self, tickets: list[Ticket], verb: str, change: Callable[[Ticket], Ticket]) -> None:
        """Apply ``change`` to each ticket (asking first over ``[bulk] confirm_over``)."""
        self.confirm_bulk(
            len(tickets), f"Apply “{verb}”", lambda: self._bulk_now(tickets, verb, change)
        )

    def _bulk_now(
        self, tickets: list[Ticket], verb: str, change: Callable[[Ticket], Ticket]
    ) -> None:
        """Apply ``change`` to each ticket; say how many succeeded and which were refused."""

        alerts = self.helpdesk.alerts
        reverts: list[Revert | None] = []

        unrecorded: list[str] = []  # made, but not in the history: said apart, as a warning

        def run() -> tuple[list[Ticket], list[str]]:
            done: list[Ticket] = []
            refused: list[str] = []
            last: HelpdeskError | None = None
            for at, ticket in enumerate(tickets):
                if last is not None and unanswered(last):
                    # The database did not answer: each further write would wait its whole
                    # bound for nothing (a minute for a dozen tickets) before anything is said.
                    refused += [
                        f"{t.label}: not tried (no answer from the database)" for t in tickets[at:]
                    ]
                    break
                if ticket.id is not None:
                    alerts.mine(ticket.id)  # before the write: its event must not echo back
                try:
                    done.append(change(ticket))
                    reverts.append(revert_of(ticket, done[-1]))
                except HistoryNotWritten as error:
                    done.append(ticket)  # the change stands (undo cannot know it: no revert)
                    reverts.append(None)
                    unrecorded.append(f"{ticket.label}: {error}")
                except HelpdeskError as error:
                    last = error
                    said = str(error)
                    refused.append(
                        said if said.startswith(ticket.label) else f"{ticket.label}: {said}"
                    )
                    if ticket.id is not None:
                        alerts.own.discard(ticket.id)  # nothing written: nothing to mute
            return done, refused

        def report(result: tuple[list[Ticket], list[str]]) -> None:
            done, refused = result
            if unrecorded:
                self.notify(
                    "\n".join(one_line(u, REASON_CHARS) for u in unrecorded[:5]),
                    severity="warning",
                    timeout=10,
                )
            undo = ""
            if len(tickets) > 1:
                self.remember_undo(verb, reverts)
                if self._undoable is not None and any(reverts):
                    undo = f" ({self.key_for('undo', 'u')} undoes)"
            if len(tickets) == 1 and not refused:
                self.notify(f"{done[0].label}: {verb}.")
            elif len(tickets) == 1:
                self.notify(one_line(refused[0]), severity="error", timeout=8)  # one line
            elif not refused:
                self.notify(f"{verb}: {len(done)} tickets.{undo}")
            else:
                # Each reason whole (the toast wraps it; cut, "was not appli…" said nothing),
                # and as many as a short terminal has room for, the rest counted.
                room = 8 if self.app.size.height >= 40 else 4
                lines = "\n".join(one_line(r, REASON_CHARS) for r in refused[:room])
                more = f"\n… and {len(refused) - room} more" if len(refused) > room else ""
                self.notify(
                    f"{verb}: {len(done)} of {len(tickets)} done{undo}; refused:\n{lines}{more}",
                    severity="warning" if done else "error",
                    timeout=12,
                )
            self.after_change(done)

        self.call_store(run, report)

    def _targets_for(self, what: str) -> list[Ticket] | None:
        tickets = self.targets()
        me = self.helpdesk.me
        if not tickets:
            self.notify("No ticket here.", severity="warning")
            return None
        if not self._guarded(me.require_write):
            return None
        if len(tickets) > 1 and not self._guarded(lambda: me.require_supervisor(what)):
            return None
        return tickets

    # --- actions -------------------------------------------------------------------------

    def action_status(self) -> None:
        tickets = self._targets_for("change the status of several tickets")
        if tickets is None:
            return
        workflow = self.helpdesk.store.settings.workflow
        if len(tickets) == 1:
            allowed = workflow.allowed(tickets[0].status)
            if not allowed:
                self.notify(f"{tickets[0].status.label} is final: no status follows it.")
                return
            title = f"Move {tickets[0].label} from {tickets[0].status.label} to…"
        else:
            allowed = tuple(Status)
            title = f"Move {len(tickets)} tickets to… (each only where its workflow allows)"
        options = [(s.label, s, "") for s in allowed]

        def chosen(status: Status | None) -> None:
            if status is None:
                return
            store, me = self.helpdesk.store, self.helpdesk.me
            self._bulk(
                tickets,
                f"status → {status.label}",
                lambda t: store.set_status(_id(t), status, actor=me.id, expected=t.status),
            )

        self.app.push_screen(ChoiceDialog(title, options), chosen)

    def action_priority(self) -> None:
        tickets = self._targets_for("change the priority of several tickets")
        if tickets is None:
            return
        options = [(p.value, p, "") for p in sorted(Priority, key=lambda p: p.rank)]

        def chosen(priority: Priority | None) -> None:
            if priority is None:
                return
            store, me = self.helpdesk.store, self.helpdesk.me
            self._bulk(
                tickets,
                f"priority → {priority.value}",
                lambda t: store.set_priority(_id(t), priority, actor=me.id),
            )

        current = tickets[0].priority if len(tickets) == 1 else None
        self.app.push_screen(ChoiceDialog("Priority", options, current=current), chosen)

    def action_take(self) -> None:
        ticket = self._one()
        me = self.helpdesk.me
        if ticket is None or not self._guarded(me.require_write):
            return
        if ticket.assigned_to == me.id:
            self.notify(f"{ticket.label} is already yours.")
            return
        store = self.helpdesk.store
        # An agent can only take an unassigned ticket: the store's compare-and-set on "nobody"
        # decides, whatever this (possibly stale) row says, and a loser is told who won.
        if ticket.assigned_to is None or not me.is_supervisor:
            self._bulk([ticket], "taken", lambda t: store.take(_id(t), me.id))
        else:
            self._bulk(
                [ticket],
                "taken over",
                lambda t: store.assign(_id(t), me.id, actor=me.id, expected=t.assigned_to),
            )

    def action_assign(self) -> None:
        tickets = self._targets_for("assign several tickets")
        if tickets is None:
            return
        me = self.helpdesk.me
        if not self._guarded(lambda: me.require_supervisor("assign tickets to someone else")):
            return
        store, config = self.helpdesk.store, self.helpdesk.config

        def load() -> tuple[list[Any], dict[ObjectId, dict[str, int]]]:
            staff = store.staff([*config.roles.agent, *config.roles.supervisor])
            return staff, store.workload()

        def pick(result: tuple[list[Any], dict[ObjectId, dict[str, int]]]) -> None:
            staff, load = result
            options: list[tuple[str, ObjectId | str, str]] = [("— nobody (unassign)", NOBODY, "")]
            for user in staff:
                counts = load.get(user.id, {})
                hint = (
                    f"{user.email} · {counts.get('open', 0)} open · "
                    f"{counts.get('in_progress', 0)} in progress · "
                    f"{counts.get('breached', 0)} breached"
                )
                options.append((one_line(user.display), user.id, hint))
                if user.id is not None:
                    names[user.id] = user.display
            title = (
                f"Assign {tickets[0].label} to…"
                if len(tickets) == 1
                else f"Assign {len(tickets)} tickets to…"
            )
            current = (tickets[0].assigned_to or NOBODY) if len(tickets) == 1 else None
            self.app.push_screen(
                ChoiceDialog(title, options, filterable=True, current=current), chosen
            )

        names: dict[ObjectId, str] = {}

        def chosen(choice: ObjectId | str | None) -> None:
            if choice is None:
                return
            agent = choice if isinstance(choice, ObjectId) else None
            self._bulk(
                tickets,
                f"assigned to {names.get(agent, 'them') if agent else 'nobody'}",
                lambda t: store.assign(_id(t), agent, actor=me.id, expected=_seen_assignee(t)),
            )

        self.call_store(load, pick)

    def action_tags(self) -> None:
        tickets = self._targets_for("tag several tickets")
        if tickets is None:
            return
        # Shown by the rendering rule; a word typed back as shown means that existing tag.
        current = " ".join(literal(t) for t in tickets[0].tags) if len(tickets) == 1 else ""

        def chosen(text: str | None) -> None:
            if text is None:
                return
            try:
                add, remove = parse_tag_edit(text, tickets[0].tags if len(tickets) == 1 else ())
            except InvalidRequest as error:
                self.helpdesk.report_error(error)
                return
            if not add and not remove:
                self.notify("Tags unchanged.")
                return
            store, me = self.helpdesk.store, self.helpdesk.me
            self._bulk(
                tickets,
                "tags " + " ".join([*(f"+{t}" for t in add), *(f"-{t}" for t in remove)]),
                lambda t: store.change_tags(_id(t), add=add, remove=remove, actor=me.id),
            )

        self.app.push_screen(
            TextDialog(
                "Tags",
                value=current,
                placeholder="vip refund   or   +vip -refund",
                help="edit the list (space-separated); or +tag adds, -tag removes",
            ),
            chosen,
        )

    def macro_targets(self) -> list[Ticket] | None:
        return self._targets_for("apply a macro to several tickets")

    def run_macro(self, tickets: list[Ticket], runner: MacroRunner) -> None:
        prepared: list[bool] = []

        def change(ticket: Ticket) -> Ticket:
            if not prepared:  # once, in the worker: the named assignee, the customers' names
                runner.prepare(tickets)
                prepared.append(True)
            return runner.apply(ticket)

        self._bulk(tickets, f"macro “{runner.macro.name}” applied", change)

    def after_undo(self) -> None:
        self.after_change([])

    def snooze_targets(self) -> list[Ticket]:
        return self.targets()

    def after_snooze(self) -> None:
        self.after_change([])

    def action_reply(self) -> None:
        self._open_reply(internal=False)

    def action_note(self) -> None:
        self._open_reply(internal=True)

    def _open_reply(self, *, internal: bool) -> None:
        ticket = self._one()
        if ticket is None or not self._guarded(self.helpdesk.me.require_write):
            return
        if not self._guarded(lambda: _id(ticket)):
            return
        from helpdesk_tui.screens.reply import ReplyScreen

        self.app.push_screen(
            ReplyScreen(_id(ticket), internal=internal, ticket=ticket), self.after_reply
        )

    def after_reply(self, sent: bool | None) -> None:
        """The reply screen closed; ``sent`` says whether something was sent."""


def _seen_assignee(ticket: Ticket) -> ObjectId | Assignee | None:
    """The assignee to compare-and-set on; an unreadable one (``assignedTo: "bob"``) is
    replaced whatever it holds, so a supervisor can repair the ticket by assigning it."""
    return Assignee.ANY if ticket.problem_with("assignedTo") else ticket.assigned_to


def _id(ticket: Ticket) -> ObjectId:
    if ticket.id is None:
        raise InvalidRequest(
            f"{ticket.label}: malformed document (its _id is not an ObjectId); "
            "it cannot be changed here"
        )
    return ticket.id
