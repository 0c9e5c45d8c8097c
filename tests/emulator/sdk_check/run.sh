#!/usr/bin/env bash
# Runs check.py (the official Python databricks-sdk) against a fresh emulator.
# Usage: run.sh <path to the databricks-emulator binary>
# Creates the venv (VENV, default /tmp/sdkvenv) with databricks-sdk 0.156.0 if it is missing:
# newer SDKs pin a certifi the package mirror lacks (reference §4).
set -euo pipefail

binary=${1:?usage: run.sh <path to databricks-emulator binary>}
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-/tmp/sdkvenv}

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import databricks.sdk" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet databricks-sdk==0.156.0
fi

out=$(mktemp)
"$binary" --seed test --port 0 --transition-ms 0 >"$out" 2>/dev/null &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; rm -f "$out"' EXIT

url=""
for _ in $(seq 100); do
    url=$(sed -n 's/^databricks-emulator listening on //p' "$out")
    [[ -n "$url" ]] && break
    kill -0 "$emulator" 2>/dev/null || { echo "the emulator exited before listening" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$url" ]] || { echo "the emulator did not print its address" >&2; exit 1; }

# An isolated HOME and config file, so no ~/.databrickscfg or DATABRICKS_* variable interferes.
export HOME=$(mktemp -d)
unset "${!DATABRICKS_@}"
export DATABRICKS_CONFIG_FILE=/dev/null
"$venv/bin/python" "$here/check.py" "$url"
