"""`tickets reply` under injected faults: one line per outcome and an exit code a script can
act on (0 sent, 1 not sent, 3 unknown: never re-sent by the command)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import helpdesk_tui.cli as cli
from faults.helpers import cli_as_ann, create
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.store.outcome import Bounds
from helpdesk_tui.store.tickets import TicketStore


@pytest.fixture
def ticket(
    store: TicketStore, people: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Ticket]:
    """A ticket of Ann's; the CLI runs as Ann on this store."""
    cli_as_ann(store, monkeypatch, tmp_path)
    yield create(store, people)


def reply(ticket: Ticket) -> Result:
    return CliRunner().invoke(
        cli.app, ["tickets", "reply", ticket.ticket_number, "-m", "On its way"]
    )


def contents(store: TicketStore, ticket: Ticket) -> list[str]:
    assert ticket.id is not None
    return [m.content for m in store.get_ticket(ticket.id).messages]


def test_a_reply_the_server_refuses_exits_1_with_one_not_sent_line(
    store: TicketStore, ticket: Ticket, fail_point: Any
) -> None:
    with fail_point({"times": 1}, ["findAndModify"], errorCode=13, errorLabels=[]):
        result = reply(ticket)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "helpdesk-tui: not sent: database error: Failing command via 'failCommand' failpoint"
    ]
    assert contents(store, ticket) == []


def test_a_reply_held_past_its_bound_is_checked_and_reported_sent_once(
    store: TicketStore, ticket: Ticket, fail_point: Any
) -> None:
    store.bounds = Bounds(read=3.0, write=0.3, settle=2.5)
    with fail_point({"times": 1}, ["findAndModify"], blockConnection=True, blockTimeMS=1000):
        result = reply(ticket)

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"helpdesk-tui: unknown whether the reply on {ticket.ticket_number} was sent (the "
        "database did not answer in time); checking…",
        f"helpdesk-tui: checked: the reply on {ticket.ticket_number} was sent",
    ]
    assert ticket.ticket_number in result.stdout  # then the ticket, as after any reply
    assert contents(store, ticket) == ["On its way"]


def test_a_reply_whose_outcome_cannot_be_read_back_exits_3_and_is_not_sent_again(
    store: TicketStore, ticket: Ticket, fail_point: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-backs do not answer either (stood in for: one fail point at a time on this
    server, and the command's own reads must get through first): exit 3, and the reply was
    sent once, never again."""
    store.bounds = Bounds(read=3.0, write=0.3, settle=0.0)
    asked: list[object] = []

    def no_answer(pending: object) -> None:
        asked.append(pending)
        return None

    monkeypatch.setattr(store, "message_landed", no_answer)
    sends: list[object] = []
    add_message = store.add_message

    def counted(*args: Any, **kwargs: Any) -> Any:
        sends.append(args)
        return add_message(*args, **kwargs)

    monkeypatch.setattr(store, "add_message", counted)
    with fail_point({"times": 1}, ["findAndModify"], blockConnection=True, blockTimeMS=1000):
        result = reply(ticket)

    assert result.exit_code == 3
    last = result.stderr.splitlines()[-1]
    number = ticket.ticket_number
    assert last.startswith(
        f"helpdesk-tui: unknown: could not confirm whether the reply on {number} was sent"
    )
    assert f"tickets show {ticket.ticket_number}` before sending it again" in last
    assert len(asked) == cli.READ_BACKS
    assert len(sends) == 1  # checked, never sent again


def test_a_sent_reply_whose_ticket_cannot_be_shown_afterwards_still_exits_0(
    store: TicketStore, ticket: Ticket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk_tui.domain.errors import StoreUnavailable

    def stalled(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("database error: timed out")

    monkeypatch.setattr(cli, "_show", stalled)

    result = reply(ticket)

    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"helpdesk-tui: the reply on {ticket.ticket_number} was sent; the ticket could not be "
        "shown (database error: timed out)"
    ]
    assert contents(store, ticket) == ["On its way"]
