# syntax=docker/dockerfile:1
# databricks-mcp for a team: the host and the first-party plugins in a small image that runs as a
# non-root user and serves MCP over HTTP on port 8000.
#
#   docker build -t databricks-mcp .
#   docker run -p 8000:8000 -e DATABRICKS_HOST=https://<workspace> \
#     -e DATABRICKS_MCP_HTTP_AUTH=per-user databricks-mcp
#
# The server refuses to start on 0.0.0.0 without inbound authentication: set
# DATABRICKS_MCP_HTTP_AUTH=per-user, or DATABRICKS_MCP_HTTP_TOKENS (and DATABRICKS_TOKEN). See the
# README, "Running it for a team".

FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# As `just build` does: every crate under plugins/ for wasm32-wasip2 with the small `plugin`
# profile, then the host in release without debug info (its symbols stay, for backtraces: 46
# MB instead of 218 MB). POSIX sh only: podman and buildah ignore `SHELL` when they build an OCI
# image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    crates=$(ls plugins) \
    && cargo build --locked --profile plugin --target wasm32-wasip2 --target-dir target/wasm $(printf -- '-p %s ' $crates) \
    && CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=debuginfo \
       cargo build --locked --release -p databricks-mcp \
    && mkdir -p /out/plugins \
    && for crate in $crates; do cp "target/wasm/wasm32-wasip2/plugin/$(echo "$crate" | tr - _).wasm" /out/plugins/; done \
    && cp target/release/databricks-mcp /out/

# glibc, libgcc and CA certificates, no shell; user `nonroot` (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
# The binary finds its plugins in plugins/ beside it. Compiled plugins are cached under
# $HOME/.cache (with a read-only root filesystem, set DATABRICKS_MCP_CACHE_DIR to a volume).
COPY --from=build /out/ /opt/databricks-mcp/
USER nonroot
EXPOSE 8000
ENTRYPOINT ["/opt/databricks-mcp/databricks-mcp"]
CMD ["serve", "--http", "0.0.0.0:8000"]
