"""Found by the security walk: ``[identity] logins`` (login -> e-mail, for logins that are no
e-mail) let a config make ana's login Sam: ana took a ticket as Sam (Sam's users _id, Sam's
name to the customer), where ``--as sam@…`` is refused. A login that names a users document by
itself (ana's login is her e-mail) is that person: a mapping to anyone else is refused in one
line naming both, and nothing is done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpdesk_tui.store.tickets import TicketStore

from .conftest import ANA, SAM, AuthServer
from .test_identity import one_error_line, run


def mapping(tmp_path: Path, login: str, email: str) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(f'[identity]\nlogins = {{ "{login}" = "{email}" }}\n', encoding="utf-8")
    return path


def test_a_config_mapping_anas_login_to_sams_email_is_refused(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore, tmp_path: Path
) -> None:
    number = new_ticket()
    team = mapping(tmp_path, ANA, SAM)

    result = run(auth_server.uri(ANA), "--config", str(team), "tickets", "assign", number, "me")

    assert result.exit_code != 0
    one_error_line(result, ANA, SAM, "[identity]")
    assert admin_store.find_ticket(number).assigned_to is None


def test_a_mapping_of_a_login_to_its_own_email_is_harmless(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore, tmp_path: Path
) -> None:
    number = new_ticket()
    team = mapping(tmp_path, ANA, ANA.upper())

    result = run(auth_server.uri(ANA), "--config", str(team), "tickets", "assign", number, "me")

    assert result.exit_code == 0, result.output
    assert admin_store.find_ticket(number).assigned_to == auth_server.ids[ANA]
