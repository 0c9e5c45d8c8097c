"""Conformance check: the official databricks-sdk (Python) against a running emulator.

Usage: check.py <emulator base URL>   (an emulator started with --seed test --transition-ms 0)
Exits non-zero on the first failed check. The tokens and ids are the emulator's seed constants.
"""

import sys
import time

from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import NotFound, PermissionDenied, ResourceDoesNotExist
from databricks.sdk.service.compute import State

DEMO_TOKEN = "dapi-emulator-demo-token"
ALICE_TOKEN = "dapi-emulator-alice-token"
SP_CLIENT_ID = "7c1e5f0a-3b2d-4c8e-9f6a-1d2e3f4a5b6c"
SP_CLIENT_SECRET = "emulator-sp-secret"
SHARED = "0101-000000-shared01"
REPORT = "0101-000000-report01"
ML_GPU = "0101-000000-mlgpu001"
TEST_CLUSTERS = {SHARED, REPORT, ML_GPU, "0101-000000-etlnig01", "0101-000000-adhoc001"}

host = sys.argv[1]
passed = 0


def check(name, condition, detail=""):
    global passed
    if not condition:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


def expect_raises(name, error, call):
    try:
        call()
    except error as e:
        check(name, True)
        return e
    except Exception as e:  # noqa: BLE001 - report whatever came instead
        check(name, False, f"raised {type(e).__name__}: {e}")
    check(name, False, f"no {error.__name__} raised")


def client(**auth):
    # A low retry budget: a wrong answer fails fast instead of being retried for 5 minutes.
    return WorkspaceClient(config=Config(host=host, retry_timeout_seconds=10, **auth))


started = time.time()

# PAT as the admin demo user.
w = client(token=DEMO_TOKEN, auth_type="pat")
me = w.current_user.me()
check("me is the demo user", me.user_name == "demo.user@example.com", me.user_name)
check("me lists groups", any(g.display == "admins" for g in me.groups or []))
check("workspace id from host metadata", w.config.workspace_id == "6051921418418893", w.config.workspace_id)

ids = {c.cluster_id for c in w.clusters.list(page_size=2)}
check("clusters.list pages through every test cluster", TEST_CLUSTERS <= ids, ids)
c = w.clusters.get(SHARED)
check("clusters.get", c.cluster_name == "shared-autoscaling" and c.state == State.RUNNING, c)
expect_raises("missing cluster raises NotFound", NotFound, lambda: w.clusters.get("0101-000000-missing0"))
expect_raises("missing cluster is ResourceDoesNotExist", ResourceDoesNotExist, lambda: w.clusters.get("nope"))

created = w.clusters.create(
    cluster_name="sdk-check", spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1
).result()
check("clusters.create(...).result() waits for RUNNING", created.state == State.RUNNING, created.state)
check("new cluster belongs to the caller", created.creator_user_name == "demo.user@example.com")
events = list(w.clusters.events(cluster_id=SHARED, limit=2))
check("clusters.events pages", len(events) > 2, len(events))
deleted = w.clusters.delete_and_wait(cluster_id=created.cluster_id)
check("clusters.delete_and_wait", deleted.state == State.TERMINATED, deleted.state)
check("termination names the caller", deleted.termination_reason.parameters.get("username") == "demo.user@example.com")

users = list(w.users.list(filter='userName eq "alice.nguyen@example.com"'))
check("users.list filter", [u.user_name for u in users] == ["alice.nguyen@example.com"], users)
all_users = list(w.users.list(count=2))
check("users.list pages", len(all_users) >= 7, len(all_users))
check("users.get", w.users.get(users[0].id).display_name == "Alice Nguyen")
sps = list(w.service_principals.list())
check("service_principals.list", [s.application_id for s in sps] == [SP_CLIENT_ID], sps)
groups = {g.display_name for g in w.groups.list()}
check("groups.list", {"admins", "users", "data-engineers"} <= groups, groups)

perms = w.permissions.get("clusters", SHARED)
names = {a.group_name or a.user_name or a.service_principal_name for a in perms.access_control_list}
check("permissions.get", {"users", "admins", "demo.user@example.com"} <= names, names)
levels = w.permissions.get_permission_levels("clusters", SHARED)
check(
    "permissions levels",
    [l.permission_level.value for l in levels.permission_levels] == ["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"],
)

# OAuth M2M as the service principal.
sp = client(client_id=SP_CLIENT_ID, client_secret=SP_CLIENT_SECRET)
check("oauth-m2m chosen", sp.config.auth_type == "oauth-m2m", sp.config.auth_type)
sp_me = sp.current_user.me()
check("oauth me is the service principal", sp_me.user_name == SP_CLIENT_ID, sp_me.user_name)
sp_ids = {c.cluster_id for c in sp.clusters.list()}
check("service principal sees what its groups may", SHARED in sp_ids and REPORT not in sp_ids, sp_ids)
bad = WorkspaceClient(
    config=Config(host=host, client_id=SP_CLIENT_ID, client_secret="wrong", retry_timeout_seconds=5)
)
expect_raises("wrong client secret fails", Exception, lambda: bad.current_user.me())

# Alice: not an admin, sees fewer clusters.
alice = client(token=ALICE_TOKEN, auth_type="pat")
check("alice me", alice.current_user.me().user_name == "alice.nguyen@example.com")
alice_ids = {c.cluster_id for c in alice.clusters.list()}
check("alice sees fewer clusters", alice_ids and alice_ids < ids and REPORT not in alice_ids, alice_ids)
err = expect_raises("alice cannot read a hidden cluster", PermissionDenied, lambda: alice.clusters.get(REPORT))
err = expect_raises("alice cannot delete a shared cluster", PermissionDenied, lambda: alice.clusters.delete(SHARED))
check("denial names user and level", "alice.nguyen@example.com does not have Manage permissions" in str(err), err)
alice.clusters.restart(ML_GPU).result()
check("alice restarts her own cluster", alice.clusters.get(ML_GPU).state == State.RUNNING)

print(f"all {passed} checks passed in {time.time() - started:.1f}s")
