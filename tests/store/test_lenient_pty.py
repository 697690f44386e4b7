"""In a real pseudo-terminal (issue 27, "what it must show"): malformed snoozes and a sync point
that is not a date leave every view full and the app running past the index maintenance."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import People, new_ticket
from ptyrun import Terminal, clean_env, helpdesk_tui

from helpdesk_tui.store.queue_index import policy_fingerprint
from helpdesk_tui.store.tickets import TicketStore


def test_malformed_snoozes_and_meta_leave_the_views_full_and_the_app_running(
    store: TicketStore, people: People, db: Any, server: Any, tmp_path: Path
) -> None:
    mine = [store.create_ticket(new_ticket(people, assigned_to=people.agent)) for _ in "abc"]
    later = datetime.now(UTC) + timedelta(days=1)
    db.snoozes.insert_many(
        [
            {"agent": people.agent, "until": later, "since": later},  # no ticket
            {"agent": people.agent, "ticket": "TKT-000002", "until": later, "since": later},
            {"agent": people.agent, "ticket": mine[2].id, "until": "soon", "since": later},
        ]
    )
    fingerprint = policy_fingerprint(store.settings.sla)
    db.helpdesk_meta.replace_one(
        {"_id": "queue_index.sync"}, {"until": "not a date", "policy": fingerprint}, upsert=True
    )
    args = ["--uri", server.uri, "--db", db.name, "--as", "ann@helpdesk.test"]
    terminal = Terminal(helpdesk_tui(*args), clean_env(tmp_path))
    try:
        terminal.wait_for(b"My tickets")
        for ticket in mine:
            terminal.wait_for(ticket.ticket_number.encode())  # every row, none hidden
        # The live feed takes the lease and catches up (which raised before): wait for its
        # rewrite of the sync point, then use the app.
        deadline = time.monotonic() + 20
        while not isinstance((db.helpdesk_meta.find_one({"_id": "queue_index.sync"}) or {})
                             .get("until"), datetime):  # fmt: skip
            assert time.monotonic() < deadline, terminal.output[-400:]
            terminal.settle(0.2, 0.5)
        terminal.send("3")  # All open
        terminal.wait_for(b"All open")
        terminal.settle()
        terminal.send("1")
        terminal.settle()
        terminal.send("q")
        status = terminal.wait_exit()
    finally:
        terminal.kill()

    text = terminal.output.decode("utf-8", "replace")
    assert status == 0, text[-600:]
    assert "Traceback" not in text and "internal error" not in text
    # The skips are named in the private log file, not drawn over the app's screen.
    assert "skipped" not in text and "snoozes" not in text.lower().replace("snoozed", "")
    logged = (tmp_path / "state" / "helpdesk-tui" / "helpdesk-tui.log").read_text()
    assert "snoozes" in logged
