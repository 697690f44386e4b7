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
