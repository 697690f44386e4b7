"""``helpdesk-tui serve``: the same app in a browser tab, through textual-serve.

textual-serve starts one ``helpdesk-tui`` process per visitor (per browser tab) and relays its
screen over a WebSocket. It has **no authentication**: whoever reaches the port works as the
identity the server was started with. So it binds to the loopback interface unless told
otherwise with an explicit flag, and then warns. The identity rules are the terminal's: the
server's ``--as`` or ``agent.email``, checked before the first visitor; the database URI goes
to each visitor's process in the environment, never on a command line (``ps`` would show it).
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


def refusal(host: str, public: bool) -> str | None:
    """Why ``serve`` will not bind to ``host``, or None when it may."""
    if is_loopback(host) or public:
        return None
    return (
        f"refusing to serve on {host}: textual-serve has no authentication, so anyone who can "
        "reach it works as you; pass --public to do it anyway (behind a VPN or an "
        "authenticating proxy), or use --host 127.0.0.1 and an SSH tunnel"
    )


def public_warning(host: str, port: int, who: str) -> str:
    return (
        f"serving on {host}:{port} beyond this machine, with NO authentication: anyone who "
        f"can reach that address uses the helpdesk as {who}"
    )


def child_command(global_args: Sequence[str], command: Sequence[str] = ()) -> str:
    """The shell command textual-serve runs for each visitor: this Python, this package."""
    return shlex.join([sys.executable, "-m", "helpdesk_tui", *global_args, *command])


def run(command: str, host: str, port: int) -> None:
    """Serve until interrupted (blocks)."""
    from rich.logging import RichHandler
    from textual_serve.server import Server

    class QuietServer(Server):
        def initialize_logging(self) -> None:
            # textual-serve's own handler prints tracebacks with local variables: customer
            # data could be among them. Plain one-line records instead.
            logging.basicConfig(
                level="INFO",
                format="%(message)s",
                handlers=[RichHandler(show_path=False, show_time=False, console=self.console)],
            )

    QuietServer(command, host=host, port=port, title="helpdesk-tui").serve()
