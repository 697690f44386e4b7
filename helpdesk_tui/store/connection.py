"""Opening a client: the one place outside the store's classes that touches pymongo's client.

The CLI and doctor get their connection here and see only :class:`StoreUnavailable`, never a
pymongo exception, so nothing outside ``store/`` needs to import pymongo.
"""

from __future__ import annotations

import re
from typing import Any

import pymongo
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConfigurationError, PyMongoError, ServerSelectionTimeoutError

from helpdesk_tui.domain.errors import StoreUnavailable


def open_client(uri: str, *, timeout_ms: int = 5_000, ping: bool = True) -> MongoClient[Any]:
    """A client as the app uses it (tz-aware dates, named in the server's log), pinged once.

    The URI's own ``serverSelectionTimeoutMS`` wins over ``timeout_ms``. Raises pymongo's
    errors (``ConfigurationError``, ``PyMongoError``) or ``ValueError``; callers mask the URI.
    """
    options: dict[str, Any] = {"appname": "helpdesk-tui", "tz_aware": True}
    if "serverselectiontimeoutms" not in uri.lower():
        options["serverSelectionTimeoutMS"] = timeout_ms
    client: MongoClient[Any] = pymongo.MongoClient(uri, **options)
    if ping:
        client.admin.command("ping")
    return client


def connect_database(uri: str, database: str, *, timeout_ms: int = 5_000) -> Database[Any]:
    """The named database on a pinged client, or :class:`StoreUnavailable` saying why not.

    The error's message is short and whole: what failed in the driver's words (its topology
    dump cut away) and for how long it tried. It is unmasked: the caller masks the URI's
    secrets before showing it. ``OSError`` covers an unreadable tlsCAFile/tlsCertificateKeyFile.
    """
    try:
        client = open_client(uri, timeout_ms=timeout_ms, ping=False)
    except (ConfigurationError, PyMongoError, ValueError, OSError) as error:
        raise StoreUnavailable(_first_line(error)) from error
    try:
        client.admin.command("ping")
    except (PyMongoError, OSError) as error:
        client.close()
        reason = _first_line(error)
        if isinstance(error, ServerSelectionTimeoutError):
            waited = client.options.server_selection_timeout
            reason = f"{_without_topology(reason)} (tried for {waited:g} s)"
        raise StoreUnavailable(reason) from error
    return client[database]


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else repr(error)


def _without_topology(reason: str) -> str:
    """The per-server errors of a server-selection timeout, without the driver's dump after them.

    pymongo says ``host:port: <error> (configured timeouts: ...), Timeout: 5.0s, Topology
    Description: <...>``; what the user needs is ``host:port: <error>``, for each server.
    """
    reason = re.sub(r" \(configured timeouts[^)]*\)", "", reason)
    for cut in (", Timeout:", ", Topology Description"):
        if cut in reason:
            reason = reason[: reason.index(cut)]
    return reason.rstrip(" ,:") or "no server answered"
