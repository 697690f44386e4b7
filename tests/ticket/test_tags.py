"""Tags as agents type them in the tags box (issue 11, friction: tags dialog)."""

from __future__ import annotations

import pytest
from helpers import QUIET, MakeApp
from pilot import record_notifications, settle

from helpdesk_tui.domain.errors import InvalidRequest
from helpdesk_tui.domain.tags import MAX_TAG_LENGTH, normalise_tag, parse_tag_edit
from helpdesk_tui.screens.dialogs import TextDialog
from helpdesk_tui.store.tickets import TicketStore


def test_a_leading_hash_case_and_control_characters_are_not_part_of_a_tag() -> None:
    assert normalise_tag("#VIP") == "vip"
    assert normalise_tag("##refund\x1b") == "refund"


def test_a_tag_longer_than_the_limit_is_refused_with_its_length() -> None:
    with pytest.raises(InvalidRequest, match="2,000"):
        normalise_tag("x" * 2000)
    assert normalise_tag("x" * MAX_TAG_LENGTH) == "x" * MAX_TAG_LENGTH


def test_typing_after_the_existing_tags_adds_without_removing() -> None:
    assert parse_tag_edit("refund #VIP", ["refund"]) == (["vip"], [])


def test_leaving_a_tag_out_of_the_list_removes_it_whatever_its_case() -> None:
    assert parse_tag_edit("vip", ["Refund", "vip"]) == ([], ["Refund"])
    assert parse_tag_edit("-#REFUND +vip", ["Refund"]) == (["vip"], ["Refund"])


async def test_the_tags_box_opens_on_the_existing_tags_and_typing_adds_to_them(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        queue = app.screen
        ticket = next(t for t in queue.table.tickets.values() if t.tags)
        queue.table.move_cursor(row=queue.table.get_row_index(str(ticket.id)), animate=False)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        await pilot.press("space", "#", "V", "I", "P", "enter")
        await settle(pilot)
    tags = demo_store.tickets.find_one({"_id": ticket.id})["tags"]
    assert set(tags) == {*ticket.tags, "vip"}


async def test_a_pasted_paragraph_in_the_tags_box_is_refused_and_nothing_changes(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ticket = app.screen.table.current
        before = demo_store.tickets.find_one({"_id": ticket.id})["tags"]
        await pilot.press("t")
        await settle(pilot)
        app.screen.query_one("#dialog-input").value = "x" * 2000
        await pilot.press("enter")
        await settle(pilot)
    assert demo_store.tickets.find_one({"_id": ticket.id})["tags"] == before
    assert any(sev == "error" and "at most" in text for sev, _, text in seen)


def test_a_stored_tag_over_the_limit_can_still_be_kept_or_removed() -> None:
    """The limit is for what the agent types, not for what another writer stored."""
    from helpdesk_tui.domain.tags import parse_tag_edit

    stored = ["x" * 60, "ok"]

    assert parse_tag_edit(" ".join(stored), stored) == ([], [])
    assert parse_tag_edit("ok", stored) == ([], [stored[0]])
    assert parse_tag_edit(f"-{stored[0]}", stored) == ([], [stored[0]])
