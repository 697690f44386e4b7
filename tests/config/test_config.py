from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from helpdesk_tui.config import (
    CannedResponse,
    Config,
    ConfigError,
    config_path,
    drafts_dir,
    load_config,
    mask_uri,
)
from helpdesk_tui.domain.models import Category, Priority, Status
from helpdesk_tui.domain.sla import DEFAULT_TARGETS
from helpdesk_tui.domain.workflow import Workflow

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SECRET = "s3cr3t-pa55"


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def load_text(tmp_path: Path, text: str, **kwargs: object) -> Config:
    return load_config(write(tmp_path, text), env={}, **kwargs)  # type: ignore[arg-type]


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    return str(caught.value)


# --- defaults and the example ---------------------------------------------------------------


def test_defaults_with_no_file(tmp_path: Path) -> None:
    config = load_config(env={"HOME": str(tmp_path)})
    assert config == Config()
    assert config.mongo.uri.get_secret_value() == "mongodb://localhost:27017"
    assert config.mongo.database == "helpdesk"
    assert config.mongo.counter.format.format(seq=123) == "TKT-000123"
    assert config.sla.targets == DEFAULT_TARGETS
    assert config.sla.business_hours is None
    assert config.ui.page_size == 200 and config.ui.mouse is None
    assert {c.name for c in config.canned} >= {"Acknowledge"}
    assert config.views == [] and config.warnings == []


