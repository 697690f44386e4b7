"""A lean production install (issue 31): `pip install helpdesk-tui` brings the app and nothing
else; the demo's server (SecantusDB, GPL-2.0) and the browser front end (textual-serve) are
extras; without one, its command says in one line what to install; `--version` from one place.

The wheel itself (what it carries, what it installs, that it runs outside the source tree) is
checked by scripts/check_wheel.sh in CI.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import helpdesk_tui
from helpdesk_tui import cli
from helpdesk_tui import serve as web
from helpdesk_tui.store import embedded

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "helpdesk_tui"

# What the extras bring that a production install must never need: the demo's server (its
# distribution's top-level modules are added below, from its installed file list) and its
# numpy/shapely, textual-serve and its aiohttp.
EXTRA_MODULES = {"secantus", "secantusdb", "wiredtiger", "numpy", "shapely", "s2sphere"}
EXTRA_MODULES |= {"textual_serve", "aiohttp", "aiohttp_jinja2"}

# Run in a fresh interpreter: a meta-path finder first in line refuses (and records) every
# import of a blocked top-level module; then every module of the package is imported.
IMPORT_ALL = r"""
import importlib, importlib.abc, json, pkgutil, sys

blocked = set(json.loads(sys.argv[1]))
asked = []

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0].lower() in blocked:
            asked.append(name)
            raise ImportError(f"blocked by the test: {name}")
        return None

sys.meta_path.insert(0, Blocker())
import helpdesk_tui

imported, failed = ["helpdesk_tui"], []
def record(name):
    failed.append([name, "walk_packages could not import it"])
names = [m.name for m in pkgutil.walk_packages(helpdesk_tui.__path__, "helpdesk_tui.", record)]
for name in names:
    if name == "helpdesk_tui.__main__":  # runs the app when imported
        continue
    try:
        importlib.import_module(name)
        imported.append(name)
    except BaseException as error:
        failed.append([name, repr(error)])
asked_by_package = list(asked)
try:  # the blocker works: what it blocks cannot be imported
    import secantus
    blocker_works = False
except ImportError:
    blocker_works = True
leaked = sorted(m for m in sys.modules if m.partition(".")[0].lower() in blocked)
print(json.dumps({"imported": imported, "failed": failed, "asked": asked_by_package,
                  "leaked": leaked, "blocker_works": blocker_works}))
"""


def secantus_top_level() -> set[str]:
    """The top-level modules the installed SecantusDB distribution puts on the path."""
    files = importlib.metadata.files("SecantusDB") or []
    names = set()
    for file in files:
        top = file.parts[0]
        if top == ".." or top.endswith((".dist-info", ".libs")):
            continue  # its scripts (bin/), metadata, bundled shared libraries
        names.add(top.removesuffix(".py").lower())
    return names


def test_every_module_imports_without_the_extras_and_none_asks_for_secantusdb() -> None:
    blocked = EXTRA_MODULES | secantus_top_level()
    assert "secantus" in blocked  # the distribution is installed (dev) and its modules known
    process = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, json.dumps(sorted(blocked))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    report = json.loads(process.stdout.strip().splitlines()[-1])
    assert report["blocker_works"]
    assert report["failed"] == []
    # Not even a guarded `try: import secantus` anywhere.
    assert report["asked"] == []
    assert report["leaked"] == []
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
    } - {"helpdesk_tui.__main__"}
    assert modules - set(report["imported"]) == set()  # every module, none skipped
    assert {"helpdesk_tui.cli", "helpdesk_tui.app", "helpdesk_tui.serve"} <= modules


def test_a_production_install_requires_only_the_app_s_own_libraries() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"]
    names = {re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0].lower() for req in requirements}
    assert names == {"textual", "pymongo", "rich", "typer", "pydantic"}
    extras = project["optional-dependencies"]
    assert [req.split(">")[0] for req in extras["demo"]] == ["SecantusDB"]
    assert [req.split(">")[0] for req in extras["serve"]] == ["textual-serve"]
    assert "helpdesk-tui[demo,serve]" in extras["dev"]


# --- --version -------------------------------------------------------------------------------


def test_version_prints_the_package_version_and_exits_without_a_database() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "helpdesk_tui", "--uri", "mongodb://127.0.0.1:1/", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout == f"helpdesk-tui {helpdesk_tui.__version__}\n"
    assert process.stderr == ""
    assert re.fullmatch(r"\d+\.\d+\.\d+", helpdesk_tui.__version__)


def test_the_version_is_written_once_and_the_changelog_has_its_section() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "helpdesk_tui.__version__"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{helpdesk_tui.__version__}]" in changelog


# --- an extra that is not installed: one line, exit 2, nothing started -----------------------


@pytest.fixture
def no_launcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``secantusd-py`` beside the interpreter nor on PATH: a production install."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setattr(embedded.sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", str(bin_dir))
    assert embedded.launcher_path() is None


@pytest.fixture
def no_textual_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """textual-serve not importable (None in sys.modules: import and find_spec say absent)."""
    monkeypatch.setitem(sys.modules, "textual_serve", None)


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """An empty config, a database nobody listens on, and every start recorded (none should
    happen): the server `serve` would run, the embedded server the demo would launch."""
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    monkeypatch.setenv(
        "HELPDESK_TUI_MONGO_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1"
    )
    started: list[Any] = []
    monkeypatch.setattr(web, "run", lambda *args: started.append(("serve", args)))
    monkeypatch.setattr(embedded.EmbeddedServer, "launch", lambda self: started.append("demo"))
    return started


def one_line_exit_2(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_with_the_demo_extra_installed_its_launcher_is_found() -> None:
    # The dev install has it, beside this interpreter: the demo's install line is not shown.
    assert embedded.launcher_path() is not None
    assert embedded.demo_missing() is None


@pytest.mark.parametrize(
    ("missing", "args", "line"),
    [
        (
            ["no_launcher"],
            ["demo"],
            "helpdesk-tui: the demo needs its embedded server: pip install 'helpdesk-tui[demo]'",
        ),
        (
            ["no_textual_serve"],
            ["serve"],
            "helpdesk-tui: serve needs textual-serve: pip install 'helpdesk-tui[serve]'",
        ),
        (
            ["no_launcher"],
            ["serve", "--demo"],
            "helpdesk-tui: serve --demo needs the demo's embedded server: "
            "pip install 'helpdesk-tui[demo]'",
        ),
        (
            ["no_launcher", "no_textual_serve"],
            ["serve", "--demo"],
            "helpdesk-tui: serve --demo needs textual-serve and the demo's embedded server: "
            "pip install 'helpdesk-tui[serve,demo]'",
        ),
    ],
    ids=["demo", "serve", "serve-demo", "serve-demo-without-either"],
)
def test_a_command_without_its_extra_says_in_one_line_what_to_install(
    request: pytest.FixtureRequest,
    isolated: list[Any],
    missing: list[str],
    args: list[str],
    line: str,
) -> None:
    for fixture in missing:  # no_launcher, no_textual_serve: the extras not installed
        request.getfixturevalue(fixture)
    result = CliRunner().invoke(cli.app, args)
    assert one_line_exit_2(result) == line
    assert isolated == []
