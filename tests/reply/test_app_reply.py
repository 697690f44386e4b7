"""The reply screen driven through the pilot: replies, notes, canned text, status on send,
limits, drafts that survive a crash, and the "ticket updated" guard (PRODUCT.md section 4).

Ana (agent) replies on her own in-progress ticket TKT-000007 of the demo data. Bo writes
through a second ``TicketStore`` on the same database, as another helpdesk-tui would. The live
feed is parked (one poll an hour) so only the guard can notice Bo's writes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from bson import ObjectId
from helpers import QUIET, MakeApp
from pilot import open_ticket, plain, record_notifications, settle, until
from rich.text import Text
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Static

from helpdesk_tui.config import Config, ReplyConfig, UiConfig
from helpdesk_tui.domain.models import Status
from helpdesk_tui.drafts import Drafts
from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import StoreSettings, TicketStore
from helpdesk_tui.widgets.conversation import Conversation, MessageEntry

NUMBER = "TKT-000007"  # Ana's only active ticket in the demo data: in progress
ANA = "ana@helpdesk.example"
BO = "bo@helpdesk.example"


def doc(store: TicketStore) -> dict[str, Any]:
    found = store.tickets.find_one({"ticketNumber": NUMBER})
    assert found is not None
    return found


def user_id(store: TicketStore, email: str) -> ObjectId:
    user = store.user_by_email(email)
    assert user.id is not None
    return user.id


def spy_writes(store: TicketStore, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The update documents of every write to ``tickets`` from now on."""
    writes: list[dict[str, Any]] = []
    for name in ("find_one_and_update", "update_one", "update_many", "replace_one"):
        original = getattr(store.tickets, name)

        def spy(filter: Any, update: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            writes.append(update)
            return _original(filter, update, *args, **kw)

        monkeypatch.setattr(store.tickets, name, spy)
    return writes


async def open_reply(pilot: Pilot[Any], key: str = "r") -> ReplyScreen:
    """The reply editor on TKT-000007, opened from its ticket screen with ``key``."""
    if not isinstance(pilot.app.screen, TicketScreen):
        await open_ticket(pilot, NUMBER)
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReplyScreen)
    assert screen.baseline is not None and screen.baseline.ticket_number == NUMBER
    assert screen.editor.has_focus
    return screen


def key_for(action: str) -> str:
    """The key ReplyScreen binds to ``action`` (the first one, as the footer shows it)."""
    for binding in ReplyScreen.BINDINGS:
        if isinstance(binding, Binding) and binding.action == action:
            return binding.key.split(",")[0]
    raise AssertionError(f"no key for {action}")


async def press_unless_frozen(pilot: Pilot[Any], key: str, seconds: float = 10.0) -> bool:
    """Press ``key``; False if the app stopped processing events (it froze).

    ``seconds`` is a hang detector, not a speed target: a key takes milliseconds, a frozen app
    never answers, so a generous bound only matters on a loaded CI machine.

    A frozen app cannot even shut down, so the screen that hangs is unblocked (its message
    queue closed) before returning: the test then fails instead of hanging the run.
    """
    screen = pilot.app.screen
    try:
        await asyncio.wait_for(pilot.press(key), seconds)
    except TimeoutError:
        screen._message_queue.put_nowait(None)
        await asyncio.wait_for(pilot.pause(), seconds)
        return False
    return True


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*["enter" if char == "\n" else char for char in text])


def mode(reply: ReplyScreen) -> str:
    return plain(reply.query_one("#reply-mode", Static))


def shown_messages(screen: TicketScreen) -> list[MessageEntry]:
    return screen.query_one(Conversation).messages


# --- sending ---------------------------------------------------------------------------------


