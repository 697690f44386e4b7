"""The reply screen's @work bridges on a real server: a bug in a store call of the send (not a
refusal of the database: an exception of ours) is reported once by the app's one error path,
and the model's "not sent" reaches the screen: the editor is back, the draft is kept."""

from __future__ import annotations

from typing import Any

import pytest
from faults.helpers import AGENT, PARKED, create, open_reply
from pilot import record_notifications, settle, until
from textual.widgets import Static

from helpdesk_tui.store.tickets import TicketStore

TEXT = "Your parcel left the depot"


@pytest.mark.parametrize("call", ["before_reply", "add_message"])
async def test_a_bug_in_a_send_s_store_call_is_said_once_and_the_reply_is_kept_unsent(
    call: str,
    store: TicketStore,
    people: Any,
    db: Any,
    make_app: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the crash log goes here
    ticket = create(store, people)
    assert ticket.id is not None
    store.take(ticket.id, people.agent)
    app = make_app(store, AGENT, config=PARKED)
    said = record_notifications(app)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Dear Ms Customer, 12 Private Road")

    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_reply(pilot, ticket.id, TEXT)
        monkeypatch.setattr(store, call, broken)
        await pilot.press("ctrl+s")
        line = "Not sent, kept as a draft: an internal error."
        assert await until(pilot, lambda: any(m == line for _, _, m in said)), said
        await settle(pilot)
        bugs = [m for _, _, m in said if m.startswith("Something went wrong (RuntimeError)")]
        assert len(bugs) == 1
        assert not any("Private Road" in m for _, _, m in said)  # never the error's text
        assert app.screen is screen and not screen.editor.read_only
        assert screen.editor.text == TEXT
        assert line in str(screen.query_one("#reply-context", Static).render())
        draft = app.drafts.load(screen.draft_key)
        assert draft is not None and draft.text == TEXT
    assert db.tickets.find_one({"_id": ticket.id})["messages"] == []
