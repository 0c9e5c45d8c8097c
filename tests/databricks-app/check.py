#!/usr/bin/env python3
"""`just databricks-app-check`: run the directory `just databricks-app` assembled as Databricks
Apps would, against the demo workspace (the emulator), and check that it serves.

Runs app.yaml's command with its environment, in the app's directory, with what the platform
adds: DATABRICKS_HOST, and the app's own service principal (DATABRICKS_CLIENT_ID and _SECRET),
which per-user mode must not use. The listen address is app.yaml's with port 0. Checks that every
app file is within the platform's 10 MB, that start.py hands over to the server (the process the
platform signals), /healthz and /readyz, that a call without a user token is refused and one
with the proxy's X-Forwarded-Access-Token answers, and that SIGTERM stops it cleanly. Only the
Python standard library is used."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

DEMO_TOKEN = "dapi-emulator-demo-token"
APP_FILE_LIMIT = 10_000_000


def fail(message):
    sys.exit(f"databricks-app-check: {message}")


def app_yaml(path):
    """The command and the env of app.yaml (the subset of YAML it uses)."""
    command, env, name = None, {}, None
    for line in open(path):
        line = line.split("#", 1)[0].rstrip()
        if line.startswith("command:"):
            command = json.loads(line[len("command:"):])
        elif m := re.match(r"\s*-\s*name:\s*(\S+)", line):
            name = m.group(1)
        elif (m := re.match(r"\s*value:\s*(.+)", line)) and name:
            env[name] = m.group(1).strip().strip('"')
            name = None
    if not command:
        fail(f"{path} has no command")
    return command, env


def wait_for(path, pattern, proc, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        text = open(path, errors="replace").read() if os.path.exists(path) else ""
        if m := re.search(pattern, text):
            return m
        if proc.poll() is not None:
            fail(f"the process exited ({proc.returncode}); its output:\n{text}")
        time.sleep(0.1)
    fail(f"no {pattern!r} within {seconds} s in {path}")


def request(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    app = os.path.abspath(sys.argv[1])
    root = os.path.dirname(os.path.dirname(app))
    for dirpath, _, files in os.walk(app):
        for f in files:
            size = os.path.getsize(os.path.join(dirpath, f))
            if size > APP_FILE_LIMIT:
                fail(f"{os.path.join(dirpath, f)} is {size} bytes; Databricks Apps refuses app files over 10 MB")
    command, app_env = app_yaml(os.path.join(app, "app.yaml"))
    command = [re.sub(r"^(0\.0\.0\.0|127\.0\.0\.1):\d+$", r"\1:0", arg) for arg in command]

    logs = os.path.join(root, "target", "databricks-app-check")
    os.makedirs(logs, exist_ok=True)
    emulator_log, app_log = os.path.join(logs, "emulator.out"), os.path.join(logs, "app.out")
    emulator = subprocess.Popen([os.path.join(root, "target/release/databricks-emulator"), "--seed", "demo", "--port", "0"],
                                stdout=open(emulator_log, "w"), stderr=subprocess.STDOUT)
    server = None
    try:
        workspace = wait_for(emulator_log, r"listening on (http://\S+)", emulator).group(1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
        env.update(app_env)
        env.update({
            "DATABRICKS_HOST": workspace,
            # What Databricks Apps puts in every app's environment: the app's service principal.
            "DATABRICKS_CLIENT_ID": "app-service-principal-id",
            "DATABRICKS_CLIENT_SECRET": "app-service-principal-secret-not-for-tool-calls",
            "DATABRICKS_APP_NAME": "databricks-mcp-check",
            "XDG_CACHE_HOME": os.path.join(logs, "cache"),
        })
        server = subprocess.Popen(command, cwd=app, env=env, stdout=open(app_log, "w"), stderr=subprocess.STDOUT)
        port = wait_for(app_log, r"listening on http://[0-9.]+:(\d+)", server).group(1)
        base = f"http://127.0.0.1:{port}"

        exe = os.readlink(f"/proc/{server.pid}/exe")
        if not exe.endswith("/databricks-mcp"):
            fail(f"the app's process runs {exe}, not the server: start.py must exec it")

        deadline = time.time() + 30
        while True:
            status, body = request(f"{base}/readyz")
            if status == 200:
                break
            if time.time() > deadline:
                fail(f"/readyz still answers {status}: {body}")
            time.sleep(0.2)
        ready = json.loads(body)
        status, _ = request(f"{base}/healthz")
        if status != 200:
            fail(f"/healthz answered {status}")

        call = json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_cluster", "arguments": {"cluster_id": "0101-000000-shared01"},
                       "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                 "io.modelcontextprotocol/clientInfo": {"name": "databricks-app-check", "version": "0"},
                                 "io.modelcontextprotocol/clientCapabilities": {}}},
        }).encode()
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "get_cluster"}
        status, body = request(f"{base}/mcp", call, headers)
        if status != 401:
            fail(f"a call without a user token answered {status}, not 401: {body[:300]}")
        status, body = request(f"{base}/mcp", call, {**headers, "x-forwarded-access-token": DEMO_TOKEN})
        if status != 200 or '"isError":true' in body or "0101-000000-shared01" not in body:
            fail(f"a call with the proxy's user token failed ({status}): {body[:500]}")

        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail("the server did not stop within 30 s of SIGTERM")
        if code != 0:
            fail(f"the server exited with {code} after SIGTERM; see {app_log}")
        log = open(app_log, errors="replace").read()
        for secret in (DEMO_TOKEN, env["DATABRICKS_CLIENT_SECRET"]):
            if secret in log:
                fail(f"a credential appears in the app's log {app_log}")
        sizes = {f: os.path.getsize(os.path.join(app, f)) for f in sorted(os.listdir(app)) if os.path.isfile(os.path.join(app, f))}
        print(f"databricks-app-check: ok: {ready['plugins']} plugins, {ready['tools']} tools; "
              f"401 without a user token, get_cluster as the user with X-Forwarded-Access-Token; "
              f"stopped on SIGTERM; files {sizes}")
    finally:
        for proc in (server, emulator):
            if proc and proc.poll() is None:
                proc.kill()


if __name__ == "__main__":
    main()
