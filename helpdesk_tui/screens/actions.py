"""Ticket actions shared by the queue (highlighted or selected rows) and the ticket screen.

Every store call runs in a thread worker; every error becomes one notification (in the app).
A bulk action updates each ticket on its own terms and reports what was refused and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bson import ObjectId
from textual import on, work
from textual.message import Message

from helpdesk_tui.alerts import Alerts
from helpdesk_tui.domain.errors import HelpdeskError, HistoryNotWritten, InvalidRequest
from helpdesk_tui.domain.models import Priority, Status, Ticket, User
from helpdesk_tui.domain.tags import parse_tag_edit
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.screens.bulk import BulkSafety
from helpdesk_tui.screens.clipboard import CopyActions
from helpdesk_tui.screens.dialogs import ChoiceDialog, TextDialog
from helpdesk_tui.screens.following import FollowActions
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


@dataclass
class BulkWritten(Message, bubble=False):
    """A change written on ``count`` tickets, each on its own terms."""

    count: int
    verb: str
    done: list[Ticket] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)  # made, but not in the history
    reverts: list[Revert | None] = field(default_factory=list)


@dataclass
class AssigneesRead(Message, bubble=False):
    """The staff and their load, for the assign picker of ``tickets``."""

    tickets: list[Ticket]
    staff: list[User]
    load: dict[ObjectId, dict[str, int]]


class TicketActions(MacroActions, BulkSafety, SnoozeActions, FollowActions, CopyActions):
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
        self._write_each(tickets, verb, change, self.helpdesk.alerts)

    @work(thread=True, exit_on_error=False, group="store")
    def _write_each(
        self, tickets: list[Ticket], verb: str, change: Callable[[Ticket], Ticket], alerts: Alerts
    ) -> None:
        """Each ticket on its own terms: what was done, refused, or done but not recorded."""
        written = BulkWritten(len(tickets), verb)
        last: HelpdeskError | None = None
        for at, ticket in enumerate(tickets):
            if last is not None and unanswered(last):
                # The database did not answer: each further write would wait its whole
                # bound for nothing (a minute for a dozen tickets) before anything is said.
                written.refused += [
                    f"{t.label}: not tried (no answer from the database)" for t in tickets[at:]
                ]
                break
            try:
                # Before the write: its event must not echo back. A foreign _id is refused here.
                alerts.mine(ticket.object_id)
                written.done.append(change(ticket))
                written.reverts.append(revert_of(ticket, written.done[-1]))
            except HistoryNotWritten as error:
                written.done.append(ticket)  # the change stands (undo cannot know it: no revert)
                written.reverts.append(None)
                written.unrecorded.append(f"{ticket.label}: {error}")
            except HelpdeskError as error:
                last = error
                said = str(error)
                written.refused.append(
                    said if said.startswith(ticket.label) else f"{ticket.label}: {said}"
                )
                if isinstance(ticket.id, ObjectId):
                    alerts.own.discard(ticket.id)  # nothing written: nothing to mute
        self.post_message(written)

    @on(BulkWritten)
    def _bulk_written(self, written: BulkWritten) -> None:
        done, refused, verb, count = written.done, written.refused, written.verb, written.count
        if written.unrecorded:
            self.notify(
                "\n".join(one_line(u, REASON_CHARS) for u in written.unrecorded[:5]),
                severity="warning",
                timeout=10,
            )
        undo = ""
        if count > 1:
            self.remember_undo(verb, written.reverts)
            if self._undoable is not None and any(written.reverts):
                undo = f" ({self.key_for('undo', 'u')} undoes)"
        if count == 1 and not refused:
            self.notify(f"{done[0].label}: {verb}.")
        elif count == 1:
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
                f"{verb}: {len(done)} of {count} done{undo}; refused:\n{lines}{more}",
                severity="warning" if done else "error",
                timeout=12,
            )
        self.after_change(done)

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
                lambda t: store.set_status(t.object_id, status, actor=me.id, expected=t.status),
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
                lambda t: store.set_priority(t.object_id, priority, actor=me.id),
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
            self._bulk([ticket], "taken", lambda t: store.take(t.object_id, me.id))
        else:
            self._bulk(
                [ticket],
                "taken over",
                lambda t: store.assign(t.object_id, me.id, actor=me.id, expected=t.assigned_to),
            )

    def action_assign(self) -> None:
        tickets = self._targets_for("assign several tickets")
        if tickets is None:
            return
        me = self.helpdesk.me
        if not self._guarded(lambda: me.require_supervisor("assign tickets to someone else")):
            return
        roles = [*self.helpdesk.config.roles.agent, *self.helpdesk.config.roles.supervisor]
        self._read_assignees(tickets, roles)

    @work(thread=True, exit_on_error=False, group="store")
    def _read_assignees(self, tickets: list[Ticket], roles: list[str]) -> None:
        store = self.helpdesk.store
        self.post_message(AssigneesRead(tickets, store.staff(roles), store.workload()))

    @on(AssigneesRead)
    def _pick_assignee(self, message: AssigneesRead) -> None:
        tickets, store, me = message.tickets, self.helpdesk.store, self.helpdesk.me
        names: dict[ObjectId, str] = {}
        options: list[tuple[str, ObjectId | str, str]] = [("— nobody (unassign)", NOBODY, "")]
        for user in message.staff:
            counts = message.load.get(user.object_id, {})  # staff: each has one
            hint = (
                f"{user.email} · {counts.get('open', 0)} open · "
                f"{counts.get('in_progress', 0)} in progress · "
                f"{counts.get('breached', 0)} breached"
            )
            options.append((one_line(user.display), user.object_id, hint))
            names[user.object_id] = user.display
        title = (
            f"Assign {tickets[0].label} to…"
            if len(tickets) == 1
            else f"Assign {len(tickets)} tickets to…"
        )
        current = (tickets[0].assigned_to or NOBODY) if len(tickets) == 1 else None

        def chosen(choice: ObjectId | str | None) -> None:
            if choice is None:
                return
            agent = choice if isinstance(choice, ObjectId) else None
            self._bulk(
                tickets,
                f"assigned to {names.get(agent, 'them') if agent else 'nobody'}",
                lambda t: store.assign(t.object_id, agent, actor=me.id, expected=_seen_assignee(t)),
            )

        self.app.push_screen(ChoiceDialog(title, options, filterable=True, current=current), chosen)

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
                lambda t: store.change_tags(t.object_id, add=add, remove=remove, actor=me.id),
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
        if not self._guarded(lambda: ticket.object_id):
            return
        self.helpdesk.open_reply(
            ticket.object_id, internal=internal, ticket=ticket, done=self.after_reply
        )

    def after_reply(self, sent: bool | None) -> None:
        """The reply screen closed; ``sent`` says whether something was sent."""


def _seen_assignee(ticket: Ticket) -> ObjectId | Assignee | None:
    """The assignee to compare-and-set on; an unreadable one (``assignedTo: "bob"``) is
    replaced whatever it holds, so a supervisor can repair the ticket by assigning it."""
    return Assignee.ANY if ticket.problem_with("assignedTo") else ticket.assigned_to
