"""The reply's send states (helpdesk_tui/models/reply.py) driven in milliseconds: a fake store,
a fixed clock, no Textual, no server. Each test says what the agent would see: the line above
the editor, the toasts, whether the editor is locked, whether the draft is kept, and how many
writes reached the store. The pilot and fault tests (tests/test_app_reply.py,
tests/test_reply_hold.py, tests/faults/) prove the screen carries these commands out."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from helpdesk_tui.domain.errors import (
    ConflictError,
    HelpdeskError,
    InvalidRequest,
    MergedAway,
    OutcomeUnknown,
    StoreUnavailable,
)
from helpdesk_tui.domain.models import Message, Status, Ticket, User
from helpdesk_tui.drafts import Draft
from helpdesk_tui.models.reply import (
    LATE_CHECKS,
    TRANSITIONS,
    IllegalTransition,
    ReplyModel,
    SendState,
    check_transition,
    moved_draft,
)
from helpdesk_tui.models.reply_commands import (
    CheckAgainLater,
    Close,
    Command,
    Confirm,
    DiscardDraft,
    EndHold,
    FollowMentions,
    LateCheckLater,
    Notify,
    OfferMove,
    ReadBack,
    ReadTicket,
    Refuse,
    SaveDraft,
    Say,
    StartHold,
    WaitForTicket,
    Write,
)

NOW = datetime(2030, 11, 26, 10, 0, tzinfo=UTC)
ME, BO, CUSTOMER, FIRST = ObjectId(), ObjectId(), ObjectId(), ObjectId()
LIMIT = 5000
S = SendState


def ticket(**fields: Any) -> Ticket:
    base: dict[str, Any] = {
        "id": ObjectId("65a000000000000000000007"),
        "ticket_number": "TKT-000007",
        "subject": "Parcel never arrived",
        "user": CUSTOMER,
        "status": Status.IN_PROGRESS,
        "assigned_to": ME,
        "updated_at": NOW,
        "messages": (Message(id=FIRST, sender=CUSTOMER, content="Where is it?"),),
    }
    return Ticket(**(base | fields))


@dataclass
class FakeStore:
    """The ``ReplyStore`` protocol over one ticket in memory; each queue says what the next
    call of that kind does (an error to raise, or a read-back answer)."""

    ticket: Ticket = field(default_factory=ticket)
    read_errors: list[HelpdeskError] = field(default_factory=list)
    write_errors: list[HelpdeskError] = field(default_factory=list)
    landed: list[bool | None] = field(default_factory=list)
    writes: list[ObjectId] = field(default_factory=list)
    users: dict[ObjectId, User] = field(
        default_factory=lambda: {BO: User(id=BO, name="Bo", email="bo@helpdesk.example")}
    )

    def get_ticket(self, ticket_id: ObjectId) -> Ticket:
        return self.ticket

    def users_by_ids(self, ids: Iterable[ObjectId | None]) -> dict[ObjectId, User]:
        return {i: self.users[i] for i in ids if i in self.users}

    def before_reply(self, ticket_id: ObjectId) -> tuple[Ticket, dict[ObjectId, User]]:
        if self.read_errors:
            raise self.read_errors.pop(0)
        return self.ticket, dict(self.users)

    def add_message(
        self,
        ticket_id: ObjectId,
        *,
        sender: ObjectId,
        content: str,
        internal: bool = False,
        attachments: Sequence[str] = (),
        set_status: Status | None = None,
        expected_updated_at: datetime | None = None,
        message_id: ObjectId | None = None,
    ) -> Ticket:
        self.writes.append(message_id or ObjectId())
        if self.write_errors:
            raise self.write_errors.pop(0)
        if expected_updated_at != self.ticket.updated_at:
            raise ConflictError("changed meanwhile")
        self.ticket = self.ticket.model_copy(
            update={
                "messages": (
                    *self.ticket.messages,
                    Message(id=message_id, sender=sender, content=content, is_internal=internal),
                ),
                "status": set_status or self.ticket.status,
                "updated_at": (self.ticket.updated_at or NOW) + timedelta(seconds=1),
            }
        )
        return self.ticket

    def message_landed(self, pending: Any) -> bool | None:
        return self.landed.pop(0)

    def someone_writes(self, **update: Any) -> None:
        """Another agent's write: the ticket changes under the reply."""
        update.setdefault("updated_at", (self.ticket.updated_at or NOW) + timedelta(minutes=1))
        self.ticket = self.ticket.model_copy(update=update)


