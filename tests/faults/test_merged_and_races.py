"""Merged tickets refuse replies (naming the target), race losers are told who won, and a
too-large draft the app says it keeps is kept. On the fault server, without fail points."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from helpers import MakeApp
from pilot import record_notifications, settle
from typer.testing import CliRunner, Result

import helpdesk_tui.cli as cli
from faults import helpers
from faults.helpers import AGENT, PARKED, create, open_reply
from helpdesk_tui.domain.errors import ConflictError, MergedAway
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.drafts import MAX_DRAFT_BYTES, Draft, Drafts
from helpdesk_tui.screens.dialogs import ConfirmDialog
from helpdesk_tui.store.merge import Merger
from helpdesk_tui.store.tickets import TicketStore


@pytest.fixture
def merged(store: TicketStore, people: Any) -> tuple[Ticket, Ticket]:
    """(source, target): the source merged into the target (closed, tagged merged-into-…)."""
    source, target = create(store, people), create(store, people, "Where is my parcel?")
    assert source.id is not None and target.id is not None
    Merger(store).merge(target.id, [source.id], actor=people.supervisor)
    return store.get_ticket(source.id), store.get_ticket(target.id)


# --- merged tickets -------------------------------------------------------------------------


def test_a_reply_to_a_merged_away_ticket_is_refused_naming_the_target_and_writes_nothing(
    store: TicketStore, people: Any, merged: tuple[Ticket, Ticket]
) -> None:
    source, target = merged
    assert source.id is not None
    before = len(source.messages)

    with pytest.raises(MergedAway) as refused:
        store.add_message(source.id, sender=people.agent, content="Any news?")

    assert str(refused.value) == (
        f"{source.ticket_number} was merged into {target.ticket_number}: reply there"
    )
    assert len(store.get_ticket(source.id).messages) == before


@pytest.fixture
def cli_as_ann(
    store: TicketStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    helpers.cli_as_ann(store, monkeypatch, tmp_path)
    yield


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.app, list(args))


def test_cli_reply_to_a_merged_away_ticket_exits_2_with_one_line_naming_the_target(
    store: TicketStore, people: Any, merged: tuple[Ticket, Ticket], cli_as_ann: None
) -> None:
    source, target = merged
    assert source.id is not None
    before = len(source.messages)

    result = run("tickets", "reply", source.ticket_number, "-m", "Any news?")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"helpdesk-tui: {source.ticket_number} was merged into {target.ticket_number}: "
        "reply there; nothing was sent"
    ]
    assert len(store.get_ticket(source.id).messages) == before


async def test_the_app_refuses_a_reply_on_a_ticket_merged_meanwhile_and_moves_the_draft(
    store: TicketStore, people: Any, make_app: MakeApp
) -> None:
    """The agent opened the reply before the merge; ctrl+s sends nothing to the closed source,
    says so naming the target, and `y` moves the draft to the target's number."""
    source, target = create(store, people), create(store, people, "Where is my parcel?")
    assert source.id is not None and target.id is not None
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, source.id, "It left the depot today", ticket=source)
        Merger(store).merge(target.id, [source.id], actor=people.supervisor)

        await pilot.press("ctrl+s")
        await settle(pilot)

        refusal = (
            f"Not sent, kept as a draft: {source.ticket_number} was merged into "
            f"{target.ticket_number}: reply there."
        )
        assert any(m == refusal for _, _, m in said), said
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is not screen
        assert any(f"Draft moved to {target.ticket_number}" in m for _, _, m in said)
    assert app.drafts.load(source.ticket_number) is None
    moved = app.drafts.load(target.ticket_number)
    assert moved is not None and moved.text == "It left the depot today"
    assert [m.content for m in store.get_ticket(source.id).messages if not m.is_internal] == []


# --- take races -----------------------------------------------------------------------------


