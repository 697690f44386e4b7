"""SVG snapshots of the customer's context on the ticket screen and the conversation above the
reply editor, at 120x40 and 80x24 (helpers and rules: tests/render/test_snapshots.py)."""

from __future__ import annotations

from typing import Any

from helpers import MakeApp
from test_snapshots import (
    CONVERSATION_TICKET,
    NARROW,
    WIDE,
    app_for,
    open_ticket,
    shows,
    steps,
    ticket_id,
    type_text,
)

from helpdesk_tui.store.tickets import TicketStore


def test_ticket_with_the_customers_context_beside_it_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(open_ticket(target), shows("Customer:", "other open", "1 TKT-")),
    )


def test_ticket_with_the_customers_context_opened_at_80x24(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=NARROW,
        run_before=steps(open_ticket(target), "c", shows("Customer:", "c hide")),
    )


def test_reply_with_the_conversation_shown_at_80x24(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    typed = "Checking with the courier now."
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=NARROW,
        run_before=steps(open_ticket(target), "r", "f2", type_text(typed), shows(typed)),
    )
