"""A queue store in memory and a screen without Textual, to drive ``QueueModel`` in tests.

``FakeQueueStore`` implements models/queue.py ``QueueStore``: the tickets are complete change
documents (the queue fields and the row fields the change stream computes), filtered and
ordered by the store's own pure rules (store/window.py ``matches``, ``order_key``), so what the
model patches can be compared with what a fresh read returns. Every read is logged in
``reads``. ``Driver`` does what the screen does with the model's commands: a read runs at once
(or waits in ``held`` until ``finish``), rows are "shown" in ``shown`` the way the ticket table
shows them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.sla import SlaPolicy
from helpdesk_tui.models.queue import (
    AfterPaint,
    ChangeLike,
    Command,
    Count,
    FetchMore,
    Load,
    Loaded,
    Page,
    Painted,
    Patched,
    QueueModel,
    Refill,
    ReleaseKeys,
    Render,
    ShowCounts,
    ViewLike,
)
from helpdesk_tui.store.live import Change
from helpdesk_tui.store.queries import Assignee, QueueQuery, SortKey, count_fields
from helpdesk_tui.store.snooze import with_snoozes
from helpdesk_tui.store.window import compare, complete, matches, order_key, patch, row_doc
from helpdesk_tui.views import View

NOW = datetime(2030, 11, 26, 10, 0, tzinfo=UTC)
ME = ObjectId("0000000000000000000000a1")
BO = ObjectId("0000000000000000000000b2")
CUSTOMER = ObjectId("0000000000000000000000c3")
POLICY = SlaPolicy()

# Three views in ticket-number order (an order anyone can read off the rows).
VIEWS = [
    View("mine", "My tickets", "Mine", QueueQuery(assignee=ME, sort=SortKey.NUMBER)),
    View(
        "unassigned",
        "Unassigned",
        "Unasg",
        QueueQuery(assignee=Assignee.UNASSIGNED, sort=SortKey.NUMBER),
    ),
    View("open", "All open", "Open", QueueQuery(sort=SortKey.NUMBER)),
]


def ticket_doc(number: int, *, assigned: ObjectId | None = None, **fields: Any) -> dict[str, Any]:
    """A ticket as a change event carries it: queue fields and row fields."""
    created = NOW - timedelta(hours=number)
    return {
        "_id": ObjectId(f"{number:024x}"),
        "ticketNumber": f"TKT-{number:06d}",
        "subject": f"Ticket {number}",
        "user": CUSTOMER,
        "category": "order",
        "priority": "medium",
        "status": "open",
        "assignedTo": assigned,
        "tags": [],
        "createdAt": created,
        "updatedAt": created,
        "_messageCount": 1,
        "_lastMessageAt": created,
        "_lastFromCustomer": True,
        "_firstResponseAt": None,
        **fields,
    }


class FakeQueueStore:
    """``QueueStore`` in memory (see the module's docstring)."""

    def __init__(self, docs: Iterable[dict[str, Any]] = ()) -> None:
        self.docs: dict[ObjectId, dict[str, Any]] = {d["_id"]: d for d in docs}
        self.clock = NOW
        self.held_index = True
        self.snoozes: dict[ObjectId, datetime] = {}
        self.people = {
            person: User.from_mongo({"_id": person, "name": name, "email": f"{name}@x"})
            for person, name in ((ME, "Ana"), (BO, "Bo"), (CUSTOMER, "Cy"))
        }
        self.reads: list[str] = []  # each read's name, in order

    # --- writes of the test (what another writer does to the database) --------------------

    def write(
        self, doc: dict[str, Any], kind: str = "update", updated: Iterable[str] = ()
    ) -> Change:
        """Store ``doc`` and return its change event (an update names the fields it set)."""
        self.docs[doc["_id"]] = doc
        return Change(doc["_id"], kind, dict(doc), frozenset(updated))

    def delete(self, ticket_id: ObjectId) -> Change:
        del self.docs[ticket_id]
        return Change(ticket_id, "delete")

    def fresh(self, query: QueueQuery, limit: int) -> list[ObjectId]:
        """What a fresh read of the view shows (the oracle)."""
        return [t.id for t in self._list(query)[:limit] if t.id is not None]

    def _list(self, query: QueueQuery) -> list[Ticket]:
        rows = [
            (Ticket.from_mongo(d), d)
            for d in self.docs.values()
            if matches(query, Ticket.from_mongo(d), d, self.clock, POLICY)
        ]
        keys = [order_key(query, t, d, POLICY) for t, d in rows]

        def by_key(a: int, b: int) -> int:
            return compare(keys[a], keys[b])

        ordered = sorted(range(len(rows)), key=functools.cmp_to_key(by_key))
        return [rows[i][0] for i in ordered]

    def _people(self, tickets: Iterable[Ticket]) -> dict[ObjectId, User]:
        named = {i for t in tickets for i in (t.user, t.assigned_to) if i is not None}
        return {i: self.people[i] for i in named if i in self.people}

    # --- QueueStore: a view's rules --------------------------------------------------------

    def now(self) -> datetime:
        return self.clock

    def index_held(self) -> bool:
        return self.held_index

    def query(self, view: ViewLike, sort: Any, snoozed: Mapping[ObjectId, datetime]) -> QueueQuery:
        query: QueueQuery = view.query
        return with_snoozes(view.key, replace(query, sort=sort or query.sort), dict(snoozed))

    def count_fields(self, query: QueueQuery) -> frozenset[str] | None:
        return count_fields(query)

    def breaching(self, query: QueueQuery) -> bool:
        return query.breaching

    def patch(
        self,
        window: Sequence[Ticket],
        changes: Sequence[ChangeLike],
        query: QueueQuery,
        *,
        limit: int,
        has_more: bool,
    ) -> Patched | None:
        events = [(c.id, c.kind, dict(c.doc) if c.doc else None) for c in changes]
        if any(kind != "delete" and not complete(doc) for _, kind, doc in events):
            return None
        docs = {t.id: row_doc(t) for t in window}
        result = patch(
            window,
            docs,
            events,
            query,
            limit=limit,
            has_more=has_more,
            now=self.clock,
            policy=POLICY,
        )
        return Patched(result.tickets, result.missing, result.has_more, bool(result.changed))

    # --- QueueStore: reads -----------------------------------------------------------------

    def load(self, view: ViewLike, sort: Any, limit: int, *, early: bool) -> Loaded:
        self.reads.append("load")
        query = self.query(view, sort, self.snoozes)
        rows = self._list(query)
        tickets = tuple(rows[:limit])
        return Loaded(
            tickets, len(rows) > limit, self._people(tickets), self.clock, dict(self.snoozes)
        )

    def refill(self, query: QueueQuery, window: Sequence[Ticket], missing: int, limit: int) -> Page:
        self.reads.append("refill")
        tickets = tuple(self._list(query)[:limit])
        return Page(tickets, self._people(tickets))

    def more(self, query: QueueQuery, skip: int, limit: int) -> Page:
        self.reads.append("more")
        rows = self._list(query)
        tickets = tuple(rows[skip : skip + limit])
        return Page(tickets, self._people(tickets), skip + limit < len(rows))

    def count_views(self, queries: Mapping[str, QueueQuery]) -> dict[str, int]:
        self.reads.append("count")
        return {key: len(self._list(query)) for key, query in queries.items()}


Read = Load | Refill | FetchMore | Count


@dataclass
class Driver:
    """The queue screen's part, without Textual: carries out the model's commands."""

    model: QueueModel
    store: FakeQueueStore
    holding: bool = False  # reads wait in ``held`` until ``finish``
    held: list[Read] = field(default_factory=list)
    shown: list[ObjectId | None] = field(default_factory=list)  # the table's rows, in order
    keys_held: bool = False
    painted: int = 0  # times the work after the rows' first paint ran
    counts_shown: dict[str, int] = field(default_factory=dict)
    cursor_to_top: bool = False

    def run(self, commands: Iterable[Command]) -> None:
        for command in commands:
            match command:
                case Render():
                    ids = [t.id for t in command.tickets]
                    if command.append:
                        self.shown += [i for i in ids if i not in self.shown]
                    else:
                        self.shown = ids
                    self.cursor_to_top |= command.cursor_to_top
                case ShowCounts():
                    self.counts_shown = dict(self.model.counts)
                case Load() | Refill() | FetchMore() | Count():
                    if isinstance(command, Load) and command.hold_keys:
                        self.keys_held = True
                    self.held.append(command)
                    if not self.holding:
                        self.finish(command)
                case ReleaseKeys():
                    self.keys_held = False
                case AfterPaint():
                    self.run(self.model.painted(current=True))  # painted at once
                case Painted():
                    self.painted += 1

    def finish(self, read: Read) -> None:
        """The read's result comes back to the model (as the screen's message handler does)."""
        self.held.remove(read)
        model = self.model
        match read:
            case Load():
                self.run(model.loaded(read, read.run(self.store)))
            case Refill():
                self.run(model.refilled(read, read.run(self.store)))
            case FetchMore():
                self.run(model.more_loaded(read, read.run(self.store)))
            case Count():
                self.run(model.counted(read, read.run(self.store)))


def started(
    docs: Iterable[dict[str, Any]], *, view: int = 2, page_size: int = 5
) -> tuple[QueueModel, FakeQueueStore, Driver]:
    """A queue on ``view`` (All open), loaded and counted, its reads log cleared."""
    store = FakeQueueStore(docs)
    model = QueueModel(store, VIEWS, view, page_size)
    driver = Driver(model, store)
    driver.run(model.load())
    store.reads.clear()
    return model, store, driver