def test_the_loser_of_a_take_race_from_a_stale_view_is_told_who_won(
    store: TicketStore, people: Any
) -> None:
    """Two stores (two programs) on the real server; Ann's view was read before Bo's take
    committed, and her take comes after it."""
    ticket = create(store, people)
    assert ticket.id is not None
    anns, bos = store, store.sibling()
    stale = anns.get_ticket(ticket.id)
    assert stale.assigned_to is None

    bos.take(ticket.id, people.other_agent)
    with pytest.raises(ConflictError) as lost:
        anns.take(ticket.id, people.agent)

    assert str(lost.value) == f"{ticket.ticket_number} was already taken by Bo Agent"
    assert anns.get_ticket(ticket.id).assigned_to == people.other_agent


@pytest.mark.parametrize("live_row", [False, True], ids=["stale-row", "row-shows-bo"])
async def test_an_agent_taking_a_ticket_bo_took_first_is_told_already_taken_by_bo(
    store: TicketStore, people: Any, make_app: MakeApp, live_row: bool
) -> None:
    """Whether the row still says unassigned or already shows Bo, `a` says who has it, never
    the supervisor rule (which is about reassigning, not about losing a race)."""
    ticket = create(store, people)
    assert ticket.id is not None
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        from helpdesk_tui.screens.ticket import TicketScreen

        screen = TicketScreen(ticket.id, ticket)
        await app.push_screen(screen)
        await settle(pilot)
        store.sibling().take(ticket.id, people.other_agent)  # Bo, from another program
        if live_row:
            screen.ticket = store.get_ticket(ticket.id)
        await pilot.press("a")
        await settle(pilot)
    messages = [m for _, _, m in said]
    assert f"{ticket.ticket_number} was already taken by Bo Agent" in messages, messages
    assert not any("supervisor" in m for m in messages)
    assert store.get_ticket(ticket.id).assigned_to == people.other_agent


# --- drafts: what the app says it keeps, it keeps ---------------------------------------------


def oversized(drafts: Drafts, number: str) -> Path:
    path = drafts.path(number)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ticket_id": number, "text": "x" * (MAX_DRAFT_BYTES + 1)}))
    return path


async def test_an_over_limit_draft_survives_closing_the_empty_editor_with_ctrl_g(
    store: TicketStore, people: Any, make_app: MakeApp
) -> None:
    ticket = create(store, people)
    assert ticket.id is not None
    app = make_app(store, AGENT, config=PARKED)
    path = oversized(app.drafts, ticket.ticket_number)
    content = path.read_bytes()
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket.id, ticket=ticket)
        assert any(f"stays in {path}" in m for _, _, m in said), said
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert app.screen is not screen
    assert path.read_bytes() == content


def test_a_new_draft_moves_an_over_limit_one_aside_and_says_where(tmp_path: Path) -> None:
    drafts = Drafts(tmp_path / "drafts", ObjectId())
    path = oversized(drafts, "TKT-7")
    content = path.read_bytes()

    aside = drafts.save(Draft(ticket_id="TKT-7", text="a fresh start"))
    drafts.discard("TKT-7")  # and a discard (after a send) leaves no new one behind

    assert aside is not None and aside.read_bytes() == content
    assert drafts.load("TKT-7") is None and not path.exists()


def test_discarding_never_removes_an_over_limit_draft(tmp_path: Path) -> None:
    drafts = Drafts(tmp_path / "drafts", ObjectId())
    path = oversized(drafts, "TKT-8")

    assert drafts.discard("TKT-8") is None
    drafts.save(Draft(ticket_id="TKT-8"))  # an empty draft: what ctrl+g saves

    assert path.exists()


@pytest.mark.parametrize("extra", [[1, 2], "x", {"pending_message": 7}, None])
def test_a_draft_with_an_unreadable_extra_field_still_opens(tmp_path: Path, extra: Any) -> None:
    drafts = Drafts(tmp_path / "drafts", ObjectId())
    path = drafts.path("TKT-9")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"ticket_id": "TKT-9", "text": "kept", "extra": extra}))

    draft = drafts.load("TKT-9")

    assert draft is not None and draft.text == "kept" and draft.extra == {}
