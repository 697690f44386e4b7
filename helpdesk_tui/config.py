"""The TOML config as pydantic models, and ``load_config()``: file, then environment, then flags."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.keys import check_keys
from helpdesk_tui.domain.macros import Macro
from helpdesk_tui.domain.models import Category, Priority, Status
from helpdesk_tui.domain.sla import DEFAULT_TARGETS, SlaPolicy
from helpdesk_tui.domain.text import check_placeholders, literal

APP_DIR = "helpdesk-tui"
PLACEHOLDERS = frozenset({"customer_name", "ticket_number", "agent_name", "subject"})


class ConfigError(HelpdeskError):
    """A config that cannot be used; the message is one line and never holds a password."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _printable_name(value: str) -> str:
    """A name ``doctor``, ``seed`` and the app print (a database, a collection): no control or
    invisible formatting characters (they would act on the terminal, or hide)."""
    if literal(value) != value or "\n" in value or "\t" in value:
        raise ValueError(f'"{literal(value)[:40]}" holds control characters')
    return value


class CounterConfig(_Section):
    """The counters document ticket numbers come from; point it at the Ticket Service's own."""

    collection: str = Field(default="counters", min_length=1)
    key: str = Field(default="ticketNumber", min_length=1)
    field: str = Field(default="seq", min_length=1)
    format: str = "TKT-{seq:06d}"

    @field_validator("collection", "key", "field", "format")
    @classmethod
    def _printable(cls, value: str) -> str:
        return _printable_name(value)

    @field_validator("format")
    @classmethod
    def _formats_seq(cls, value: str) -> str:
        try:
            first, second = value.format(seq=1), value.format(seq=2)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as error:
            raise ValueError(f"must be a format string using {{seq}} ({error})") from None
        if first == second:
            raise ValueError("must contain {seq}, or every ticket gets the same number")
        return value


class MongoConfig(_Section):
    uri: SecretStr = SecretStr("mongodb://localhost:27017")
    database: str = "helpdesk"
    tickets: str = Field(default="tickets", min_length=1)
    users: str = Field(default="users", min_length=1)
    orders: str = Field(default="orders", min_length=1)
    presence: str = Field(default="presence", min_length=1)
    events: str = Field(default="ticket_events", min_length=1)
    followers: str = Field(default="followers", min_length=1)
    counter: CounterConfig = Field(default_factory=CounterConfig)
    server_selection_timeout_ms: int = Field(default=5000, gt=0)

    @field_validator("uri")
    @classmethod
    def _scheme(cls, value: SecretStr) -> SecretStr:
        # The message must not echo the value: it may hold a password.
        if not value.get_secret_value().startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("database", "tickets", "users", "orders", "presence", "events", "followers")
    @classmethod
    def _printable(cls, value: str) -> str:
        return _printable_name(value)

    @field_validator("database")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not value or any(char in value for char in '/\\. "$'):
            raise ValueError('must be a non-empty MongoDB database name (none of /\\. "$)')
        return value


class AgentConfig(_Section):
    email: str | None = None


class RolesConfig(_Section):
    """Which ``users.role`` values make an agent or a supervisor, on a connection without
    authentication only (with a login, the MongoDB roles of ``[identity]`` decide)."""

    agent: list[str] = Field(default_factory=lambda: ["agent", "support"])
    supervisor: list[str] = Field(default_factory=lambda: ["supervisor", "admin"])


# MongoDB's built-in roles (any database): never a helpdesk role (IdentityConfig).
BUILT_IN_ROLES = frozenset(
    {
        "read", "readWrite", "dbAdmin", "dbOwner", "userAdmin", "clusterAdmin",
        "clusterManager", "clusterMonitor", "hostManager", "backup", "restore",
        "readAnyDatabase", "readWriteAnyDatabase", "userAdminAnyDatabase",
        "dbAdminAnyDatabase", "root", "enableSharding", "directShardOperations",
        "searchCoordinator", "__queryableBackup", "__system",
    }
)  # fmt: skip