def drive(model: ReplyModel, store: FakeStore, commands: list[Command]) -> list[Command]:
    """Carry out the store calls as the screen's workers would, answers back to the model;
    return everything else the model asked the screen to do, in order."""
    shown: list[Command] = []
    queue = list(commands)
    while queue:
        command = queue.pop(0)
        if isinstance(command, ReadTicket):
            queue += model.ticket_read(command.run(store))
        elif isinstance(command, Write):
            queue += model.written(command.run(store))
        elif isinstance(command, ReadBack):
            landed = command.run(store)
            if command.late:
                queue += model.late_checked(command, landed)
            else:
                queue += model.read_back(landed)
        else:
            shown.append(command)
    return shown


def opened(store: FakeStore) -> ReplyModel:
    model = ReplyModel(store.ticket.id or ObjectId(), store.ticket)
    assert model.opened(store.ticket, {}) == []
    return model


def submit(model: ReplyModel, text: str = "It left the depot", **kw: Any) -> list[Command]:
    args: dict[str, Any] = {
        "text": text,
        "internal": False,
        "attachments": "",
        "status": None,
        "limit": LIMIT,
        "undo_seconds": 0,
        "now": NOW,
        "me": ME,
    }
    return model.submit(**(args | kw))


def said(commands: list[Command]) -> list[str]:
    return [c.text for c in commands if isinstance(c, Say | Notify | Refuse)]


# --- the transitions ---------------------------------------------------------------------------

ALLOWED = {(before, after) for before, afters in TRANSITIONS.items() for after in afters}


@pytest.mark.parametrize("before,after", sorted(ALLOWED, key=lambda p: (p[0].value, p[1].value)))
def test_every_allowed_transition_is_accepted(before: SendState, after: SendState) -> None:
    check_transition(before, after)


@pytest.mark.parametrize(
    "before,after",
    sorted(
        set(itertools.product(SendState, SendState)) - ALLOWED,
        key=lambda p: (p[0].value, p[1].value),
    ),
)
def test_every_other_transition_raises(before: SendState, after: SendState) -> None:
    with pytest.raises(IllegalTransition, match=f"{before.value} → {after.value}"):
        check_transition(before, after)


def test_sent_and_closed_are_final_and_every_live_state_can_still_end_sent() -> None:
    assert TRANSITIONS[S.SENT] == TRANSITIONS[S.CLOSED] == frozenset()
    live = set(SendState) - {S.SENT, S.CLOSED}
    assert all(S.SENT in TRANSITIONS[state] for state in live)  # a late read-back finds it


def test_events_out_of_turn_are_refused_and_change_nothing() -> None:
    """Keys and answers that do not fit the state (a stale answer, ``u`` with nothing held)
    return no command and leave the state as it was; nothing raises."""
    store = FakeStore()
    model = opened(store)
    assert model.undo() == [] and model.tick(NOW + timedelta(hours=1)) == []
    assert model.confirmed(True) == [] and model.written(store.ticket) == []
    assert model.read_back(True) == [] and model.ticket_read((store.ticket, {})) == []
    assert model.check_again() == [] and model.late_check_due(0) == []
    assert model.state is S.EDITING and store.writes == []

    submit(model, undo_seconds=5)
    assert model.state is S.HELD
    assert submit(model) == []  # a second ctrl+s while held: still one reply
    assert model.draft_moved("TKT-000009") == []
    assert model.state is S.HELD


# --- sending -----------------------------------------------------------------------------------


def test_a_reply_goes_out_once_and_the_screen_closes_with_its_draft_discarded() -> None:
    store = FakeStore()
    model = opened(store)
    shown = drive(model, store, submit(model))
    assert model.state is S.SENT and model.finished
    assert shown == [
        SaveDraft(),
        DiscardDraft(internal=False),
        Notify("Reply sent on TKT-000007."),
        Close(sent=True),
    ]
    assert len(store.writes) == 1 and store.ticket.messages[-1].content == "It left the depot"


def test_an_internal_note_says_so_and_its_mentions_are_followed() -> None:
    store = FakeStore()
    model = opened(store)
    shown = drive(model, store, submit(model, "@bo can you look?", internal=True))
    assert "Internal note added to TKT-000007." in said(shown)
    assert FollowMentions("@bo can you look?", "TKT-000007") in shown
    assert store.ticket.messages[-1].is_internal


