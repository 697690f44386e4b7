"""A write the server holds past the app's bound and applies later (a server that stalled with
the reply in hand): never called "not sent" (faultwalk #11, #18: it was, and then it arrived).

The proxy (faults/dropping_proxy.py) holds the reply's command until the test releases it, so
what the app says while it waits, and after, is decided by the test, not by a race of clocks.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from helpers import MakeApp
from pilot import record_notifications, until
from pymongo import MongoClient
from typer.testing import CliRunner

from faults.dropping_proxy import DroppingProxy
from faults.helpers import AGENT, PARKED, open_reply
from faults.test_fault_reply_screen import mine
from helpdesk_tui import cli
from helpdesk_tui.screens import reply as reply_screen
from helpdesk_tui.store.outcome import Bounds
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

TEXT = "Your parcel left the depot this morning"


def copies(db: Any, ticket_id: ObjectId) -> list[Any]:
    doc = db.tickets.find_one({"_id": ticket_id})
    return [m["_id"] for m in doc["messages"] if m.get("content") == TEXT]


async def test_a_reply_held_past_the_bound_is_not_called_not_sent_and_its_late_arrival_is_said(
    store: TicketStore,
    people: Any,
    db: Any,
    make_app: MakeApp,
    fault_server: Any,
    monkeypatch: Any,
) -> None:
    ticket_id = mine(store, people)
    proxy = DroppingProxy(fault_server.port)
    client: MongoClient[Any] = MongoClient(
        f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", tz_aware=True
    )
    monkeypatch.setattr(reply_screen, "LATE_CHECK_SECONDS", 0.2)
    try:
        through = TicketStore(client[store.db.name], StoreSettings(), clock=store.clock)
        through.bounds = Bounds(read=3.0, write=0.5, settle=0.2)
        app = make_app(through, AGENT, config=PARKED)
        said = record_notifications(app)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_reply(pilot, ticket_id, TEXT)
            proxy.hold_next(TEXT.encode())
            await pilot.press("ctrl+s")
            assert await until(pilot, lambda: any(m.startswith("Not on") for _, _, m in said), 10)
            assert proxy.held.is_set()
            assert not any(m.startswith("Not sent") for _, _, m in said), said
            assert not screen.editor.read_only  # the agent has the text back
            assert copies(db, ticket_id) == []
            proxy.release()  # the server applies it now, long after the app's bound
            arrived = await until(
                pilot, lambda: any("arrived after all" in m for _, _, m in said), 15
            )
            assert arrived, said
        assert len(copies(db, ticket_id)) == 1
    finally:
        client.close()
        proxy.close()


def test_the_cli_calls_a_held_reply_unknown_exit_3_never_not_sent(
    store: TicketStore, people: Any, db: Any, fault_server: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    ticket_id = mine(store, people)
    number = store.get_ticket(ticket_id).ticket_number
    proxy = DroppingProxy(fault_server.port)
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    try:
        proxy.hold_next(TEXT.encode())
        uri = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
        result = CliRunner().invoke(
            cli.app,
            ["--uri", uri, "--db", store.db.name, "--as", AGENT, "tickets", "reply", number],
            input=TEXT,
        )
        assert proxy.held.is_set()
        assert result.exit_code == 3, result.output
        assert "not sent" not in result.stderr
        assert "no copy of the reply yet" in result.stderr
        proxy.release()
    finally:
        proxy.close()
