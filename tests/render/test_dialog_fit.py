"""Dialogs and toasts at 80x24: the hint line of a long chooser and a bulk macro's reason show."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import settle
from screen_text import screen_text

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.store.tickets import TicketStore

NUMBER = "TKT-000007"  # Ana's in-progress ticket in the demo data


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_copy_chooser_of_a_long_conversation_keeps_its_hint_line(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    ticket = demo_store.find_ticket(NUMBER)
    assert ticket.id is not None and ticket.user is not None
    for n in range(20):
        demo_store.add_message(
            ticket.id,
            sender=ticket.user,
            content=f"Message {n}: still waiting for my parcel, it is now a long story " * 2,
        )
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        key = next(k for k, t in queue.table.tickets.items() if t.ticket_number == NUMBER)
        queue.table.move_cursor(row=queue.table.get_row_index(key), animate=False)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        shown = screen_text(app)
        assert f"Copy from {NUMBER}" in shown
        assert "enter choose · esc cancel" in shown


# --- a bulk macro's report -------------------------------------------------------------------


def toast_text(app: Any, about: str = "") -> str:
    """Every toast on screen that mentions ``about``, as the user reads it: its lines joined,
    spaces collapsed. (On a loaded machine the feed may say "Not live…" meanwhile: another toast.)
    """
    from textual.widgets._toast import Toast

    shown = []
    for toast in app.screen.query(Toast):
        # Each line as drawn (cut where the toast is cut), without the toast's border.
        lines = [s.text.lstrip("▌") for s in toast.render_lines(toast.region.reset_offset)]
        text = " ".join(" ".join(lines).split())
        if about in text:
            shown.append(text)
    return " ".join(shown)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_bulk_macro_report_shows_each_refusal_reason_whole(
    store: TicketStore, people: Any, clock: Any, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from conftest import new_ticket

    from helpdesk_tui.domain.macros import Macro
    from helpdesk_tui.domain.models import Priority, Status

    outage = Macro(
        name="Outage: acknowledge",
        reply="Hi {customer_name}, we know about the outage. {agent_name}",
        status=Status.IN_PROGRESS,
        priority=Priority.URGENT,
        assignee="me",
    )
    config = Config(ui=UiConfig(poll_interval_seconds=3600), macros=[outage])
    ids = [store.create_ticket(new_ticket(people)).id for _ in range(4)]
    store.set_status(ids[1], Status.IN_PROGRESS)
    store.set_status(ids[1], Status.WAITING)  # waiting → in progress: no such transition
    waiting = store.get_ticket(ids[1]).ticket_number
    changed = store.get_ticket(ids[2]).ticket_number
    app = make_app(store, "sam@helpdesk.test", config=config)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("space", "space", "space", "space", "m")
        await settle(pilot)
        # Meanwhile the customer writes on one of them: the macro must not answer unseen.
        clock.advance(minutes=1)
        store.sibling().add_message(ids[2], sender=people.customer, content="still broken")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.2)
        shown = toast_text(app, about="Outage: acknowledge")
    assert "2 of 4 done" in shown, shown
    assert f"{waiting}: cannot move from waiting to in progress; allowed: open" in shown, shown
    assert (
        f"{changed} changed since you saw it (now open); "
        "macro 'Outage: acknowledge' was not applied" in shown
    ), shown
    assert "…" not in shown, shown


async def test_a_bulk_macro_report_with_many_refusals_keeps_its_count_on_an_80x24_screen(
    store: TicketStore, people: Any, make_app: MakeApp
) -> None:
    from conftest import new_ticket

    from helpdesk_tui.config import BulkConfig
    from helpdesk_tui.domain.macros import Macro
    from helpdesk_tui.domain.models import Status

    take = Macro(name="Take it", status=Status.IN_PROGRESS, assignee="me")
    config = Config(
        ui=UiConfig(poll_interval_seconds=3600), macros=[take], bulk=BulkConfig(confirm_over=50)
    )
    ids = [store.create_ticket(new_ticket(people)).id for _ in range(12)]
    for ticket_id in ids[:6]:  # waiting → in progress: no such transition
        store.set_status(ticket_id, Status.IN_PROGRESS)
        store.set_status(ticket_id, Status.WAITING)
    app = make_app(store, "sam@helpdesk.test", config=config)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press(*["space"] * 12, "m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.2)
        shown = toast_text(app, about="done")
        # The report's first line is on the screen (a toast taller than it loses its top).
        assert "macro “Take it” applied" in screen_text(app), screen_text(app)
        assert "6 of 12 done" in shown, shown
        assert "… and 2 more" in shown, shown
        assert shown.count("cannot move from waiting to in progress; allowed: open") == 4, shown
