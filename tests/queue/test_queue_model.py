"""The queue's model (models/queue.py) driven without Textual or a server, in milliseconds.

A ``FakeQueueStore`` holds the tickets in memory and filters and orders them with the store's
own rules; a ``Driver`` does what the screen does with the model's commands. What a user sees
is ``driver.shown`` (the table's rows) and ``driver.counts_shown`` (the view bar), and each
test holds them to a fresh read of the fake store. The pilot tests (tests/test_app_queue.py,
tests/test_app_live.py, ...) prove the wiring to Textual and the real store.
"""

from __future__ import annotations

from datetime import timedelta

from fake_queue import BO, ME, VIEWS, Driver, FakeQueueStore, started, ticket_doc

from helpdesk_tui.models.queue import (
    PATCH_AT_MOST,
    Count,
    FetchMore,
    Load,
    Phase,
    QueueModel,
    Refill,
)

OPEN = VIEWS[2].query


def test_a_live_insert_update_and_delete_patch_the_window_without_a_read() -> None:
    model, store, driver = started([ticket_doc(n) for n in (1, 2, 4, 5)], page_size=10)
    assert driver.shown == store.fresh(OPEN, 10)

    driver.run(model.changed([store.write(ticket_doc(3), "insert")], reload=False, current=True))
    assert driver.shown == store.fresh(OPEN, 10)
    assert ticket_doc(3)["_id"] in driver.shown  # in its place: between 2 and 4

    resolved = store.write({**ticket_doc(2), "status": "resolved"}, updated=["status"])
    driver.run(model.changed([resolved], reload=False, current=True))
    assert ticket_doc(2)["_id"] not in driver.shown

    driver.run(model.changed([store.delete(ticket_doc(4)["_id"])], reload=False, current=True))
    assert driver.shown == store.fresh(OPEN, 10) == [ticket_doc(n)["_id"] for n in (1, 3, 5)]
    assert store.reads == []  # the events said it all: nothing was read


def test_a_load_replaced_by_a_newer_one_is_dropped_when_it_comes_late() -> None:
    """Two keys in a row (`2` then `3`): the read for view 2 answers after the read for view
    3. A thread worker that was replaced still posts its result: the model drops it by its
    generation, so the rows are view 3's and the keys are free."""
    mine = ticket_doc(1, assigned=ME)
    model, store, driver = started([mine, ticket_doc(2), ticket_doc(3, assigned=BO)], view=0)
    assert driver.shown == [mine["_id"]]
    driver.holding = True
    driver.run(model.show_view(1))  # Unassigned
    driver.run(model.show_view(2))  # All open
    older, newer = driver.held
    assert isinstance(older, Load) and isinstance(newer, Load)
    assert older.generation < newer.generation and driver.keys_held

    driver.finish(newer)
    driver.finish(older)  # late: dropped

    assert driver.shown == store.fresh(OPEN, 5)
    assert len(driver.shown) == 3 and not driver.keys_held and driver.cursor_to_top


def test_a_row_leaving_a_full_window_is_refilled_and_the_changes_meanwhile_wait() -> None:
    """Page size 5 of 8 tickets: Bo takes the second; the window misses a row at its end,
    which only the server knows, so one refill reads it. A change that comes during the refill
    is patched onto the refilled window, in order."""
    model, store, driver = started([ticket_doc(n) for n in range(1, 9)], view=1)
    unassigned = VIEWS[1].query
    assert driver.shown == store.fresh(unassigned, 5)
    driver.holding = True

    taken = store.write(ticket_doc(2, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))
    (refill,) = driver.held
    assert isinstance(refill, Refill) and refill.missing == 1
    assert model.phase is Phase.REFILLING

    page = refill.run(store)  # the refill reads before the next change is written
    also = store.write(ticket_doc(4, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([also], reload=False, current=True))
    assert driver.held == [refill]  # waits for the refill, no second read
    driver.held.remove(refill)
    driver.run(model.refilled(refill, page))  # the waiting change is patched on
    (again,) = driver.held  # the waiting change left a row missing too: one more refill
    assert isinstance(again, Refill)
    driver.finish(again)

    assert driver.shown == store.fresh(unassigned, 5)
    assert ticket_doc(2)["_id"] not in driver.shown and ticket_doc(4)["_id"] not in driver.shown
    assert model.phase is Phase.IDLE and store.reads.count("load") == 0


def test_a_refill_that_answers_after_a_new_load_is_dropped() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 9)], view=1)
    driver.holding = True
    taken = store.write(ticket_doc(1, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))
    driver.run(model.show_view(0))  # My tickets: none of these
    refill, load = driver.held

    driver.finish(load)
    driver.finish(refill)  # Unassigned rows, too late for this view

    assert driver.shown == [] == store.fresh(VIEWS[0].query, 5)


