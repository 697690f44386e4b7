"""More hints that name the key actually bound after ``[keys]`` moved it: the customer panel's
keys that open another ticket of the customer, and the yes/no of a confirm dialog."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from helpers import QUIET, MakeApp, others_of
from pilot import open_ticket, plain, record_notifications, settle
from screen_text import screen_text
from textual.pilot import Pilot
from textual.widgets import Static

from helpdesk_tui.config import BulkConfig, Config
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.customer_panel import CustomerPanel

SAM = "sam@helpdesk.example"
NUMBER = "TKT-000019"  # a demo ticket whose customer has other tickets
F_KEYS = {f"open_other_{n}": f"f{n}" for n in range(1, 10)}


async def test_the_customer_panel_names_the_remapped_keys_that_open_another_ticket(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    others = others_of(demo_store, NUMBER)[:9]
    assert len(others) >= 2, "the demo customer of TKT-000019 has other tickets"
    config = Config(keys={**F_KEYS, "customer_context": "o"}, ui=QUIET.ui)
    app = make_app(demo_store, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, demo_store.find_ticket(NUMBER).id)
        text = plain(screen.query_one(CustomerPanel))
        keys = " ".join(f"f{n}" for n in range(1, len(others) + 1))
        assert text.splitlines()[-1] == f"{keys} open one · o hide", text
        # Each listed ticket carries the key that opens it.
        assert f"f2 {others[1].ticket_number} " in text, text
        assert "1-" not in text, text

        await pilot.press("2")  # no longer bound on the ticket screen
        await settle(pilot)
        assert pilot.app.screen is screen
        await pilot.press("f2")
        await settle(pilot)
        opened = pilot.app.screen
        assert isinstance(opened, TicketScreen) and opened.ticket is not None
        assert opened.ticket.ticket_number == others[1].ticket_number


def test_one_other_ticket_is_opened_by_the_key_named() -> None:
    from datetime import UTC, datetime

    from helpdesk_tui.domain.context import CustomerContext
    from helpdesk_tui.domain.models import Ticket
    from helpdesk_tui.widgets.customer_panel import render_context

    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    other = Ticket.model_validate(
        {
            "_id": ObjectId(),
            "ticketNumber": "TKT-000042",
            "subject": "Refund",
            "status": "open",
            "createdAt": now,
        }
    )
    context = CustomerContext(ObjectId(), (other,), 2, 1, now, (), True)
    text = render_context(context, now, expanded=True, width=80, more_key="o", open_keys=["f1"])
    assert text.plain.splitlines()[-1] == "f1 opens it · o hide", text.plain
    default = render_context(context, now, expanded=True, width=80)
    assert default.plain.splitlines()[-1] == "1 opens it · c hide", default.plain


async def ask_to_change_two_priorities(pilot: Pilot[Any]) -> ConfirmDialog:
    await pilot.press("space", "space", "p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ChoiceDialog)
    await pilot.press("end", "enter")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmDialog)
    return dialog


async def test_a_confirm_dialog_names_the_remapped_yes_and_no_keys_and_they_answer(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    keys = {"yes": "Y", "no": "ctrl+x,escape"}
    config = Config(keys=keys, bulk=BulkConfig(confirm_over=1), ui=QUIET.ui)
    app = make_app(demo_store, SAM, config=config)
    seen = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        dialog = await ask_to_change_two_priorities(pilot)
        assert plain(dialog.query_one("#dialog-help", Static)).strip() == "Y change 2 · ^x cancel"
        assert "Y change 2 · ^x cancel" in screen_text(app)
        await pilot.press("y")  # no longer an answer: the question stays
        await settle(pilot)
        assert app.screen is dialog
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert seen[-1][2] == "Nothing changed."

        await pilot.press("p")  # the selection is still there
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("Y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
    assert seen[-1][2].startswith("priority → low: 2 tickets."), seen


async def test_a_plain_confirm_dialog_says_the_remapped_keys_with_yes_and_no(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=Config(keys={"yes": "f5", "no": "f6"}, ui=QUIET.ui))
    answers: list[bool | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(ConfirmDialog("Sure?", "Really."), answers.append)
        await settle(pilot)
        assert "f5 yes · f6 no" in screen_text(app)
        await pilot.press("f5")
        await settle(pilot)
    assert answers == [True]