def test_example_file_loads_to_the_defaults_plus_an_example_view() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.model_dump(exclude={"views"}) == Config().model_dump(exclude={"views"})
    assert [view.name for view in config.views] == ["Payments"]
    assert config.views[0].categories == [Category.PAYMENT]


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted keys of a config model, nested tables and lists of tables included."""
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        candidates = (field.annotation, *get_args(field.annotation))
        models = [t for t in candidates if isinstance(t, type) and issubclass(t, BaseModel)]
        if models:
            keys += _keys(models[0], f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def test_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in _keys(Config):
        if key.startswith("sla.targets"):
            continue
        if key == "keys":  # a table of action names, not one key
            assert "\n[keys]\n" in text
            continue
        *tables, name = key.split(".")
        table = ".".join(tables)
        assert f"[{table}]" in text or f"[[{table}]]" in text, key
        assert f"\n{name} =" in text or f"\n# {name} =" in text, key
    for key in ("urgent", "high", "medium", "low"):
        assert f"[sla.targets.{key}]" in text


def test_example_commented_sections_load_when_uncommented(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for line in ("# extra_transitions", "# [sla.business_hours]", "# timezone", "# days"):
        text = text.replace(line, line[2:])
    text = text.replace('# start = "09:00"', 'start = "09:00"').replace("# end =", "end =")
    config = load_text(tmp_path, text)
    assert config.workflow.extra_transitions[Status.RESOLVED] == [Status.OPEN]
    hours = config.sla.business_hours
    assert hours is not None and hours.timezone == "Europe/Berlin"
    assert (hours.start, hours.end, hours.days) == (time(9), time(17), (1, 2, 3, 4, 5))


# --- friendly sections ----------------------------------------------------------------------


def test_mouse_is_off_by_default_in_an_ssh_session_unless_configured(tmp_path: Path) -> None:
    ssh = {"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}
    default = Config()
    assert default.ui.mouse_on({}) is True
    assert default.ui.mouse_on(ssh) is False
    assert load_text(tmp_path, "[ui]\nmouse = true\n").ui.mouse_on(ssh) is True
    assert load_text(tmp_path, "[ui]\nmouse = false\n").ui.mouse_on({}) is False


def test_partial_sla_targets_keep_other_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[sla.targets.urgent]\nfirst_response_minutes = 30\n")
    assert config.sla.targets[Priority.URGENT].first_response_minutes == 30
    assert config.sla.targets[Priority.URGENT].resolution_minutes == 240
    assert config.sla.targets[Priority.LOW] == DEFAULT_TARGETS[Priority.LOW]


def test_business_hours_accept_toml_times(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[sla.business_hours]\nstart = 08:30:00\nend = 16:00:00\n")
    hours = config.sla.business_hours
    assert hours is not None and (hours.start, hours.end) == (time(8, 30), time(16))


def test_extra_transitions_feed_the_workflow(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[workflow]\nextra_transitions = { resolved = ["open"] }\n')
    extra = config.workflow.extra_transitions
    workflow = Workflow.with_extra({source.value: targets for source, targets in extra.items()})
    assert Status.OPEN in workflow.allowed(Status.RESOLVED)


def test_canned_render_fills_placeholders_without_reparsing() -> None:
    canned = CannedResponse(name="x", body="Hi {customer_name}, re {subject} ({ticket_number})")
    text = canned.render(
        customer_name="{agent_name}", ticket_number="TKT-1", agent_name="Al", subject="{x}"
    )
    assert text == "Hi {agent_name}, re {x} (TKT-1)"


def test_drafts_dir_follows_xdg_state_home(tmp_path: Path) -> None:
    config = Config()
    assert drafts_dir(config, {"XDG_STATE_HOME": str(tmp_path)}) == (
        tmp_path / "helpdesk-tui" / "drafts"
    )
    home = {"HOME": str(tmp_path), "XDG_STATE_HOME": "relative/ignored"}
    assert drafts_dir(config, home) == tmp_path / ".local/state/helpdesk-tui/drafts"
    custom = load_text(tmp_path, '[reply]\ndrafts_dir = "/srv/drafts"\n')
    assert drafts_dir(custom, {}) == Path("/srv/drafts")


# --- overrides ------------------------------------------------------------------------------


def test_env_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[mongo]\nuri = "mongodb://file:27017"\ndatabase = "filedb"\n')
    env = {
        "HELPDESK_TUI_MONGO_URI": "mongodb://env:27017",
        "HELPDESK_TUI_DB": "envdb",
        "HELPDESK_TUI_AGENT": "env@example.com",
    }
    config = load_config(path, env=env)
    assert config.mongo.uri.get_secret_value() == "mongodb://env:27017"
    assert config.mongo.database == "envdb"
    assert config.agent.email == "env@example.com"


def test_mongodb_uri_is_only_a_fallback() -> None:
    env = {"MONGODB_URI": "mongodb://generic:27017"}
    assert load_config(env=env).mongo.uri.get_secret_value() == "mongodb://generic:27017"
    env["HELPDESK_TUI_MONGO_URI"] = "mongodb://ours:27017"
    assert load_config(env=env).mongo.uri.get_secret_value() == "mongodb://ours:27017"


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[mongo]\ndatabase = "filedb"\n[agent]\nemail = "file@example.com"\n')
    env = {"HELPDESK_TUI_DB": "envdb", "HELPDESK_TUI_AGENT": "env@example.com"}
    overrides = {"database": "flagdb", "agent_email": None, "uri": "mongodb://flag:1"}
    config = load_config(path, env=env, overrides=overrides)
    assert config.mongo.database == "flagdb"
    assert config.agent.email == "env@example.com"  # a None flag is "not given"
    assert config.mongo.uri.get_secret_value() == "mongodb://flag:1"


def test_bad_override_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^\$HELPDESK_TUI_DB: mongo.database: must be"):
        load_config(env={"HOME": str(tmp_path), "HELPDESK_TUI_DB": "a.b"})
    with pytest.raises(ConfigError, match=r"^command line: mongo.uri: must start with") as caught:
        load_config(env={"HOME": str(tmp_path)}, overrides={"uri": f"http://u:{SECRET}@h"})
    assert SECRET not in str(caught.value)


# --- errors ---------------------------------------------------------------------------------


def test_unknown_key_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[mongo]\nurii = "mongodb://x"\n')
    assert message == f"{tmp_path / 'config.toml'}: mongo.urii: unknown key"


def test_unknown_section_and_warnings_key_are_refused(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[uii]\nmouse = false\n").endswith(": uii: unknown key")
    assert error_of(tmp_path, 'warnings = ["x"]\n').endswith(": warnings: unknown key")


def test_out_of_range_value_names_dotted_path_and_value(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[ui]\npage_size = 5\n")
    assert message.endswith(
        "config.toml: ui.page_size: Input should be greater than or equal to 10 (got 5)"
    )


def test_wrong_type_names_dotted_path(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[mongo.counter]\ncollection = 3\n[ui]\nmouse = "sometimes"\n')
    assert "mongo.counter.collection: Input should be a valid string (got 3)" in message
    assert "ui.mouse: Input should be a valid boolean" in message


def test_list_items_and_enum_keys_are_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[views]]\nname = "x"\nstatuses = ["opne"]\n')
    assert "views[0].statuses[0]: Input should be 'open'" in message
    message = error_of(tmp_path, "[sla.targets.critical]\nresolution_minutes = 5\n")
    assert "sla.targets.critical: Input should be 'low', 'medium', 'high' or 'urgent'" in message
    message = error_of(tmp_path, "[sla.targets.high]\nresolution_minutes = 0\n")
    assert "sla.targets.high.resolution_minutes: Input should be greater than 0" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[mongo]\ndatabase = "x"\nuri = \n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: invalid TOML:")
    assert "line 3" in message


def test_bad_timezone_message(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[sla.business_hours]\ntimezone = "Mars/Olympus"\n')
    assert "sla.business_hours.timezone: unknown time zone 'Mars/Olympus'" in message


def test_business_hours_must_end_after_start(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[sla.business_hours]\nstart = "17:00"\nend = "09:00"\n')
    assert "sla: business_hours: end must be after start" in message


def test_counter_format_must_use_seq(tmp_path: Path) -> None:
    assert "mongo.counter.format: must contain {seq}" in error_of(
        tmp_path, '[mongo.counter]\nformat = "TKT"\n'
    )
    assert "mongo.counter.format: must be a format string" in error_of(
        tmp_path, '[mongo.counter]\nformat = "TKT-{number}"\n'
    )


def test_canned_placeholders_and_view_assignee_are_checked(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[canned]]\nname = "x"\nbody = "Hi {customer}"\n')
    assert "canned[0].body: unknown placeholder {customer}" in message
    message = error_of(tmp_path, '[[views]]\nname = "x"\nassignee = "bob"\n')
    assert "views[0].assignee: expected 'me', 'unassigned', 'any' or an email" in message
    message = error_of(tmp_path, '[[views]]\nname = "x"\n[[views]]\nname = "x"\n')
    assert "views: name 'x' is used twice" in message


def test_bad_uri_error_never_shows_the_password(tmp_path: Path) -> None:
    message = error_of(tmp_path, f'[mongo]\nuri = "mongo://admin:{SECRET}@db"\n')
    assert "mongo.uri: must start with mongodb://" in message
    assert SECRET not in message
    message = error_of(tmp_path, f'mongo = "mongodb://admin:{SECRET}@db"\n')
    assert message.startswith(str(tmp_path / "config.toml") + ": mongo:")
    assert SECRET not in message


def test_password_never_in_repr(tmp_path: Path) -> None:
    config = load_text(tmp_path, f'[mongo]\nuri = "mongodb://admin:{SECRET}@db"\n')
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump(mode="json"))


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_config(env={"HELPDESK_TUI_CONFIG": str(tmp_path / "nope.toml")})


# --- lookup ---------------------------------------------------------------------------------


def test_config_path_precedence(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg" / "helpdesk-tui" / "config.toml"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert config_path(None, env) is None
    xdg.parent.mkdir(parents=True)
    xdg.write_text('[ui]\ntheme = "nord"\n')
    assert config_path(None, env) == xdg
    assert load_config(env=env).ui.theme == "nord"
    from_env = write(tmp_path, "")
    env["HELPDESK_TUI_CONFIG"] = str(from_env)
    assert config_path(None, env) == from_env
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("")
    assert config_path(explicit, env) == explicit


def test_config_path_falls_back_to_home_config(tmp_path: Path) -> None:
    home_file = tmp_path / ".config" / "helpdesk-tui" / "config.toml"
    home_file.parent.mkdir(parents=True)
    home_file.write_text("")
    assert config_path(None, {"HOME": str(tmp_path)}) == home_file
    # The XDG spec: a relative $XDG_CONFIG_HOME is ignored.
    assert config_path(None, {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "rel"}) == home_file


# --- permissions ----------------------------------------------------------------------------

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@posix_only
def test_readable_file_with_password_warns(tmp_path: Path) -> None:
    path = write(tmp_path, f'[mongo]\nuri = "mongodb://admin:{SECRET}@db"\n', mode=0o644)
    config = load_config(path, env={})
    assert config.warnings == [
        f"{path} holds a MongoDB password and is readable by others; chmod 600 it"
    ]
    assert "warnings" not in config.model_dump()


@posix_only
def test_private_file_with_password_does_not_warn(tmp_path: Path) -> None:
    path = write(tmp_path, f'[mongo]\nuri = "mongodb://admin:{SECRET}@db"\n', mode=0o600)
    assert load_config(path, env={}).warnings == []


@posix_only
def test_readable_file_without_password_does_not_warn(tmp_path: Path) -> None:
    path = write(tmp_path, '[mongo]\nuri = "mongodb://admin@db"\n', mode=0o644)
    assert load_config(path, env={}).warnings == []


@posix_only
def test_query_string_password_warns(tmp_path: Path) -> None:
    path = write(tmp_path, f'[mongo]\nuri = "mongodb://db/?password={SECRET}"\n', mode=0o640)
    assert len(load_config(path, env={}).warnings) == 1


# --- mask_uri -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        ("mongodb://localhost:27017", "mongodb://localhost:27017"),
        ("mongodb://user@host/db", "mongodb://user@host/db"),
        ("mongodb://user:pw@host:27017/db?authSource=admin", "mongodb://user:****@host:27017/db?authSource=admin"),
        ("mongodb+srv://user:pw@cluster0.example.net/db", "mongodb+srv://user:****@cluster0.example.net/db"),
        ("mongodb://user:p%40ss@h1,h2/db?replicaSet=rs", "mongodb://user:****@h1,h2/db?replicaSet=rs"),
        ("mongodb://user:p@ss@host/db", "mongodb://user:****@host/db"),
        ("mongodb://user:pa/ss@host/db", "mongodb://user:****@host/db"),
        ("mongodb://user:@host", "mongodb://user:****@host"),
        ("mongodb://h/db?authMechanism=PLAIN&password=pw&x=1", "mongodb://h/db?authMechanism=PLAIN&password=****&x=1"),
        ("mongodb://h/db?PASSWORD=pw", "mongodb://h/db?PASSWORD=****"),
        ("", ""),
        ("not a uri", "not a uri"),
        ("user:pw@host", "user:****@host"),
        # every other secret-bearing part (issue 12, item 6)
        ("mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:secret",
         "mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:****"),
        ("mongodb://h/?authMechanismProperties=SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:tok,CANONICALIZE_HOST_NAME:true",
         "mongodb://h/?authMechanismProperties=SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:****,CANONICALIZE_HOST_NAME:true"),
        ("mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN%3Asecret",
         "mongodb://h/?authMechanismProperties=****"),
        ("mongodb://AKIA:sk@h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:st",
         "mongodb://AKIA:****@h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:****"),
        ("mongodb://h/?tls=true&tlsCertificateKeyFile=/etc/c.pem&tlsCertificateKeyFilePassword=kp",
         "mongodb://h/?tls=true&tlsCertificateKeyFile=/etc/c.pem&tlsCertificateKeyFilePassword=****"),
        ("mongodb://h/?sslClientCertificateKeyPassword=kp&proxyHost=p&proxyPassword=pp",
         "mongodb://h/?sslClientCertificateKeyPassword=****&proxyHost=p&proxyPassword=****"),
        ("mongodb://h/?apiToken=t1;clientSecret=s1;accessKey=k1;appname=x",
         "mongodb://h/?apiToken=****;clientSecret=****;accessKey=****;appname=x"),
        ("mongodb://u:p@h1,h2/db?replicaSet=rs&authSource=admin&password=q",
         "mongodb://u:****@h1,h2/db?replicaSet=rs&authSource=admin&password=****"),
    ],
)  # fmt: skip
def test_mask_uri(uri: str, masked: str) -> None:
    assert mask_uri(uri) == masked


@pytest.mark.parametrize("garbage", [None, 42, b"mongodb://u:pw@h", "\x00://:@", "://", "@@@"])
def test_mask_uri_never_raises_or_leaks(garbage: object) -> None:
    result = mask_uri(garbage)  # type: ignore[arg-type]
    assert isinstance(result, str)
    assert "pw" not in result


def test_mask_secrets_removes_each_secret_from_a_driver_message_raw_or_decoded() -> None:
    from helpdesk_tui.config import mask_secrets

    uri = "mongodb://u:p%40ssw0rd@h/?authMechanismProperties=AWS_SESSION_TOKEN:st0ken"
    message = f"auth failed for {uri}; password p@ssw0rd rejected; token st0ken expired"

    masked = mask_secrets(message, uri)

    assert "p@ssw0rd" not in masked and "p%40ssw0rd" not in masked and "st0ken" not in masked
    assert masked.startswith("auth failed for mongodb://u:****@h/")


def test_a_custom_view_whose_agent_has_no_id_is_refused_not_widened_to_everyone() -> None:
    """A lookup that finds no id must not leave the view's assignee empty (which means "any"):
    the view would silently list every agent's tickets."""
    from bson import ObjectId

    from helpdesk_tui.config import ViewConfig
    from helpdesk_tui.domain.errors import InvalidRequest
    from helpdesk_tui.views import standard_views

    custom = [ViewConfig(name="Bo's", assignee="bo@example.com")]
    with pytest.raises(InvalidRequest, match=r"cannot look up bo@example\.com"):
        standard_views(ObjectId(), custom, lambda email: None)


def test_the_start_view_keys_config_accepts_are_the_standard_views_keys() -> None:
    from bson import ObjectId

    from helpdesk_tui.config import STANDARD_VIEW_KEYS
    from helpdesk_tui.views import standard_views

    assert tuple(view.key for view in standard_views(ObjectId())) == STANDARD_VIEW_KEYS