class IdentityConfig(_Section):
    """Who a database login is (on an authenticated connection the login is the person) and
    which MongoDB roles, in the helpdesk database, make an agent or a supervisor."""

    # The ``users`` field a login is matched to: the login is the e-mail by default; a
    # directory's uid ("ldapUid") if logins are uids.
    users_field: str = Field(default="email", min_length=1)
    # Or an explicit map, login -> e-mail in ``users`` (it wins over ``users_field``).
    logins: dict[str, str] = Field(default_factory=dict)
    agent_role: str = Field(default="helpdeskAgent", min_length=1)
    supervisor_role: str = Field(default="helpdeskSupervisor", min_length=1)

    @field_validator("users_field")
    @classmethod
    def _field_name(cls, value: str) -> str:
        if value.startswith("$") or any(not part for part in value.split(".")) or "\0" in value:
            raise ValueError("must be a field name of users (no leading $, no empty part)")
        return value

    @field_validator("agent_role", "supervisor_role")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if any(char.isspace() or char == "@" or not char.isprintable() for char in value):
            raise ValueError("must be a MongoDB role name (no spaces, no @)")
        # Anyone can write their own config: naming a built-in role they hold for other reasons
        # (readWrite) would make them a supervisor. The helpdesk's roles are init-db's own.
        if value in BUILT_IN_ROLES:
            raise ValueError(
                f"{value} is a MongoDB built-in role, not a helpdesk role: name the roles "
                "`helpdesk-tui init-db` created (helpdeskAgent, helpdeskSupervisor by default)"
            )
        return value

    @model_validator(mode="after")
    def _two_roles(self) -> IdentityConfig:
        if self.agent_role == self.supervisor_role:
            raise ValueError("agent_role and supervisor_role must differ")
        return self


class WorkflowConfig(_Section):
    """Edges added to the Ticket Service's status diagram, e.g. ``resolved = ["open"]``."""

    extra_transitions: dict[Status, list[Status]] = Field(default_factory=dict)
    # A customer's reply on a waiting ticket moves it back to open (one compare-and-set,
    # whichever app sees the reply first); off: it stays waiting, marked ↩, its clock running.
    wake_on_customer_reply: bool = True


class UiConfig(_Section):
    # None: on, except in an SSH session (``$SSH_CONNECTION``), where every mouse movement
    # the terminal reports crosses the link and may repaint a row.
    mouse: bool | None = None
    page_size: int = Field(default=200, ge=10, le=2000)
    poll_interval_seconds: float = Field(default=2.0, ge=0.2)
    bell: bool = False
    desktop_notifications: bool = False
    theme: str = Field(default="textual-dark", min_length=1)
    # The view each role starts on: a standard view's key or a [[views]] name. A supervisor
    # owns few tickets, so "My tickets" would greet them empty.
    start_view: str = Field(default="mine", min_length=1)
    supervisor_start_view: str = Field(default="open", min_length=1)

    def mouse_on(self, environ: Mapping[str, str]) -> bool:
        """Whether to ask the terminal for mouse reports: ``mouse`` if set, else off over SSH."""
        if self.mouse is not None:
            return self.mouse
        return not environ.get("SSH_CONNECTION")


class SearchConfig(_Section):
    # Without a text index (SecantusDB), search reads at most this many of the newest tickets.
    scan_limit: int = Field(default=2000, ge=100, le=100_000)


class ReplyConfig(_Section):
    max_chars: int = Field(default=10_000, gt=0)
    # A sent reply is held this long (a countdown; `u` recalls it into the editor) before it
    # is written. 0: written at once.
    undo_seconds: float = Field(default=5.0, ge=0, le=60)
    # None: the XDG state directory, see drafts_dir().
    drafts_dir: Path | None = None


class MergeConfig(_Section):
    """Merging duplicate tickets (``tickets merge``, ``m`` on the ticket screen)."""

    # The target keeps the earliest createdAt of the merged tickets, so its SLA clocks count
    # from the customer's first request; off: the target's own createdAt stands.
    keep_earliest_created: bool = False


class CannedResponse(_Section):
    name: str = Field(min_length=1)
    body: str = Field(min_length=1)

    @field_validator("body")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return check_placeholders(value, PLACEHOLDERS)

    def render(
        self, *, customer_name: str, ticket_number: str, agent_name: str, subject: str
    ) -> str:
        """The body with placeholders filled; values are inserted as they are, never re-parsed."""
        return self.body.format_map(
            {
                "customer_name": customer_name,
                "ticket_number": ticket_number,
                "agent_name": agent_name,
                "subject": subject,
            }
        )


DEFAULT_CANNED: tuple[CannedResponse, ...] = (
    CannedResponse(
        name="Acknowledge",
        body="Hi {customer_name},\n\nThanks for reaching out about {ticket_number}. "
        "We are looking into it and will get back to you shortly.\n\nBest,\n{agent_name}",
    ),
    CannedResponse(
        name="Need more information",
        body='Hi {customer_name},\n\nTo help with "{subject}" we need a few more details: '
        "could you send us your order number and a short description of what happened?"
        "\n\nBest,\n{agent_name}",
    ),
    CannedResponse(
        name="Resolved",
        body="Hi {customer_name},\n\nWe believe {ticket_number} is now resolved. "
        "If anything is still not right, just reply to this message.\n\nBest,\n{agent_name}",
    ),
)


