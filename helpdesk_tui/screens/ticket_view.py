"""The ticket screen as its merge and split actions see it (a Protocol).

``merge_actions.py`` and ``split_actions.py`` act on the ticket screen, and the ticket screen
imports them for its ``m`` and ``s`` keys: naming ``TicketScreen`` in their annotations made
an import cycle (tests/test_import_cycles.py). ``TicketScreen`` implements this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from helpdesk_tui.context import CallsStore

if TYPE_CHECKING:
    from bson import ObjectId
    from textual.app import App
    from textual.widget import Widget

    from helpdesk_tui.context import Helpdesk
    from helpdesk_tui.domain.context import CustomerContext
    from helpdesk_tui.domain.models import Ticket, User

R = TypeVar("R")
W = TypeVar("W", bound="Widget")


class TicketView(CallsStore, Protocol):
    @property
    def ticket(self) -> Ticket | None: ...
    @property
    def users(self) -> dict[ObjectId, User]: ...
    @property
    def context(self) -> CustomerContext | None: ...
    @property
    def helpdesk(self) -> Helpdesk: ...
    @property
    def app(self) -> App[object]: ...
    def notify(self, message: str, *, timeout: float | None = ...) -> None: ...
    def _guarded(self, check: Any) -> bool: ...
    def load(self) -> None: ...
    def load_context(self) -> None: ...
    def query_one(self, selector: type[W]) -> W: ...