def test_an_empty_or_over_limit_reply_is_refused_and_the_draft_stays_as_it_is() -> None:
    store = FakeStore()
    model = opened(store)
    assert submit(model, "  \n") == [Refuse("The reply is empty: nothing was sent.")]
    over = "x" * (LIMIT + 1)
    assert submit(model, over) == [Refuse("The reply is 5,001 characters; the limit is 5,000.")]
    # No SaveDraft, no DiscardDraft: the over-limit text stays in the editor and its draft.
    assert model.state is S.EDITING and not model.locked and store.writes == []


# --- undo send ---------------------------------------------------------------------------------


def test_a_held_reply_counts_down_on_the_clock_and_is_sent_exactly_once_at_the_deadline() -> None:
    store = FakeStore()
    model = opened(store)
    assert submit(model, undo_seconds=5) == [SaveDraft(), StartHold()]
    assert model.state is S.HELD and model.locked and not model.sending
    held = model.held
    assert held is not None and held.what == "reply" and held.seconds_left(NOW) == 5
    assert held.seconds_left(NOW + timedelta(seconds=4.5)) == 1  # rounded up until sent
    assert model.tick(NOW + timedelta(seconds=4)) == [] and store.writes == []

    commands = model.tick(NOW + timedelta(seconds=5))
    assert commands[0] == EndHold() and model.state is S.CHECKING and model.sending
    assert model.tick(NOW + timedelta(seconds=5)) == []  # a second tick: still one send
    drive(model, store, commands)
    assert model.state is S.SENT and len(store.writes) == 1


def test_undo_puts_the_reply_back_in_the_editor_and_the_deadline_then_sends_nothing() -> None:
    store = FakeStore()
    model = opened(store)
    submit(model, status=Status.WAITING, undo_seconds=5)
    assert model.held is not None and model.held.what == "reply, then waiting"
    assert model.cancel(has_text=True) == [  # closing while held recalls it first
        EndHold(),
        Notify("Not sent: your reply is back in the editor."),
    ]
    assert model.state is S.EDITING and not model.locked and model.held is None
    assert model.tick(NOW + timedelta(seconds=10)) == [] and store.writes == []


# --- "ticket updated" ----------------------------------------------------------------------


def test_a_change_meanwhile_is_shown_and_review_first_keeps_the_draft() -> None:
    store = FakeStore()
    model = opened(store)
    bos = Message(id=ObjectId(), sender=BO, content="I called the depot")
    store.someone_writes(messages=(*store.ticket.messages, bos), status=Status.WAITING)
    shown = drive(model, store, submit(model))
    assert model.state is S.CONFIRMING and model.locked
    assert shown[-1] == Confirm(
        ("Bo replied: “I called the depot”", "status in progress → waiting"), "public reply"
    )
    assert model.confirmed(False) == []
    assert model.state is S.EDITING and model.not_sent and not model.locked
    assert model.baseline == store.ticket and store.writes == []  # now up to date, unsent


def test_send_anyway_writes_against_the_ticket_as_re_read() -> None:
    store = FakeStore()
    model = opened(store)
    store.someone_writes(status=Status.WAITING)
    drive(model, store, submit(model))
    shown = drive(model, store, model.confirmed(True))
    assert model.state is S.SENT and Close(sent=True) in shown and len(store.writes) == 1


def test_a_change_in_the_last_millisecond_is_caught_by_the_write_and_checked_again() -> None:
    store = FakeStore()
    model = opened(store)
    commands = submit(model)
    assert commands == [SaveDraft(), ReadTicket(model.ticket_id)]
    checked = model.ticket_read(ReadTicket(model.ticket_id).run(store))
    assert isinstance(checked[0], Write) and model.state is S.WRITING
    store.someone_writes(status=Status.WAITING)  # between the re-read and the write
    again = model.written(checked[0].run(store))
    assert again == [ReadTicket(model.ticket_id)] and model.state is S.CHECKING
    shown = drive(model, store, again)
    assert isinstance(shown[-1], Confirm) and shown[-1].changes == ("status in progress → waiting",)
    assert len(store.writes) == 1  # the refused compare-and-set wrote nothing


