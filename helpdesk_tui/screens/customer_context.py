"""The customer's context on the ticket screen: their other tickets, count, last contact and
orders (store/context.py), shown beside the conversation or under the header
(widgets/customer_panel.py); ``c`` opens or closes the list, a digit opens a ticket of it."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on, work
from textual.message import Message

from helpdesk_tui.domain.context import CustomerContext
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.context import customer_context
from helpdesk_tui.widgets.conversation import Conversation
from helpdesk_tui.widgets.customer_panel import CustomerPanel

# From this width up the customer's context is open beside the conversation (`c` closes it to
# one line under the header); below it, one line under the header until `c` opens it there.
CONTEXT_BESIDE_WIDTH = 100


@dataclass
class ContextRead(Message, bubble=False):
    """The customer's context; ``generation``: which read (a later one replaces it)."""

    context: CustomerContext | None
    generation: int


class CustomerContextActions(HelpdeskScreen):
    """The ticket screen's customer context: its ``ticket`` and what was read of the customer."""

    ticket: Ticket | None
    context: CustomerContext | None = None
    context_open: bool | None = None  # None: as the width suggests
    _context_generation = 0
    _open_when_known: int | None = None  # a ticket of the list, asked for before it came

    def load_context(self) -> None:
        """The customer's other tickets, count, last contact and orders: bounded reads."""
        ticket = self.ticket
        if ticket is None or ticket.user is None:
            return
        self._context_generation += 1
        self._read_context(ticket, self._context_generation)

    @work(thread=True, exit_on_error=False, group="context", exclusive=True)
    def _read_context(self, ticket: Ticket, generation: int) -> None:
        self.post_message(ContextRead(customer_context(self.helpdesk.store, ticket), generation))

    @on(ContextRead)
    def _context_loaded(self, message: ContextRead) -> None:
        if message.generation != self._context_generation:
            return  # a later read is coming
        self.context = message.context
        self.render_context()
        if (position := self._open_when_known) is not None:
            self._open_when_known = None
            self.action_open_other(position)
            self.release_keys()  # the keys typed after the digit: for the ticket it opened

    @property
    def context_shown(self) -> bool:
        """Whether the list is open: the agent's choice (``c``), else open when there is room."""
        if self.context_open is not None:
            return self.context_open
        return self.app.size.width >= CONTEXT_BESIDE_WIDTH

    def _context_beside(self) -> bool:
        return self.context_shown and self.app.size.width >= CONTEXT_BESIDE_WIDTH

    def render_context(self) -> None:
        # Open and wide: beside the conversation; otherwise one line (or a list) under the header.
        beside = self._context_beside()
        if beside == self.has_class("-context-under"):  # the conversation changes shape
            conversation = self.query_one(Conversation)
            if conversation.is_vertical_scroll_end:  # reading the newest: stay there
                self.call_after_refresh(conversation.scroll_end, animate=False)
        self.set_class(not beside, "-context-under")
        self.query_one(CustomerPanel).show(
            self.context,
            self.helpdesk.store.now(),
            expanded=self.context_shown,
            more_key=self.key_for("context", "c"),
            open_keys=self.open_other_keys(),
        )

    def open_other_keys(self) -> list[str]:
        """The key that opens each of the customer's listed tickets (1…9 unless ``[keys]``
        moved them), as the footer shows keys; "" for one whose key a clash took."""
        found: dict[str, str] = {}
        for active in self.active_bindings.values():
            binding = active.binding
            if active.node is self and binding.action.startswith("open_other("):
                found.setdefault(binding.action, self.app.get_key_display(binding))
        return [found.get(f"open_other({n})", "") for n in range(1, 10)]

    def on_resize(self, event: events.Resize) -> None:
        self.render_context()

    def action_context(self) -> None:
        """Open or close the customer's context (its list of other tickets)."""
        self.context_open = not self.context_shown
        self.render_context()

    def action_open_other(self, position: int) -> None:
        """Open the customer's ticket numbered ``position`` in the context list."""
        if self.context is None and self.ticket is not None and self.ticket.user is not None:
            # Typed ahead (`enter 2`) before the list came: open it when it does, and keep the
            # keys after it for that ticket.
            self._open_when_known = position
            self.hold_keys()
            return
        others = self.context.others if self.context else ()
        if not 1 <= position <= len(others):
            self.notify(f"The customer has no ticket {position} in the list.", timeout=3)
            return
        other = others[position - 1]
        if self._guarded(lambda: other.object_id):
            self.helpdesk.open_ticket(other.object_id, other)
