"""``y`` copies through OSC 52: the number, the customer's e-mail or a message, and never a
customer's control characters."""

from __future__ import annotations

import base64
import re
from typing import Any

from helpers import QUIET, MakeApp
from pilot import highlight, record_notifications, settle
from textual.pilot import Pilot

from helpdesk_tui.domain.text import literal
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore

NUMBER = "TKT-000007"  # Ana's in-progress ticket in the demo data
OSC52 = re.compile(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")
HOSTILE = (
    "Hi,\nmy order\x1b]52;c;ZXZpbA==\x07 never came\x1b[201~; rm -rf ~\r\n"
    "\x9b31m\u202egnp.exe\ttab ok"
)


def spy_terminal(app: Any) -> list[str]:
    """Everything the app writes to the terminal from now on."""
    written: list[str] = []
    driver = app._driver
    original = driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    driver.write = write
    return written


def copied(written: list[str]) -> list[str]:
    """The texts of the OSC 52 sequences written, decoded."""
    found = OSC52.findall("".join(written))
    return [base64.b64decode(payload).decode("utf-8") for payload in found]


async def choose(pilot: Pilot[Any], label_start: str) -> None:
    """In the open copy chooser, move to the first row whose label starts so, and take it."""
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog)
    index = next(i for i, row in enumerate(dialog.choices) if row[0].startswith(label_start))
    await pilot.press(*["down"] * index, "enter")
    await settle(pilot)


async def test_y_on_the_queue_copies_the_ticket_number_with_a_toast(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, NUMBER)
        written = spy_terminal(app)
        await pilot.press("y")
        await choose(pilot, "Ticket number")
        assert copied(written) == [NUMBER]
        assert any(m == f"Copied ticket number {NUMBER}." for _, _, m in seen)


async def test_y_on_the_queue_copies_the_customer_email(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = demo_store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    customer = demo_store.users.find_one({"_id": raw["user"]})
    assert customer is not None
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, NUMBER)
        written = spy_terminal(app)
        await pilot.press("y")
        await choose(pilot, "Customer e-mail")
        assert copied(written) == [customer["email"]]


async def test_copying_a_hostile_message_never_carries_its_control_characters(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = demo_store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    demo_store.add_message(raw["_id"], sender=raw["user"], content=HOSTILE)
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, NUMBER)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.loaded
        written = spy_terminal(app)
        await pilot.press("y")
        await choose(pilot, "Message from")  # newest first: the hostile one
        # One sequence, exactly ESC ] 52 ; c ; base64 BEL, and nothing else written raw.
        sequences = [w for w in written if "\x1b]52;" in w]
        assert len(sequences) == 1 and OSC52.fullmatch(sequences[0])
        (text,) = copied(written)
        assert text == literal(HOSTILE)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
        assert "\\x1b]52;c;ZXZpbA==\\x07" in text and "\\x1b[201~" in text  # shown, not obeyed
        assert "\n" in text and "\t" in text  # the message's own lines and tabs stay
        assert any(m.startswith("Copied message from") for _, _, m in seen)


async def test_escape_in_the_chooser_copies_nothing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, NUMBER)
        written = spy_terminal(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert copied(written) == []


async def test_y_enter_in_one_burst_copies_the_number_instead_of_opening_the_ticket(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from pilot import burst

    from helpdesk_tui.screens.queue import QueueScreen

    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, NUMBER)
        written = spy_terminal(app)
        await burst(pilot, "y", "enter")  # the chooser's first row is the ticket number
        await settle(pilot)
        assert copied(written) == [NUMBER]
        assert isinstance(app.screen, QueueScreen)  # enter was the chooser's, not the row's
