"""The ticket screen's reads of what its first read left out (issue 29): the older messages,
a page at a time as the agent scrolls up to them (or all of them on ``home``), and the whole
body of a message the server cut, when the agent asks for more of it (``e``).

Store calls on Textual's ``@work`` (issue 28): plain values in, a typed message out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from textual import on, work
from textual.message import Message

from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.opened import OpenedTicket, earlier_messages, full_bodies
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation
from helpdesk_tui.workers import WorkFailed


class EarlierRead(Message):
    """A page of older messages, and the people who wrote them."""

    def __init__(self, page: OpenedTicket, users: dict[ObjectId, User], now: datetime) -> None:
        super().__init__()
        self.page = page
        self.users = users
        self.now = now


class BodiesRead(Message):
    """The whole bodies of messages the server had cut, by ``_id``."""

    def __init__(self, bodies: dict[Any, str]) -> None:
        super().__init__()
        self.bodies = bodies


class ConversationReads(HelpdeskScreen):
    """Mixin for the ticket screen: ``ticket_id``, ``users`` and ``load()`` are its."""

    ticket_id: ObjectId
    ticket: Ticket | None
    users: dict[ObjectId, User]

    def load(self) -> None:
        raise NotImplementedError

    def show_info(self) -> None:
        """The line under the conversation (its counts) may have changed."""

    # --- older messages ------------------------------------------------------------------------

    @on(Conversation.EarlierWanted)
    def _earlier_wanted(self, wanted: Conversation.EarlierWanted) -> None:
        wanted.stop()
        self._read_earlier(
            self.helpdesk.store, self.ticket_id, wanted.start, wanted.first, wanted.count
        )

    @work(thread=True, exit_on_error=False, group="earlier", exclusive=True)
    def _read_earlier(
        self, store: TicketStore, ticket_id: ObjectId, start: int, first: Any, count: int
    ) -> None:
        page = earlier_messages(store, ticket_id, start, first, count)
        people = [page.ticket.user, *(m.sender for m in page.ticket.messages)]
        self.post_message(EarlierRead(page, store.users_by_ids(people), store.now()))

    @on(EarlierRead)
    async def _earlier_read(self, read: EarlierRead) -> None:
        conversation = self.query_one(Conversation)
        self.users = {**self.users, **read.users}
        page = read.page
        shown = await conversation.show_earlier(
            page.ticket,
            self.users,
            read.now,
            start=page.start,
            cut=page.cut,
            follows=page.follows,
        )
        if not shown:  # the messages moved (a merge, a split): read the conversation again
            await conversation.clear()
            self.load()
        elif self.ticket is not None:
            self.ticket = conversation.with_messages_read(self.ticket)
        self.show_info()

    # --- a cut body, whole ---------------------------------------------------------------------

    def more_of_messages(self) -> None:
        """Show more of every long message (``e``): the whole bodies are read first when what
        was read of them is not enough."""
        needed = self.query_one(Conversation).bodies_needed()
        if needed:
            self._read_bodies(self.helpdesk.store, self.ticket_id, needed)
        else:
            self._show_more()

    @work(thread=True, exit_on_error=False, group="bodies", exclusive=True)
    def _read_bodies(self, store: TicketStore, ticket_id: ObjectId, needed: list[Any]) -> None:
        ids = [n for n in needed if isinstance(n, ObjectId)]
        self.post_message(BodiesRead(full_bodies(store, ticket_id, ids)))

    @on(BodiesRead)
    def _bodies_read(self, read: BodiesRead) -> None:
        self.query_one(Conversation).fill_bodies(read.bodies)
        self._show_more()

    def _show_more(self) -> None:
        if not self.query_one(Conversation).show_more():
            self.notify("Every message is shown in full.", timeout=3)

    @on(WorkFailed)
    def _read_failed(self, failed: WorkFailed) -> None:
        if failed.work == "_read_earlier":  # said once by the app: asked again on a scroll up
            self.query_one(Conversation).earlier_failed()