async def test_r_then_ctrl_s_sends_a_public_reply_and_shows_it_on_the_ticket(
    demo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana = user_id(demo_store, ANA)
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        count = len(shown_messages(ticket))
        reply = await open_reply(pilot)
        assert "PUBLIC REPLY" in mode(reply) and not reply.has_class("-internal")
        customer = demo_store.users.find_one({"_id": before["user"]})
        assert f"to {customer['name']} <{customer['email']}>" in plain(
            reply.query_one("#reply-header", Static)
        )
        await type_text(pilot, "Shipped")
        clock.advance(minutes=2)
        await pilot.press("ctrl+s")
        await settle(pilot)

        after = doc(demo_store)
        assert len(after["messages"]) == len(before["messages"]) + 1
        sent = after["messages"][-1]
        assert sent["content"] == "Shipped"
        assert sent["isInternal"] is False
        assert sent["sender"] == ana
        assert sent["createdAt"] == clock.now
        assert after["__v"] == before["__v"] + 1
        assert after["status"] == before["status"]
        assert after["updatedAt"] == clock.now

        assert app.screen is ticket
        assert ("information", "", f"Reply sent on {NUMBER}.") in notes
        views = shown_messages(ticket)
        assert len(views) == count + 1
        assert views[-1].message.id == sent["_id"]
        assert views[-1].body().plain == sent["content"]
        assert not views[-1].internal and views[-1].look != "internal"
        assert views[-1].title.plain == "Ana Lima"
        assert not app.drafts.path(reply.draft_key).exists()  # sent: no draft left


async def test_i_sends_an_internal_note(demo_store: TicketStore, make_app: MakeApp) -> None:
    ana = user_id(demo_store, ANA)
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot, "i")
        assert "INTERNAL NOTE" in mode(reply) and reply.has_class("-internal")
        await type_text(pilot, "Sent")
        await pilot.press("ctrl+s")
        await settle(pilot)
        sent = doc(demo_store)["messages"][-1]
        assert (sent["content"], sent["isInternal"], sent["sender"]) == (
            "Sent",
            True,
            ana,
        )
        assert doc(demo_store)["__v"] == before["__v"] + 1
        assert app.screen is ticket
        assert ("information", "", f"Internal note added to {NUMBER}.") in notes
        last = shown_messages(ticket)[-1]
        assert last.message.id == sent["_id"]
        assert last.internal and last.look == "internal"
        assert "INTERNAL NOTE" in last.title.plain


