"""What became of a write: sent, not sent (and why), or unknown until read back.

A write is bounded by pymongo's client-side operation timeout (``pymongo.timeout``, CSOT): no
call keeps the agent waiting past it, and the command goes out with a ``maxTimeMS`` no longer
than what is left, so a MongoDB server gives it up once that runs out. A driver error is then
sorted by whether the server could have applied the write:

* never reached it (no server selected, no connection, the server answered with an error
  before writing, the driver says ``NoWritesPerformed``): **not sent**, nothing was written;
* the request went out and no answer came (a network error or a timeout after sending):
  **unknown**. Only a read-back settles it (is the message's ``_id`` on the ticket?), never a
  second send: retrying the write could deliver it twice.

The read-back waits until the write's own deadline has passed, plus ``settle_seconds`` for a
server still finishing it, before an absent message counts as not sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymongo
from bson import ObjectId
from pymongo.collection import Collection
from pymongo.errors import (
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
    WriteConcernError,
)

from helpdesk_tui.domain.errors import NotSent, OutcomeUnknown
from helpdesk_tui.store.errors import why


@dataclass
class Bounds:
    """How long each step may take (seconds). The defaults keep the reply's outcome within 10 s
    of the send hold: the "ticket updated" re-read (``read``) and the write (``write``) end in
    "sent", "not sent" or "unknown, checking" within 8 s."""

    read: float = 3.0  # a read before the write (the guard) and each read-back
    write: float = 5.0  # the write itself
    settle: float = 1.0  # after the write's deadline, before "absent" means "not sent"


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Every driver call inside ends (or raises a timeout) within ``seconds``."""
    with pymongo.timeout(seconds):
        yield


def never_applied(error: PyMongoError) -> bool:
    """Whether the server certainly did not apply the write that raised ``error``."""
    if error.has_error_label("NoWritesPerformed"):
        return True
    if isinstance(error, ServerSelectionTimeoutError | WaitQueueTimeoutError):
        return True  # no server chosen, or no connection to send it on
    if isinstance(error, WriteConcernError | ExecutionTimeout):
        return False  # applied but not acknowledged as asked, or stopped at an unknown point
    # The server answered with an error: a single-document write is all or nothing.
    return isinstance(error, OperationFailure)


def classify(error: PyMongoError) -> NotSent | OutcomeUnknown:
    """``NotSent`` (the server never applied it) or ``OutcomeUnknown`` for a failed write;
    the message is the reason, one line ("the database did not answer in time")."""
    if never_applied(error):
        return NotSent(_why(error))
    return OutcomeUnknown(_why(error))


def _why(error: PyMongoError) -> str:
    return why(error)


@dataclass(frozen=True)
class Pending:
    """A write whose outcome is unknown: the message it carried and when it may still land."""

    ticket_id: ObjectId
    message_id: ObjectId
    settled_at: float  # time.monotonic() after which an absent message was never applied


def read_back(tickets: Collection[Any], pending: Pending, bounds: Bounds) -> bool | None:
    """Is the message on the ticket? True, False (and the write can no longer land), or None
    when the database did not answer (ask again later; never send again)."""
    wait = pending.settled_at - time.monotonic()
    if wait > 0:
        time.sleep(wait)  # a write still in flight may land until then
    try:
        with bounded(bounds.read):
            found = tickets.find_one(
                {"_id": pending.ticket_id, "messages._id": pending.message_id}, {"_id": 1}
            )
    except PyMongoError:
        return None
    return found is not None
