"""SecantusDB servers and fresh databases for fixtures: the root conftest's, the fault tests'
and any module's own server share these."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pymongo import MongoClient

from helpdesk_tui.store.embedded import EmbeddedServer

_databases = itertools.count()


@contextmanager
def secantus(
    tmp_path_factory: pytest.TempPathFactory, folder: str, **options: bool
) -> Iterator[EmbeddedServer]:
    """A server (``EmbeddedServer`` options: ``standalone``, ``test_commands``, ...) logging to
    ``secantusd.log`` in a new ``folder``, killed afterwards (``done``)."""
    log = tmp_path_factory.mktemp(folder) / "secantusd.log"
    server = EmbeddedServer(log_path=log, **options).start()
    yield server
    done(server)


def done(server: EmbeddedServer) -> None:
    """The end of a test server whose data nobody reads again: killed, not stopped. A graceful
    stop waits 2 s for SecantusDB's accept thread (10 s, then a kill, if it comes right after
    the start); a session's four servers stopped so made every worker's last test 8 s long."""
    server.kill()


@contextmanager
def fresh_database(client: MongoClient[Any], prefix: str) -> Iterator[Any]:
    """A database of its own on ``client``'s server (``prefix``, the pid, a count), dropped
    afterwards."""
    database = client[f"{prefix}_{os.getpid()}_{next(_databases)}"]
    yield database
    client.drop_database(database.name)
