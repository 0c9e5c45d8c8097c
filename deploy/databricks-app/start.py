"""Databricks Apps entry point (app.yaml's command): unpack the server, then become it.

An app file may not exceed 10 MB, so `just databricks-app` ships the host stripped and
xz-compressed (databricks-mcp.xz, about 9 MB). This unpacks it into a fresh private directory and
executes it with this script's arguments, so the server is the process Databricks Apps starts and
stops. Only the Python standard library is used.
"""

import lzma
import os
import shutil
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
unpacked = os.path.join(tempfile.mkdtemp(prefix="databricks-mcp-"), "databricks-mcp")
with lzma.open(os.path.join(here, "databricks-mcp.xz")) as packed, open(unpacked, "wb") as out:
    shutil.copyfileobj(packed, out)
os.chmod(unpacked, 0o700)
os.execv(unpacked, [unpacked, *sys.argv[1:]])
