#!/usr/bin/env bash
# The fuzzer of tests/e2e/real/fuzz.real.test.ts: schemathesis (PyPI) in a virtualenv outside the
# repo, cached like the other engines under ~/.cache/fabric-infra. Idempotent: once built, a run
# only prints the path. Prints the `st` executable's path on stdout (its only output there).
# Usage: deploy/infra/fuzz-venv.sh
set -euo pipefail

CACHE="${FABRIC_INFRA_CACHE:-$HOME/.cache/fabric-infra}"
VERSION="${FABRIC_SCHEMATHESIS_VERSION:-4.32.5}"
VENV="$CACHE/schemathesis-$VERSION"
PYTHON="${FABRIC_PYTHON:-python3}"

log() { printf '[fuzz-venv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ready() { [[ -x "$VENV/bin/st" && -f "$VENV/.complete" ]]; }

if ready; then echo "$VENV/bin/st"; exit 0; fi

mkdir -p "$CACHE"
# One builder at a time (two test processes may ask at once).
exec 9>"$VENV.lock"
flock 9
if ready; then echo "$VENV/bin/st"; exit 0; fi

command -v "$PYTHON" >/dev/null || { log "ERROR: $PYTHON not found (schemathesis needs Python 3.9 or later with venv)"; exit 1; }
log "creating $VENV (schemathesis==$VERSION from PyPI)"
# The marker is written last: a venv left half-built by an interrupted run is built again.
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "schemathesis==$VERSION" >&2
"$VENV/bin/st" --version >&2
touch "$VENV/.complete"
echo "$VENV/bin/st"
