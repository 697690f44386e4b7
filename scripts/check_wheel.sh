#!/usr/bin/env bash
# The wheel CI built installs and runs on its own (issue 31): what a production host gets from
# `pip install helpdesk-tui`, checked outside the source tree.
#
#   1. `python -m build` on a copy of the tree's files (tracked or new, not ignored): the sdist,
#      then the wheel built from the sdist. A copy, because an editable install leaves
#      helpdesk_tui.egg-info/SOURCES.txt in the tree and setuptools adds every file listed
#      there to the sdist: a style left out of package-data would still ship from here;
#   2. the wheel carries the styles (every helpdesk_tui/styles/*.tcss) and py.typed;
#   3. a fresh venv in a temp dir, the wheel installed in it without extras: no SecantusDB,
#      numpy, shapely, aiohttp or textual-serve among what it pulled in;
#   4. from that venv, run from the temp dir: `helpdesk-tui --version` (the wheel's version),
#      `--help`, and `init-db` then `doctor` against a test server (SecantusDB from the
#      *dev* venv, in memory, on a free loopback port; stopped on the way out, whatever happens).
#
# Run with the dev venv active (`pip install -e '.[dev]'`: build, SecantusDB). Needs the package
# index for the wheel's dependencies (pip's cache makes it quick). About 30-60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
source_tree=$PWD

say() { printf 'check_wheel: %s (%ds)\n' "$*" "$SECONDS"; }
die() { printf 'check_wheel: FAILED: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/helpdesk-wheel.XXXXXX")
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

launcher=$(dirname "$(command -v python)")/secantusd-py
[[ -x $launcher ]] || die "no $launcher: run this with the dev venv active (pip install -e '.[dev]')"

say "build the sdist and the wheel from a clean copy of the tree"
python - "$work/src" <<'EOF_COPY'
import os, shutil, subprocess, sys

listed = subprocess.run(
    ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    check=True, capture_output=True,
).stdout.decode()
for name in filter(None, listed.split("\0")):
    if os.path.isfile(name):  # a tracked file deleted in the tree is not built
        target = os.path.join(sys.argv[1], name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(name, target)
EOF_COPY
python -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    die "python -m build"
}
wheels=("$work"/dist/helpdesk_tui-*-py3-none-any.whl)
[[ ${#wheels[@]} -eq 1 && -f ${wheels[0]} ]] || die "expected one wheel in $work/dist"
wheel=${wheels[0]}
version=$(basename "$wheel" | cut -d- -f2)
say "built $(basename "$wheel") and $(cd "$work/dist" && ls -- *.tar.gz)"

say "the wheel carries the styles and py.typed"
python -m zipfile -l "$wheel" | awk 'NR > 1 {print $1}' >"$work/contents"
expected=(helpdesk_tui/py.typed)
for style in helpdesk_tui/styles/*.tcss; do expected+=("$style"); done
((${#expected[@]} > 1)) || die "no helpdesk_tui/styles/*.tcss in the source tree"
for file in "${expected[@]}"; do
    grep -qxF "$file" "$work/contents" || die "$file is not in the wheel"
done
say "  ${#expected[@]} files present (py.typed and $((${#expected[@]} - 1)) styles)"

say "install the wheel (no extras) into a fresh venv outside the source tree"
# A venv without pip of its own (seeding one costs 5-15 s here): the dev venv's pip installs
# into it (`pip --python`, pip >= 22.3), so its list is exactly what the wheel pulled in.
python -m venv --without-pip "$work/venv"
bin=$work/venv/bin
target=(python -m pip --python "$bin/python" --disable-pip-version-check)
"${target[@]}" install --quiet "$wheel" 2>&1 | { grep -v '^WARNING: Location ' || true; } >&2
"${target[@]}" list --format=freeze 2>/dev/null >"$work/installed"
grep -qi '^helpdesk-tui==' "$work/installed" || die "the wheel is not in the new venv's list"
if unwanted=$(grep -iE '^(secantus|numpy|shapely|aiohttp|textual[-_]serve)' "$work/installed"); then
    die "a production install pulled in: $(echo "$unwanted" | tr '\n' ' ')"
fi
say "  $(wc -l <"$work/installed") distributions, none of secantus, numpy, shapely, aiohttp, textual-serve"

# From here on, nothing of the source tree: another directory, no PYTHONPATH, no config file.
cd "$work"
export HELPDESK_TUI_CONFIG=$work/empty-config.toml
: >"$HELPDESK_TUI_CONFIG"
unset PYTHONPATH HELPDESK_TUI_DEBUG MONGODB_URI
run() { "$bin/helpdesk-tui" "$@"; }

say "helpdesk-tui --version"
printed=$(run --version)
[[ $printed == "helpdesk-tui $version" ]] || die "--version printed '$printed', the wheel is $version"
say "  $printed"
installed_from=$("$bin/python" -c 'import helpdesk_tui; print(helpdesk_tui.__file__)')
[[ $installed_from == "$work/venv/"* ]] || die "helpdesk_tui imported from $installed_from"
[[ $installed_from != "$source_tree"* ]] || die "helpdesk_tui imported from the source tree"

say "helpdesk-tui --help"
run --help >"$work/help.txt"
grep -q "doctor" "$work/help.txt" || die "--help does not list the commands"

say "helpdesk-tui init-db and doctor against a test server"
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$work/secantusd.toml"  # its own empty config: no search of the cwd, ~ or /etc for one
"$launcher" --config "$work/secantusd.toml" --host 127.0.0.1 --port "$port" \
    --storage-path :memory: --log-level WARNING >"$work/secantusd.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do  # up to 30 s
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/secantusd.log" >&2; die "the test server exited"; }
    python -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" \
        2>/dev/null && break
    sleep 0.1
done
export HELPDESK_TUI_MONGO_URI="mongodb://127.0.0.1:$port/?replicaSet=secantus"
status=0
run init-db >"$work/init-db.txt" 2>&1 || status=$?
((status == 0)) || { cat "$work/init-db.txt" >&2; die "init-db exited $status"; }
say "  init-db: $(grep -c '^index ok' "$work/init-db.txt") indexes ok"
run doctor >"$work/doctor.txt" 2>&1 || status=$?
sed 's/^/  /' "$work/doctor.txt"
# An initialised, empty database on a live replica set: nothing to fail (warnings are fine:
# SecantusDB builds no text index).
((status == 0)) || die "doctor exited $status"
grep -q '^\[ok  \] connection' "$work/doctor.txt" || die "doctor did not report the connection"

say "ok: the wheel $version installs lean and runs outside the source tree"