# --- not sent ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["read", "write"])
def test_not_sent_gives_the_editor_back_keeps_the_draft_and_says_why(stage: str) -> None:
    store = FakeStore()
    error = StoreUnavailable("the database did not answer in time")
    (store.read_errors if stage == "read" else store.write_errors).append(error)
    model = opened(store)
    shown = drive(model, store, submit(model))
    line = "Not sent, kept as a draft: the database did not answer in time."
    assert shown[-2:] == [SaveDraft(), Say(line, "error")]
    assert model.state is S.EDITING and not model.locked and model.outcome == Say(line, "error")
    assert model.draft_extra() == {}  # nothing unsettled: a resend is a new message
    # The next attempt clears the last one's outcome and goes through.
    drive(model, store, submit(model))
    assert model.outcome is None and model.state is S.SENT


def test_a_bug_in_a_store_call_is_not_sent_never_a_stuck_editor() -> None:
    store = FakeStore()
    model = opened(store)
    submit(model)
    assert model.call_failed("check") == [
        SaveDraft(),
        Say("Not sent, kept as a draft: an internal error.", "error"),
    ]
    assert model.state is S.EDITING and not model.locked


def test_a_merged_away_ticket_refuses_the_reply_and_offers_to_move_the_draft() -> None:
    store = FakeStore()
    merged = MergedAway("TKT-000007", "TKT-000009")
    store.read_errors.append(merged)
    model = opened(store)
    shown = drive(model, store, submit(model))
    assert said(shown) == [
        "Not sent, kept as a draft: TKT-000007 was merged into TKT-000009: reply there."
    ]
    assert shown[-1] == OfferMove(merged, "reply") and store.writes == []
    assert model.draft_moved("TKT-000009") == [
        Notify("Draft moved to TKT-000009: open it there and send.", lasting=True),
        Close(sent=False),
    ]
    assert model.state is S.CLOSED and model.finished  # nothing left to save here


def test_a_moved_draft_goes_after_the_draft_already_on_the_target() -> None:
    mine = Draft("TKT-000007", "It left the depot", extra={"pending_message": "x"})
    there = Draft("TKT-000009", "Hello,\n")
    moved = moved_draft(mine, there, "TKT-000009")
    assert (moved.ticket_id, moved.text, moved.extra) == (
        "TKT-000009",
        "Hello,\n\nIt left the depot",
        {},
    )
    assert moved_draft(mine, None, "TKT-000009").text == "It left the depot"


def test_a_send_before_the_ticket_loaded_waits_for_it_then_goes_out() -> None:
    store = FakeStore()
    model = ReplyModel(store.ticket.id or ObjectId(), None)
    assert model.draft_key == str(store.ticket.id)  # no number known yet
    assert submit(model) == [SaveDraft(), WaitForTicket()]
    assert model.state is S.LOADING and model.sending
    drive(model, store, model.opened(store.ticket, {}))
    assert model.state is S.SENT and len(store.writes) == 1


@pytest.mark.parametrize(
    "event,why",
    [
        ("load_too_slow", "the ticket did not load in time (the database did not answer)"),
        ("open_failed", "the ticket could not be loaded"),
    ],
)
def test_a_ticket_that_never_loads_is_not_sent(event: str, why: str) -> None:
    model = ReplyModel(ObjectId(), None)
    submit(model)
    shown = getattr(model, event)()
    assert said(shown) == [f"Not sent, kept as a draft: {why}."]
    assert model.state is S.EDITING and not model.locked


# --- outcome unknown ----------------------------------------------------------------------


def unknown(store: FakeStore) -> tuple[ReplyModel, list[Command]]:
    store.write_errors.append(OutcomeUnknown("no answer in time", pending=object()))
    model = opened(store)
    return model, drive(model, store, submit(model))


def test_an_unknown_outcome_is_read_back_never_sent_again_and_then_sent() -> None:
    store = FakeStore(landed=[None, True])
    model, shown = unknown(store)
    assert "Unknown, checking whether it was sent (no answer in time)…" in said(shown)
    assert shown[-1] == CheckAgainLater() and model.state is S.UNKNOWN and model.locked
    unsettled = model.unsettled
    assert unsettled is not None and model.draft_extra()["pending_message"] == str(unsettled[1])
    shown = drive(model, store, model.check_again())
    assert model.state is S.SENT and Close(sent=True) in shown
    assert store.writes == [unsettled[1]]  # one write, never a second


