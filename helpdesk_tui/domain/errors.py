"""The typed errors every layer raises and the app turns into one notification each."""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base: the message is one line, fit to show to the agent as it is."""


class NotFound(HelpdeskError):
    pass


class ConflictError(HelpdeskError):
    """Someone else changed the ticket first; nothing of ours was written."""


class InvalidTransition(HelpdeskError):
    pass


class InvalidRequest(HelpdeskError):
    """Bad input: empty reply, reply too long, unknown agent, unknown tag syntax, ..."""


class PermissionDenied(HelpdeskError):
    pass


class StoreUnavailable(HelpdeskError):
    """The database could not be reached or refused the operation."""


class StoreUnreachable(StoreUnavailable):
    """No answer: the database stalled, is down, or the link dropped. It refused nothing; the
    message says which ("the database did not answer in time")."""


class NotSent(HelpdeskError):
    """A write the server never applied (it could not be reached, or refused it before writing):
    nothing was written; the message says why ("the database could not be reached")."""


class OutcomeUnknown(HelpdeskError):
    """The write went out but no answer came back (a timeout or a dropped link after sending):
    it may or may not have been applied. Settled by reading back, never by sending again;
    ``pending`` is what the store needs to read it back."""

    def __init__(self, message: str, pending: object = None) -> None:
        super().__init__(message)
        self.pending = pending


class HistoryNotWritten(HelpdeskError):
    """The change was made, but its entry in the audit trail could not be written: said as
    such, so it never reads as if the change failed (nor passes for a complete history)."""


class MergedAway(InvalidRequest):
    """The ticket was closed by a merge: writes go to its target, ``target`` (its number)."""

    def __init__(self, label: str, target: str) -> None:
        super().__init__(f"{label} was merged into {target}: reply there")
        self.label = label
        self.target = target
