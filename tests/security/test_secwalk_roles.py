"""Found by the security walk: ``[identity]`` may rename the helpdesk's roles, and ana writes
her own config. Naming a MongoDB built-in role she holds anyway (``readWrite``, granted with
helpdeskAgent in issue 26's set-up) as the supervisor role made her a supervisor: she
reassigned another agent's ticket. A helpdesk role is never a built-in one, so the config
refuses those names at load, in one line naming the key. Calling her one helpdesk role,
helpdeskAgent, the supervisor's did the same: a renamed supervisor role now counts only beside
the agent role (init-db's supervisor role inherits it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from helpdesk_tui.config import ConfigError, load_config
from helpdesk_tui.domain.errors import PermissionDenied
from helpdesk_tui.domain.models import User
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.store.tickets import TicketStore

from .conftest import ANA, BO, SAM, AuthServer
from .test_identity import one_error_line, run


def config_naming(tmp_path: Path, key: str, role: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(f'[identity]\n{key} = "{role}"\n', encoding="utf-8")
    return path


def test_ana_naming_readwrite_the_supervisor_role_still_cannot_assign_to_bo(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore, tmp_path: Path
) -> None:
    number = new_ticket()
    assert run(auth_server.uri(SAM), "tickets", "assign", number, SAM).exit_code == 0
    mine = config_naming(tmp_path, "supervisor_role", "readWrite")

    result = run(auth_server.uri(ANA), "--config", str(mine), "tickets", "assign", number, BO)

    assert result.exit_code != 0
    one_error_line(result, "identity.supervisor_role", "readWrite", "built-in")
    assert admin_store.find_ticket(number).assigned_to == auth_server.ids[SAM]


@pytest.mark.parametrize("role", ["read", "readWrite", "dbOwner", "root", "readWriteAnyDatabase"])
@pytest.mark.parametrize("key", ["agent_role", "supervisor_role"])
def test_a_built_in_role_is_no_helpdesk_role(tmp_path: Path, key: str, role: str) -> None:
    with pytest.raises(ConfigError, match=rf"identity\.{key}: .*{role}.* built-in"):
        load_config(config_naming(tmp_path, key, role), env={})


def test_renamed_helpdesk_roles_still_load(tmp_path: Path) -> None:
    path = tmp_path / "renamed.toml"
    path.write_text('[identity]\nagent_role = "hdAgent"\nsupervisor_role = "hdLead"\n')
    identity = load_config(path, env={}).identity
    assert (identity.agent_role, identity.supervisor_role) == ("hdAgent", "hdLead")


def test_ana_calling_her_agent_role_the_supervisor_role_still_cannot_assign_to_bo(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore, tmp_path: Path
) -> None:
    """Her config renames the roles so that the one she holds, helpdeskAgent, is "the
    supervisor's": it made her a supervisor."""
    number = new_ticket()
    assert run(auth_server.uri(SAM), "tickets", "assign", number, SAM).exit_code == 0
    mine = tmp_path / "swap.toml"
    mine.write_text(
        '[identity]\nsupervisor_role = "helpdeskAgent"\nagent_role = "helpdeskNobody"\n',
        encoding="utf-8",
    )

    result = run(auth_server.uri(ANA), "--config", str(mine), "tickets", "assign", number, BO)

    assert result.exit_code != 0
    one_error_line(result, ANA, "helpdeskAgent", "helpdeskNobody")
    assert admin_store.find_ticket(number).assigned_to == auth_server.ids[SAM]


def test_renamed_roles_make_a_supervisor_of_a_login_holding_both() -> None:
    ana = User.from_mongo({"_id": ObjectId(), "name": "Ana", "email": ANA, "role": "agent"})
    renamed = {"agent_role": "hdAgent", "supervisor_role": "hdLead"}

    lead = Identity.from_login(ana, ANA, {"hdLead", "hdAgent"}, **renamed)
    assert lead.is_supervisor
    with pytest.raises(PermissionDenied, match="holds hdLead but not hdAgent"):
        Identity.from_login(ana, ANA, {"hdLead"}, **renamed)
    # init-db's own supervisor role inherits the agent role: held alone it is enough.
    sam = Identity.from_login(ana, SAM, {"helpdeskSupervisor"}, **DEFAULTS)
    assert sam.is_supervisor


DEFAULTS = {"agent_role": "helpdeskAgent", "supervisor_role": "helpdeskSupervisor"}
