"""An unexpected error: one line for the user, the details in a private log.

A traceback (Rich's shows local variables) would print customer names, e-mails and message
text to the terminal, a shared screen or a recorded SSH session. So the screen gets one line
with no data in it, and the traceback goes to ``$XDG_STATE_HOME/helpdesk-tui/crash.log``
(directory 0700, file 0600). ``HELPDESK_TUI_DEBUG=1`` shows the traceback as before.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from helpdesk_tui.config import state_dir

# EX_SOFTWARE (sysexits.h): an internal software error.
CRASH_EXIT = 70
DEBUG_ENV = "HELPDESK_TUI_DEBUG"


def debugging(env: Mapping[str, str] | None = None) -> bool:
    return bool((os.environ if env is None else env).get(DEBUG_ENV))


def crash_log_path(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "crash.log"


def record_crash(error: BaseException, env: Mapping[str, str] | None = None) -> Path | None:
    """Append the traceback to the private crash log; its path, or None if it cannot be written."""
    path = crash_log_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an older log made by another umask
            details = "".join(traceback.format_exception(error))
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            os.write(fd, f"--- {stamp}\n{details}\n".encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
    except OSError:
        return None
    return path


def crash_line(error: BaseException, path: Path | None) -> str:
    """The one line the user sees: the kind of error (a class name, never its message)."""
    where = f"details in {path}" if path else "the crash log could not be written"
    return (
        f"helpdesk-tui: internal error ({type(error).__name__}); {where}. "
        f"Set {DEBUG_ENV}=1 to see the traceback."
    )


def log_path(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "helpdesk-tui.log"


def route_log(env: Mapping[str, str] | None = None) -> Path | None:
    """While the app owns the terminal, the package's log lines (a malformed record skipped, a
    loop that carried on after a bug) go to a private file beside the crash log (0600), never
    to the screen it draws on. Idempotent; its path, or None where it cannot be written (the
    lines are then dropped: the screen matters more)."""
    logger = logging.getLogger("helpdesk_tui")
    logger.propagate = False
    if logger.handlers:
        return None
    path = log_path(env)
    handler: logging.Handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)
        handler = logging.FileHandler(path, encoding="utf-8", errors="backslashreplace")
    except OSError:
        logger.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path
