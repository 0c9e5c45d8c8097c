# The things a developer does. CI calls the same recipes (see .ci/run).

set shell := ["bash", "-euo", "pipefail", "-c"]

# First-party plugins (one crate per directory under plugins/, named as the directory), built
# for wasm32-wasip2 into target/plugins; and the fixture plugins the tests build.
plugin_crates := `ls plugins | tr '\n' ' '`
fixture_crates := `sed -n 's/^name = "\(.*\)"/\1/p' tests/fixtures/*/Cargo.toml | tr '\n' ' '`
# Guest crates only build for wasm32-wasip2: host-side cargo commands leave them out.
exclude_guests := prepend("--exclude ", plugin_crates + " " + fixture_crates)
demo_port := env_var_or_default("DEMO_PORT", "8765")
# The out-of-tree example tool pack: its own workspace, built and tested as a third party would.
example_pack := "tests/example-pack"
# First-party plugins with unit tests of their own (pure logic: parsing, codecs, models), which
# also build natively.
plugin_unit_crates := `grep -l 'cfg(test)' plugins/*/src/*.rs | cut -d/ -f2 | sort -u | tr '\n' ' '`

# List the recipes.
default:
    @just --list

# Add the wasm32-wasip2 target when it is missing.
setup:
    @rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

# Build the first-party plugins into target/plugins.
plugins: setup
    cargo build --profile plugin --target wasm32-wasip2 --target-dir target/wasm {{ prepend("-p ", plugin_crates) }}
    rm -rf target/plugins && mkdir -p target/plugins
    for crate in {{ plugin_crates }}; do cp "target/wasm/wasm32-wasip2/plugin/${crate//-/_}.wasm" target/plugins/; done
    @ls -l target/plugins

# Build the host, the emulator and the plugins (release: the project's one profile).
build: plugins
    cargo build --release -p databricks-mcp -p databricks-emulator

# Run every test: unit, emulator, end to end over MCP, the plugins' own unit tests, and the
# example pack's own (its author's `cargo test`).
test: setup
    rm -rf target/wasm/e2e-logs
    cargo test --release --workspace {{ exclude_guests }}
    bash tests/e2e/no_secrets.sh target/wasm/e2e-logs
    cargo test --release {{ prepend("-p ", plugin_unit_crates) }}
    cargo test --manifest-path {{ example_pack }}/Cargo.toml --target-dir target/packs

# Start the demo workspace (emulator) and show the host serving it; Ctrl-C stops it.
demo: build
    #!/usr/bin/env bash
    set -euo pipefail
    ./target/release/databricks-emulator --seed demo --port {{ demo_port }} > target/demo-emulator.out &
    emulator=$!
    trap 'kill $emulator 2>/dev/null' EXIT
    for _ in $(seq 100); do grep -q listening target/demo-emulator.out 2>/dev/null && break; sleep 0.1; done
    python3 tests/demo/client.py --host-binary target/release/databricks-mcp --plugin-dir target/plugins --workspace "http://127.0.0.1:{{ demo_port }}"
    echo
    echo "The demo workspace keeps running at http://127.0.0.1:{{ demo_port }} until you press Ctrl-C."
    wait $emulator

# The demo's scripted session only, then stop (used by CI to keep the demo working).
demo-check: build
    #!/usr/bin/env bash
    set -euo pipefail
    ./target/release/databricks-emulator --seed demo --port 0 > target/demo-emulator.out &
    emulator=$!
    trap 'kill $emulator 2>/dev/null' EXIT
    for _ in $(seq 100); do grep -q listening target/demo-emulator.out 2>/dev/null && break; sleep 0.1; done
    url=$(grep -o 'http://[0-9.:]*' target/demo-emulator.out)
    python3 tests/demo/client.py --host-binary target/release/databricks-mcp --plugin-dir target/plugins --workspace "$url" --no-config

# Regenerate the README's tool reference from the first-party plugins' manifests (a test checks it).
readme: build
    #!/usr/bin/env bash
    set -euo pipefail
    # An empty config: the reference lists every tool, whatever the developer's own policy says.
    ./target/release/databricks-mcp tools --format markdown --plugin-dir target/plugins --config /dev/null > target/tools.md
    python3 - <<'PY'
    import re
    readme = open("README.md").read()
    tools = open("target/tools.md").read()
    start, end = "<!-- tools:start -->\n", "<!-- tools:end -->"
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    open("README.md", "w").write(head + start + tools + end + tail)
    PY
    echo "README.md: tool reference regenerated"

# Drive the emulator with the official Databricks Python SDK (installs databricks-sdk in a venv).
sdk-check:
    cargo build --release -p databricks-emulator
    bash tests/emulator/sdk_check/run.sh target/release/databricks-emulator

# Measure start-up, per-call overhead and memory against the emulator (release build), then
# 64 clients at once over HTTP (HTTP_BENCH_SECONDS, default 20).
bench: plugins
    cargo bench -p databricks-mcp --bench overhead
    cargo bench -p databricks-mcp --bench http_load

# Lints: rustfmt, clippy and the SDK's docs with warnings as errors: host, guests, example pack.
lint: setup
    cargo fmt --all -- --check
    cargo fmt --manifest-path {{ example_pack }}/Cargo.toml -- --check
    cargo clippy --release --workspace {{ exclude_guests }} --all-targets -- -D warnings
    cargo clippy --profile plugin --target wasm32-wasip2 --target-dir target/wasm -p databricks-mcp-sdk {{ prepend("-p ", plugin_crates) }} -p fixture-escape -p fixture-conformance -- -D warnings
    cargo clippy --manifest-path {{ example_pack }}/Cargo.toml --target-dir target/packs --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p databricks-mcp-sdk -p databricks-mcp-sdk-macros

# Format the code.
fmt:
    cargo fmt --all
    cargo fmt --manifest-path {{ example_pack }}/Cargo.toml

# Assemble target/databricks-app/, the directory to deploy as a Databricks App (see the README,
# "Running it for a team"): app.yaml, start.py, the plugins and the Linux binary, stripped and
# xz-compressed because an app file may not exceed 10 MB (start.py unpacks it at start).
databricks-app: build
    rm -rf target/databricks-app && mkdir -p target/databricks-app
    cp deploy/databricks-app/app.yaml deploy/databricks-app/start.py target/databricks-app/
    cp -r target/plugins target/databricks-app/plugins
    strip -o target/databricks-app.bin target/release/databricks-mcp
    python3 -c 'import lzma, sys; open(sys.argv[2], "wb").write(lzma.compress(open(sys.argv[1], "rb").read(), preset=9))' target/databricks-app.bin target/databricks-app/databricks-mcp.xz
    rm target/databricks-app.bin
    @ls -l target/databricks-app
    @too_big=$(find target/databricks-app -type f -size +10000000c); if [ -n "$too_big" ]; then echo "Databricks Apps refuses app files over 10 MB: $too_big"; exit 1; fi

# Deploy target/databricks-app as Databricks Apps would run it, against the demo workspace: app.yaml's
# command, per-user mode, the app's own service principal in the environment (used by CI).
databricks-app-check: databricks-app
    python3 tests/databricks-app/check.py target/databricks-app

# Run the official MCP conformance suite against the HTTP server (npm; baseline in tests/conformance).
conformance: build
    bash tests/conformance/run.sh
