"""SVG snapshots of the supervisor's screens at 120x40 on the demo data and the fixed clock:
the team workload and the assign dialog. Regenerate with ``--snapshot-update``."""

from __future__ import annotations

import time
from typing import Any

from helpers import MakeApp
from test_snapshots import CONVERSATION_TICKET, WIDE, open_ticket, shows, steps, ticket_id

from helpdesk_tui.demo.seed import SUPERVISOR
from helpdesk_tui.store.tickets import TicketStore


def supervisor_app(make_app: MakeApp, store: TicketStore) -> Any:
    """Sam's app, with the live feed's polling held until the app stops (as ``app_for``)."""
    app = make_app(store, SUPERVISOR[1])
    feed = app.feed

    def hold(_seconds: float) -> None:
        while not feed.stopped:
            time.sleep(0.02)

    feed.sleep = hold
    return app


def test_workload_screen_as_supervisor(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(
        supervisor_app(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps("w", shows("Chidi Okafor")),
    )


def test_assign_dialog_on_one_ticket(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    assert snap_compare(
        supervisor_app(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(
            open_ticket(target), "A", shows(f"Assign {CONVERSATION_TICKET} to", "Chidi Okafor")
        ),
    )