def test_missed_events_during_a_load_ask_for_one_more_load_then_quiet() -> None:
    model, _, driver = started([ticket_doc(n) for n in range(1, 4)])
    driver.holding = True
    driver.run(model.load(keep_window=True))
    for _ in range(3):
        driver.run(model.changed([], reload=True, current=True))
    (load,) = driver.held
    driver.finish(load)
    (again,) = (r for r in driver.held if isinstance(r, Load))  # one more, however many came
    driver.finish(again)
    assert not any(isinstance(r, Load) for r in driver.held) and model.phase is Phase.IDLE


def test_missed_events_during_a_refill_load_the_window_when_it_is_done() -> None:
    """The feed missed events while a refill ran: the refill's rows are shown, and one load
    reads what the events would have said (before, the reload waited for some later load)."""
    model, store, driver = started([ticket_doc(n) for n in range(1, 9)], view=1)
    driver.holding = True
    taken = store.write(ticket_doc(2, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))
    (refill,) = driver.held
    store.write(ticket_doc(3, assigned=BO))  # its event was lost
    driver.run(model.changed([], reload=True, current=True))
    driver.finish(refill)
    (load,) = (r for r in driver.held if isinstance(r, Load))
    driver.finish(load)
    assert driver.shown == store.fresh(VIEWS[1].query, 5)


def test_a_burst_of_changes_reloads_the_window_in_one_read() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 4)])
    burst = [store.write(ticket_doc(n), "insert") for n in range(10, 11 + PATCH_AT_MOST)]
    driver.run(model.changed(burst, reload=False, current=True))
    assert store.reads.count("load") == 1 and "refill" not in store.reads
    assert driver.shown == store.fresh(OPEN, 5)


def test_changes_while_another_screen_is_on_top_load_once_when_the_queue_is_back() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 4)])
    for n in (7, 8, 9):
        inserted = store.write(ticket_doc(n), "insert")
        driver.run(model.changed([inserted], reload=False, current=False))
    assert store.reads == []
    driver.run(model.resumed())
    assert store.reads == ["load", "count"]  # the window, then the counts those changes moved
    assert driver.shown == store.fresh(OPEN, 5)


def test_after_a_write_of_ours_every_view_is_counted_once_the_window_is_shown() -> None:
    """Issue 28: after a take the bar said "Unassigned 7" beside six rows until the counts
    timer. Our write reloads the window, and once it is painted every view is counted."""
    model, store, driver = started([ticket_doc(n) for n in range(1, 8)], view=1)
    assert driver.counts_shown == {"mine": 0, "unassigned": 7, "open": 7}
    store.write(ticket_doc(3, assigned=ME))  # the take: its echo has not come yet
    store.reads.clear()

    driver.run(model.after_write())

    assert store.reads == ["load", "count"]
    assert driver.counts_shown == {"mine": 1, "unassigned": 6, "open": 7}
    assert len(driver.shown) == 5 and ticket_doc(3)["_id"] not in driver.shown


def test_an_update_is_counted_only_in_the_views_it_can_move() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 4)])
    retitled = store.write({**ticket_doc(1), "subject": "New words"}, updated=["subject"])
    driver.run(model.changed([retitled], reload=False, current=True))
    assert model.refresh_counts(current=True) == []  # no view filters on the subject

    taken = store.write(ticket_doc(2, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))
    (count,) = model.refresh_counts(current=True)
    assert isinstance(count, Count) and set(count.queries) == {"mine", "unassigned"}


def test_a_count_that_finished_late_leaves_the_newer_counts_views_due() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 4)])
    taken = store.write(ticket_doc(2, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))
    driver.holding = True
    driver.run(model.refresh_counts(current=True))  # Mine, Unassigned
    driver.run(model.changed([], reload=True, current=True))  # missed events: every view
    driver.run(model.refresh_counts(current=True))  # replaces the first count
    first, second = (r for r in driver.held if isinstance(r, Count))
    driver.finish(first)  # its result was on its way

    assert model.counting == {"mine", "unassigned", "open"}  # the second's, still counting
    driver.finish(second)
    assert model.counting == set()


