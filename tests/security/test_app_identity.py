"""The app as a login opens it (issue 26): `helpdesk-tui` with ana's login and no --as starts
the app as Ana, the top bar says how that is known, and her rewritten users document gives her
no supervisor's key. Without authentication the top bar says "declared, not proven"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pilot import plain, record_notifications, settle
from textual.widgets import Static
from typer.testing import CliRunner

import helpdesk_tui.cli as cli
from helpdesk_tui.app import HelpdeskApp
from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.drafts import Drafts
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import StoreSettings, TicketStore
from helpdesk_tui.widgets.conversation import Conversation

from .conftest import AL, ANA, BO, DATABASE, SAM, AuthServer
from .test_identity import run

PARKED = UiConfig(poll_interval_seconds=3600)


def opened_by_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    """Run `helpdesk-tui ARGS` up to the point the app would start; what it would start with."""
    seen: dict[str, Any] = {}

    def run_app(store: TicketStore, config: Config, me: Any, **_: Any) -> None:
        seen.update(store=store, config=config, me=me)

    monkeypatch.setattr(cli, "_run_app", run_app)
    result = CliRunner().invoke(cli.app, list(args))
    assert result.exit_code == 0, result.stderr
    return seen


def app_for(seen: dict[str, Any], tmp_path: Path) -> HelpdeskApp:
    me = seen["me"]
    config = seen["config"].model_copy(update={"ui": PARKED})
    return HelpdeskApp(
        store=seen["store"], config=config, me=me, drafts=Drafts(tmp_path / "drafts", me.id)
    )


def top_bar(app: HelpdeskApp) -> str:
    return plain(app.screen.query_one("#top-bar", Static))


async def test_anas_login_alone_opens_the_app_as_ana_signed_in(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = opened_by_cli(monkeypatch, "--uri", auth_server.uri(ANA))
    app = app_for(seen, tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)

            assert f"Ana Alvarez (agent, signed in as {ANA})" in top_bar(app)
    finally:
        app.feed.stop()
        seen["store"].db.client.close()


async def test_the_agent_role_alone_opens_the_app_without_an_error(
    auth_server: AuthServer, new_ticket: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """al holds helpdeskAgent only: no createIndex (the followers' indexes are refused at
    start, quietly), yet the queue loads and nothing is reported as an error."""
    new_ticket()
    seen = opened_by_cli(monkeypatch, "--uri", auth_server.uri(AL))
    app = app_for(seen, tmp_path)
    notes = record_notifications(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")  # Unassigned
            await settle(pilot)

            assert f"Al Amir (agent, signed in as {AL})" in top_bar(app)
            assert app.screen.table.tickets  # type: ignore[attr-defined]
            assert [n for n in notes if n[0] == "error"] == []
    finally:
        app.feed.stop()
        seen["store"].db.client.close()


async def test_ana_with_a_supervisor_users_document_gets_no_workload_in_the_app(
    auth_server: AuthServer,
    admin_store: TicketStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with auth_server.client(ANA) as ana:
        ana[DATABASE].users.update_one({"email": ANA}, {"$set": {"role": "supervisor"}})
    try:
        seen = opened_by_cli(monkeypatch, "--uri", auth_server.uri(ANA))
        app = app_for(seen, tmp_path)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                notes = record_notifications(app)

                await pilot.press("w")  # the team workload: a supervisor's
                await settle(pilot)

                assert "(agent, signed in as" in top_bar(app)
                assert any("only a supervisor" in message for _, _, message in notes), notes
        finally:
            app.feed.stop()
            seen["store"].db.client.close()
    finally:
        admin_store.users.update_one({"email": ANA}, {"$set": {"role": "agent"}})


async def test_without_authentication_the_top_bar_says_declared_not_proven(
    db: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db.users.insert_one({"name": "Ann Agent", "email": "ann@helpdesk.test", "role": "agent"})
    store = TicketStore(db, StoreSettings())
    store.init_db()
    monkeypatch.setattr(cli, "connect", lambda _config: store)
    seen = opened_by_cli(monkeypatch, "--as", "ann@helpdesk.test")
    app = app_for(seen, tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)

            assert "Ann Agent (agent, declared, not proven)" in top_bar(app)
    finally:
        app.feed.stop()


async def test_the_ticket_history_screen_names_the_login_of_each_change(
    auth_server: AuthServer,
    new_ticket: Any,
    admin_store: TicketStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    number = new_ticket()
    assert run(auth_server.uri(SAM), "tickets", "assign", number, BO).exit_code == 0
    seen = opened_by_cli(monkeypatch, "--uri", auth_server.uri(ANA))
    app = app_for(seen, tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await app.push_screen(TicketScreen(admin_store.find_ticket(number).id))
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, TicketScreen)

            lines = [event.plain for event in screen.query_one(Conversation).events]
            (assigned,) = [line for line in lines if "assigned" in line]
            assert "Sam Sato assigned nobody → Bo Berg" in assigned
            assert f"[login {SAM}, " in assigned
    finally:
        app.feed.stop()
        seen["store"].db.client.close()
