"""SVG snapshots of every screen on the demo data, at a fixed clock, seed and terminal size.

Store calls run in thread workers, so each ``run_before`` waits for them (``settle``) before
and after every step: a snapshot never catches a half-loaded screen. The live feed's worker
runs until the app stops, so it is left out of that wait, and its polling loop is held (it
would re-query after ``poll_interval`` seconds, i.e. at a time that depends on how long the
run took). Cursor blinking is switched off for the same reason.

Regenerate after an intended change with ``pytest tests/render/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bson import ObjectId
from helpers import MakeApp
from pilot import settle_workers
from textual.pilot import Pilot

from helpdesk_tui.domain.models import Category, NewTicket, Priority
from helpdesk_tui.store.tickets import TicketStore

WIDE = (120, 40)
NARROW = (80, 24)
# In the 60-ticket demo: in progress, high, 8 messages, 2 internal notes (assigned to Dana).
CONVERSATION_TICKET = "TKT-000019"
HOSTILE_SUBJECT = "Refund [bold red]NOW[/] \x1b[31mred\x1b[0m [link=https://evil.example]x[/link]"
HOSTILE_CONTENT = (
    "Click [link=https://evil.example]here[/link] [bold red]NOW[/] \x1b[31mred\x1b[0m "
    "\x1b]8;;https://evil.example\x07x\x1b]8;;\x07"
)

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


def app_for(make_app: MakeApp, store: TicketStore) -> Any:
    """The demo agent's app, with the live feed's polling held until the app stops."""
    app = make_app(store)
    feed = app.feed

    def hold(_seconds: float) -> None:
        while not feed.stopped:
            time.sleep(0.02)

    feed.sleep = hold
    return app


def steps(*actions: str | Callable[[Pilot[Any]], Awaitable[None]]) -> RunBefore:
    """Key presses (a string of key names separated by spaces) and coroutines, settled between."""

    async def run(pilot: Pilot[Any]) -> None:
        pilot.app.animation_level = "none"
        await settle_workers(pilot)
        for action in actions:
            if isinstance(action, str):
                await pilot.press(*action.split())
            else:
                await action(pilot)
            await settle_workers(pilot)

    return run


def open_ticket(ticket_id: ObjectId) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def push(pilot: Pilot[Any]) -> None:
        from helpdesk_tui.screens.ticket import TicketScreen

        await pilot.app.push_screen(TicketScreen(ticket_id))

    return push


def shows(*texts: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Assert that the screen, as exported, holds each text (spaces as typed)."""

    async def check(pilot: Pilot[Any]) -> None:
        svg = pilot.app.export_screenshot(simplify=True)
        screen = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
        missing = [text for text in texts if text not in screen]
        assert not missing, f"not on screen: {missing}"

    return check


def type_text(text: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def press(pilot: Pilot[Any]) -> None:
        await pilot.press(*text)

    return press


def ticket_id(store: TicketStore, number: str) -> ObjectId:
    ticket = store.find_ticket(number)
    assert ticket.id is not None
    return ticket.id


def hostile_ticket(store: TicketStore) -> ObjectId:
    """A ticket whose subject and messages hold Rich markup and terminal escape sequences."""
    customer = store.db.users.find_one({"role": "customer"}, sort=[("email", 1)])
    agent = store.user_by_email("ana@helpdesk.example")
    assert customer is not None and agent.id is not None
    created = store.create_ticket(
        NewTicket(
            subject=HOSTILE_SUBJECT,
            description=HOSTILE_CONTENT,
            user=customer["_id"],
            category=Category.PAYMENT,
            priority=Priority.HIGH,
            assigned_to=agent.id,
            tags=["[red]tag[/]"],
        ),
        actor=agent.id,
    )
    assert created.id is not None
    store.add_message(
        created.id, sender=agent.id, content="Internal: " + HOSTILE_CONTENT, internal=True
    )
    store.add_message(created.id, sender=customer["_id"], content="Again: " + HOSTILE_CONTENT)
    return created.id


# --- queue -----------------------------------------------------------------------------------


def test_queue_opens_on_my_tickets_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(app_for(make_app, demo_store), terminal_size=WIDE, run_before=steps())


def test_queue_all_open_view_sorted_by_deadline_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(app_for(make_app, demo_store), terminal_size=WIDE, run_before=steps("3"))


def test_queue_drops_columns_and_shortens_view_names_at_80x24(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(app_for(make_app, demo_store), terminal_size=NARROW, run_before=steps())


def test_help_lists_the_queue_keys_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps("question_mark", shows("Help: Queue", "Reply", "Take")),
    )


# --- ticket ----------------------------------------------------------------------------------


def test_ticket_sets_internal_notes_apart_from_replies_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    ticket = demo_store.get_ticket(target)
    assert sum(m.is_internal for m in ticket.messages) >= 2 and len(ticket.messages) >= 5
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(open_ticket(target), shows(CONVERSATION_TICKET, "INTERNAL NOTE")),
    )


def test_ticket_at_80x24(snap_compare: Any, demo_store: TicketStore, make_app: MakeApp) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    assert snap_compare(
        app_for(make_app, demo_store), terminal_size=NARROW, run_before=steps(open_ticket(target))
    )


def test_status_dialog_offers_only_the_allowed_statuses(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(open_ticket(target), "s", shows("from in progress to", "resolved")),
    )


def test_reply_screen_with_typed_text_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = ticket_id(demo_store, CONVERSATION_TICKET)
    typed = "Hi, the courier confirmed it ships today."
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(open_ticket(target), "r", type_text(typed), shows(typed, "PUBLIC REPLY")),
    )


# --- untrusted text ----------------------------------------------------------------------------

# What must appear as typed: markup unparsed, control characters spelled out.
LITERAL = (
    "[link=https://evil.example]here[/link] [bold red]NOW[/] \\x1b[31mred\\x1b[0m",
    "\\x1b]8;;https://evil.example\\x07x\\x1b]8;;\\x07",
)


def test_markup_and_escapes_in_a_ticket_render_literally(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    target = hostile_ticket(demo_store)
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(
            open_ticket(target),
            "c",  # the customer's context closed: each hostile line fits on one row
            shows(*LITERAL, "Refund [bold red]NOW[/]", "Tags: [red]tag[/]", "INTERNAL NOTE"),
        ),
    )


def test_markup_and_escapes_in_a_subject_render_literally_in_the_queue(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    hostile_ticket(demo_store)
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(shows("Refund [bold red]NOW[/] \\")),  # ESC spelled out, not obeyed
    )
