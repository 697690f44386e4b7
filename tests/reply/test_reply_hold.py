"""The reply screen's undo send and submit-as keys (issue 15, items 2 and 5).

Undo send: a sent reply is held ``[reply] undo_seconds`` (default 5) on the store's clock,
with a countdown; ``u`` recalls it into the editor. The hold runs out only when the fixed test
clock is moved past it, so "nothing was written" never rests on how long a test waited.
Submit as: ctrl+n sends and sets waiting, ctrl+f sends and resolves, through the workflow's
intermediate steps in one write.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import as_service
from helpers import QUIET, MakeApp, assert_mongoose_valid
from pilot import open_ticket, plain, record_notifications, settle
from test_app_reply import NUMBER, doc, open_reply, spy_writes, type_text

from helpdesk_tui.config import Config
from helpdesk_tui.domain.models import Status
from helpdesk_tui.screens.hold import HoldBar
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.store.tickets import TicketStore


def hold_text(reply: ReplyScreen) -> str:
    return plain(reply.query_one(HoldBar))


def statuses(store: TicketStore) -> list[tuple[str, str]]:
    ticket_id = doc(store)["_id"]
    return [(e["from"], e["to"]) for e in store.history(ticket_id) if e["action"] == "status"]


async def test_the_hold_is_five_seconds_by_default() -> None:
    assert Config().reply.undo_seconds == 5


async def test_undo_within_the_window_writes_nothing_and_puts_the_text_back_in_the_editor(
    demo_store: TicketStore, make_app: MakeApp, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET, undo_seconds=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "Shipped today")
        writes = spy_writes(demo_store, monkeypatch)
        await pilot.press("ctrl+s")
        await settle(pilot)
        bar = reply.query_one(HoldBar)
        assert bar.display and bar.has_focus
        assert "Sending reply in 5s" in hold_text(reply)
        clock.advance(seconds=3)
        reply._hold_tick()
        assert "Sending reply in 2s" in hold_text(reply)

        await pilot.press("u")
        await settle(pilot)

        assert not bar.display
        assert reply.editor.text == "Shipped today" and not reply.editor.read_only
        assert reply.editor.has_focus
        assert app.screen is reply
        # The window passes: nothing was held any more, so nothing goes out.
        clock.advance(seconds=10)
        reply._hold_tick()
        await settle(pilot)
        assert writes == []
        assert doc(demo_store)["messages"] == before["messages"]
        await pilot.press("u")  # back in the editor, `u` is a letter again
        assert reply.editor.text.endswith("u")


async def test_after_the_window_the_reply_is_written_exactly_once(
    demo_store: TicketStore, make_app: MakeApp, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET, undo_seconds=5)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "Shipped today")
        writes = spy_writes(demo_store, monkeypatch)
        await pilot.press("ctrl+s")
        clock.advance(seconds=4)
        reply._hold_tick()
        await settle(pilot)
        assert "in 1s" in hold_text(reply) and writes == []

        clock.advance(seconds=1)
        reply._hold_tick()
        reply._hold_tick()  # a second tick at the deadline: still one send
        await settle(pilot)

        assert len(writes) == 1
        after = doc(demo_store)
        assert len(after["messages"]) == len(before["messages"]) + 1
        assert after["messages"][-1]["content"] == "Shipped today"
        assert_mongoose_valid(after)
        assert app.screen is ticket
        assert ("information", "", f"Reply sent on {NUMBER}.") in notes
        await pilot.press("u")  # no hold any more: nothing to undo, nothing happens
        await settle(pilot)
        assert len(doc(demo_store)["messages"]) == len(before["messages"]) + 1


async def test_quitting_during_the_hold_keeps_the_reply_as_a_draft_and_sends_nothing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET, undo_seconds=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "Shipped today")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert reply.query_one(HoldBar).display
        key = reply.draft_key
        app.exit()
    assert doc(demo_store)["messages"] == before["messages"]
    draft = app.drafts.load(key, internal=False)
    assert draft is not None and draft.text == "Shipped today"


async def test_ctrl_g_during_the_hold_recalls_the_reply_instead_of_closing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET, undo_seconds=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "Shipped")
        await pilot.press("ctrl+s", "ctrl+g")
        await settle(pilot)
        assert app.screen is reply
        assert reply.editor.text == "Shipped" and not reply.editor.read_only


# --- submit as -------------------------------------------------------------------------------


async def test_ctrl_n_sends_and_sets_waiting_from_open_through_in_progress_in_one_write(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id = doc(demo_store)["_id"]
    demo_store.tickets.update_one({"_id": ticket_id}, {"$set": {"status": "open"}})
    as_service(demo_store, ticket_id)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        await open_reply(pilot)
        await type_text(pilot, "Which address?")
        writes = spy_writes(demo_store, monkeypatch)
        await pilot.press("ctrl+n")
        await settle(pilot)
    assert len(writes) == 1
    after = doc(demo_store)
    assert after["status"] == "waiting"
    assert after["messages"][-1]["content"] == "Which address?"
    assert_mongoose_valid(after)
    assert statuses(demo_store)[-2:] == [("open", "in_progress"), ("in_progress", "waiting")]


async def test_ctrl_f_sends_and_resolves(demo_store: TicketStore, make_app: MakeApp) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        await open_reply(pilot)
        await type_text(pilot, "Refunded.")
        await pilot.press("ctrl+f")
        await settle(pilot)
    after = doc(demo_store)
    assert after["status"] == "resolved"
    assert after["resolvedAt"] == after["updatedAt"]
    assert after["messages"][-1]["content"] == "Refunded."
    assert_mongoose_valid(after)
    assert statuses(demo_store)[-1] == ("in_progress", "resolved")


async def test_submit_as_where_no_path_exists_says_so_and_sends_nothing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The ticket was resolved by someone else while Ana wrote; she confirms sending anyway,
    and "send and set waiting" has no path from resolved: refused, nothing written."""
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "One more thing")
        ticket_id = doc(demo_store)["_id"]
        other = demo_store.sibling()
        other.set_status(ticket_id, Status.RESOLVED)
        before = doc(demo_store)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("y")  # "this ticket was updated: send anyway?"
        await settle(pilot)
        assert app.screen is reply and not reply.editor.read_only
    assert doc(demo_store)["messages"] == before["messages"]
    assert any("no path from resolved to waiting" in message for _, _, message in notes)