async def test_a_note_written_after_keeping_a_reply_draft_goes_out_as_a_note_not_to_the_customer(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The sequence of issue 11.1: r, type, ctrl+g (draft kept), i, replace the text, ctrl+s."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        await open_reply(pilot, "r")
        await type_text(pilot, "Dear customer")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert app.screen is ticket
        note = await open_reply(pilot, "i")
        assert note.internal and "INTERNAL NOTE" in mode(note)
        await pilot.press("f7")  # select all: the note replaces whatever the editor holds
        await type_text(pilot, "Fraud risk")
        assert "INTERNAL NOTE" in mode(note)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is ticket
        reply_draft = app.drafts.load(note.draft_key)
    sent = doc(demo_store)["messages"][-1]
    assert (sent["content"], sent["isInternal"]) == ("Fraud risk", True)
    assert not any(
        m["content"] == "Fraud risk" and not m["isInternal"] for m in doc(demo_store)["messages"]
    )
    # The reply draft is still there, still public, untouched by the note.
    assert reply_draft is not None
    assert (reply_draft.text, reply_draft.internal) == ("Dear customer", False)


async def test_r_always_opens_a_public_reply_and_i_an_internal_note_whatever_drafts_exist(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reply(pilot, "i")
        await type_text(pilot, "a note")
        await pilot.press("ctrl+g")
        await settle(pilot)
        reply = await open_reply(pilot, "r")
        assert not reply.internal and "PUBLIC REPLY" in mode(reply)
        assert reply.editor.text == ""  # the note's text is not offered as a reply unasked
        await pilot.press("ctrl+g")
        await settle(pilot)
        note = await open_reply(pilot, "i")
        assert note.internal and note.editor.text == "a note"


async def test_a_draft_of_the_other_mode_is_named_and_only_brought_in_when_asked(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reply(pilot, "r")
        await type_text(pilot, "Dear customer")
        await pilot.press("ctrl+g")
        await settle(pilot)
        note = await open_reply(pilot, "i")
        context = plain(note.query_one("#reply-context", Static))
        assert "public reply draft" in context and "ctrl+l" in context
        assert note.editor.text == ""
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert note.editor.text == "Dear customer"
        assert note.internal and "INTERNAL NOTE" in mode(note)  # the mode stays the key's
        await pilot.press("ctrl+s")
        await settle(pilot)
        key = note.draft_key
        assert app.drafts.load(key) is None  # the text moved into the note: no reply draft left
    sent = doc(demo_store)["messages"][-1]
    assert (sent["content"], sent["isInternal"]) == ("Dear customer", True)


async def test_keys_pressed_after_send_cannot_change_what_is_being_sent(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reply(pilot, "r")
        await type_text(pilot, "Shipped")
        await pilot.press("ctrl+s", "ctrl+t", "x")  # typed ahead while the send is in flight
        await settle(pilot)
    sent = doc(demo_store)["messages"][-1]
    assert (sent["content"], sent["isInternal"]) == ("Shipped", False)


async def test_ctrl_t_toggles_between_reply_and_note(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        await type_text(pilot, "Noted.")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert reply.internal and reply.has_class("-internal")
        assert "INTERNAL NOTE" in mode(reply)
        assert reply.editor.text == "Noted."  # the toggle is not typed into the editor
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not reply.internal and "PUBLIC REPLY" in mode(reply)
        await pilot.press("ctrl+t", "ctrl+s")
        await settle(pilot)
        sent = doc(demo_store)["messages"][-1]
        assert (sent["content"], sent["isInternal"]) == ("Noted.", True)


async def test_ctrl_r_inserts_a_canned_response_with_placeholders_filled(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = doc(demo_store)
    customer = demo_store.users.find_one({"_id": raw["user"]})["name"]
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert [label for label, _, _ in dialog.choices] == [c.name for c in app.config.canned]
        await pilot.press(*"ackn", "enter")
        await settle(pilot)
        assert app.screen is reply and reply.editor.has_focus
        text = reply.editor.text
        assert text.startswith(f"Hi {customer},")
        assert f"about {NUMBER}." in text
        assert text.endswith("Best,\nAna Lima")
        assert "{" not in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert doc(demo_store)["messages"][-1]["content"] == text


async def test_enter_in_the_canned_dialog_picks_the_first_response_without_typing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is reply
        assert "Thanks for reaching out about TKT-000007" in reply.editor.text


async def test_status_on_send_sets_the_status_in_the_same_write_as_the_message(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = doc(demo_store)
    assert before["status"] == "in_progress"
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        reply = await open_reply(pilot)
        await type_text(pilot, "A photo?")
        # Cycles: nothing, then each allowed next state, then nothing again.
        key, seen = key_for("status_on_send"), []
        for _ in range(3):
            await pilot.press(key)
            seen.append(reply.status_on_send)
        assert seen == [Status.WAITING, Status.RESOLVED, None]
        assert reply.editor.text == "A photo?"  # not typed
        await pilot.press(key)
        assert "then set status: waiting" in mode(reply)
        writes = spy_writes(demo_store, monkeypatch)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(writes) == 1
        assert set(writes[0]) >= {"$push", "$set", "$inc"}
        assert writes[0]["$set"]["status"] == "waiting"
        after = doc(demo_store)
        assert after["status"] == "waiting"
        assert after["messages"][-1]["content"] == "A photo?"
        assert after["__v"] == before["__v"] + 1
        events = [(e["action"], e["to"]) for e in demo_store.events.find().sort("_id", 1)]
        assert events[-1] == ("status", "waiting")
        assert app.screen is ticket
        assert "Status: waiting" in plain(ticket.query_one("#ticket-header", Static))


# --- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "   \n  "])
async def test_an_empty_reply_is_refused_and_nothing_is_written(
    demo_store: TicketStore, make_app: MakeApp, typed: str
) -> None:
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        await type_text(pilot, typed)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is reply
        assert notes[-1] == (
            "error",
            "Could not do that",
            "The reply is empty: nothing was sent.",
        )
    assert doc(demo_store) == before


async def test_a_reply_over_the_configured_size_is_refused(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    before = doc(demo_store)
    config = Config(reply=ReplyConfig(max_chars=20), ui=UiConfig(poll_interval_seconds=3600))
    app = make_app(demo_store, config=config)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        reply.editor.insert("x" * 23)  # most of it pasted, the rest typed
        await type_text(pilot, "xx")
        assert "25/20" in mode(reply)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is reply
        assert notes[-1] == (
            "error",
            "Could not do that",
            "The reply is 25 characters; the limit is 20.",
        )
        assert doc(demo_store) == before
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        assert "20/20" in mode(reply)
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert doc(demo_store)["messages"][-1]["content"] == "x" * 20


# --- drafts ----------------------------------------------------------------------------------


async def test_a_draft_is_saved_as_you_type_and_restored_after_a_crash(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    before = doc(demo_store)
    first = make_app(demo_store, config=QUIET)
    async with first.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot, "i")
        path = first.drafts.path(reply.draft_key, internal=True)
        await type_text(pilot, "Half")
        await pilot.press(key_for("status_on_send"))  # in progress -> waiting, on send
        await type_text(pilot, "\nmore")
        assert await until(pilot, lambda: path.exists() and "more" in path.read_text("utf-8"))
        saved = json.loads(path.read_text(encoding="utf-8"))
        assert saved["text"] == "Half\nmore"
        assert saved["internal"] is True
        assert saved["ticket_id"] == reply.draft_key
        # The crash: the process dies here; what is on disk is all that survives.
        on_disk = path.read_text(encoding="utf-8")
    path.write_text(on_disk, encoding="utf-8")  # undo the orderly exit's own save

    second = make_app(demo_store, config=QUIET)
    notes = record_notifications(second)
    async with second.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot, "i")  # the note key finds the note draft
        assert reply.editor.text == "Half\nmore"
        assert reply.internal and "INTERNAL NOTE" in mode(reply)
        assert any(message.startswith("Draft restored") for _, _, message in notes)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not path.exists()
    sent = doc(demo_store)["messages"][-1]
    assert (sent["content"], sent["isInternal"]) == ("Half\nmore", True)
    assert len(doc(demo_store)["messages"]) == len(before["messages"]) + 1


async def test_a_draft_is_written_while_the_agent_keeps_typing_not_only_after_a_pause(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        path = app.drafts.path(reply.draft_key)
        # A steady typist: a key every 0.1 s, never the half-second pause a debounce waits for.
        for char in "steady typing":
            await pilot.press(char if char != " " else "space")
            await pilot.pause(0.1)
            if path.exists():
                break
        assert path.exists(), "nothing saved while typing on"
        saved = json.loads(path.read_text(encoding="utf-8"))["text"]
        assert saved and "steady typing".startswith(saved)  # what was typed so far


async def test_drafts_are_filed_by_database_and_ticket_number(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        assert reply.draft_key == NUMBER
        await type_text(pilot, "kept")
        reply.save_draft()
    assert app.drafts.load(NUMBER) is not None
    scoped = Drafts(app.drafts.directory, app.drafts.agent, scope="helpdesk")
    assert NUMBER in scoped.path(NUMBER).name and "helpdesk" in scoped.path(NUMBER).name


async def test_save_draft_writes_the_editor_state_at_once(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        reply.editor.text = "typed"
        reply.attachments.value = "photo.jpg, label.pdf"
        reply.save_draft()
        draft = app.drafts.load(reply.draft_key)
        assert draft is not None
        assert (draft.text, draft.attachments, draft.internal) == (
            "typed",
            "photo.jpg, label.pdf",
            False,
        )


@pytest.mark.parametrize("key", ["ctrl+g", "escape"])
async def test_cancel_keeps_the_draft_for_the_next_reply(
    demo_store: TicketStore, make_app: MakeApp, key: str
) -> None:
    before = doc(demo_store)
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        await open_reply(pilot)
        await type_text(pilot, "Later")
        assert await press_unless_frozen(pilot, key), f"the app froze on {key}"
        await settle(pilot)
        assert app.screen is ticket
        assert ("information", "", "Draft kept: it will be here when you reply again.") in notes
        draft = app.drafts.load(NUMBER)
        assert draft is not None and draft.text == "Later"
        again = await open_reply(pilot)
        assert again.editor.text == "Later"
    assert doc(demo_store) == before


async def test_emptying_the_editor_removes_the_saved_draft(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        path = app.drafts.path(reply.draft_key)
        await type_text(pilot, "ok")
        assert await until(pilot, path.exists, seconds=10)
        await pilot.press("backspace", "backspace")
        assert reply.editor.text == ""
        assert await until(pilot, lambda: not path.exists(), seconds=10)


@pytest.mark.parametrize("content", ["null", '{"ticket_id": "x", "text": 5}'])
async def test_a_corrupt_draft_file_does_not_stop_the_reply_screen_opening(
    demo_store: TicketStore, make_app: MakeApp, content: str
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, NUMBER)
        path = app.drafts.path(NUMBER)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        await pilot.press("r")
        await settle(pilot)
        assert app.return_code is None  # still running
        reply = app.screen
        assert isinstance(reply, ReplyScreen)
        assert reply.editor.text == ""


# --- the "ticket updated" guard --------------------------------------------------------------


@pytest.fixture
def bo_store(db: Any, clock: Any, demo_store: TicketStore) -> TicketStore:
    """Bo's own connection to the same database."""
    return TicketStore(db, StoreSettings(), clock=clock)


async def bo_replies_meanwhile(
    pilot: Pilot[Any], bo_store: TicketStore, clock: Any
) -> tuple[ReplyScreen, dict[str, Any]]:
    reply = await open_reply(pilot)
    await type_text(pilot, "Mine")
    clock.advance(minutes=1)
    bo = user_id(bo_store, BO)
    bo_store.add_message(reply.ticket_id, sender=bo, content="I already refunded this one.")
    theirs = doc(bo_store)
    clock.advance(minutes=1)
    await pilot.press("ctrl+s")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.title_text == "This ticket was updated"
    body = dialog.body.plain if isinstance(dialog.body, Text) else dialog.body
    assert "Bo Nilsson replied: “I already refunded this one.”" in body
    assert "Mine" not in body
    assert doc(bo_store) == theirs  # asking writes nothing
    return reply, theirs


async def test_ticket_updated_guard_answer_no_writes_nothing_and_keeps_the_draft(
    demo_store: TicketStore, bo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    app = make_app(demo_store, config=QUIET)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        reply, theirs = await bo_replies_meanwhile(pilot, bo_store, clock)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is reply
        assert reply.editor.text == "Mine"
        assert doc(demo_store) == theirs
        draft = app.drafts.load(reply.draft_key)
        assert draft is not None and draft.text == "Mine"
        # Said where the agent is, above the editor, not in a toast that would outlive it
        # and stand beside "Reply sent" after the next send.
        context = plain(reply.query_one("#reply-context", Static))
        assert "Not sent: your draft is kept" in context
        assert not any("Not sent" in note[2] for note in notes)
        # The agent has now seen Bo's reply: the next send goes through without asking.
        assert reply.baseline is not None
        assert reply.baseline.messages[-1].content == "I already refunded this one."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert notes[-1][2].startswith("Reply sent on")
        assert not any("Not sent" in note[2] for note in notes)
    after = doc(demo_store)
    assert [m["content"] for m in after["messages"][-2:]] == [
        "I already refunded this one.",
        "Mine",
    ]


async def test_ticket_updated_guard_answer_yes_sends(
    demo_store: TicketStore, bo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    ana = user_id(demo_store, ANA)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply, theirs = await bo_replies_meanwhile(pilot, bo_store, clock)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        after = doc(demo_store)
        assert after["messages"][:-1] == theirs["messages"]
        mine = after["messages"][-1]
        assert (mine["content"], mine["sender"], mine["isInternal"]) == ("Mine", ana, False)
        assert after["__v"] == theirs["__v"] + 1
        assert not app.drafts.path(reply.draft_key).exists()
        contents = [v.body().plain for v in shown_messages(screen)]
        assert contents[-2:] == ["I already refunded this one.", "Mine"]


async def test_ticket_updated_guard_also_catches_a_status_change(
    demo_store: TicketStore, bo_store: TicketStore, make_app: MakeApp, clock: Any
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        await type_text(pilot, "Done?")
        clock.advance(minutes=1)
        bo_store.set_status(reply.ticket_id, Status.RESOLVED, actor=user_id(bo_store, BO))
        theirs = doc(bo_store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "status in progress → resolved" in str(dialog.body)
        await pilot.press("q")  # q says no, too
        await settle(pilot)
        assert app.screen is reply
    assert doc(demo_store) == theirs


async def test_after_sending_the_conversation_shows_the_sent_reply_at_the_bottom(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        ticket = await open_ticket(pilot, NUMBER)
        conversation = ticket.query_one("#conversation")
        conversation.scroll_home(animate=False)
        await settle(pilot)
        assert not conversation.is_vertical_scroll_end  # the agent had scrolled up to read
        await open_reply(pilot)
        await type_text(pilot, "Shipped")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is ticket
        assert shown_messages(ticket)[-1].body().plain == "Shipped"
        assert await until(pilot, lambda: conversation.is_vertical_scroll_end)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_toast_on_the_reply_screen_does_not_cover_the_editor(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size, notifications=True) as pilot:
        reply = await open_reply(pilot)
        await pilot.press("ctrl+s", "ctrl+s")  # empty: refused, twice: two toasts
        await settle(pilot)
        toasts = list(reply.query("Toast"))
        assert len(toasts) == 2
        assert toasts, "the refusal was shown"
        editor = reply.editor.region
        # What the agent sees in each cell of the editor: the editor, not a toast.
        covered = {
            (x, y)
            for y in range(editor.y, editor.bottom)
            for x in range(editor.x, editor.right)
            if "Toast" in type(reply.get_widget_at(x, y)[0]).__name__
        }
        assert not covered, f"{len(covered)} cells of the editor under a toast"