def test_a_count_read_before_the_lease_holder_applied_an_outside_write_is_read_again() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 4)])
    store.held_index = False  # another app keeps the index
    taken = store.write(ticket_doc(2, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))
    store.reads.clear()

    driver.run(model.refresh_counts(current=True))  # at once: the holder may not have applied it
    driver.run(model.refresh_counts(current=True))  # the next pass counts once more
    store.clock += timedelta(seconds=10)
    driver.run(model.refresh_counts(current=True))  # then quiet
    assert store.reads == ["count", "count"]


def test_the_next_page_is_appended_near_the_end_and_stops_at_the_last_row() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 13)])
    assert len(driver.shown) == 5
    driver.run(model.near_end(cursor_row=4))
    assert len(driver.shown) == 10
    driver.run(model.near_end(cursor_row=9))
    assert driver.shown == store.fresh(OPEN, 100)  # all 12, each once
    driver.run(model.near_end(cursor_row=11))
    assert store.reads == ["more", "more"]  # nothing after the last row


def test_a_next_page_of_an_older_load_is_not_appended_to_the_new_view() -> None:
    model, store, driver = started([ticket_doc(n) for n in range(1, 13)])
    driver.holding = True
    driver.run(model.near_end(cursor_row=4))
    driver.run(model.show_view(1))  # Unassigned
    more, load = driver.held
    assert isinstance(more, FetchMore) and isinstance(load, Load)
    store.write(ticket_doc(1, assigned=BO))
    driver.finish(load)
    driver.finish(more)
    assert driver.shown == store.fresh(VIEWS[1].query, 5)


def test_the_first_screenful_is_followed_by_the_whole_window_before_keys_and_counts() -> None:
    """The early page (read while the app started) is a screenful: it is shown at once, and
    the keys, the presence and the counts wait for the whole window read right after."""
    store = FakeQueueStore([ticket_doc(n) for n in range(1, 9)])
    model = QueueModel(store, VIEWS, 2, page_size=8)
    driver = Driver(model, store, holding=True)
    driver.run(model.load())
    (first,) = driver.held
    assert isinstance(first, Load) and first.early and driver.keys_held
    screenful = first.run(store)
    driver.held.clear()
    early = type(screenful)(screenful.tickets[:3], True, screenful.users, store.clock, {}, True)
    driver.run(model.loaded(first, early))
    assert len(driver.shown) == 3 and driver.keys_held and driver.painted == 0
    (whole,) = driver.held
    assert isinstance(whole, Load) and not whole.early and whole.limit == 8
    driver.finish(whole)
    assert len(driver.shown) == 8 and not driver.keys_held and driver.painted == 1
    assert any(isinstance(r, Count) for r in driver.held)


def test_a_snooze_that_ends_brings_the_ticket_back_on_the_tick() -> None:
    store = FakeQueueStore([ticket_doc(n) for n in range(1, 4)])
    store.snoozes = {ticket_doc(2)["_id"]: store.clock + timedelta(minutes=30)}
    model = QueueModel(store, VIEWS, 2, page_size=5)
    driver = Driver(model, store)
    driver.run(model.load())
    assert ticket_doc(2)["_id"] not in driver.shown
    store.clock += timedelta(minutes=31)
    store.snoozes = {}
    driver.run(model.tick(store.clock))
    assert driver.shown == store.fresh(OPEN, 5) and ticket_doc(2)["_id"] in driver.shown


def test_changes_that_waited_for_a_load_done_under_another_screen_wait_for_the_queue() -> None:
    """A load finishes while a ticket is open over the queue: the changes that came during it
    are not patched (no read for a hidden queue); the queue loads once when it is back."""
    model, store, driver = started([ticket_doc(n) for n in range(1, 9)], view=1)
    driver.holding = True
    driver.run(model.load(keep_window=True))
    (load,) = driver.held
    result = load.run(store)  # read before the change below
    taken = store.write(ticket_doc(2, assigned=BO), updated=["assignedTo"])
    driver.run(model.changed([taken], reload=False, current=True))  # waits for the load
    driver.held.remove(load)

    driver.run(model.loaded(load, result, current=False))

    assert not any(isinstance(r, Refill | Load) for r in driver.held) and model.stale
    driver.holding = False
    store.reads.clear()
    driver.run(model.resumed())
    assert store.reads[0] == "load" and driver.shown == store.fresh(VIEWS[1].query, 5)
