"""``helpdesk-tui serve``: the same app in a browser tab, through textual-serve.

textual-serve starts one ``helpdesk-tui`` process per visitor (per browser tab) and relays its
screen over a WebSocket. It has no authentication of its own, so each visitor's app starts on a
sign-in screen (screens/sign_in.py) and connects with the visitor's own database login: a
visitor is who their login says, never the person who started the server. The password goes
from the sign-in field to the driver only: never in a URL, a command line, the environment or
a log. The database URI (without credentials) goes to each visitor's process in the
environment, never on a command line (``ps`` would show it). ``serve --demo`` has no logins:
every visitor gets a demo of their own.

Binding: loopback unless ``--public``; ``--public`` needs TLS (``--tls-cert``/``--tls-key``),
since the page carries passwords, or ``--insecure`` (and then a warning).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import shlex
import sys
from collections.abc import Sequence

SERVE_MODULE = "textual_serve"


def have_textual_serve() -> bool:
    """Whether the ``serve`` extra is installed (found on the path, not imported)."""
    return importlib.util.find_spec(SERVE_MODULE) is not None


def missing_extras(demo: bool) -> str | None:
    """The one line to print when ``serve`` (``serve --demo``: and the demo's server) is not
    installed, else None. The two are extras of a production install (issue 31)."""
    from helpdesk_tui.store.embedded import launcher_path

    needs = []
    if not have_textual_serve():
        needs.append(("serve", "textual-serve"))
    if demo and launcher_path() is None:
        needs.append(("demo", "the demo's embedded server"))
    if not needs:
        return None
    what = " and ".join(name for _, name in needs)
    extras = ",".join(extra for extra, _ in needs)
    command = "serve --demo" if demo else "serve"
    return f"{command} needs {what}: pip install 'helpdesk-tui[{extras}]'"


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public address


def refusal(
    host: str, public: bool, *, tls: bool = False, insecure: bool = False, signs_in: bool = True
) -> str | None:
    """Why ``serve`` will not bind to ``host``, or None when it may (``signs_in``: visitors
    type passwords into the page, so beyond this machine it needs TLS)."""
    if is_loopback(host):
        return None
    if not public:
        return (
            f"refusing to serve on {host}: textual-serve has no authentication of its own; pass "
            "--public (with --tls-cert and --tls-key) to serve beyond this machine, or use "
            "--host 127.0.0.1 and an SSH tunnel"
        )
    if signs_in and not tls and not insecure:
        return (
            f"refusing to serve on {host} without TLS: visitors type their database password "
            "into the page; pass --tls-cert and --tls-key, or --insecure to send it in clear"
        )
    return None


def public_warning(host: str, port: int, *, tls: bool, demo_for: str | None = None) -> str:
    if demo_for is not None:
        return (
            f"serving the demo on {host}:{port} beyond this machine, with NO authentication: "
            f"anyone who can reach that address gets a demo as {demo_for}"
        )
    if tls:
        return f"serving on {host}:{port} beyond this machine (TLS; each visitor signs in)"
    return (
        f"serving on {host}:{port} beyond this machine WITHOUT TLS (--insecure): visitors' "
        "database passwords cross the network in clear"
    )


def child_command(global_args: Sequence[str], command: Sequence[str] = ()) -> str:
    """The shell command textual-serve runs for each visitor: this Python, this package."""
    return shlex.join([sys.executable, "-m", "helpdesk_tui", *global_args, *command])


def run(command: str, host: str, port: int, *, tls: tuple[str, str] | None = None) -> None:
    """Serve until interrupted (blocks); ``tls``: certificate and key files (PEM)."""
    import asyncio
    import ssl

    from aiohttp import web
    from rich.logging import RichHandler
    from textual_serve.server import Server

    from helpdesk_tui.textual_seam import serve_web_app

    context = None
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)

    class QuietServer(Server):
        def initialize_logging(self) -> None:
            # textual-serve's own handler prints tracebacks with local variables: customer
            # data could be among them. Plain one-line records instead.
            logging.basicConfig(
                level="INFO",
                format="%(message)s",
                handlers=[RichHandler(show_path=False, show_time=False, console=self.console)],
            )

        def serve(self, debug: bool = False) -> None:
            # textual-serve's own serve(), with the TLS context it has no option for.
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            web.run_app(
                serve_web_app(self),
                host=self.host,
                port=self.port,
                ssl_context=context,
                loop=loop,
                print=lambda *args: None,
            )

    scheme = "https" if context is not None else "http"
    public_url = f"{scheme}://{host}:{port}"
    QuietServer(command, host=host, port=port, title="helpdesk-tui", public_url=public_url).serve()
