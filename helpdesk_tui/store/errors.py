"""Driver errors turned into the domain's typed, one-line errors (never a URI with secrets)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from pymongo.errors import (
    ConnectionFailure,
    DocumentTooLarge,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from helpdesk_tui.domain.errors import (
    InvalidRequest,
    OutcomeUnknown,
    StoreUnavailable,
    StoreUnreachable,
)

P = ParamSpec("P")
R = TypeVar("R")

# Server codes for "the updated document would exceed 16 MB" (BSONObjectTooLarge and kin).
TOO_LARGE_CODES = frozenset({10334, 17419, 17420})
TOO_LARGE = "this ticket is at MongoDB's 16 MB document limit; open a follow-up ticket"


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def no_answer(error: PyMongoError) -> bool:
    """The server did not answer (down, stalled, the link dropped): it refused nothing."""
    return isinstance(error, ConnectionFailure) or bool(error.timeout)


def unanswered(error: BaseException) -> bool:
    """Whether a store error (ours, raised from the driver's) means the server did not answer
    (not that it refused): the next write would wait as long for nothing."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StoreUnreachable | OutcomeUnknown):
            return True
        if isinstance(seen, PyMongoError):
            return no_answer(seen)
        seen = seen.__cause__
    return False


def why(error: PyMongoError) -> str:
    """What went wrong, in one line fit to show: no answer in the words an agent can act on
    (never the driver's "operation cancelled"), a refusal in the server's own words."""
    if isinstance(error, ServerSelectionTimeoutError):
        return "the database could not be reached"
    if error.timeout:
        return "the database did not answer in time"
    if isinstance(error, ConnectionFailure):
        return "the connection to the database failed"
    if isinstance(error, OperationFailure):  # the server's own words, not the whole reply
        said = (error.details or {}).get("errmsg")
        if isinstance(said, str) and said.strip():
            return f"database error: {first_line(Exception(said))}"
    return f"database error: {first_line(error)}"


def db_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Turn driver errors into one typed, one-line error (never a credential-bearing URI)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except DocumentTooLarge as error:
            raise InvalidRequest(TOO_LARGE) from error
        except OperationFailure as error:
            if error.code in TOO_LARGE_CODES:
                raise InvalidRequest(TOO_LARGE) from error
            raise StoreUnavailable(why(error)) from error
        except PyMongoError as error:
            if no_answer(error):
                raise StoreUnreachable(why(error)) from error
            raise StoreUnavailable(why(error)) from error

    return wrapper