class ViewConfig(_Section):
    """A custom queue view; empty lists mean no filter on that field."""

    name: str = Field(min_length=1)
    statuses: list[Status] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    # "me", "unassigned", "any" (same as None) or an agent's email.
    assignee: str | None = None

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        if value is not None and value not in ("me", "unassigned", "any") and "@" not in value:
            raise ValueError("expected 'me', 'unassigned', 'any' or an email")
        return value


BUILT_IN = "the built-in default"
# The standard views' keys, in their order (views.py builds them; the CLI's --view takes them).
STANDARD_VIEW_KEYS = (
    "mine",
    "unassigned",
    "open",
    "breaching",
    "waiting",
    "resolved",
    "reply",
    "snoozed",
)


class BulkConfig(_Section):
    """Bulk actions (several selected tickets, a workload move)."""

    # Ask before a bulk action on more tickets than this.
    confirm_over: int = Field(default=10, ge=0)
    # How long a bulk or workload move can be undone (``u``); 0 turns undo off.
    undo_seconds: int = Field(default=120, ge=0)


class SnoozeConfig(_Section):
    """Snooze (``z``): the presets (tomorrow 9:00, next Monday 9:00) count in this zone."""

    # An IANA zone ("Europe/Berlin"); empty: the machine's local zone.
    timezone: str | None = None


