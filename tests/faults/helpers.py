"""Set-ups the fault tests share: a customer's ticket, the CLI run as Ann on the test's store,
and the reply editor opened on a ticket in a running app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pilot import settle

import helpdesk_tui.cli as cli
from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.models import Category, NewTicket, Priority, Ticket
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.store.tickets import TicketStore

AGENT = "ann@helpdesk.test"
PARKED = Config(ui=UiConfig(poll_interval_seconds=3600))


def create(store: TicketStore, people: Any, subject: str = "Parcel never arrived") -> Ticket:
    """A high-priority shipping ticket, written by the customer."""
    ticket = store.create_ticket(
        NewTicket(
            subject=subject,
            description="Ordered two weeks ago.",
            user=people.customer,
            category=Category.SHIPPING,
            priority=Priority.HIGH,
        ),
        actor=people.customer,
    )
    assert ticket.id is not None
    return ticket


def cli_as_ann(store: TicketStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI runs as Ann (her config file, no environment overrides) on ``store``."""
    config = tmp_path / "config.toml"
    config.write_text(f'[agent]\nemail = "{AGENT}"\n', encoding="utf-8")
    config.chmod(0o600)
    for name in ("HELPDESK_TUI_MONGO_URI", "MONGODB_URI", "HELPDESK_TUI_DB", "HELPDESK_TUI_AGENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setattr(cli, "connect", lambda _config: store)


async def open_reply(
    pilot: Any, ticket_id: ObjectId, text: str | None = None, ticket: Ticket | None = None
) -> ReplyScreen:
    """The reply editor pushed on ``ticket_id`` with its row, as the queue opens it (the draft
    is filed by the ticket's number from the start): ``ticket``, or the row read now. ``text``
    typed in, if given."""
    await settle(pilot)
    if ticket is None:
        ticket = pilot.app.store.get_ticket(ticket_id)
    screen = ReplyScreen(ticket_id, ticket=ticket)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    if text is not None:
        screen.editor.text = text
        await settle(pilot)
    return screen
