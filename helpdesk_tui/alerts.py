"""Which live changes deserve a notification for me (pure: no Textual, no I/O).

Assigned to me, a customer reply on my ticket, a new urgent unassigned ticket; on a ticket I
follow (``following``), a customer reply and a status change too; an internal note that
mentions me (``handles``, see domain/mentions.py), which makes me a follower. A small memory
of each ticket's last known assignee and newest message tells a change from a repeat, for
change streams and polling alike.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from bson import ObjectId

from helpdesk_tui.domain.mentions import mentions
from helpdesk_tui.domain.models import Message, Priority, Ticket, TicketId
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.store.live import Change

MEMORY = 5_000  # tickets remembered; old entries fall out (bounded over a day of events)


@dataclass(frozen=True)
class Known:
    assignee: ObjectId | None
    last_message: object | None
    status: object | None = None


@dataclass(frozen=True)
class Alert:
    ticket: TicketId
    title: str
    text: str
    urgent: bool = False


class Alerts:
    def __init__(self, me: ObjectId) -> None:
        self.me = me
        self.known: OrderedDict[ObjectId, Known] = OrderedDict()
        self.own: set[ObjectId] = set()  # tickets I just changed myself: no echo
        # Tickets known to be assigned to me (seeded at start from the database, then kept up
        # to date from the changes). None until seeded: then only explicit evidence counts.
        self.mine_ids: set[ObjectId] | None = None
        self.following: set[ObjectId] = set()  # tickets I follow (the followers collection)
        self.handles: set[str] = set()  # the @names I answer to

    def seed_mine(self, tickets: Iterable[ObjectId]) -> None:
        self.mine_ids = set(tickets)

    def mine(self, ticket: ObjectId) -> None:
        self.own.add(ticket)

    def seed(self, ticket: ObjectId, assignee: ObjectId | None, last_message: object) -> None:
        """Remember what a view showed, so the next change can be compared with it."""
        self._remember(ticket, Known(assignee, last_message))

    def _remember(self, ticket: ObjectId, known: Known) -> None:
        self.known[ticket] = known
        self.known.move_to_end(ticket)
        while len(self.known) > MEMORY:
            self.known.popitem(last=False)

    def consider(self, changes: Iterable[Change]) -> list[Alert]:
        alerts: list[Alert] = []
        for change in changes:
            # The event's fields as domain models: nothing below reads a MongoDB key.
            ticket = Ticket.from_mongo(change.doc or {})
            newest = Message.from_mongo(change.new_messages[-1]) if change.new_messages else None
            number = one_line(ticket.ticket_number or "a ticket", 20)
            subject = one_line(ticket.subject, 60)
            assignee = ticket.assigned_to
            newest_id = newest.id if newest else None
            before = self.known.get(change.id)
            self._remember(
                change.id,
                Known(
                    assignee,
                    newest_id
                    if newest_id is not None
                    else (before.last_message if before else None),
                    ticket.status,
                ),
            )
            if self.mine_ids is not None:
                was_mine, known = change.id in self.mine_ids, True
                if assignee == self.me:
                    self.mine_ids.add(change.id)
                else:
                    self.mine_ids.discard(change.id)
            else:  # not seeded yet: only explicit evidence of a change of assignee counts
                was_mine = before is not None and before.assignee == self.me
                known = before is not None or change.kind == "insert"
            if change.id in self.own:
                self.own.discard(change.id)
                continue
            # An event that names its changed fields must name assignedTo to be an assignment.
            explicit = "assignedTo" in change.updated
            if (
                assignee == self.me
                and not was_mine
                and (explicit or (known and not change.updated))
            ):
                alerts.append(Alert(change.id, "Assigned to you", f"{number}: {subject}"))
            elif (
                assignee == self.me
                and newest is not None
                and newest.sender == ticket.user
                and not newest.is_internal
                and (before is None or before.last_message != newest_id)
            ):
                text = one_line(newest.content, 80)
                alerts.append(Alert(change.id, f"Customer replied on {number}", text))
            alerts += self._as_follower(change, ticket, before, number)
            if change.kind == "insert" and ticket.priority is Priority.URGENT and assignee is None:
                alerts.append(
                    Alert(change.id, "New urgent ticket", f"{number}: {subject}", urgent=True)
                )
        return alerts

    def _as_follower(
        self, change: Change, ticket: Ticket, before: Known | None, number: str
    ) -> list[Alert]:
        """A mention of me in a new note; a customer reply or status change on a ticket I
        follow (not mine: the assignee's alerts already cover my own tickets)."""
        alerts: list[Alert] = []
        notes = [Message.from_mongo(m) for m in change.new_messages]
        for note in notes:
            if note.is_internal and note.sender != self.me and mentions(note.content, self.handles):
                self.following.add(change.id)
                text = one_line(note.content, 80)
                alerts.append(Alert(change.id, f"You were mentioned on {number}", text))
                return alerts  # one alert for this change is enough
        if change.id not in self.following or ticket.assigned_to == self.me:
            return alerts
        newest = notes[-1] if notes else None
        if (
            newest is not None
            and newest.sender == ticket.user
            and not newest.is_internal
            and (before is None or before.last_message != newest.id)
        ):
            text = one_line(newest.content, 80)
            alerts.append(Alert(change.id, f"Customer replied on {number} (following)", text))
        if before is not None and before.status is not None:
            moved = before.status != ticket.status
        else:  # nothing known of it before: only an event naming the field says it moved
            moved = "status" in change.updated
        if moved and change.kind != "insert":
            status = getattr(ticket.status, "label", one_line(ticket.status, 20))
            subject = one_line(ticket.subject, 60)
            alerts.append(Alert(change.id, f"{number} is now {status} (following)", subject))
        return alerts