class Config(_Section):
    mongo: MongoConfig = Field(default_factory=MongoConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    workflow: WorkflowConfig = Field(default_factory=WorkflowConfig)
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    ui: UiConfig = Field(default_factory=UiConfig)
    reply: ReplyConfig = Field(default_factory=ReplyConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    canned: list[CannedResponse] = Field(default_factory=lambda: list(DEFAULT_CANNED))
    views: list[ViewConfig] = Field(default_factory=list)
    # Action name → keys ("R" or "ctrl+r,R"): see keymap.py and `helpdesk-tui keys`.
    keys: dict[str, str] = Field(default_factory=dict)
    merge: MergeConfig = Field(default_factory=MergeConfig)
    macros: list[Macro] = Field(default_factory=list)
    bulk: BulkConfig = Field(default_factory=BulkConfig)
    snooze: SnoozeConfig = Field(default_factory=SnoozeConfig)
    # Set by load_config(), never read from the file.
    warnings: list[str] = Field(default_factory=list, exclude=True)
    uri_from: str = Field(default=BUILT_IN, exclude=True)  # where mongo.uri came from

    @field_validator("sla", mode="before")
    @classmethod
    def _complete_targets(cls, value: Any) -> Any:
        """Let a team set one number of one priority; the rest keep the seed's targets."""
        if isinstance(value, dict) and isinstance(value.get("targets"), dict):
            targets: dict[Any, Any] = {p: t.model_dump() for p, t in DEFAULT_TARGETS.items()}
            for key, target in value["targets"].items():
                default = targets.get(key)
                if isinstance(default, dict) and isinstance(target, dict):
                    target = {**default, **target}
                targets[key] = target
            value = {**value, "targets": targets}
        return value

    @field_validator("sla")
    @classmethod
    def _hours_in_order(cls, value: SlaPolicy) -> SlaPolicy:
        hours = value.business_hours
        if hours is not None and hours.start >= hours.end:
            raise ValueError("business_hours: end must be after start")
        return value

    @model_validator(mode="after")
    def _start_views_exist(self) -> Config:
        choices = [*STANDARD_VIEW_KEYS, *(view.name for view in self.views)]
        for key in ("start_view", "supervisor_start_view"):
            value = getattr(self.ui, key)
            if value not in choices and value.lower() not in (c.lower() for c in choices):
                raise ValueError(
                    f"ui.{key}: {value!r:.40} is not a view; choose one of: {', '.join(choices)}"
                )
        return self

    @field_validator("keys", mode="before")
    @classmethod
    def _key_lists(cls, value: Any) -> Any:
        """``reply = "R"``, ``reply = "ctrl+r,R"`` or ``reply = ["ctrl+r", "R"]``; no blanks."""
        if not isinstance(value, dict):
            return value
        keys: dict[Any, Any] = {}
        for name, spec in value.items():
            listed = spec if isinstance(spec, list) else str(spec).split(",")
            parts = [str(part).strip() for part in listed]
            if not parts or any(not part or " " in part for part in parts):
                raise ValueError(f'{literal(name)}: expected keys like "R" or "ctrl+r,R"')
            # Shown in the footer, help, palette and hints: key names only (domain/keys.py).
            check_keys(str(name), ",".join(parts))
            keys[name] = ",".join(parts)
        return keys

    @field_validator("canned", "views", "macros")
    @classmethod
    def _unique_names(cls, value: list[Any]) -> list[Any]:
        names = [item.name for item in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"name {name!r} is used twice")
        return value


def _xdg(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value, home = env.get(variable, ""), env.get("HOME")
    if value and Path(value).is_absolute():
        return Path(value) / APP_DIR
    return (Path(home) if home else Path.home()) / fallback / APP_DIR


def config_path(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """``--config``, then ``$HELPDESK_TUI_CONFIG``, then the XDG file if it exists."""
    from_env = env.get("HELPDESK_TUI_CONFIG")
    chosen = explicit or (Path(from_env) if from_env else None)
    if chosen is not None:
        chosen = chosen.expanduser()
        if not chosen.is_file():
            raise ConfigError(f"{chosen}: config file not found")
        return chosen
    default = config_path_default(env)
    return default if default.is_file() else None


def config_path_default(env: Mapping[str, str]) -> Path:
    """Where the config file is looked for when neither ``--config`` nor the environment says."""
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / "config.toml"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """The app's private state directory: ``$XDG_STATE_HOME/helpdesk-tui``."""
    return _xdg(os.environ if env is None else env, "XDG_STATE_HOME", ".local/state")


def drafts_dir(config: Config, env: Mapping[str, str] | None = None) -> Path:
    """Where reply drafts live: ``reply.drafts_dir`` or ``$XDG_STATE_HOME/helpdesk-tui/drafts``."""
    if config.reply.drafts_dir is not None:
        return config.reply.drafts_dir.expanduser()
    return _xdg(os.environ if env is None else env, "XDG_STATE_HOME", ".local/state") / "drafts"


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)?(.*)$", re.DOTALL)
# An option whose value is a credential: any password, secret, token or key (a key *file* is a
# path, but its password is a secret).
_SECRET_OPTION = re.compile(r"(?i)pass|secret|token|credential|key(?!file$)|signature|sas")
# authMechanismProperties values that are names, not credentials (everything else is masked:
# AWS_SESSION_TOKEN and whatever a future mechanism adds).
_PLAIN_PROPERTIES = frozenset(
    {"SERVICE_NAME", "CANONICALIZE_HOST_NAME", "SERVICE_REALM", "SERVICE_HOST", "ENVIRONMENT"}
)
MASK = "****"


def _mask_properties(value: str, secrets: list[str]) -> str:
    masked = []
    for item in value.split(","):
        name, colon, setting = item.partition(":")
        if colon and unquote(name).strip().upper() in _PLAIN_PROPERTIES:
            masked.append(item)
        elif colon:
            secrets.append(setting)
            masked.append(f"{name}:{MASK}")
        else:  # e.g. a percent-encoded ':' — mask it all rather than guess
            secrets.append(item)
            masked.append(MASK)
    return ",".join(masked)


def _mask_query(rest: str, secrets: list[str]) -> str:
    head, question, query = rest.partition("?")
    if not question:
        return rest
    parts = re.split(r"([&;])", query)
    for index, part in enumerate(parts):
        key, equals, value = part.partition("=")
        name = unquote(key).strip().lower()
        if not equals or not value:
            continue
        if name == "authmechanismproperties":
            parts[index] = f"{key}={_mask_properties(value, secrets)}"
        elif _SECRET_OPTION.search(name):
            secrets.append(value)
            parts[index] = f"{key}={MASK}"
    return head + question + "".join(parts)


def _masked(uri: str) -> tuple[str, list[str]]:
    """The URI with every secret-bearing part masked, and the raw secrets it held."""
    secrets: list[str] = []
    scheme, rest = _SCHEME.match(str(uri)).groups()  # type: ignore[union-attr]
    authority = rest.partition("/")[0]
    if "@" in authority:
        userinfo, _, hosts = authority.rpartition("@")
        rest = hosts + rest[len(authority) :]
    elif "@" in rest:
        # An unescaped '/' or '?' in the password: mask more rather than leak it.
        userinfo, _, rest = rest.partition("@")
    else:
        userinfo = None
    rest = _mask_query(rest, secrets)
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        secrets.append(password)
        rest = f"{user}:{MASK}@{rest}" if colon else f"{user}@{rest}"
    return (scheme or "") + rest, secrets


def mask_uri(uri: str) -> str:
    """The URI with every secret masked (``****``): the password in userinfo, any option that
    holds a password, secret, token or key (``tlsCertificateKeyFilePassword``, ...), and the
    values of ``authMechanismProperties`` (``AWS_SESSION_TOKEN``); never raises, never leaks."""
    try:
        return _masked(uri)[0]
    except Exception:
        return MASK


def mask_secrets(text: str, uri: str) -> str:
    """``text`` (e.g. a driver's error message) with the URI and each secret in it masked,
    raw or percent-decoded, wherever they appear."""
    try:
        masked, secrets = _masked(uri)
    except Exception:
        return MASK
    text = text.replace(uri, masked)
    for secret in sorted({*secrets, *map(unquote, secrets)} - {""}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _describe(error: ErrorDetails) -> str:
    path = ""
    for part in error["loc"]:
        if part == "[key]":
            continue
        path += f"[{part}]" if isinstance(part, int) else f"{'.' if path else ''}{part}"
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown key"
    message = re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])
    value = error.get("input")
    secret = tuple(error["loc"][:2]) == ("mongo", "uri")
    shown = error["type"] not in ("value_error", "missing") and not secret
    if shown and isinstance(value, str | int | float | bool):
        message += f" (got {mask_uri(value) if isinstance(value, str) else value!r:.60})"
    return f"{path}: {message}" if path else message


# Later entries win: $MONGODB_URI is only a fallback for $HELPDESK_TUI_MONGO_URI.
_ENV = {
    "MONGODB_URI": ("mongo", "uri"),
    "HELPDESK_TUI_MONGO_URI": ("mongo", "uri"),
    "HELPDESK_TUI_DB": ("mongo", "database"),
    "HELPDESK_TUI_AGENT": ("agent", "email"),
}
_FLAGS = {
    "uri": ("mongo", "uri"),
    "database": ("mongo", "database"),
    "agent_email": ("agent", "email"),
}


def _overrides(env: Mapping[str, str], flags: Mapping[str, object]) -> list[tuple[Any, ...]]:
    """(section, key, value, source) from the environment, then from flags, which win."""
    if set(flags) - set(_FLAGS):
        raise ValueError(f"unknown config overrides: {sorted(set(flags) - set(_FLAGS))}")
    found = [(*where, env[name], f"${name}") for name, where in _ENV.items() if env.get(name)]
    return found + [(*_FLAGS[k], v, "command line") for k, v in flags.items() if v is not None]


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Config:
    """Defaults, then the TOML file, then environment variables, then command-line overrides."""
    env = os.environ if env is None else env
    file = config_path(path, env)
    label = str(file) if file is not None else "config"
    raw: dict[str, Any] = {}
    if file is not None:
        try:
            raw = tomllib.loads(file.read_bytes().decode("utf-8"))
        except OSError as error:
            raise ConfigError(f"{file}: cannot read: {error.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{file}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{file}: invalid TOML: {error}") from None
    for internal in ("warnings", "uri_from"):
        if internal in raw:
            raise ConfigError(f"{label}: {internal}: unknown key")

    warnings: list[str] = []
    mongo = raw.get("mongo")
    uri = mongo.get("uri") if isinstance(mongo, dict) else None
    # mask_uri() changes a URI exactly when it holds a password.
    has_password = isinstance(uri, str) and mask_uri(uri) != uri
    if file is not None and has_password and os.name == "posix" and file.stat().st_mode & 0o044:
        warnings.append(f"{file} holds a MongoDB password and is readable by others; chmod 600 it")

    sources: dict[tuple[str, str], str] = {}
    for section, key, value, source in _overrides(env, overrides or {}):
        table = raw.setdefault(section, {})
        if isinstance(table, dict):  # otherwise the file's own error is reported
            table[key] = value
            sources[(section, key)] = source
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        details = error.errors()
        problems = [
            f"{sources.get(tuple(d['loc'][:2]), label)}: {_describe(d)}"  # type: ignore[arg-type]
            for d in details[:3]
        ]
        more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
        # `from None`: the ValidationError's own text would show the raw URI.
        raise ConfigError("; ".join(problems) + more) from None
    config.warnings = warnings
    if ("mongo", "uri") in sources:
        config.uri_from = sources[("mongo", "uri")]
    elif isinstance(uri, str):
        config.uri_from = str(file)
    elif file is not None:
        config.uri_from = f"the built-in default ({file} sets no mongo.uri)"
    return config
