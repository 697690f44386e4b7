"""What a screen may use of the app, as a typed protocol: screens never import ``app.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

R = TypeVar("R")

if TYPE_CHECKING:
    from bson import ObjectId
    from rich.text import Text
    from textual.screen import Screen

    from helpdesk_tui.alerts import Alert, Alerts
    from helpdesk_tui.config import Config
    from helpdesk_tui.domain.models import Ticket
    from helpdesk_tui.domain.people import Identity
    from helpdesk_tui.drafts import Drafts
    from helpdesk_tui.store.early import EarlyStart
    from helpdesk_tui.store.followers import FollowerStore
    from helpdesk_tui.store.live import LiveFeed
    from helpdesk_tui.store.presence import PresenceStore
    from helpdesk_tui.store.tickets import TicketStore
    from helpdesk_tui.views import View


class Helpdesk(Protocol):
    """The running helpdesk as the screens see it (``HelpdeskApp`` implements it)."""

    store: TicketStore
    config: Config
    me: Identity
    drafts: Drafts
    presence: PresenceStore
    alerts: Alerts
    views: list[View]
    feed: LiveFeed
    followers: FollowerStore
    early: EarlyStart | None  # the start view's first page, read while the app started

    @property
    def feed_mode(self) -> str: ...

    @property
    def feed_live(self) -> bool: ...

    def report_error(self, error: BaseException) -> None: ...

    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...

    def alert(self, alert: Alert) -> None: ...

    def queue_painted(self) -> None: ...

    def show_help(self, screen: Screen[object]) -> None: ...
    # The navigator: a screen opens another through the app, never by importing its module
    # (screens importing each other made an import cycle; tests/arch/test_import_cycles.py).
    def open_ticket(self, ticket_id: ObjectId, summary: Ticket | None = None) -> None: ...
    def open_queue(self, view: View) -> None: ...
    def open_search(self, query: str, done: Callable[[str | None], Any]) -> None: ...
    def open_workload(self) -> None: ...
    def open_reply(
        self,
        ticket_id: ObjectId,
        *,
        internal: bool,
        ticket: Ticket | None = None,
        done: Callable[[bool | None], Any] | None = None,
    ) -> None: ...
    def open_full_text(self, title: str, body: Text) -> None: ...
    def open_pulse(self) -> None: ...
    def replying_to(self, ticket_id: ObjectId) -> bool: ...

    # Store calls that outlive the screen that asked for them (the app's own @work methods).
    def leave_ticket(self, ticket_id: ObjectId) -> None: ...
    def stop_replying(self, ticket_id: ObjectId) -> None: ...
    def toggle_follow(self, ticket_id: ObjectId, label: str) -> None: ...
    def follow_writes(self) -> Callable[[], None]: ...
    def follow_mentions(self, ticket_id: ObjectId, text: str, label: str) -> None: ...
