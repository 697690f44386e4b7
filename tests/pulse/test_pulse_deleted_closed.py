"""A ticket deleted while the Pulse screen is closed (issue 30): a deletion changes no
``updatedAt``, so the pulse's refresh cannot find it by itself; the app hands the feed's
deletions to the pulse whatever screen is open, and the next refresh equals a computation
from scratch (the demo store has no audit trail for a recount: test_pulse_live_screen)."""

from __future__ import annotations

from typing import Any

from pilot import settle

from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import Status
from helpdesk_tui.messages import FeedBatch
from helpdesk_tui.screens.pulse import PulseScreen
from helpdesk_tui.store.live import Batch, Change
from helpdesk_tui.store.pulse import PulseStore, pulses_of
from helpdesk_tui.store.tickets import TicketStore


async def test_a_deletion_while_the_pulse_screen_is_closed_leaves_the_figures(
    demo_store: TicketStore, clock: Any, make_app: Any
) -> None:
    store = demo_store
    app = make_app(store, seed.SUPERVISOR[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, PulseScreen) and app.screen.pulse is not None
        first = app.screen.pulse
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PulseScreen)

        # An administrator deletes an open ticket by hand; the feed tells the app.
        doc = store.tickets.find_one({"status": Status.OPEN.value}, sort=[("_id", 1)])
        assert doc is not None
        store.tickets.delete_one({"_id": doc["_id"]})
        store.queue.refresh([doc["_id"]])
        app.post_message(FeedBatch(Batch(changes=(Change(doc["_id"], "delete"),))))
        await settle(pilot)

    clock.advance(minutes=1)
    pulses = pulses_of(store)
    later = pulses.pulse()  # as the screen, opened again, would read it
    assert pulses.last is not None and not pulses.last.full  # a refresh, not a re-read
    assert later.backlog_day.open[-1] == first.backlog_day.open[-1] - 1
    # As a computation from scratch has it (no stored state to start from).
    store.db[store.settings.pulse_state].delete_many({})
    scratch = PulseStore(store)
    assert later.as_json() == scratch.compute(clock.now).as_json()
    assert scratch.last is not None and scratch.last.full