async def test_the_reply_footer_shows_both_submit_as_keys_and_f2_at_80x24(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    from helpdesk_tui.widgets.footer import KeyFooter

    app = make_app(demo_store, config=QUIET, undo_seconds=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        footer = reply.query_one(KeyFooter)
        keys = {k.description: k for k in footer.keys}
        # ^o Status gives way to F2 at 80 columns (+Wait and +Resolve stay; ^o in the palette).
        for label in ("Send", "+Wait", "+Resolve", "Reply/Note", "Canned", "Close", "Conversation"):
            assert label in keys, sorted(keys)
            key = keys[label]
            assert key.start < key.end <= 80, [
                (k.display, d, k.start, k.end) for d, k in keys.items()
            ]
        # Nothing is hidden under the palette hint (there is none on this screen).
        assert not [k for k in footer.keys if k.description == "palette"]
        await type_text(pilot, "Hi")
        await pilot.press("ctrl+s")
        await settle(pilot)
        bar = reply.query_one(HoldBar)
        assert bar.display and "u undo" in hold_text(reply)
        assert len(hold_text(reply).rstrip()) <= 80 - 2  # inside its padding, not cut


async def test_u_sent_in_the_same_burst_as_ctrl_s_recalls_the_reply(
    demo_store: TicketStore, make_app: MakeApp, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A laggy link delivers `ctrl+s u` at once: the u is the agent's undo, not lost."""
    from pilot import burst

    app = make_app(demo_store, config=QUIET, undo_seconds=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "Shipped today")
        writes = spy_writes(demo_store, monkeypatch)
        await burst(pilot, "ctrl+s", "u")
        await settle(pilot)
        assert not reply.query_one(HoldBar).display
        assert reply.editor.text == "Shipped today" and not reply.editor.read_only
        clock.advance(seconds=10)
        reply._hold_tick()
        await settle(pilot)
        assert writes == []
