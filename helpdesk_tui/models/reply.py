"""The reply's send states, in plain Python: what ``ctrl+s`` starts and how it ends.

A reply is written (EDITING), may wait out its undo window (HELD), may wait for the ticket
(LOADING), is checked against a fresh read of the ticket (CHECKING; CONFIRMING when someone
changed it), is written (WRITING) and ends SENT; or it is not sent, and the editor is back
with the draft kept (EDITING again); or no answer came, and it is read back, never sent again
(UNKNOWN). A read-back that finds no copy is no proof: late checks go on while the agent edits.

``ReplyModel`` takes events (the agent's keys, the store's answers) and returns commands for
the screen (``screens/reply.py``) to carry out: show this line, read this, write that, close.
It touches no widget, no thread and no database: the store calls are commands whose ``run``
the screen calls off the event loop, against the narrow ``ReplyStore`` below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from bson import ObjectId

from helpdesk_tui.domain.errors import ConflictError, HelpdeskError, MergedAway, OutcomeUnknown
from helpdesk_tui.domain.models import Status, Ticket, User
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.drafts import Draft
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
    Outgoing,
    ReadBack,
    ReadTicket,
    Refuse,
    SaveDraft,
    Say,
    StartHold,
    StoreCall,
    Tone,
    WaitForTicket,
    Write,
)

# A write that was not on the ticket when read back is read back again this many times (a
# stalled server may still apply it); the screen spaces them (``LATE_CHECK_SECONDS``).
LATE_CHECKS = 12
# The draft remembers the message id of an attempt whose outcome was never settled, so sending
# the same text again (even after a restart) cannot make a second copy.
PENDING_ID, PENDING_OF = "pending_message", "pending_of"


class SendState(Enum):
    EDITING = "editing"  # nothing in flight: the editor is the agent's
    HELD = "held"  # in the undo window: nothing written yet
    LOADING = "loading"  # the hold is over but the ticket is still loading: sent on arrival
    CHECKING = "checking"  # re-reading the ticket: did someone change it meanwhile?
    CONFIRMING = "confirming"  # someone did: the agent is asked "send anyway?"
    WRITING = "writing"  # the write is out
    UNKNOWN = "unknown"  # no answer to the write: reading it back (never sending it again)
    SENT = "sent"
    CLOSED = "closed"  # the screen closed with the draft kept (or moved)


_LIVE = {
    SendState.EDITING,
    SendState.HELD,
    SendState.LOADING,
    SendState.CHECKING,
    SendState.CONFIRMING,
    SendState.WRITING,
    SendState.UNKNOWN,
}
S = SendState
# Every state a reply may move to from each state; anything else is a bug (IllegalTransition).
# Each live state may end in SENT: a late read-back can find the earlier attempt on the ticket.
TRANSITIONS: dict[SendState, frozenset[SendState]] = {
    S.EDITING: frozenset({S.HELD, S.LOADING, S.CHECKING, S.SENT, S.CLOSED}),
    S.HELD: frozenset({S.EDITING, S.LOADING, S.CHECKING, S.SENT}),
    S.LOADING: frozenset({S.CHECKING, S.EDITING, S.SENT}),
    S.CHECKING: frozenset({S.WRITING, S.CONFIRMING, S.EDITING, S.SENT}),
    S.CONFIRMING: frozenset({S.WRITING, S.EDITING, S.SENT}),
    S.WRITING: frozenset({S.SENT, S.CHECKING, S.UNKNOWN, S.EDITING}),
    S.UNKNOWN: frozenset({S.SENT, S.EDITING, S.CLOSED}),
    S.SENT: frozenset(),
    S.CLOSED: frozenset(),
}


class IllegalTransition(Exception):
    """A move the send states do not allow: a bug in the caller, never the agent's doing."""


def check_transition(before: SendState, after: SendState) -> None:
    if after not in TRANSITIONS[before]:
        raise IllegalTransition(f"{before.value} → {after.value}")


