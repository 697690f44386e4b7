"""Opening a client: the one place outside the store's classes that touches pymongo's client."""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo import MongoClient


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
