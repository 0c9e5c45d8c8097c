#!/usr/bin/env python3
"""A scripted MCP session for `just demo`: spawns databricks-mcp over stdio against the demo
workspace, lists the tools and calls a few, then prints the configuration for an MCP client.
Only the Python standard library is used."""

import argparse
import json
import os
import subprocess
import sys
import time

DEMO_TOKEN = "dapi-emulator-demo-token"


class Session:
    def __init__(self, command, env):
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env)
        self.next_id = 0

    def request(self, method, params=None):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit("databricks-mcp closed its output; run it by hand to see its log")
            answer = json.loads(line)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    sys.exit(f"{method} failed: {answer['error']}")
                return answer["result"]

    def notify(self, method):
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.proc.stdin.flush()

    def call(self, tool, arguments):
        print(f"\n>>> {tool} {json.dumps(arguments)}")
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        for block in result.get("content", []):
            print(block.get("text", ""))
        if result.get("isError"):
            sys.exit(f"{tool} failed")
        return result.get("structuredContent") or {}

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host-binary", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--no-config", action="store_true", help="do not print the client configuration")
    args = parser.parse_args()
    binary = os.path.abspath(args.host_binary)
    plugin_dir = os.path.abspath(args.plugin_dir)

    env = dict(os.environ, DATABRICKS_HOST=args.workspace, DATABRICKS_TOKEN=DEMO_TOKEN)
    started = time.monotonic()
    session = Session([binary, "serve", "--plugin-dir", plugin_dir], env)
    info = session.request("initialize", {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "databricks-mcp-demo", "version": "0"}})
    session.notify("notifications/initialized")
    tools = session.request("tools/list")["tools"]
    elapsed = (time.monotonic() - started) * 1000
    print(f"{info['serverInfo']['name']} {info['serverInfo']['version']}: {len(tools)} tools, "
          f"ready in {elapsed:.0f} ms")
    print("  " + ", ".join(t["name"] for t in tools))

    listed = session.call("list_clusters", {"limit": 8})
    session.call("list_clusters", {"states": ["RUNNING"], "limit": 5})
    clusters = listed.get("clusters", [])
    if clusters:
        first = clusters[0]["cluster_id"]
        session.call("get_cluster", {"cluster_id": first})
        session.call("list_cluster_events", {"cluster_id": first, "limit": 5})
    session.call("list_spark_versions", {"contains": "LTS", "limit": 5})

    jobs = session.call("list_jobs", {"limit": 5}).get("jobs", [])
    if jobs:
        session.call("job_status", {"job_id": jobs[0]["job_id"], "runs": 5})
    session.call("list_catalogs", {"limit": 10})
    session.call("get_table", {"full_name": "samples.nyctaxi.trips"})
    session.call("list_warehouses", {})
    session.call("execute_sql", {
        "warehouse_id": "5a1f0c0ffee00001",
        "statement": "SELECT payment_type, count(*) AS trips, round(avg(fare_amount), 2) AS avg_fare "
                     "FROM samples.nyctaxi.trips GROUP BY payment_type ORDER BY trips DESC"})
    session.call("list_workspace_objects", {"path": "/Shared"})
    session.close()

    if not args.no_config:
        config = {"mcpServers": {"databricks": {
            "command": binary,
            "args": ["serve", "--plugin-dir", plugin_dir],
            "env": {"DATABRICKS_HOST": args.workspace, "DATABRICKS_TOKEN": DEMO_TOKEN}}}}
        print("\nTo use the demo workspace from Claude Desktop, Cursor or VS Code, add this to the client's MCP "
              "configuration (claude_desktop_config.json, .cursor/mcp.json, ...):\n")
        print(json.dumps(config, indent=2))


if __name__ == "__main__":
    main()