def test_not_there_yet_keeps_the_draft_gives_the_editor_back_and_checks_late_until_it_lands() -> (
    None
):
    store = FakeStore(landed=[False, False, True])
    model, shown = unknown(store)
    assert model.state is S.EDITING and not model.locked and model.late_checks == LATE_CHECKS
    assert said(shown)[-1].startswith("Not on TKT-000007 yet, so probably not sent")
    assert shown[-1] == LateCheckLater(chain=1)
    assert model.draft_extra() != {}  # the same text again reuses the message id

    shown = drive(model, store, model.late_check_due(1))
    assert shown == [LateCheckLater(chain=1)] and model.late_checks == LATE_CHECKS - 1
    shown = drive(model, store, model.late_check_due(1))
    assert said(shown)[:1] == ["It arrived after all: your reply is on TKT-000007."]
    assert shown[-1] == Close(sent=True) and model.state is S.SENT
    assert len(store.writes) == 1


def test_late_checks_stop_after_their_count_when_it_never_arrives() -> None:
    store = FakeStore(landed=[False] + [False] * LATE_CHECKS)
    model, _ = unknown(store)
    for left in range(LATE_CHECKS - 1, 0, -1):
        assert drive(model, store, model.late_check_due(1)) == [LateCheckLater(chain=1)]
        assert model.late_checks == left
    assert drive(model, store, model.late_check_due(1)) == []  # the last: no more
    assert model.state is S.EDITING and store.landed == []


def test_the_same_text_sent_again_reuses_the_message_id_and_other_text_ends_the_checks() -> None:
    store = FakeStore(landed=[False])
    model, _ = unknown(store)
    first = store.writes[0]
    assert submit(model)[-1] == ReadTicket(model.ticket_id)
    write = model.ticket_read(ReadTicket(model.ticket_id).run(store))[0]
    assert isinstance(write, Write) and write.outgoing.message_id == first
    assert model.late_check_due(1) != []  # still the same message: its checks go on

    store2 = FakeStore(landed=[False])
    model2, _ = unknown(store2)
    store2.read_errors.append(InvalidRequest("refused"))
    drive(model2, store2, submit(model2, "Something else entirely"))
    assert model2.unsettled is None and model2.late_check_due(1) == []


def test_closing_while_checking_keeps_the_draft_with_the_message_id() -> None:
    store = FakeStore(landed=[None])
    model, _ = unknown(store)
    assert model.state is S.UNKNOWN
    assert model.cancel(has_text=True) == [
        SaveDraft(),
        Notify(
            "Closed while checking whether your reply was sent: the draft is kept; sending "
            "it again cannot deliver it twice.",
            "warning",
            lasting=True,
        ),
        Close(),
    ]
    assert model.state is S.CLOSED and model.draft_extra() != {}
    assert model.read_back(True) == [] and model.check_again() == []  # answers come too late


def test_a_restored_draft_s_pending_id_is_reused_by_the_same_text() -> None:
    store = FakeStore(landed=[None])
    first, _ = unknown(store)
    extra = first.draft_extra()
    model = opened(FakeStore())
    model.restore(extra)
    assert submit(model)[-1] == ReadTicket(model.ticket_id)
    write = model.ticket_read((store.ticket, {}))
    assert isinstance(write[0], Write)
    assert first.unsettled is not None and write[0].outgoing.message_id == first.unsettled[1]
    model.restore({"pending_message": "not an id", "pending_of": "x"})  # ignored, no crash


def test_a_second_not_there_yet_starts_one_new_run_of_late_checks_not_two() -> None:
    """The same text sent again, unknown again, not there again: the first run's timer, when
    it fires, does nothing; only the new run counts down (from the full count)."""
    store = FakeStore(landed=[False])
    model, _ = unknown(store)
    store.write_errors.append(OutcomeUnknown("no answer in time", pending=object()))
    store.landed.append(False)
    shown = drive(model, store, submit(model))
    assert shown[-1] == LateCheckLater(chain=2) and model.late_checks == LATE_CHECKS
    assert model.late_check_due(1) == []  # the first run's timer: stale
    assert model.late_check_due(2) != [] and model.late_checks == LATE_CHECKS
    assert len(set(store.writes)) == 1  # both attempts carried the same message id
