"""Opening a client: the one place outside the store's classes that touches pymongo's client.

The CLI and doctor get their connection here and see only :class:`StoreUnavailable`, never a
pymongo exception, so nothing outside ``store/`` needs to import pymongo.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pymongo
from pymongo import MongoClient, monitoring
from pymongo.database import Database
from pymongo.errors import (
    ConfigurationError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from helpdesk_tui.domain.errors import StoreUnavailable

# Bounds on every call, so that no answer the server never gives keeps a view or a write's
# outcome waiting (issue 27). The driver's defaults wait forever on a socket (a stalled server
# keeps a getMore or a write hanging) and 20 s to connect. A socket read may take this long:
# the slowest single command we send (a count or a catch-up page at 100,000 tickets) stays well
# under it; a write's outcome has its own, shorter bound (``pymongo.timeout`` around the write).
SOCKET_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_MS = 5_000


class ServerAnswers(monitoring.CommandListener):
    """When the server last answered a command of this client (monotonic seconds).

    The live feed's health check (store/live.py) asks it: a question that waits while the
    server answers other commands (a long catch-up) is work, not a stall.
    """

    def __init__(self) -> None:
        self.last: float | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.last = time.monotonic()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass  # a network error is no answer; a server's error reply is rare enough to ignore


def server_answers(client: Any) -> ServerAnswers | None:
    """The ``ServerAnswers`` listener of a client opened by ``open_client``, if any."""
    listeners = getattr(getattr(client, "options", None), "event_listeners", None) or ()
    return next((x for x in listeners if isinstance(x, ServerAnswers)), None)


def client_options(uri: str, timeout_ms: int) -> dict[str, Any]:
    """The options ``open_client`` adds; a timeout the URI sets itself wins."""
    options: dict[str, Any] = {
        "appname": "helpdesk-tui",
        "tz_aware": True,
        "event_listeners": [ServerAnswers()],
    }
    lowered = uri.lower()
    for name, value in (
        ("serverSelectionTimeoutMS", timeout_ms),
        ("socketTimeoutMS", SOCKET_TIMEOUT_MS),
        ("connectTimeoutMS", min(CONNECT_TIMEOUT_MS, timeout_ms)),
    ):
        if name.lower() not in lowered:
            options[name] = value
    return options


def open_client(
    uri: str,
    *,
    timeout_ms: int = 5_000,
    ping: bool = True,
    username: str | None = None,
    password: str | None = None,
) -> MongoClient[Any]:
    """A client as the app uses it (tz-aware dates, named in the server's log, every wait
    bounded: ``client_options``), pinged once.

    The URI's own timeouts win over ours. Raises pymongo's errors (``ConfigurationError``,
    ``PyMongoError``) or ``ValueError``; callers mask the URI.
    """
    options = client_options(uri, timeout_ms)
    if username is not None:  # a sign-in: given apart, never put into the URI
        options.update(username=username, password=password)
    client: MongoClient[Any] = pymongo.MongoClient(uri, **options)
    if ping:
        client.admin.command("ping")
    return client


def connect_database(
    uri: str,
    database: str,
    *,
    timeout_ms: int = 5_000,
    username: str | None = None,
    password: str | None = None,
) -> Database[Any]:
    """The named database on a pinged client, or :class:`StoreUnavailable` saying why not.

    The error's message is short and whole: what failed in the driver's words (its topology
    dump cut away) and for how long it tried. It is unmasked: the caller masks the URI's
    secrets before showing it. ``OSError`` covers an unreadable tlsCAFile/tlsCertificateKeyFile.
    """
    try:
        client = open_client(
            uri, timeout_ms=timeout_ms, ping=False, username=username, password=password
        )
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


def without_credentials(uri: str) -> str:
    """The URI with any ``user:password@`` taken out (a served app signs each visitor in with
    their own login instead)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    hosts, slash, tail = rest.partition("/")
    return f"{scheme}://{hosts.rpartition('@')[2]}{slash}{tail}"


def accepts_anyone(uri: str, database: str, timeout_ms: int = 5_000) -> bool:
    """Whether the server answers a read of ``database`` on a connection without a login.

    Raises :class:`StoreUnavailable` when it cannot be reached at all.
    """
    try:
        client = open_client(without_credentials(uri), timeout_ms=timeout_ms, ping=False)
    except (ConfigurationError, PyMongoError, ValueError, OSError) as error:
        raise StoreUnavailable(_first_line(error)) from error
    try:
        client[database].command("listCollections", nameOnly=True, authorizedCollections=True)
    except OperationFailure:
        return False  # "requires authentication" (code 13), or any refusal: not anyone
    except (PyMongoError, OSError) as error:
        raise StoreUnavailable(_first_line(error)) from error
    finally:
        client.close()
    return True
