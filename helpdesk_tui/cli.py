"""The ``helpdesk-tui`` command: thin typer commands that parse, build config and store, call."""

# No ``from __future__ import annotations`` here: typer builds every command's parameters on
# each start and would ``eval`` each string annotation (~30 ms of the app's first rows).
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from bson import ObjectId
from typer.core import TyperCommand, TyperGroup, TyperOption

from helpdesk_tui.collector import resume as resume_collector
from helpdesk_tui.config import (
    BUILT_IN,
    Config,
    ConfigError,
    config_path_default,
    load_config,
    mask_secrets,
    mask_uri,
)
from helpdesk_tui.crash import CRASH_EXIT, crash_line, debugging, record_crash
from helpdesk_tui.domain.errors import (
    HelpdeskError,
    InvalidRequest,
    MergedAway,
    NotSent,
    OutcomeUnknown,
    PermissionDenied,
    StoreUnavailable,
)
from helpdesk_tui.domain.models import Category, NewTicket, Priority, Status, Ticket
from helpdesk_tui.domain.people import Identity, audit_origin
from helpdesk_tui.domain.sla import evaluate
from helpdesk_tui.domain.text import json_text, literal, one_line
from helpdesk_tui.store.auth import current_login, is_authentication_failure, user_for_login
from helpdesk_tui.store.connection import accepts_anyone, connect_database, without_credentials
from helpdesk_tui.store.early import EarlyStart
from helpdesk_tui.store.embedded import EmbeddedServer, demo_missing
from helpdesk_tui.store.outcome import Pending
from helpdesk_tui.store.queries import QueueQuery, SortKey
from helpdesk_tui.store.settings import settings_from_config, system_clock
from helpdesk_tui.store.tickets import TicketStore, merged_into
from helpdesk_tui.views import find_view, standard_views
from helpdesk_tui.views import start_view as start_view_index


