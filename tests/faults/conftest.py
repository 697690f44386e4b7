"""The fault tests' server: SecantusDB with ``--enable-test-commands`` (configureFailPoint).

Fail points are server-wide, so this folder has its own server (one per test session, as the
root conftest's), and ``db`` here is a database on it: every fixture built on ``db`` (``store``,
``people``, ``make_app``) runs on this server in these tests. The store's client names itself
``APP_NAME``; each fail point is scoped to that name (``data.appName``), so the fixture's own
admin client always gets through to turn it off. ``fail_point`` turns it off in a ``finally``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pymongo import MongoClient
from servers import fresh_database, secantus

from helpdesk_tui.store.embedded import EmbeddedServer

APP_NAME = "helpdesk-faults"


@pytest.fixture(scope="session")
def fault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with secantus(tmp_path_factory, "secantus-faults", test_commands=True) as server:
        yield server


@pytest.fixture(scope="session")
def fault_client(fault_server: EmbeddedServer) -> Iterator[MongoClient[Any]]:
    """The client the store (and the app) use: the fail points' target, by its appName."""
    client: MongoClient[Any] = MongoClient(fault_server.uri, tz_aware=True, appName=APP_NAME)
    yield client
    client.close()


@pytest.fixture(scope="session")
def admin_client(fault_server: EmbeddedServer) -> Iterator[MongoClient[Any]]:
    """Sets and clears fail points (and counts what was written); never failed itself."""
    client: MongoClient[Any] = MongoClient(fault_server.uri, tz_aware=True, appName="fault-admin")
    yield client
    client.close()


@pytest.fixture
def db(fault_client: MongoClient[Any]) -> Iterator[Any]:
    """A fresh database on the fault server (overrides the root conftest's ``db`` here)."""
    with fresh_database(fault_client, "helpdesk_faults") as database:
        yield database


@pytest.fixture
def fail_point(admin_client: MongoClient[Any]) -> Any:
    """``with fail_point(mode, commands, **data):`` a failCommand fail point on the store's
    client, always turned off afterwards."""

    @contextmanager
    def armed(mode: Any, commands: list[str], **data: Any) -> Iterator[None]:
        admin_client.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": mode,
                "data": {"failCommands": commands, "appName": APP_NAME, **data},
            }
        )
        try:
            yield
        finally:
            admin_client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})

    return armed
