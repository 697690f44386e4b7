"""Malformed documents (issue 12, item 4): each shape is shown with ⚠ and the reason, and every
action on it works or says why not in one line; nothing raises."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from conftest import People, as_service
from helpers import AGENT, QUIET, SUPERVISOR, WIDE, MakeApp, make_ticket, toasts
from pilot import open_row, plain, press, settle
from typer.testing import CliRunner

import helpdesk_tui.cli as cli
from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation, TicketHeader
from helpdesk_tui.widgets.ticket_table import TicketTable


def rows(app: Any) -> dict[str, Any]:
    """Shown rows by ticket number (or subject when there is none)."""
    table = app.screen.query_one(TicketTable)
    return {t.ticket_number or t.subject: t for t in table.tickets.values()}


def subject_cell(app: Any, ticket: Any) -> str:
    from helpdesk_tui.widgets.ticket_table import row_key

    table = app.screen.query_one(TicketTable)
    return str(table.get_cell(row_key(ticket), "subject"))


@pytest.mark.parametrize("status", ["escalated", None])
async def test_a_ticket_with_an_unknown_or_null_status_is_in_all_open_flagged_and_status_says_why(
    store: TicketStore, people: People, db: Any, make_app: MakeApp, status: str | None
) -> None:
    make_ticket(store, people, db, ticketNumber="TKT-900", status=status)
    app = make_app(store, SUPERVISOR, config=QUIET)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await press(pilot, "3")  # All open
        shown = rows(app)
        assert "TKT-900" in shown
        assert subject_cell(app, shown["TKT-900"]).startswith("⚠")
        await press(pilot, "s", "enter")  # status → the first offered
        said = toasts(app)[-1]
        assert "TKT-900: malformed status" in said and "someone else" not in said
        assert "\n" not in said.partition("\n")[2]  # one line under the title
    assert db.tickets.find_one({"ticketNumber": "TKT-900"})["status"] == status


async def test_two_tickets_with_string_ids_are_two_rows_and_enter_says_why_not(
    store: TicketStore, people: People, db: Any, make_app: MakeApp, clock: Any
) -> None:
    for number in ("HAND-1", "HAND-2"):
        db.tickets.insert_one(
            {
                "_id": f"hand-{number}",
                "ticketNumber": number,
                "subject": "Imported by hand",
                "user": people.customer,
                "category": "billing",
                "status": "open",
                "createdAt": clock.now,
                "updatedAt": clock.now,
            }
        )
    as_service(store, "hand-HAND-1", "hand-HAND-2")
    app = make_app(store, SUPERVISOR, config=QUIET)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        shown = rows(app)
        assert {"HAND-1", "HAND-2"} <= shown.keys()
        assert subject_cell(app, shown["HAND-1"]).startswith("⚠")
        await open_row(pilot, "HAND-2")
        assert isinstance(app.screen, QueueScreen)
        assert "HAND-2: malformed document (its _id is not an ObjectId)" in toasts(app)[-1]
        for key in ("a", "r", "i", "s", "t", "p"):  # each says why not, in one line
            await press(pilot, key)
            if not isinstance(app.screen, QueueScreen):  # a dialog: choose or type, enter
                await press(pilot, *(" +x" if key == "t" else ""), "enter")
            said = toasts(app)[-1]
            assert "HAND-2: malformed document" in said, (key, said)
            assert "\n" not in said, (key, said)
            assert isinstance(app.screen, QueueScreen)
    assert db.tickets.find_one({"_id": "hand-HAND-2"}).get("assignedTo") is None


async def test_duplicate_message_ids_show_both_messages_and_a_warning(
    store: TicketStore, people: People, db: Any, make_app: MakeApp, clock: Any
) -> None:
    same = ObjectId()
    messages = [
        {"_id": same, "sender": people.customer, "content": "first words", "createdAt": clock.now},
        {"_id": same, "sender": people.customer, "content": "second words", "createdAt": clock.now},
    ]
    make_ticket(store, people, db, ticketNumber="TKT-901", messages=messages,
                assignedTo=people.agent)  # fmt: skip
    app = make_app(store, AGENT, config=QUIET)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await open_row(pilot, "TKT-901")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        bodies = [view.message.content for view in screen.query_one(Conversation).messages]
        assert "first words" in bodies and "second words" in bodies
        header = plain(screen.query_one(TicketHeader))
        assert "⚠ malformed document: messages[1]._id: same _id as messages[0]" in header


async def test_a_non_objectid_assignee_is_flagged_take_says_why_and_assign_repairs_it(
    store: TicketStore, people: People, db: Any, make_app: MakeApp
) -> None:
    make_ticket(store, people, db, ticketNumber="TKT-902", assignedTo="bob")
    agent = make_app(store, AGENT, config=QUIET)
    async with agent.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        assert subject_cell(agent, rows(agent)["TKT-902"]).startswith("⚠")
        await open_row(pilot, "TKT-902")
        await press(pilot, "a")
        said = toasts(agent)[-1]
        assert "TKT-902: malformed assignedTo" in said and "taken" not in said
    assert db.tickets.find_one({"ticketNumber": "TKT-902"})["assignedTo"] == "bob"

    supervisor = make_app(store, SUPERVISOR, config=QUIET)
    async with supervisor.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        await open_row(pilot, "TKT-902")
        await press(pilot, "A", *"Bo Agent", "enter")
        assert "TKT-902: assigned to Bo Agent." in toasts(supervisor)
    assert db.tickets.find_one({"ticketNumber": "TKT-902"})["assignedTo"] == people.other_agent


async def test_a_ticket_without_a_number_is_named_in_toasts(
    store: TicketStore, people: People, db: Any, make_app: MakeApp
) -> None:
    ticket_id = make_ticket(store, people, db, ticketNumber=None, subject="No number here")
    app = make_app(store, AGENT, config=QUIET)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await press(pilot, "2", "a")
        assert f"ticket …{str(ticket_id)[-6:]} (no number): taken." in toasts(app)


@pytest.mark.parametrize(
    ("field", "value", "write"),
    [
        ("tags", "not-a-list", lambda s, i, p: s.change_tags(i, add=["x"], actor=p.agent)),
        ("tags", "not-a-list", lambda s, i, p: s.change_tags(i, remove=["y"], actor=p.agent)),
        ("messages", "hello", lambda s, i, p: s.add_message(i, sender=p.agent, content="Hi")),
    ],
    ids=["add-tag", "remove-tag", "reply"],
)
def test_array_writes_on_a_field_that_is_not_a_list_are_refused_in_one_line(
    store: TicketStore, people: People, db: Any, field: str, value: str, write: Any
) -> None:
    ticket_id = make_ticket(store, people, db, ticketNumber="TKT-903", **{field: value})

    with pytest.raises(InvalidRequest) as refused:
        write(store, ticket_id, people)

    assert (
        str(refused.value)
        == f"TKT-903: malformed document ({field} is not a list); it was not changed"
    )
    assert db.tickets.find_one({"_id": ticket_id})[field] == value


def test_cli_reply_on_a_malformed_ticket_is_refused_in_one_line_exit_1(
    store: TicketStore, people: People, db: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    make_ticket(store, people, db, ticketNumber="TKT-904", messages="hello")
    config = tmp_path / "config.toml"
    config.write_text(f'[agent]\nemail = "{AGENT}"\n')
    config.chmod(0o600)
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setattr(cli, "connect", lambda _config: store)

    result = CliRunner().invoke(cli.app, ["tickets", "reply", "TKT-904", "-m", "Hello"])

    assert result.exit_code == 1, (result.stderr, result.exception)
    assert result.stderr.splitlines() == [
        "helpdesk-tui: TKT-904: malformed document (messages is not a list); it was not changed"
    ]
