"""Found by the security walk: a macro that assigns "me" must not let an agent take another
agent's ticket (only a supervisor reassigns; PRODUCT.md section 6). Ana's own config is hers
to write, so a macro is exactly as trusted as the person at the keyboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pilot import record_notifications, settle

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.macros import Macro
from helpdesk_tui.domain.models import Status
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore

from .conftest import ANA, BO, SAM, AuthServer
from .test_app_identity import app_for, opened_by_cli
from .test_identity import run

MINE = Macro(name="Mine now", status=Status.IN_PROGRESS, assignee="me")


async def test_a_macro_assigning_me_does_not_take_another_agents_ticket_for_an_agent(
    auth_server: AuthServer,
    new_ticket: Any,
    admin_store: TicketStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    number = new_ticket()
    assert run(auth_server.uri(SAM), "tickets", "assign", number, BO).exit_code == 0
    seen = opened_by_cli(monkeypatch, "--uri", auth_server.uri(ANA))
    seen["config"] = Config(ui=UiConfig(poll_interval_seconds=3600), macros=[MINE])
    app = app_for(seen, tmp_path)
    notes = record_notifications(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await app.push_screen(TicketScreen(admin_store.find_ticket(number).id))
            await settle(pilot)
            await pilot.press("m", "enter")  # the macro picker; its first (only) macro
            await settle(pilot)
    finally:
        app.feed.stop()
        seen["store"].db.client.close()

    after = admin_store.find_ticket(number)
    assert after.assigned_to == auth_server.ids[BO]  # still Bo's
    assert after.status is Status.OPEN  # and nothing else of the macro was written
    assert any("only a supervisor" in message for _, _, message in notes), notes


async def test_a_supervisors_macro_assigning_me_takes_the_ticket_over(
    auth_server: AuthServer,
    new_ticket: Any,
    admin_store: TicketStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    number = new_ticket()
    assert run(auth_server.uri(SAM), "tickets", "assign", number, BO).exit_code == 0
    seen = opened_by_cli(monkeypatch, "--uri", auth_server.uri(SAM))
    seen["config"] = Config(ui=UiConfig(poll_interval_seconds=3600), macros=[MINE])
    app = app_for(seen, tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await app.push_screen(TicketScreen(admin_store.find_ticket(number).id))
            await settle(pilot)
            await pilot.press("m", "enter")
            await settle(pilot)
    finally:
        app.feed.stop()
        seen["store"].db.client.close()

    assert admin_store.find_ticket(number).assigned_to == auth_server.ids[SAM]
