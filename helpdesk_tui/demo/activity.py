"""The demo's simulated team and customers, acting through the same store as the app.

A thread that every few seconds does what a busy helpdesk does: customers open tickets and
reply, other agents take, answer, resolve, and look at tickets (presence). Some of it lands on
the demo agent's own tickets, so notifications and live updates show.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from bson import ObjectId

from helpdesk_tui.demo.seed import AGENT_LINES, CUSTOMER_LINES, SUBJECTS, DemoData
from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status, Ticket
from helpdesk_tui.store.presence import PresenceStore
from helpdesk_tui.store.queries import Assignee, QueueQuery
from helpdesk_tui.store.tickets import TicketStore


class Activity:
    def __init__(
        self,
        store: TicketStore,
        presence: PresenceStore,
        data: DemoData,
        me: ObjectId,
        *,
        seed: int = 11,
        interval: tuple[float, float] = (3.0, 8.0),
    ) -> None:
        self.store = store
        self.presence = presence
        self.data = data
        self.me = me
        self.rng = random.Random(seed)
        self.interval = interval
        self.others = [a for a in data.agent_ids if a != me]
        self.names = {u["_id"]: u["name"] for u in data.users}
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Act until stopped; errors (conflicts with the agent) are part of the game."""
        while not self._stop.wait(self.rng.uniform(*self.interval)):
            try:
                self.step()
            except HelpdeskError:
                continue

    def step(self) -> str:
        actions: list[tuple[float, Callable[[], str]]] = [
            (2, self.new_ticket),
            (3, self.customer_replies),
            (2, self.agent_takes),
            (2, self.agent_answers),
            (1, self.agent_resolves),
            (2, self.agent_looks),
        ]
        action = self.rng.choices([a for _, a in actions], weights=[w for w, _ in actions])[0]
        return action()

    def _some(self, query: QueueQuery) -> Ticket | None:
        """One of the view's tickets that can be written: not one with a foreign ``_id``."""
        page = self.store.list_queue(query, limit=40)
        tickets = [t for t in page.tickets if isinstance(t.id, ObjectId)]
        return self.rng.choice(tickets) if tickets else None

    def new_ticket(self) -> str:
        category = self.rng.choice(list(Category))
        priority = self.rng.choices(list(Priority), weights=[3, 4, 3, 1])[0]
        ticket = self.store.create_ticket(
            NewTicket(
                subject=self.rng.choice(SUBJECTS[category]),
                description=self.rng.choice(CUSTOMER_LINES),
                user=self.rng.choice(self.data.customer_ids),
                category=category,
                priority=priority,
            )
        )
        if ticket.user is not None:
            self.store.add_message(ticket.object_id, sender=ticket.user, content=ticket.description)
        return f"new {ticket.ticket_number}"

    def customer_replies(self) -> str:
        # Half the time on one of the demo agent's own tickets, so a notification shows.
        mine = self.rng.random() < 0.5
        query = QueueQuery(assignee=self.me) if mine else QueueQuery()
        ticket = self._some(query)
        if ticket is None or ticket.user is None:
            return "nothing"
        self.store.add_message(
            ticket.object_id, sender=ticket.user, content=self.rng.choice(CUSTOMER_LINES)
        )
        return f"customer reply {ticket.ticket_number}"

    def agent_takes(self) -> str:
        ticket = self._some(QueueQuery(statuses=(Status.OPEN,), assignee=Assignee.UNASSIGNED))
        if ticket is None:
            return "nothing"
        self.store.take(ticket.object_id, self.rng.choice(self.others))
        return f"taken {ticket.ticket_number}"

    def agent_answers(self) -> str:
        agent = self.rng.choice(self.others)
        ticket = self._some(QueueQuery(statuses=(Status.OPEN, Status.IN_PROGRESS), assignee=agent))
        if ticket is None:
            return "nothing"
        self.presence.beat(ticket.object_id, agent, self.names.get(agent, "agent"), "replying")
        status = {Status.OPEN: Status.IN_PROGRESS, Status.IN_PROGRESS: Status.WAITING}
        self.store.add_message(
            ticket.object_id,
            sender=agent,
            content=self.rng.choice(AGENT_LINES),
            set_status=status[ticket.status],
        )
        return f"answered {ticket.ticket_number}"

    def agent_resolves(self) -> str:
        agent = self.rng.choice(self.others)
        ticket = self._some(QueueQuery(statuses=(Status.IN_PROGRESS,), assignee=agent))
        if ticket is None:
            return "nothing"
        self.store.set_status(
            ticket.object_id, Status.RESOLVED, actor=agent, expected=ticket.status
        )
        return f"resolved {ticket.ticket_number}"

    def agent_looks(self) -> str:
        """Another agent opens one of my tickets: collision detection shows it."""
        agent = self.rng.choice(self.others)
        ticket = self._some(QueueQuery(assignee=self.me))
        if ticket is None:
            return "nothing"
        mode = self.rng.choice(["viewing", "replying"])
        self.presence.beat(ticket.object_id, agent, self.names.get(agent, "agent"), mode)
        return f"{mode} {ticket.ticket_number}"
