"""Drafts and big messages (issue 12, item 5): an unusable draft path never costs the reply,
drafts are bounded, and a huge message shows its first part with a key for the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from conftest import People
from helpers import AGENT, QUIET, WIDE, MakeApp, make_ticket, toasts
from pilot import open_row, press, settle

from helpdesk_tui.drafts import MAX_DRAFT_BYTES, Draft, DraftError, Drafts
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import PREVIEW_CHARS, Conversation


async def reply_and_send(pilot: Any, number: str) -> None:
    await open_row(pilot, number)
    await press(pilot, "r")
    assert isinstance(pilot.app.screen, ReplyScreen)
    await press(pilot, *"Sent anyway", "ctrl+s")


def last_message(db: Any, ticket_id: ObjectId) -> str:
    return str(db.tickets.find_one({"_id": ticket_id})["messages"][-1]["content"])


async def test_a_draft_path_that_is_a_directory_does_not_stop_the_reply(
    store: TicketStore, people: People, db: Any, make_app: MakeApp
) -> None:
    ticket_id = make_ticket(store, people, db, ticketNumber="TKT-950", assignedTo=people.agent)
    app = make_app(store, AGENT, config=QUIET)
    app.drafts.path("TKT-950").mkdir(parents=True)  # drafts are filed by number
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await reply_and_send(pilot, "TKT-950")
        assert app.is_running and isinstance(app.screen, TicketScreen)
        said = toasts(app)
        assert any("is a directory" in s for s in said), said
        assert any(s.startswith("Sent, but could not remove the draft") for s in said), said
    assert last_message(db, ticket_id) == "Sent anyway"


async def test_a_state_dir_under_a_regular_file_does_not_stop_the_reply(
    store: TicketStore, people: People, db: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    ticket_id = make_ticket(store, people, db, ticketNumber="TKT-951", assignedTo=people.agent)
    app = make_app(store, AGENT, config=QUIET)
    app.drafts.directory.parent.mkdir(parents=True, exist_ok=True)
    app.drafts.directory.write_text("a file where the drafts directory should be")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await open_row(pilot, "TKT-951")
        await press(pilot, "r", *"Sent anyway")
        await pilot.pause(0.7)  # past the draft-save pause: the save fails
        await settle(pilot)
        assert any("is not a usable directory" in s for s in toasts(app)), toasts(app)
        await press(pilot, "ctrl+s")
        assert app.is_running and isinstance(app.screen, TicketScreen)
    assert last_message(db, ticket_id) == "Sent anyway"


async def test_an_oversized_draft_is_not_opened_and_the_agent_is_told_where_it_is(
    store: TicketStore, people: People, db: Any, make_app: MakeApp
) -> None:
    ticket_id = make_ticket(store, people, db, ticketNumber="TKT-952", assignedTo=people.agent)
    app = make_app(store, AGENT, config=QUIET)
    path = app.drafts.path("TKT-952")  # drafts are filed by number
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"ticket_id": str(ticket_id), "text": "x" * (MAX_DRAFT_BYTES + 1)}))
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await open_row(pilot, "TKT-952")
        await press(pilot, "r")
        screen = app.screen
        assert isinstance(screen, ReplyScreen)
        assert screen.editor.text == ""
        said = toasts(app)[-1]
        assert "over the 256 KB limit" in said and str(path) in said
    assert path.exists()  # left where it was, for the agent to rescue


def test_a_draft_over_the_limit_is_not_saved_and_says_why(tmp_path: Path) -> None:
    drafts = Drafts(tmp_path / "drafts", ObjectId())
    ticket = str(ObjectId())

    with pytest.raises(DraftError, match=r"draft not saved: 1\.0 MB is over the 256 KB limit"):
        drafts.save(Draft(ticket_id=ticket, text="y" * (1024 * 1024)))
    assert drafts.load(ticket) is None


def test_a_draft_holding_a_lone_surrogate_is_saved_and_restored(tmp_path: Path) -> None:
    drafts = Drafts(tmp_path / "drafts", ObjectId())
    ticket = str(ObjectId())

    drafts.save(Draft(ticket_id=ticket, text="pasted \udcff bytes"))

    loaded = drafts.load(ticket)
    assert loaded is not None and loaded.text == "pasted \udcff bytes"


async def test_a_15_mb_message_shows_its_first_part_and_e_shows_more(
    store: TicketStore, people: People, db: Any, make_app: MakeApp, clock: Any
) -> None:
    huge = ("A log line the customer pasted, again and again. " * 3 + "\n") * 102_000
    assert len(huge) > 15_000_000
    message = {"_id": ObjectId(), "sender": people.customer, "content": huge,
               "attachments": [], "isInternal": False, "createdAt": clock.now}  # fmt: skip
    make_ticket(store, people, db, ticketNumber="TKT-953", messages=[message],
                assignedTo=people.agent)  # fmt: skip
    app = make_app(store, AGENT, config=QUIET)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await open_row(pilot, "TKT-953")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        conversation = screen.query_one(Conversation)
        # Only the first part crossed the wire (store/opened.py BODY_CHARS); e reads the rest.
        (view,) = [v for v in conversation.messages if v.length == len(huge)]
        assert huge.startswith(view.message.content) and len(view.message.content) < len(huge)
        shown = view.body().plain
        assert len(shown) < PREVIEW_CHARS + 200
        assert shown.startswith(huge[:100])
        assert f"… {len(huge) - PREVIEW_CHARS:,} more characters not shown: press e" in shown
        await press(pilot, "e")
        assert len(view.body().plain) > 10 * PREVIEW_CHARS - 1
        assert view.truncated