class _Typed:
    """``--help`` that says what an option takes: a flag takes nothing (typer would print
    ``<bool>`` beside it, as if it wanted a value), the others their metavar or type."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""
        return params


class HelpdeskGroup(_Typed, TyperGroup):
    pass


class HelpdeskCommand(_Typed, TyperCommand):
    pass


app = typer.Typer(
    name="helpdesk-tui",
    help="A terminal helpdesk on the Ticket Service's MongoDB.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell.
    add_completion=True,
    cls=HelpdeskGroup,
)
tickets_app = typer.Typer(
    help="Scriptable ticket commands (add --json for machine output).", cls=HelpdeskGroup
)
app.add_typer(tickets_app, name="tickets")


@dataclass
class Options:
    config: Path | None = None
    uri: str | None = None
    database: str | None = None
    email: str | None = None
    read_only: bool = False


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr (by the rendering rule: messages quote database and user text)."""
    typer.echo(f"helpdesk-tui: {one_line(message)}", err=True)
    raise typer.Exit(code)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Every error a user can cause ends as one line on stderr and a non-zero exit."""
    try:
        yield
    except (HelpdeskError, ConfigError) as error:
        fail(str(error))


def _config(ctx: typer.Context) -> Config:
    opts: Options = ctx.obj
    overrides = {"uri": opts.uri, "database": opts.database, "agent_email": opts.email}
    config = load_config(opts.config, overrides={k: v for k, v in overrides.items() if v})
    for warning in config.warnings:  # it may quote the file's name: untrusted text
        typer.echo(f"helpdesk-tui: warning: {one_line(warning)}", err=True)
    return config


def connect(config: Config) -> TicketStore:
    """A store on the configured server, after a ping (so a bad URI fails here, masked)."""
    uri = config.mongo.uri.get_secret_value()
    # pymongo warns (UserWarning, several lines) about unknown URI options: say each in one
    # line, or inside the error line if there is one (it may be the cause).
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            db = connect_database(
                uri, config.mongo.database, timeout_ms=config.mongo.server_selection_timeout_ms
            )
        except StoreUnavailable as error:
            if is_authentication_failure(error):
                fail(
                    f"MongoDB at {mask_uri(uri)} refused the login: authentication failed "
                    "(check the user name, the password and authSource); nothing was done",
                    2,
                )
            reason = mask_secrets(str(error), uri)[:200]
            hint = f" ({mask_secrets(str(warned[0].message), uri)[:100]})" if warned else ""
            origin = config.uri_from
            if origin == BUILT_IN:
                origin += f" (no config file at {config_path_default(os.environ)})"
            fail(
                f"cannot reach MongoDB at {mask_uri(uri)}: {reason}{hint}. URI from "
                f"{origin}; check it with `helpdesk-tui doctor`, or try the app on "
                "its own built-in database with `helpdesk-tui demo`"
            )
    for warning in warned:
        typer.echo(f"helpdesk-tui: warning: {mask_secrets(str(warning.message), uri)}", err=True)
    return TicketStore(db, settings_from_config(config))


def demo_store(
    config: Config, *, tickets: int = 300, seed: int = 7
) -> tuple[TicketStore, Any, EmbeddedServer]:
    """The embedded database (SecantusDB in a child process), seeded with the demo data.

    Returns the store, the generated data and the server, which the caller stops when the app
    ends. The server starts while the data is generated and the app's modules are imported, so
    its start-up overlaps ours.
    """
    from helpdesk_tui.demo import seed as demo

    server = EmbeddedServer().launch()
    try:
        data = demo.generate(system_clock(), tickets=tickets, seed=seed, policy=config.sla)
        import helpdesk_tui.app  # noqa: F401 - imported now, while the server starts

        server.wait_until_listening()
        db = connect_database(server.uri, config.mongo.database, timeout_ms=10_000)
        store = TicketStore(db, settings_from_config(config))
        store.init_db()
        demo.load(store, data)
    except BaseException:
        server.stop()
        raise
    return store, data, server


def identify(
    store: TicketStore,
    config: Config,
    email: str | None,
    read_only: bool,
    *,
    named_by: str = "--as",
) -> Identity:
    """Who is at the keyboard. With authentication the database login is the person (their
    roles are the login's MongoDB roles) and ``email`` naming anyone else is refused (exit 2);
    without it, ``email`` (``named_by``: --as or agent.email) is taken at its word."""
    login = current_login(store.db)
    if login is None:
        if not email:
            fail("who are you? pass --as EMAIL or set agent.email in the config")
        store.audit.signed_by(None)
        return Identity.from_user(
            store.user_by_email(email),
            agent_roles=config.roles.agent,
            supervisor_roles=config.roles.supervisor,
            read_only=read_only,
        )
    ident = config.identity
    user = user_for_login(
        store.users, login.user, users_field=ident.users_field, logins=ident.logins
    )
    me = Identity.from_login(
        user,
        login.user,
        login.roles_in(config.mongo.database),
        agent_role=ident.agent_role,
        supervisor_role=ident.supervisor_role,
        read_only=read_only,
    )
    if me.names_someone_else(email):
        fail(
            f"signed in to the database as {login.user}, but {named_by} names {email}: on a "
            f"connection with authentication your login is who you are (drop {named_by})",
            2,
        )
    store.audit.signed_by(login.user)
    return me


def _named_by(opts: Options) -> str:
    """Where the declared e-mail came from, for the refusal's words."""
    if opts.email:
        return "--as"
    return "$HELPDESK_TUI_AGENT" if os.environ.get("HELPDESK_TUI_AGENT") else "agent.email"


def _colleague(store: TicketStore, config: Config, email: str) -> Identity:
    """A member of staff named on the command line (an assignee): looked up by e-mail, their
    ``users.role`` saying only that they are staff (it grants the caller nothing)."""
    return Identity.from_user(
        store.user_by_email(email),
        agent_roles=config.roles.agent,
        supervisor_roles=config.roles.supervisor,
    )


def _run_app(
    store: TicketStore, config: Config, me: Identity, *, demo: bool = False, activity: Any = None
) -> None:
    early = _early_start(store, config, me)  # reads while the UI below is imported and built
    from helpdesk_tui.app import HelpdeskApp

    app = HelpdeskApp(store=store, config=config, me=me, demo=demo, activity=activity, early=early)
    app.run(mouse=config.ui.mouse_on(os.environ))
    if app.return_code:  # a crash: the app printed its one line and wrote the log
        raise typer.Exit(app.return_code)


def _early_start(store: TicketStore, config: Config, me: Identity) -> EarlyStart:
    """The start view's first page, read in a thread from now (store/early.py)."""

    def start_view() -> tuple[str, QueueQuery]:  # as the queue's first load will ask it
        views = standard_views(
            me.id, config.views, lambda email: store.user_by_email(email).object_id
        )
        ui = config.ui
        view = views[
            start_view_index(views, ui.supervisor_start_view if me.is_supervisor else ui.start_view)
        ]
        return view.key, view.query

    # One screenful first (the terminal's rows bound the rows shown); the queue reads the rest
    # of its window right after painting it, the keys typed meanwhile waiting for it.
    rows = shutil.get_terminal_size((80, 24)).lines
    return EarlyStart(store, me.id, start_view, min(config.ui.page_size, max(rows, 10))).start()


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", metavar="<file>", help="Config file (else $HELPDESK_TUI_CONFIG or XDG)."
    ),
]
UriOpt = Annotated[
    str | None, typer.Option("--uri", metavar="<uri>", help="MongoDB URI (else config/env).")
]
DbOpt = Annotated[str | None, typer.Option("--db", metavar="<name>", help="Database name.")]
AsOpt = Annotated[
    str | None, typer.Option("--as", metavar="<email>", help="Your email in `users` (who am I).")
]
ReadOnlyOpt = Annotated[bool, typer.Option("--read-only", help="Observe only: no writes.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _print_version(value: bool) -> None:
    if value:
        from helpdesk_tui import __version__

        typer.echo(f"helpdesk-tui {__version__}")
        raise typer.Exit()


VersionOpt = Annotated[
    bool,
    typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
]


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    config: ConfigOpt = None,
    uri: UriOpt = None,
    database: DbOpt = None,
    email: AsOpt = None,
    read_only: ReadOnlyOpt = False,
    sign_in: Annotated[bool, typer.Option("--sign-in", hidden=True)] = False,
    version: VersionOpt = False,
) -> None:
    """Open the helpdesk on the configured database (see `demo` to try it without one)."""
    ctx.obj = Options(config, uri, database, email, read_only)
    if ctx.invoked_subcommand is not None:
        resume_collector()  # paused for the app's start only (launch.py)
        return
    with clear_errors():
        cfg = _config(ctx)
        if sign_in:  # a served visitor's process (serve.py): their own login, on screen
            _run_signed_in(cfg, read_only)
            return
        store = connect(cfg)
        me = identify(store, cfg, cfg.agent.email, read_only, named_by=_named_by(ctx.obj))
        _run_app(store, cfg, me)


@app.command(cls=HelpdeskCommand)
def demo(
    ctx: typer.Context,
    tickets: Annotated[int, typer.Option(min=1, max=20_000, help="Tickets to generate.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 7,
    activity: Annotated[
        bool, typer.Option(help="Simulate other agents and customers (live updates).")
    ] = True,
) -> None:
    """Open the app on an embedded in-memory database full of realistic demo data.

    The database is SecantusDB, a MongoDB wire-compatible server (GPL-2.0), run as a child
    process on a free loopback port and stopped with the app: the demo runs the same live
    change-stream path as production.
    """
    if (missing := demo_missing()) is not None:  # a production install: no demo extra
        fail(missing, 2)
    from helpdesk_tui.demo.activity import Activity
    from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL

    opts: Options = ctx.obj
    with clear_errors():
        cfg = _config(ctx)
        # The demo shows every SLA state, paused included (a team setting, off by default).
        cfg = cfg.model_copy(
            update={"sla": cfg.sla.model_copy(update={"pause_when_waiting": True})}
        )
        if not cfg.macros:  # something for `m` to show
            from helpdesk_tui.demo.macros import DEMO_MACROS

            cfg = cfg.model_copy(update={"macros": list(DEMO_MACROS)})
        store, data, server = demo_store(cfg, tickets=tickets, seed=seed)
        try:
            me = identify(store, cfg, opts.email or DEMO_AGENT_EMAIL, opts.read_only)
            team = None
            if activity:
                # The simulated team writes through its own store, as another program would.
                team = Activity(store.sibling(), store.presence(), data, me.id)
            _run_app(store, cfg, me, demo=True, activity=team)
        finally:
            server.stop()


@app.command("init-db", cls=HelpdeskCommand)
def init_db(ctx: typer.Context) -> None:
    """Create the indexes the app needs and the roles helpdeskAgent and helpdeskSupervisor
    (idempotent; never drops anything). Run it with an administrator's login."""
    with clear_errors():
        cfg = _config(ctx)
        store = connect(cfg)
        for name in store.init_db(rebuild=True):
            typer.echo(f"index ok: {name}")
        from helpdesk_tui.store.followers import FollowerStore

        FollowerStore(store.db, cfg.mongo.followers).init()
        typer.echo(f"index ok: {cfg.mongo.followers} (followers)")
        store.presence().init()  # the app checks them at start; an agent may not create them
        typer.echo(f"index ok: {cfg.mongo.presence} (presence)")
        entries = store.queue.entries.count_documents({})
        typer.echo(f"queue index built: {entries} tickets")
        _init_roles(store, cfg)


def _init_roles(store: TicketStore, cfg: Config) -> None:
    """Create or update the helpdesk's two roles and print what each grants, collection by
    collection; without the privilege, one line saying what to ask the DBA for (exit 1)."""
    from helpdesk_tui.store.auth import RolesRefused, ensure_roles, role_plan

    s = store.settings
    collections = {
        "tickets": s.tickets,
        "events": s.events,
        "users": s.users,
        "orders": s.orders,
        "counters": s.counters,
        "queue_index": s.queue_index,
        "meta": s.meta,
        "presence": s.presence,
        "followers": cfg.mongo.followers,
        "snoozes": s.snoozes,
        "merges": s.merges,
        "pulse_state": s.pulse_state,
    }
    ident = cfg.identity
    plans = role_plan(
        collections, agent_role=ident.agent_role, supervisor_role=ident.supervisor_role
    )
    login = current_login(store.db, inherited=False)
    try:
        done = ensure_roles(store.db, plans, login=login.user if login else None)
    except RolesRefused as error:
        fail(str(error))
    database = one_line(store.db.name)
    for plan, how in done:
        typer.echo(f"role {how}: {one_line(plan.name)} on {database}")
        if plan.inherits:
            typer.echo(f"  inherits {', '.join(one_line(r) for r in plan.inherits)}")
        width = max((len(g.collection) for g in plan.grants), default=0)
        for grant in plan.grants:
            actions = ", ".join(grant.actions)
            typer.echo(f"  {one_line(grant.collection):<{width}}  {actions}  ({grant.why})")
        if plan.note:
            typer.echo(f"  {plan.note}")


@app.command(cls=HelpdeskCommand)
def seed(
    ctx: typer.Context,
    tickets: Annotated[int, typer.Option(min=1, max=100_000)] = 300,
    customers: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 7,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Write the demo team, customers and tickets into the configured database."""
    from helpdesk_tui.demo import seed as demo

    with clear_errors():
        cfg = _config(ctx)
        target = f"{mask_uri(cfg.mongo.uri.get_secret_value())} / {cfg.mongo.database}"
        if not yes and not typer.confirm(f"Add {tickets} demo tickets to {target}?"):
            fail("nothing written")
        store = connect(cfg)
        store.init_db()
        data = demo.generate(
            store.now(), tickets=tickets, customers=customers, seed=seed, policy=cfg.sla
        )
        demo.load(store, data)
        typer.echo(f"seeded {len(data.users)} users and {len(data.tickets)} tickets into {target}")


@app.command(cls=HelpdeskCommand)
def doctor(ctx: typer.Context) -> None:
    """Check the connection, server, change streams, indexes and privileges."""
    from helpdesk_tui.doctor import run_checks

    with clear_errors():
        cfg = _config(ctx)
        store = connect(cfg)
        failed = 0
        for check in run_checks(store, cfg):
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.level]
            failed += check.level == "fail"
            typer.echo(f"[{mark}] {check.name}: {one_line(check.detail)}")
        raise typer.Exit(1 if failed else 0)


@app.command(cls=HelpdeskCommand)
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(metavar="<address>", help="Address to bind (default: loopback only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    public: Annotated[
        bool,
        typer.Option(
            "--public", help="Allow an address other than loopback (needs TLS, or --insecure)."
        ),
    ] = False,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", metavar="<file>", help="TLS certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", metavar="<file>", help="TLS private key (PEM).")
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option("--insecure", help="With --public: serve without TLS (passwords in clear)."),
    ] = False,
    demo_data: Annotated[
        bool, typer.Option("--demo", help="Each visitor gets the demo (its own database).")
    ] = False,
) -> None:
    """Run the app in a browser tab (textual-serve): one app process per visitor.

    textual-serve has no authentication of its own, so each visitor signs in with their own
    database login, and is who that login says (the server must require logins). The password
    goes only to the database driver: never into a URL, a log or a command line. It binds to
    127.0.0.1 by default: reach it through an SSH tunnel (ssh -L 8000:127.0.0.1:8000 host).
    Another address needs --public and TLS (--tls-cert, --tls-key), or --insecure.
    --demo: every visitor gets a demo of their own, no sign-in (and no authentication).
    """
    from helpdesk_tui import serve as web

    if (missing := web.missing_extras(demo_data)) is not None:  # not in a production install
        fail(missing, 2)
    opts: Options = ctx.obj
    with clear_errors():
        if (tls_cert is None) != (tls_key is None):
            fail("TLS needs both --tls-cert and --tls-key", 2)
        tls = (str(tls_cert), str(tls_key)) if tls_cert and tls_key else None
        refused = web.refusal(
            host, public, tls=tls is not None, insecure=insecure, signs_in=not demo_data
        )
        if refused is not None:
            fail(refused, 2)
        cfg = _config(ctx)
        args: list[str] = []
        if opts.config is not None:
            args += ["--config", str(opts.config)]
        if opts.database:
            args += ["--db", opts.database]
        if opts.read_only:
            args.append("--read-only")
        demo_for = None
        if demo_data:
            from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL

            demo_for = opts.email or DEMO_AGENT_EMAIL
            if opts.email:
                args += ["--as", opts.email]
            command = ["demo"]
        else:
            if opts.email:
                fail("serve signs each visitor in with their own login: drop --as", 2)
            # Visitors must be told apart by the database itself: refuse a server that lets
            # anyone in without a login (a sign-in would prove nothing there).
            uri = without_credentials(cfg.mongo.uri.get_secret_value())
            if accepts_anyone(uri, cfg.mongo.database, cfg.mongo.server_selection_timeout_ms):
                fail(
                    f"the database at {mask_uri(uri)} answers without a login, so a visitor's "
                    "sign-in would prove nothing: serve needs a server with authentication "
                    "(or try serve --demo)",
                    2,
                )
            args.append("--sign-in")
            command = []
        # To each visitor's process by environment, never on a command line; without the
        # server's own credentials: each visitor brings theirs.
        if opts.uri:
            os.environ["HELPDESK_TUI_MONGO_URI"] = opts.uri
        if not demo_data:
            os.environ["HELPDESK_TUI_MONGO_URI"] = without_credentials(
                cfg.mongo.uri.get_secret_value()
            )
            os.environ.pop("MONGODB_URI", None)  # the other one the app reads: may hold ours
        if not web.is_loopback(host):
            warning = web.public_warning(
                host, port, tls=tls is not None, demo_for=one_line(demo_for) if demo_for else None
            )
            typer.echo(f"helpdesk-tui: WARNING: {warning}", err=True)
        scheme = "https" if tls else "http"
        typer.echo(f"helpdesk-tui: serving on {scheme}://{host}:{port} (ctrl+c stops)", err=True)
        if tls is None:
            web.run(web.child_command(args, command), host, port)
        else:
            web.run(web.child_command(args, command), host, port, tls=tls)


def _run_signed_in(config: Config, read_only: bool) -> None:
    """A served visitor's app: the sign-in screen first, then the helpdesk of that login."""
    from helpdesk_tui.app import HelpdeskApp

    uri = without_credentials(config.mongo.uri.get_secret_value())

    def attempt(login: str, password: str) -> tuple[TicketStore, Identity]:
        try:
            db = connect_database(
                uri,
                config.mongo.database,
                timeout_ms=config.mongo.server_selection_timeout_ms,
                username=login,
                password=password,
            )
        except StoreUnavailable as error:
            if is_authentication_failure(error):
                raise PermissionDenied("wrong login or password") from None
            reason = mask_secrets(str(error), uri).replace(password, "***")[:160]
            raise StoreUnavailable(f"cannot reach MongoDB at {mask_uri(uri)}: {reason}") from None
        store = TicketStore(db, settings_from_config(config))
        try:
            me = identify(store, config, None, read_only)
        except typer.Exit:  # identify's own refusals: the login is no member of staff here
            db.client.close()
            raise PermissionDenied(f"{login} is not a member of staff on this helpdesk") from None
        except HelpdeskError:
            db.client.close()
            raise
        return store, me

    app = HelpdeskApp(config=config, sign_in=attempt, where=mask_uri(uri))
    app.run(mouse=config.ui.mouse_on(os.environ))
    if app.return_code:
        raise typer.Exit(app.return_code)


@app.command(cls=HelpdeskCommand)
def keys(ctx: typer.Context) -> None:
    """Print every screen's actions and the keys they answer to, with the config's keys.

    The names in the second column are what the config's keys table remaps
    (reply = "R"); a `*` marks a key your config moved. Problems go to stderr (exit 1).
    """
    from helpdesk_tui.keymap import effective, problems

    with clear_errors():
        cfg = _config(ctx)
        screen = ""
        for row in effective(cfg.keys):
            if row.screen != screen:
                screen = row.screen
                typer.echo(f"\n[{screen}]" if screen != "app" else "[app: every screen]")
            mark = "*" if row.remapped else " "
            shown = one_line(",".join(row.keys))  # from the config: by the rendering rule
            typer.echo(f" {mark} {one_line(row.id):<18} {shown:<24} {one_line(row.description)}")
        said = problems(cfg.keys)
        for line in said:
            typer.echo(f"helpdesk-tui: warning: {one_line(line)}", err=True)
        raise typer.Exit(1 if said else 0)


@app.command(cls=HelpdeskCommand)
def man() -> None:
    """Print the manual page (roff), made from these commands' own help.

    Read it with `helpdesk-tui man | man -l -`; install it with
    `helpdesk-tui man > ~/.local/share/man/man1/helpdesk-tui.1`.
    """
    from helpdesk_tui.manpage import manpage

    typer.echo(manpage(typer.main.get_command(app)), nl=False)  # type: ignore[arg-type]


# --- tickets ---------------------------------------------------------------------------------


def _session(ctx: typer.Context, *, write: bool = False) -> tuple[TicketStore, Config, Identity]:
    opts: Options = ctx.find_root().obj
    cfg = _config(ctx)
    store = connect(cfg)
    me = identify(store, cfg, cfg.agent.email, opts.read_only, named_by=_named_by(opts))
    if write:
        me.require_write()
    return store, cfg, me


def _emit(as_json: bool, data: Any, text: Callable[[], str]) -> None:
    # JSON escapes ESC itself; json_text also escapes C1 and bidi characters it writes raw.
    typer.echo(json_text(data) if as_json else text())


@tickets_app.command("list", cls=HelpdeskCommand)
def tickets_list(
    ctx: typer.Context,
    view: Annotated[
        str, typer.Option(help="mine, unassigned, open, breaching, waiting, resolved, reply")
    ] = "open",
    search: Annotated[str, typer.Option("--search", "-s", help="Number, subject or #tag.")] = "",
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 50,
    sort: Annotated[SortKey, typer.Option(help="Sort order.")] = SortKey.DEADLINE,
    as_json: JsonOpt = False,
) -> None:
    """List a queue view, most urgent first."""
    from helpdesk_tui.export import ticket_json  # here: the app's start does not need it

    with clear_errors():
        store, cfg, me = _session(ctx)
        views = standard_views(me.id, cfg.views, lambda email: store.user_by_email(email).object_id)
        query = replace(find_view(views, view).query, text=search, sort=sort)
        page = store.list_queue(query, limit=limit)
        users = store.users_by_ids(
            [t.user for t in page.tickets] + [t.assigned_to for t in page.tickets]
        )
        now = store.now()
        rows = [ticket_json(t, users, now, cfg.sla) for t in page.tickets]

        def text() -> str:
            lines = []
            for t, row in zip(page.tickets, rows, strict=True):
                sla = evaluate(t, now, cfg.sla)
                who = row["assignee"]["name"] if row["assignee"] else "-"
                lines.append(
                    f"{one_line(t.ticket_number):<11} {sla.row_state.value:<9} {sla.countdown:>8}  "
                    f"{t.priority.value:<6} {t.status.value:<11} {one_line(who, 14):<14} "
                    f"{one_line(t.subject, 50)}"
                )
            return "\n".join(lines) or "no tickets"

        _emit(as_json, rows, text)


@tickets_app.command("search")
def tickets_search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words, "a phrase", TKT-000123, from:, tag:, status:, assignee:, '
            "is:unassigned, before:/after: (2026-10-01 or 7d)."
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    skip: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Search every ticket: number, subject, conversation, customer, tags (best first)."""
    from helpdesk_tui.export import search_json, search_lines
    from helpdesk_tui.store.search import TicketSearch

    with clear_errors():
        store, cfg, me = _session(ctx)
        search = TicketSearch(store, scan_limit=cfg.search.scan_limit)
        page = search.search(query, me=me.id, skip=skip, limit=limit)
        tickets = [hit.ticket for hit in page.hits]
        users = store.users_by_ids(
            [t.user for t in tickets]
            + [t.assigned_to for t in tickets]
            + [
                h.snippet.sender
                for h in page.hits
                if h.snippet and isinstance(h.snippet.sender, ObjectId)
            ]
        )
        now = store.now()
        _emit(
            as_json,
            search_json(page, users, now, cfg.sla),
            lambda: "\n".join(search_lines(page, users)),
        )


def _show(store: TicketStore, cfg: Config, ticket_ref: str, as_json: bool) -> None:
    from helpdesk_tui.export import ticket_json

    ticket = store.find_ticket(ticket_ref)
    events = store.history(ticket.id) if isinstance(ticket.id, ObjectId) else []
    ids = [ticket.user, ticket.assigned_to, *(m.sender for m in ticket.messages)]
    ids += [e.get("actor") for e in events]
    ids += [_oid(e.get(k)) for e in events if e.get("action") == "assign" for k in ("from", "to")]
    users = store.users_by_ids(ids)
    data = ticket_json(ticket, users, store.now(), cfg.sla, messages=True)
    origins = _merge_origins(store, ticket)
    for shown, message in zip(data["messages"], ticket.messages, strict=True):
        shown["mergedFrom"] = origins.get(message.id) if message.id else None
    data["history"] = [_event_json(e, users) for e in events]

    def text() -> str:
        who = data["assignee"]["name"] if data["assignee"] else "unassigned"
        customer = data["customer"] or {}
        lines = [
            f"{one_line(ticket.ticket_number)}  {one_line(ticket.subject)}",
            f"status {ticket.status.label} · priority {ticket.priority.value} · "
            f"category {ticket.category.value} · assignee {one_line(who)}",
            f"customer {one_line(customer.get('name') or '?')} "
            f"<{one_line(customer.get('email') or '?')}>",
            f"SLA {data['sla']['state']} {data['sla']['countdown']}   tags: "
            + (", ".join(one_line(t) for t in ticket.tags) or "-"),
        ]
        lines += [f"warning: {one_line(p)}" for p in ticket.problems]
        for m in data["messages"]:
            sender = (m["sender"] or {}).get("name") or "unknown"
            kind = "NOTE " if m["isInternal"] else ""
            origin = f" · from {one_line(m['mergedFrom'])}" if m["mergedFrom"] else ""
            lines.append(f"\n--- {kind}{one_line(sender)} · {m['createdAt']}{origin}")
            lines.append(literal(m["content"]))
            lines += [f"[attachment] {one_line(a)}" for a in m["attachments"]]
        if events:
            lines.append("\n--- history")
            lines += [_event_line(e, users) for e in events]
        return "\n".join(lines)

    _emit(as_json, data, text)


def _oid(value: Any) -> ObjectId | None:
    if isinstance(value, ObjectId):
        return value
    return ObjectId(value) if isinstance(value, str) and ObjectId.is_valid(value) else None


def _who(value: Any, users: dict[ObjectId, Any], missing: str) -> str:
    oid = _oid(value)
    user = users.get(oid) if oid is not None else None
    if user is not None:
        return str(user.display)
    return missing if value in (None, "") else str(value)


def _event_json(event: dict[str, Any], users: dict[ObjectId, Any]) -> dict[str, Any]:
    """An audit entry for ``tickets show --json``: who (the actor, and the login that signed
    it), what, from, to, when, from where."""
    at = event.get("at")
    actor = _oid(event.get("actor"))
    return {
        "at": at.isoformat().replace("+00:00", "Z") if isinstance(at, datetime) else None,
        "action": event.get("action"),
        "actor": _who(actor, users, "") or None,
        "actorId": str(actor) if actor else None,
        "from": event.get("from"),
        "to": event.get("to"),
        "login": event.get("login"),
        "osUser": event.get("osUser"),
        "host": event.get("host"),
    }


def _event_line(event: dict[str, Any], users: dict[ObjectId, Any]) -> str:
    """One audit entry as a line: when, who, what, and where it was written from."""
    at = event.get("at")
    when = f"{at:%Y-%m-%d %H:%M}" if isinstance(at, datetime) else "?"
    action = event.get("action")
    before, after = event.get("from"), event.get("to")
    if action == "assign":
        before, after = _who(before, users, "nobody"), _who(after, users, "nobody")
    change = "" if before is None and after is None else f" {before or '-'} → {after or '-'}"
    origin = audit_origin(event)
    line = f"{when}  {_who(event.get('actor'), users, 'someone')}: {action}{change}"
    return one_line(line + (f"  [{origin}]" if origin else ""))


def _merge_origins(store: TicketStore, ticket: Ticket) -> dict[ObjectId, str]:
    """Which ticket each message a merge copied here came from (``ticket_merges``, one
    indexed query; the ticket screen labels copies the same way)."""
    from helpdesk_tui.store.merge import Merger

    return Merger(store).origins(ticket.id) if isinstance(ticket.id, ObjectId) else {}


@tickets_app.command("show", cls=HelpdeskCommand)
def tickets_show(
    ctx: typer.Context,
    ticket: Annotated[str, typer.Argument(help="Ticket number (TKT-000123 or 123) or id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one ticket with its conversation."""
    with clear_errors():
        store, cfg, _ = _session(ctx)
        _show(store, cfg, ticket, as_json)


@tickets_app.command("create", cls=HelpdeskCommand)
def tickets_create(
    ctx: typer.Context,
    subject: Annotated[str, typer.Option(help="One-line subject.")],
    customer: Annotated[
        str, typer.Option(metavar="<email>", help="The customer's email in `users`.")
    ],
    category: Annotated[Category, typer.Option(help="Ticket category.")],
    priority: Annotated[Priority, typer.Option(help="Priority.")] = Priority.MEDIUM,
    description: Annotated[str, typer.Option(help="The customer's words.")] = "",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", metavar="<tag>", help="A tag (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a new ticket on behalf of a customer."""
    with clear_errors():
        store, cfg, me = _session(ctx, write=True)
        user = store.user_by_email(customer).object_id  # a foreign _id: refused, one line
        try:
            new = NewTicket(
                subject=subject,
                description=description,
                user=user,
                category=category,
                priority=priority,
                tags=tag or [],
            )
        except ValueError as error:
            raise InvalidRequest(_first_error(error)) from error
        created = store.create_ticket(new, actor=me.id)
        _show(store, cfg, created.ticket_number, as_json)


def _first_error(error: ValueError) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        detail = error.errors()[0]
        return f"{'.'.join(str(p) for p in detail['loc'])}: {detail['msg'].lower()}"
    return str(error)


@tickets_app.command("reply", cls=HelpdeskCommand)
def tickets_reply(
    ctx: typer.Context,
    ticket: Annotated[str, typer.Argument(help="Ticket number or id.")],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Text (default: read stdin).")
    ] = None,
    internal: Annotated[bool, typer.Option("--internal", help="An internal note.")] = False,
    attach: Annotated[
        list[str] | None,
        typer.Option("--attach", metavar="<text>", help="Attachment (repeatable)."),
    ] = None,
    status: Annotated[Status | None, typer.Option(help="Also move to this status.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reply to the customer (or leave an internal note).

    One line on stderr for each outcome that is not "sent": not sent (exit 1, nothing was
    written), the ticket was merged into another (exit 2, names it), or unknown after the
    read-back (exit 3: check with `tickets show` before sending again; never re-sent here).
    """
    with clear_errors():
        store, cfg, me = _session(ctx, write=True)
        text = _message_text(message)
        try:
            with store.bounded_read():
                found = store.find_ticket(ticket)
        except StoreUnavailable as error:
            fail(f"not sent: {error}")
        target = merged_into(found)
        if target is not None:  # also refused by the write itself, should it race a merge
            fail(str(MergedAway(found.label, target)) + "; nothing was sent", 2)
        try:
            store.add_message(
                found.object_id,
                sender=me.id,
                content=text,
                internal=internal,
                attachments=attach or [],
                set_status=status,
            )
        except MergedAway as error:
            fail(f"{error}; nothing was sent", 2)
        except NotSent as error:
            fail(f"not sent: {error}")
        except OutcomeUnknown as error:
            _settle(store, found, error)
        try:
            with store.bounded_read():
                _show(store, cfg, found.ticket_number, as_json)
        except HelpdeskError as error:  # sent: a failed read afterwards must not say otherwise
            typer.echo(
                f"helpdesk-tui: the reply on {one_line(found.label)} was sent; the ticket "
                f"could not be shown ({one_line(str(error), 200)})",
                err=True,
            )


# How many times `tickets reply` reads back a write whose outcome is unknown before it says so.
READ_BACKS = 3


def _settle(store: TicketStore, found: Ticket, unknown: OutcomeUnknown) -> None:
    """Read back a reply whose outcome is unknown; return only if it was sent."""
    typer.echo(
        f"helpdesk-tui: unknown whether the reply on {one_line(found.label)} was sent "
        f"({unknown}); checking…",
        err=True,
    )
    pending = unknown.pending if isinstance(unknown.pending, Pending) else None
    for _ in range(READ_BACKS if pending is not None else 0):
        assert pending is not None
        landed = store.message_landed(pending)
        if landed is True:
            typer.echo(
                f"helpdesk-tui: checked: the reply on {one_line(found.label)} was sent", err=True
            )
            return
        if landed is False:
            # No proof of "not sent": a server that stalled holding the write may still apply
            # it. Exit 3 ("unknown") so a script does not blindly send it again.
            fail(
                f"unknown: {one_line(found.label)} has no copy of the reply yet, but a slow "
                "database may still deliver it; check `helpdesk-tui tickets show "
                f"{one_line(found.ticket_number)}` before sending it again",
                3,
            )
    fail(
        f"unknown: could not confirm whether the reply on {one_line(found.label)} was sent "
        f"(the database does not answer); check `helpdesk-tui tickets show "
        f"{one_line(found.ticket_number)}` before sending it again",
        3,
    )


def _message_text(message: str | None) -> str:
    """``--message`` or all of stdin, as UTF-8 text; anything else is a usage error (exit 2)."""
    if message is not None:
        return message
    stream = sys.stdin
    if stream is None or stream.closed:
        fail("no message: pass --message TEXT or pipe the text on stdin; nothing was sent", 2)
    try:
        buffer = getattr(stream, "buffer", None)
        raw = buffer.read() if buffer is not None else stream.read().encode("utf-8", "replace")
    except (OSError, ValueError) as error:
        fail(f"cannot read the message from stdin ({error}); nothing was sent", 2)
    try:
        return str(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        fail(f"the message is not UTF-8 text (byte {error.start}); nothing was sent", 2)


@tickets_app.command("assign", cls=HelpdeskCommand)
def tickets_assign(
    ctx: typer.Context,
    ticket: Annotated[str, typer.Argument(help="Ticket number or id.")],
    agent: Annotated[str, typer.Argument(help="Agent email, 'me', or 'nobody'.")],
    as_json: JsonOpt = False,
) -> None:
    """Assign a ticket (agents: to themselves; supervisors: to anyone)."""
    with clear_errors():
        store, cfg, me = _session(ctx, write=True)
        found = store.find_ticket(ticket)
        target: ObjectId | None
        if agent == "me":
            target = me.id
        elif agent == "nobody":
            target = None
        else:
            target = _colleague(store, cfg, agent).id
        ticket_id = found.object_id
        if target == me.id != found.assigned_to and (
            found.assigned_to is None or not me.is_supervisor
        ):
            # A take (compare-and-set on "nobody"): one already held names who holds it.
            store.take(ticket_id, me.id)
        else:
            me.check_assign(found.assigned_to, target)
            store.assign(ticket_id, target, actor=me.id, expected=found.assigned_to)
        _show(store, cfg, found.ticket_number, as_json)


@tickets_app.command("status", cls=HelpdeskCommand)
def tickets_status(
    ctx: typer.Context,
    ticket: Annotated[str, typer.Argument(help="Ticket number or id.")],
    status: Annotated[Status, typer.Argument(help="The new status.")],
    as_json: JsonOpt = False,
) -> None:
    """Move a ticket along the workflow."""
    with clear_errors():
        store, cfg, me = _session(ctx, write=True)
        found = store.find_ticket(ticket)
        store.set_status(found.object_id, status, actor=me.id, expected=found.status)
        _show(store, cfg, found.ticket_number, as_json)


@tickets_app.command("merge")
def tickets_merge(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="The ticket that stays (number or id).")],
    sources: Annotated[list[str], typer.Argument(help="Tickets merged into it and closed.")],
    keep_earliest: Annotated[
        bool | None,
        typer.Option(
            "--keep-earliest/--keep-target-created",
            help="Target keeps the earliest createdAt (default: merge.keep_earliest_created).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge duplicates into TARGET: their messages and tags move over, each is closed with a
    note and a merged-into tag; all of it or nothing."""
    from helpdesk_tui.store.merge import Merger

    with clear_errors():
        store, cfg, me = _session(ctx, write=True)
        found = store.find_ticket(target)
        ids = [store.find_ticket(ref).object_id for ref in sources]
        result = Merger(store).merge(
            found.object_id, ids, actor=me.id, keep_earliest_created=keep_earliest
        )
        if not as_json:
            names = ", ".join(one_line(s.ticket_number) for s in result.sources)
            typer.echo(
                f"merged {names} into {one_line(found.ticket_number)}: "
                f"{result.copied} message{'' if result.copied == 1 else 's'} copied, sources closed"
            )
        _show(store, cfg, found.ticket_number, as_json)


@tickets_app.command("split")
def tickets_split(
    ctx: typer.Context,
    ticket: Annotated[str, typer.Argument(help="Ticket number or id.")],
    message: Annotated[
        list[str],
        typer.Option(
            "--message", "-m", help="A message to move: its position (1 = first) or id; repeat."
        ),
    ],
    subject: Annotated[str | None, typer.Option(help="The new ticket's subject.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Move messages of a ticket into a new ticket for the same customer (notes on both)."""
    from helpdesk_tui.store.merge import Merger

    with clear_errors():
        store, cfg, me = _session(ctx, write=True)
        found = store.find_ticket(ticket)
        chosen: list[ObjectId] = []
        for ref in message:
            if ref.isdigit() and 1 <= int(ref) <= len(found.messages):
                picked = found.messages[int(ref) - 1].id
            elif ObjectId.is_valid(ref):
                picked = ObjectId(ref)
            else:
                raise InvalidRequest(
                    f"no message {ref} on {found.label}: give a position "
                    f"1-{len(found.messages)} or a message id"
                )
            if picked is None:
                raise InvalidRequest(f"message {ref} on {found.label} has no _id to move by")
            chosen.append(picked)
        result = Merger(store).split(found.object_id, chosen, actor=me.id, subject=subject)
        if not as_json:
            typer.echo(
                f"moved {result.moved} messages of {one_line(found.label)} to "
                f"{one_line(result.created.ticket_number)}"
            )
        _show(store, cfg, result.created.ticket_number, as_json)


def main() -> None:
    """Console entry point: a crash prints one line (no data: the error's message may hold
    customer text) and writes the traceback to the private crash log, unless
    HELPDESK_TUI_DEBUG is set."""
    for position, argument in enumerate(sys.argv[1:], 1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes in argv (surrogate escapes)
            typer.echo(f"helpdesk-tui: argument {position} is not UTF-8 text", err=True)
            sys.exit(2)
    try:
        app()
    except Exception as error:  # a bug of ours: still one line for the user
        if debugging():
            raise
        typer.echo(crash_line(error, record_crash(error)), err=True)
        sys.exit(CRASH_EXIT)


# --- pulse (issue 30) ---------------------------------------------------------------------------


def _pulse_text(pulse: Any) -> str:
    """The pulse as compact tables (the same figures as ``--json`` and the ``P`` screen)."""
    from helpdesk_tui.domain.pulse import WEEK, duration_text

    day, week = pulse.backlog_day, pulse.backlog_week
    picks = [(week, 0), (week, 16), (day, 0), (day, 12), (day, 18), (day, len(day.at) - 1)]
    lines = [f"Pulse as of {pulse.now:%Y-%m-%d %H:%M} UTC (hours and days are UTC)", ""]
    head = "".join(f"{'now' if i == len(b.at) - 1 else f'{b.at[i]:%a %Hh}':>9}" for b, i in picks)
    lines.append(f"{'Backlog':<12}{head}")
    for name in ("open", "waiting", "breaching"):
        row = "".join(f"{getattr(b, name)[i]:>9}" for b, i in picks)
        lines.append(f"{name:<12}{row}")

    def clock(c: Any) -> str:
        share = "—" if c.share is None else f"{round(c.share * 100)}%"
        return f"{c.met:>4} {c.breached:>4} {c.pending:>4} {share:>5}"

    lines += ["", f"{'SLA':<12}{'FR met brch run  met%':>22}   {'Res met brch run  met%':>22}"]
    for a in (*pulse.sla_by_day, *pulse.sla_by_priority):
        lines.append(
            f"{one_line(a.label, 11):<12}{clock(a.first_response):>22}   {clock(a.resolution):>22}"
        )
    hours = "".join(f"{h:>3}" for h in range(24))
    last = pulse.now - WEEK
    lines += ["", f"{'Per hour':<14}{hours}"]
    for label, values in (
        ("in today", pulse.arrivals_today),
        (f"in {last:%a %d}", pulse.arrivals_last_week),
        ("out today", pulse.resolved_today),
        (f"out {last:%a %d}", pulse.resolved_last_week),
    ):
        lines.append(f"{label:<14}{''.join(f'{n:>3}' for n in values)}")
    lines += ["", f"{'Agent':<22}{'open':>6}{'breaches':>10}{'FR median':>11}{'FR count':>10}"]
    for agent in pulse.agents:
        lines.append(
            f"{one_line(agent.name, 21):<22}{agent.open:>6}{agent.breaches:>10}"
            f"{duration_text(agent.median_first_response):>11}{agent.first_responses:>10}"
        )
    lines += ["", "First response (last 7 days)"]
    lines += [f"{label:<12}{n:>6}" for label, n in pulse.first_response_histogram]
    return "\n".join(lines)


@app.command(cls=HelpdeskCommand)
def pulse(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The team's pulse for supervisors: backlog, SLA attainment, flows, agents, response times."""
    from helpdesk_tui.store.pulse import pulse_of

    with clear_errors():
        store, _, me = _session(ctx)
        if not me.is_supervisor:
            fail("the pulse is for supervisors (it shows the whole team's figures)")
        figures = pulse_of(store)
        _emit(as_json, figures.as_json(), lambda: _pulse_text(figures))
