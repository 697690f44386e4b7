"""Opening a client: the one place outside the store's classes that touches pymongo's client.

The CLI and doctor get their connection here and see only :class:`StoreUnavailable`, never a
pymongo exception, so nothing outside ``store/`` needs to import pymongo.
"""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConfigurationError, PyMongoError

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

    The error's message is the driver's first line, unmasked: the caller masks the URI's
    secrets before showing it. ``OSError`` covers an unreadable tlsCAFile/tlsCertificateKeyFile.
    """
    try:
        client = open_client(uri, timeout_ms=timeout_ms)
    except (ConfigurationError, PyMongoError, ValueError, OSError) as error:
        raise StoreUnavailable(str(error).splitlines()[0] if str(error) else repr(error)) from error
    return client[database]
