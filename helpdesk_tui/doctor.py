"""`helpdesk-tui doctor`: what the deployment offers and lacks, credentials masked.

The checks that talk to the server live in ``store/diagnostics.py``; this module adds the
connection line and masks every detail.
"""

from __future__ import annotations

from helpdesk_tui.config import Config, mask_secrets, mask_uri
from helpdesk_tui.store.diagnostics import (
    Check,
    Level,
    flavour_check,
    server_checks,
    server_flavour,
)
from helpdesk_tui.store.tickets import TicketStore

__all__ = ["Check", "Level", "flavour_check", "run_checks", "server_flavour"]


def run_checks(store: TicketStore, config: Config) -> list[Check]:
    """Every check; a detail quoting the server or the driver has the URI's secrets masked."""
    uri = config.mongo.uri.get_secret_value()
    checks = [Check("connection", "ok", mask_uri(uri)), *server_checks(store)]
    return [Check(c.name, c.level, mask_secrets(c.detail, uri)) for c in checks]
