"""The navigation tests run on the fault server (SecantusDB with ``--enable-test-commands``):
``db`` here, and every fixture built on it (``store``, ``demo_store``, ``make_app``), is a
database on it, so a test can make one part of the app's reads fail for real (failCommand)."""

from __future__ import annotations

from faults.conftest import admin_client, db, fail_point, fault_client, fault_server

__all__ = ["admin_client", "db", "fail_point", "fault_client", "fault_server"]
