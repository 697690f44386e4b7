"""Driver errors turned into the domain's typed, one-line errors (never a URI with secrets)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from pymongo.errors import DocumentTooLarge, OperationFailure, PyMongoError

from helpdesk_tui.domain.errors import InvalidRequest, StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")

# Server codes for "the updated document would exceed 16 MB" (BSONObjectTooLarge and kin).
TOO_LARGE_CODES = frozenset({10334, 17419, 17420})
TOO_LARGE = "this ticket is at MongoDB's 16 MB document limit; open a follow-up ticket"


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


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
            raise StoreUnavailable(f"database error: {first_line(error)}") from error
        except PyMongoError as error:
            raise StoreUnavailable(f"database error: {first_line(error)}") from error

    return wrapper