@dataclass(frozen=True)
class Held:
    """The reply in its undo window until ``deadline`` (the store's clock)."""

    outgoing: Outgoing
    deadline: datetime

    @property
    def what(self) -> str:
        """ "reply", "note, then Waiting", ...: what the countdown says is being sent."""
        what = self.outgoing.kind
        if self.outgoing.status is not None:
            what += f", then {self.outgoing.status.label}"
        return what

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds to show (rounded up: "1s" until it is sent)."""
        return max(0, math.ceil((self.deadline - now).total_seconds()))


def describe_changes(
    before: Ticket, after: Ticket, users: dict[ObjectId, User], me: ObjectId
) -> list[str]:
    """What another writer changed between two reads of a ticket, one line each."""
    changes: list[str] = []
    seen = {m.id for m in before.messages}
    for message in after.messages:
        if message.id in seen or message.sender == me:
            continue
        who = users.get(message.sender) if message.sender else None
        name = who.display if who else "someone"
        kind = "left an internal note" if message.is_internal else "replied"
        changes.append(f"{one_line(name, 30)} {kind}: “{one_line(message.content, 60)}”")
    if after.status is not before.status:
        changes.append(f"status {before.status.label} → {after.status.label}")
    if after.assigned_to != before.assigned_to:
        who = users.get(after.assigned_to) if after.assigned_to else None
        changes.append(f"reassigned to {one_line(who.display) if who else 'nobody'}")
    if after.priority is not before.priority:
        changes.append(f"priority {before.priority.value} → {after.priority.value}")
    return changes


def moved_draft(mine: Draft, there: Draft | None, target: str) -> Draft:
    """The draft filed under the merge target's number, after any draft already there."""
    text = f"{there.text.rstrip()}\n\n{mine.text}" if there and not there.is_empty else mine.text
    return replace(mine, ticket_id=target, text=text, extra={})


class ReplyModel:
    """One reply's way from the editor to the ticket; see the module docstring."""

    def __init__(self, ticket_id: ObjectId, summary: Ticket | None = None) -> None:
        self.ticket_id = ticket_id
        self.me: ObjectId | None = None  # who sends: given with each ``submit``
        self.summary = summary  # what the opening screen knew (number, status) before the load
        self.baseline: Ticket | None = None  # the ticket as the agent last saw it
        self.users: dict[ObjectId, User] = {}
        self.state = SendState.EDITING
        self.held: Held | None = None
        self.outcome: Say | None = None  # the last attempt's outcome when it was not "sent"
        self.not_sent = False  # the agent chose to review a change
        self.changed_under_us = False  # the feed says someone wrote on the ticket meanwhile
        # (fingerprint, message id) of an attempt that may have landed: reused by the same text.
        self.unsettled: tuple[str, ObjectId] | None = None
        self.late_checks = 0
        self._chain = 0  # which run of late checks is the current one
        self._outgoing: Outgoing | None = None  # the attempt in flight
        self._seen: Ticket | None = None  # what its write compares against
        self._pending: object = None  # what the store needs to read an unsettled write back

    # --- what the screen reads ---------------------------------------------------------------

    @property
    def sending(self) -> bool:
        """A send is under way (past its hold): the mode bar says "sending…"."""
        return self.state in (S.LOADING, S.CHECKING, S.CONFIRMING, S.WRITING, S.UNKNOWN, S.SENT)

    @property
    def locked(self) -> bool:
        """Nothing that decides what is sent may change: the editor is read-only."""
        return self.sending or self.state is S.HELD

    @property
    def finished(self) -> bool:
        """Sent, or closed with the draft already kept: nothing left to save on unmount."""
        return self.state in (S.SENT, S.CLOSED)

    @property
    def known(self) -> Ticket | None:
        return self.baseline or self.summary

    @property
    def label(self) -> str:
        known = self.known
        return known.label if known is not None else "the ticket"

    @property
    def draft_key(self) -> str:
        """What the drafts of this ticket are filed under: its number, which stays across
        restarts; the id only if no number is known."""
        known = self.known
        return known.ticket_number if known and known.ticket_number else str(self.ticket_id)

    def draft_extra(self) -> dict[str, str]:
        if self.unsettled is None:
            return {}
        return {PENDING_OF: self.unsettled[0], PENDING_ID: str(self.unsettled[1])}

    def restore(self, extra: dict[str, str]) -> None:
        """A restored draft's unsettled attempt: the same text sent again reuses its id."""
        pending, of = extra.get(PENDING_ID), extra.get(PENDING_OF)
        if isinstance(of, str) and isinstance(pending, str) and ObjectId.is_valid(pending):
            self.unsettled = (of, ObjectId(pending))

    # --- events: the ticket ------------------------------------------------------------------

    def opened(self, ticket: Ticket, users: dict[ObjectId, User]) -> list[Command]:
        self.baseline, self.users = ticket, users
        if self.state is S.LOADING:  # ctrl+s came before the ticket: send what was captured
            return self._check()
        return []

    def open_failed(self) -> list[Command]:
        if self.state is S.LOADING:
            return self._not_sent("the ticket could not be loaded")
        return []

    def load_too_slow(self) -> list[Command]:
        """Still loading a bound after the hold: nothing was sent (the load goes on)."""
        if self.state is S.LOADING:
            return self._not_sent("the ticket did not load in time (the database did not answer)")
        return []

    def ticket_changed(self) -> None:
        """Someone wrote on the ticket: said above the editor; sending will show what."""
        self.changed_under_us = True

    def macro_applied(self, ticket: Ticket) -> None:
        """Our own change is no news to the "ticket updated" guard."""
        self.baseline = ticket

    # --- events: the agent -------------------------------------------------------------------

    def submit(
        self,
        *,
        text: str,
        internal: bool,
        attachments: str,
        status: Status | None,
        limit: int,
        undo_seconds: float,
        now: datetime,
        me: ObjectId,
    ) -> list[Command]:
        """``ctrl+s``: the editor's content as it is now. Refused, or the send starts."""
        if self.state is not S.EDITING:
            return []
        if not text.strip():
            return [Refuse("The reply is empty: nothing was sent.")]
        if len(text) > limit:
            return [Refuse(f"The reply is {len(text):,} characters; the limit is {limit:,}.")]
        outgoing = Outgoing(
            text=text,
            internal=internal,
            attachments=tuple(a.strip() for a in attachments.split(",") if a.strip()),
            status=status,
        )
        if self.unsettled is not None:
            fingerprint, message_id = self.unsettled
            if fingerprint == outgoing.fingerprint:  # the same text again: the same message
                outgoing = replace(outgoing, message_id=message_id)
            else:
                self.unsettled = None
        self.outcome = None  # a new attempt: the last one's outcome is history
        self._outgoing, self.me = outgoing, me
        commands: list[Command] = [SaveDraft()]
        if undo_seconds > 0:
            self._go(S.HELD)
            self.held = Held(outgoing, now + timedelta(seconds=undo_seconds))
            return [*commands, StartHold()]
        return [*commands, *self._release()]

    def tick(self, now: datetime) -> list[Command]:
        """The countdown's clock: once it passes the deadline, the reply goes (exactly once)."""
        if self.state is not S.HELD or self.held is None or now < self.held.deadline:
            return []
        self.held = None
        return [EndHold(), *self._release()]

    def undo(self) -> list[Command]:
        """``u`` while held: back in the editor as it was, nothing written."""
        if self.state is not S.HELD:
            return []
        self._go(S.EDITING)
        self.held = None
        return [EndHold(), Notify("Not sent: your reply is back in the editor.")]

    def confirmed(self, send: bool) -> list[Command]:
        """The answer to "send anyway?"; the ticket as re-read is now what the agent saw."""
        if self.state is not S.CONFIRMING or self._seen is None:
            return []
        self.baseline = self._seen
        if send:
            return self._write(self._seen)
        self._go(S.EDITING)
        self.not_sent = True
        return []

    def cancel(self, has_text: bool) -> list[Command]:
        """``ctrl+g``/``escape``: close, keeping the draft; while held, recall the reply first;
        while a write is out, nothing (the send closes the screen itself)."""
        if self.state is S.HELD:
            return self.undo()
        if self.state is S.UNKNOWN:
            # Close; the draft keeps the message's id (sending it again cannot copy it twice).
            self._go(S.CLOSED)
            return [
                SaveDraft(),
                Notify(
                    "Closed while checking whether your reply was sent: the draft is kept; "
                    "sending it again cannot deliver it twice.",
                    "warning",
                    lasting=True,
                ),
                Close(),
            ]
        if self.state is not S.EDITING:
            return []
        self._go(S.CLOSED)
        kept = [Notify("Draft kept: it will be here when you reply again.")] if has_text else []
        return [SaveDraft(), *kept, Close()]  # an empty draft removes the file

    def draft_moved(self, target: str) -> list[Command]:
        """The draft went to the merge target: nothing is left to save here."""
        if self.state is not S.EDITING:
            return []
        self._go(S.CLOSED)
        moved = f"Draft moved to {one_line(target)}: open it there and send."
        return [Notify(moved, lasting=True), Close(False)]

    # --- events: the store's answers ---------------------------------------------------------

    def ticket_read(
        self, result: tuple[Ticket, dict[ObjectId, User]] | HelpdeskError
    ) -> list[Command]:
        if self.state is not S.CHECKING or self._outgoing is None or self._seen is None:
            return []
        assert self.me is not None
        if isinstance(result, HelpdeskError):
            return self._failed(result)
        current, users = result
        self.users.update(users)
        changes = describe_changes(self._seen, current, self.users, self.me)
        if not changes:
            return self._write(current)
        self._go(S.CONFIRMING)
        self._seen = current
        kind = "internal note" if self._outgoing.internal else "public reply"
        return [Confirm(tuple(changes), kind)]

    def written(self, result: Ticket | HelpdeskError) -> list[Command]:
        if self.state is not S.WRITING or self._seen is None:
            return []
        if isinstance(result, ConflictError):  # changed in the last moment: check again
            return self._check(self._seen)
        if isinstance(result, HelpdeskError):
            return self._failed(result)
        return self._delivered(result.label)

    def read_back(self, landed: bool | None) -> list[Command]:
        """The read-back of an UNKNOWN outcome (None: the database did not answer)."""
        if self.state is not S.UNKNOWN:
            return []  # closed meanwhile: the draft keeps the message id
        if landed is True:
            return self._delivered(self.label)
        if landed is False:
            # Not there: but a server that stalled holding the write may still apply it, so
            # this is no proof of "not sent". The editor is back, the draft keeps the message
            # id (the same text again cannot make a second copy), and the checks go on.
            self._go(S.EDITING)
            self.late_checks = LATE_CHECKS
            self._chain += 1
            return [
                SaveDraft(),
                self._say(
                    f"Not on {self.label} yet, so probably not sent, but a slow database may "
                    "still deliver it: kept as a draft, still checking. Sending the same text "
                    "again cannot send it twice.",
                    "warning",
                ),
                LateCheckLater(self._chain),
            ]
        return [
            self._say(
                "Unknown: still checking whether it was sent (the database does not answer); "
                "do not send it again.",
                "warning",
            ),
            CheckAgainLater(),
        ]

    def check_again(self) -> list[Command]:
        """Time to ask again whether the UNKNOWN write landed (unless closed meanwhile)."""
        return [ReadBack(self._pending)] if self.state is S.UNKNOWN else []

    def late_check_due(self, chain: int) -> list[Command]:
        """A late check's time came: run it, unless the agent has moved on since."""
        check = ReadBack(self._pending, late=True, chain=chain)
        return [check] if self._late_check_current(check) else []

    def late_checked(self, check: ReadBack, landed: bool | None) -> list[Command]:
        """One of the late read-backs answered: say it if the reply arrived after all."""
        if not self._late_check_current(check):
            return []
        if landed is True:
            label = self.label
            arrived = self._say(f"It arrived after all: your reply is on {label}.", "information")
            return [arrived, *self._delivered(label)]
        self.late_checks -= 1
        return [LateCheckLater(check.chain)] if self.late_checks > 0 else []

    def call_failed(self, call: StoreCall) -> list[Command]:
        """A store call ended in a bug (reported once already): settle what waited on it."""
        if call == "open":
            return self.open_failed()
        if call == "read_back":  # as if the database had not answered
            if self.state is S.UNKNOWN:
                return self.read_back(None)
            return self.late_checked(ReadBack(self._pending, late=True, chain=self._chain), None)
        if (call, self.state) in (("check", S.CHECKING), ("write", S.WRITING)):
            return self._not_sent("an internal error")
        return []

    # --- the way through -------------------------------------------------------------------

    def _go(self, after: SendState) -> None:
        check_transition(self.state, after)
        self.state = after

    def _release(self) -> list[Command]:
        """The hold is over (or off): on to the "ticket updated" guard and the write."""
        if self.baseline is None:
            self._go(S.LOADING)
            return [WaitForTicket()]
        return self._check()

    def _check(self, seen: Ticket | None = None) -> list[Command]:
        self._go(S.CHECKING)
        self._seen = seen or self.baseline
        self.not_sent = False  # a new attempt: the last one's "not sent" is history
        return [ReadTicket(self.ticket_id)]

    def _write(self, current: Ticket) -> list[Command]:
        assert self._outgoing is not None and self.me is not None
        self._go(S.WRITING)
        self._seen = current
        return [Write(self.ticket_id, self.me, self._outgoing, current)]

    def _failed(self, error: HelpdeskError) -> list[Command]:
        """A send that did not end in "sent": unknown (read it back), merged away, not sent."""
        outgoing = self._outgoing
        assert outgoing is not None
        if isinstance(error, OutcomeUnknown) and self.state is S.WRITING:
            self._go(S.UNKNOWN)
            self.unsettled = (outgoing.fingerprint, outgoing.message_id)
            self._pending = error.pending
            return [
                SaveDraft(),  # the draft now carries the message id: a resend reuses it
                self._say(
                    f"Unknown, checking whether it was sent ({one_line(str(error), 120)})…",
                    "warning",
                ),
                ReadBack(error.pending),
            ]
        said = self._not_sent(str(error))
        if isinstance(error, MergedAway):  # never onto the closed source: offer the target
            return [*said, OfferMove(error, outgoing.kind)]
        return said

    def _not_sent(self, why: str) -> list[Command]:
        """Nothing was written: the editor is back, the draft is kept, the agent knows why."""
        self._go(S.EDITING)
        said = self._say(f"Not sent, kept as a draft: {one_line(why, 200)}.", "error")
        return [SaveDraft(), said]

    def _say(self, text: str, tone: Tone) -> Say:
        self.outcome = Say(text, tone)
        return self.outcome

    def _delivered(self, label: str) -> list[Command]:
        outgoing = self._outgoing
        assert outgoing is not None
        self._go(S.SENT)
        self.unsettled = None
        kind = "Internal note added to" if outgoing.internal else "Reply sent on"
        commands: list[Command] = [DiscardDraft(outgoing.internal), Notify(f"{kind} {label}.")]
        if outgoing.internal:  # @name in a note: that colleague follows the ticket
            commands.append(FollowMentions(outgoing.text, label))
        return [*commands, Close(True)]

    def _late_check_current(self, check: ReadBack) -> bool:
        """Sent since, or the agent changed the text, or a newer run of checks: not this one."""
        outgoing = self._outgoing
        return (
            self.state in _LIVE
            and check.late
            and check.chain == self._chain
            and outgoing is not None
            and self.unsettled is not None
            and self.unsettled[1] == outgoing.message_id
        )
