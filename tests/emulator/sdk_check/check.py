"""Conformance check: the official databricks-sdk (Python) against a running emulator.

Usage: check.py <emulator base URL>   (an emulator started with --seed test --transition-ms 0)
Exits non-zero on the first failed check. The tokens and ids are the emulator's seed constants.
"""

import base64
import io
import json
import sys
import urllib.request
import time

from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import (
    AlreadyExists,
    BadRequest,
    InvalidParameterValue,
    InvalidState,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    ResourceDoesNotExist,
)
from databricks.sdk.service import catalog, compute, jobs, pipelines, sql, workspace
from databricks.sdk.service.compute import Language, ResultType, State

DEMO_TOKEN = "dapi-emulator-demo-token"
ALICE_TOKEN = "dapi-emulator-alice-token"
SP_CLIENT_ID = "7c1e5f0a-3b2d-4c8e-9f6a-1d2e3f4a5b6c"
SP_CLIENT_SECRET = "emulator-sp-secret"
SHARED = "0101-000000-shared01"
REPORT = "0101-000000-report01"
ML_GPU = "0101-000000-mlgpu001"
ME = "demo.user@example.com"
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


def set_transition_ms(ms):
    """Sets the emulator's state-machine delay through its admin API (--transition-ms at start-up)."""
    body = json.dumps({"transition_ms": ms}).encode()
    req = urllib.request.Request(f"{host}/emulator/clock", data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


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


# Libraries: install, statuses (per cluster and for all), uninstall on restart.
seeded = w.libraries.cluster_status(SHARED)
seeded = list(seeded)
check(
    "libraries.cluster_status reads the seeded libraries",
    [s.status for s in seeded] == [compute.LibraryInstallStatus.INSTALLED] * 2
    and seeded[0].library.pypi.package == "requests==2.32.3",
    seeded,
)
w.libraries.install(
    SHARED,
    [
        compute.Library(pypi=compute.PythonPyPiLibrary(package="pandas==2.2.3")),
        compute.Library(maven=compute.MavenLibrary(coordinates="com.example:lib:1.0")),
        compute.Library(pypi=compute.PythonPyPiLibrary(package="does-not-exist-pkg")),
    ],
)
by_name = {(s.library.pypi.package if s.library.pypi else s.library.maven.coordinates if s.library.maven else None): s
           for s in w.libraries.cluster_status(SHARED)}
check("libraries.install installs", by_name["pandas==2.2.3"].status == compute.LibraryInstallStatus.INSTALLED, by_name)
failed = by_name["does-not-exist-pkg"]
check("a missing package fails with messages", failed.status == compute.LibraryInstallStatus.FAILED and failed.messages, failed)
all_statuses = w.libraries.all_cluster_statuses()
check(
    "libraries.all_cluster_statuses",
    {SHARED, ML_GPU} <= {c.cluster_id for c in all_statuses},
    all_statuses,
)
w.libraries.uninstall(SHARED, [compute.Library(pypi=compute.PythonPyPiLibrary(package="pandas==2.2.3"))])
status = {s.library.pypi.package: s.status for s in w.libraries.cluster_status(SHARED) if s.library.pypi}
check("libraries.uninstall waits for a restart", status["pandas==2.2.3"] == compute.LibraryInstallStatus.UNINSTALL_ON_RESTART, status)
w.clusters.restart(SHARED).result()
status = {s.library.pypi.package: s.status for s in w.libraries.cluster_status(SHARED) if s.library.pypi}
check("a restart removes the uninstalled library", "pandas==2.2.3" not in status and "requests==2.32.3" in status, status)
# The SDK maps this wording to ResourceDoesNotExist only on clusters/get.
expect_raises("libraries on a missing cluster", InvalidParameterValue, lambda: list(w.libraries.cluster_status("nope")))


# Jobs (API 2.2 through the SDK): paging, task arrays, waiters, run output, errors.
job_ids = [j.job_id for j in w.jobs.list(limit=1)]
check("jobs.list pages one job at a time", {101, 102, 103} <= set(job_ids), job_ids)
check("jobs.list repeats no job", len(job_ids) == len(set(job_ids)), job_ids)
expanded = {j.job_id: j for j in w.jobs.list(expand_tasks=True, limit=2)}
check(
    "jobs.list(expand_tasks=True) carries the tasks",
    [t.task_key for t in expanded[102].settings.tasks] == ["ingest", "transform", "publish"],
    expanded.get(102),
)
job = w.jobs.get(102)
check("jobs.get", job.settings.name == "etl-pipeline" and len(job.settings.tasks) == 3, job.settings)
expect_raises("missing job is ResourceDoesNotExist", ResourceDoesNotExist, lambda: w.jobs.get(999999))
expect_raises("missing run is ResourceDoesNotExist", ResourceDoesNotExist, lambda: w.jobs.get_run(999999))

many = [
    jobs.Task(
        task_key=f"t{i:03}",
        existing_cluster_id=SHARED,
        notebook_task=jobs.NotebookTask(notebook_path="/Users/demo.user@example.com/ETL Pipeline"),
    )
    for i in range(130)
]
params = [jobs.JobParameterDefinition(name=f"p{i:03}", default=str(i)) for i in range(105)]
big = w.jobs.create(name="sdk-check-many-tasks", tasks=many, parameters=params)
fetched = w.jobs.get(big.job_id)
check(
    "jobs.get follows next_page_token through 130 tasks",
    [t.task_key for t in fetched.settings.tasks] == [t.task_key for t in many],
    len(fetched.settings.tasks or []),
)
listed = [j for j in w.jobs.list(expand_tasks=True, name="sdk-check-many-tasks")]
check("jobs.list(expand_tasks=True) fills a job with more tasks", len(listed[0].settings.tasks) == 130, listed)
check("jobs.get pages job parameters too", [p.name for p in fetched.settings.parameters] == [p.name for p in params])
big_run = w.jobs.run_now(big.job_id).result()
check("run_now(...).result() of 130 tasks pages runs/get", len(big_run.tasks) == 130, len(big_run.tasks or []))
check("every task run succeeded", {t.state.result_state for t in big_run.tasks} == {jobs.RunResultState.SUCCESS})
w.jobs.update(big.job_id, new_settings=jobs.JobSettings(max_concurrent_runs=3))
check("jobs.update", w.jobs.get(big.job_id).settings.max_concurrent_runs == 3)
w.jobs.delete(big.job_id)
expect_raises("deleted job is gone", ResourceDoesNotExist, lambda: w.jobs.get(big.job_id))

run = w.jobs.run_now(101).result()
terminated = jobs.RunLifeCycleState.TERMINATED
check("jobs.run_now(...).result() waits for TERMINATED", run.state.life_cycle_state == terminated, run.state)
check("the new run succeeded", run.state.result_state == jobs.RunResultState.SUCCESS, run.state)
out = w.jobs.get_run_output(run.tasks[0].run_id)
check("jobs.get_run_output", out.metadata.run_id == run.tasks[0].run_id, out)
runs = list(w.jobs.list_runs(job_id=102, limit=1))
expanded_runs = list(w.jobs.list_runs(job_id=102, expand_tasks=True, limit=1))
check("jobs.list_runs(expand_tasks=True)", [len(r.tasks or []) for r in expanded_runs] == [3, 3], expanded_runs)
check("jobs.list_runs pages", [r.run_id for r in runs] == [1022, 1021], [r.run_id for r in runs])
failed = w.jobs.get_run(1021)
check("jobs.get_run of a failed run", failed.state.result_state == jobs.RunResultState.FAILED, failed.state)
failed_task = next(t for t in failed.tasks if t.task_key == "transform")
failed_out = w.jobs.get_run_output(failed_task.run_id)
check("failed task output has an error", bool(failed_out.error), failed_out)
waiting = w.jobs.run_now(103)
cancelled = w.jobs.cancel_run_and_wait(waiting.run_id)
check(
    "jobs.cancel_run_and_wait",
    cancelled.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED,
    cancelled.state,
)
submitted = w.jobs.submit(
    run_name="sdk-check-once",
    tasks=[
        jobs.SubmitTask(
            task_key="once",
            existing_cluster_id=SHARED,
            notebook_task=jobs.NotebookTask(notebook_path="/Users/demo.user@example.com/ETL Pipeline"),
        )
    ],
).result()
check("jobs.submit(...).result()", submitted.state.result_state == jobs.RunResultState.SUCCESS, submitted.state)
expect_raises(
    "run_now of an unknown task is InvalidParameterValue",
    InvalidParameterValue,
    lambda: w.jobs.run_now(101, only=["x"]),
)

# Command execution 1.2: contexts and commands with their waiters.
ctx = w.command_execution.create_and_wait(cluster_id=SHARED, language=Language.PYTHON)
check("command_execution.create_and_wait", ctx.status.value == "Running" and ctx.id, ctx)
on_ctx = dict(cluster_id=SHARED, context_id=ctx.id, language=Language.PYTHON)
res = w.command_execution.execute(**on_ctx, command='print("hi")').result()
check("execute(...).result() finishes", res.status.value == "Finished" and res.results.data == "hi", res)
res = w.command_execution.execute_and_wait(**on_ctx, command="1 + 2")
check("execute_and_wait evaluates", res.results.result_type == ResultType.TEXT and res.results.data == "3", res.results)
res = w.command_execution.execute_and_wait(**on_ctx, command='raise ValueError("boom")')
check("a raising command ends in an error result", res.results.result_type == ResultType.ERROR, res.results)
w.command_execution.destroy(cluster_id=SHARED, context_id=ctx.id)
expect_raises(
    "destroyed context is gone",
    InvalidParameterValue,
    lambda: w.command_execution.context_status(cluster_id=SHARED, context_id=ctx.id),
)
expect_raises(
    "a context on a terminated cluster is InvalidState",
    InvalidState,
    lambda: w.command_execution.create(cluster_id="0101-000000-adhoc001", language=Language.PYTHON),
)

# Workspace tree.
home = f"/Users/{ME}"
paths = {o.path for o in w.workspace.list(home)}
check("workspace.list", {f"{home}/ETL Pipeline", f"{home}/Daily Report", f"{home}/experiments"} <= paths, paths)
status = w.workspace.get_status(f"{home}/ETL Pipeline")
check(
    "workspace.get_status",
    status.object_type == workspace.ObjectType.NOTEBOOK and status.object_id == 1000000000000005,
    status,
)
expect_raises("missing workspace object is NotFound", NotFound, lambda: w.workspace.get_status(f"{home}/nope"))
w.workspace.mkdirs(f"{home}/sdk-check/deep")
deep = w.workspace.get_status(f"{home}/sdk-check/deep")
check("workspace.mkdirs", deep.object_type == workspace.ObjectType.DIRECTORY, deep)
w.workspace.import_(
    f"{home}/sdk-check/nb",
    content=base64.b64encode(b"print(1)\n").decode(),
    format=workspace.ImportFormat.SOURCE,
    language=workspace.Language.PYTHON,
)
exported = base64.b64decode(w.workspace.export(f"{home}/sdk-check/nb", format=workspace.ExportFormat.SOURCE).content)
check("workspace.import_ then export", b"print(1)" in exported, exported)
expect_raises(
    "importing over an object is ResourceAlreadyExists",
    ResourceAlreadyExists,
    lambda: w.workspace.import_(
        f"{home}/sdk-check/nb",
        content=base64.b64encode(b"x = 1\n").decode(),
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
    ),
)
w.workspace.upload(f"{home}/sdk-check/data.txt", io.BytesIO(b"plain file"), format=workspace.ImportFormat.AUTO)
with w.workspace.download(f"{home}/sdk-check/data.txt") as f:
    check("workspace.upload then download a file", f.read() == b"plain file")
w.workspace.upload(f"{home}/sdk-check/up.py", io.BytesIO(b"# Databricks notebook source\nx = 2\n"), overwrite=True)
with w.workspace.download(f"{home}/sdk-check/up.py") as f:
    check("workspace.upload then download a notebook", b"x = 2" in f.read())
recursive = {o.path for o in w.workspace.list(f"{home}/sdk-check", recursive=True)}
check("workspace.list recursive", f"{home}/sdk-check/nb" in recursive, recursive)
expect_raises(
    "deleting a full folder without recursive is BadRequest",
    BadRequest,
    lambda: w.workspace.delete(f"{home}/sdk-check"),
)
w.workspace.delete(f"{home}/sdk-check", recursive=True)
expect_raises("deleted folder is gone", NotFound, lambda: w.workspace.get_status(f"{home}/sdk-check"))

# DBFS.
listed = [f.path for f in w.dbfs.list("/FileStore/tables")]
check("dbfs.list", "/FileStore/tables/sales.csv" in listed, listed)
head = base64.b64decode(w.dbfs.read("/FileStore/tables/sales.csv", length=10).data)
check("dbfs.read", head == b"date,regio", head)
w.dbfs.put("/tmp/sdk-check/put.txt", contents=base64.b64encode(b"put via sdk").decode(), overwrite=True)
check("dbfs.put then get_status", w.dbfs.get_status("/tmp/sdk-check/put.txt").file_size == 11)
expect_raises(
    "dbfs.put over a file without overwrite is ResourceAlreadyExists",
    ResourceAlreadyExists,
    lambda: w.dbfs.put("/tmp/sdk-check/put.txt", contents=base64.b64encode(b"x").decode()),
)
payload = bytes(range(256)) * 8192  # 2 MiB: several add-block calls and reads
w.dbfs.upload("/tmp/sdk-check/big.bin", io.BytesIO(payload), overwrite=True)
with w.dbfs.download("/tmp/sdk-check/big.bin") as f:
    got = f.read()
check("dbfs.upload then download 2 MiB", got == payload, len(got))
expect_raises("missing DBFS file is NotFound", NotFound, lambda: w.dbfs.get_status("/tmp/nope.txt"))
w.dbfs.delete("/tmp/sdk-check", recursive=True)
expect_raises("deleted DBFS folder is gone", NotFound, lambda: w.dbfs.get_status("/tmp/sdk-check"))

every = {f.path for f in w.dbfs.list("/", recursive=True)}
check("dbfs.list recursive (SDK helper)", "/FileStore/tables/sales.csv" in every, every)

# Files API on volumes.
VOL = "/Volumes/main/default/landing"
entries = {(e.path.rstrip("/"), e.is_directory) for e in w.files.list_directory_contents(VOL, page_size=1)}
check("files.list_directory_contents pages", {(f"{VOL}/readme.txt", False), (f"{VOL}/raw", True)} <= entries, entries)
readme = w.files.download(f"{VOL}/readme.txt").contents.read()
check("files.download", readme.startswith(b"Landing zone"), readme)
expect_raises(
    "missing volume directory is NotFound", NotFound, lambda: list(w.files.list_directory_contents(f"{VOL}/no"))
)
w.files.upload(f"{VOL}/sdk/check.txt", io.BytesIO(b"from the sdk"), overwrite=True)
check("files.upload then download", w.files.download(f"{VOL}/sdk/check.txt").contents.read() == b"from the sdk")
meta = w.files.get_metadata(f"{VOL}/sdk/check.txt")
check("files.get_metadata", meta.content_length == 12, meta)
expect_raises(
    "files.upload without overwrite over a file is AlreadyExists",
    AlreadyExists,
    lambda: w.files.upload(f"{VOL}/sdk/check.txt", io.BytesIO(b"again"), overwrite=False),
)
expect_raises("missing volume file is NotFound", NotFound, lambda: w.files.download(f"{VOL}/nope.txt"))
w.files.delete(f"{VOL}/sdk/check.txt")
w.files.delete_directory(f"{VOL}/sdk")
expect_raises("deleted directory is gone", NotFound, lambda: w.files.get_directory_metadata(f"{VOL}/sdk"))

# Repos: list pages with the query key next_page_token.
repo = w.repos.get(1000000000000011)
check("repos.get", repo.path == f"/Repos/{ME}/analytics" and repo.branch == "main", repo)
made = [
    w.repos.create(url=f"https://github.com/example/r{i:02}.git", provider="gitHub", path=f"/Repos/{ME}/r{i:02}")
    for i in range(25)
]
repo_ids = [r.id for r in w.repos.list()]
check("repos.list pages past 20 repos", len(repo_ids) == 26 and len(set(repo_ids)) == 26, len(repo_ids))
prefixed = [r.path for r in w.repos.list(path_prefix=f"/Repos/{ME}/r0")]
check("repos.list path_prefix", len(prefixed) == 10, prefixed)
w.repos.update(made[0].id, branch="dev")
check("repos.update checks out a branch", w.repos.get(made[0].id).branch == "dev")
expect_raises(
    "creating a repo at a taken path is ResourceAlreadyExists",
    ResourceAlreadyExists,
    lambda: w.repos.create(url="https://github.com/example/x.git", provider="gitHub", path=f"/Repos/{ME}/r00"),
)
for r in made:
    w.repos.delete(r.id)
expect_raises("deleted repo is gone", ResourceDoesNotExist, lambda: w.repos.get(made[0].id))

# Secrets.
scopes = {s.name for s in w.secrets.list_scopes()}
check("secrets.list_scopes", "test-scope" in scopes, scopes)
keys = {s.key for s in w.secrets.list_secrets("test-scope")}
check("secrets.list_secrets", keys == {"db-password", "api-key"}, keys)
check("secrets.get_secret", base64.b64decode(w.secrets.get_secret("test-scope", "db-password").value) == b"hunter2")
acls = {a.principal: a.permission.value for a in w.secrets.list_acls("test-scope")}
check("secrets.list_acls", acls.get("users") == "READ" and acls.get(ME) == "MANAGE", acls)
w.secrets.create_scope("sdk-check")
expect_raises(
    "creating a scope twice is ResourceAlreadyExists",
    ResourceAlreadyExists,
    lambda: w.secrets.create_scope("sdk-check"),
)
w.secrets.put_secret("sdk-check", "token", string_value="s3cr3t")
value = base64.b64decode(w.secrets.get_secret("sdk-check", "token").value)
check("secrets.put_secret then get_secret", value == b"s3cr3t", value)
expect_raises(
    "missing secret is ResourceDoesNotExist", ResourceDoesNotExist, lambda: w.secrets.get_secret("sdk-check", "nope")
)
expect_raises(
    "bad secret key is InvalidParameterValue",
    InvalidParameterValue,
    lambda: w.secrets.put_secret("sdk-check", "bad key!", string_value="x"),
)
w.secrets.delete_scope("sdk-check")
expect_raises("deleted scope is gone", ResourceDoesNotExist, lambda: w.secrets.list_secrets("sdk-check"))

# Pipelines.
HEALTHY = "11111111-2222-4333-8444-000000000001"
FAILING = "11111111-2222-4333-8444-000000000002"
pipeline_ids = [p.pipeline_id for p in w.pipelines.list_pipelines(max_results=1)]
check("pipelines.list_pipelines pages", pipeline_ids == [HEALTHY, FAILING], pipeline_ids)
p = w.pipelines.get(HEALTHY)
check("pipelines.get", p.name == "sales-etl" and p.state == pipelines.PipelineState.IDLE, p)
NO_PIPELINE = "00000000-0000-4000-8000-000000000000"
expect_raises("missing pipeline is ResourceDoesNotExist", ResourceDoesNotExist, lambda: w.pipelines.get(NO_PIPELINE))
update_id = w.pipelines.start_update(HEALTHY).update_id
u = w.pipelines.get_update(HEALTHY, update_id).update
check("pipelines.start_update then get_update", u.state == pipelines.UpdateInfoState.COMPLETED, u)
expect_raises(
    "starting an update of a missing pipeline is ResourceDoesNotExist",
    ResourceDoesNotExist,
    lambda: w.pipelines.start_update(NO_PIPELINE),
)
updates = w.pipelines.list_updates(HEALTHY)
check("pipelines.list_updates", updates.updates[0].update_id == update_id, updates.updates[0])
events = list(w.pipelines.list_pipeline_events(HEALTHY, max_results=5))
check("pipelines.list_pipeline_events pages", len(events) > 5, len(events))
w.pipelines.start_update(FAILING)
stopped = w.pipelines.stop_and_wait(FAILING)
check("pipelines.stop_and_wait", stopped.state == pipelines.PipelineState.IDLE, stopped.state)
created_p = w.pipelines.create(
    name="sdk-check-pipeline",
    libraries=[pipelines.PipelineLibrary(notebook=pipelines.NotebookLibrary(path=f"{home}/ETL Pipeline"))],
    development=True,
)
check("pipelines.create", w.pipelines.get(created_p.pipeline_id).name == "sdk-check-pipeline")
w.pipelines.update(created_p.pipeline_id, name="sdk-check-renamed", libraries=[], development=True)
check("pipelines.update", w.pipelines.get(created_p.pipeline_id).name == "sdk-check-renamed")
w.pipelines.delete(created_p.pipeline_id)
expect_raises("deleted pipeline is gone", ResourceDoesNotExist, lambda: w.pipelines.get(created_p.pipeline_id))


# Unity Catalog: lists send max_results=0 (the server's page size), NotFound for missing objects.
catalogs = [c.name for c in w.catalogs.list()]
check("catalogs.list", "main" in catalogs, catalogs)
main = w.catalogs.get("main")
check("catalogs.get", main.name == "main" and main.owner == ME, main)
err = expect_raises("missing catalog is NotFound", NotFound, lambda: w.catalogs.get("no_such_catalog"))
check("with CATALOG_DOES_NOT_EXIST", err.error_code == "CATALOG_DOES_NOT_EXIST", err.error_code)
schemas = {s.name for s in w.schemas.list("main")}
check("schemas.list", {"default", "information_schema"} <= schemas, schemas)
expect_raises("schemas.list of a missing catalog is NotFound", NotFound, lambda: list(w.schemas.list("nope")))
expect_raises("missing schema is NotFound", NotFound, lambda: w.schemas.get("main.nope"))
trips = w.tables.get("main.default.trips")
columns = {c.name: c.type_name for c in trips.columns}
check(
    "tables.get types the columns",
    columns.get("trip_id") == catalog.ColumnTypeName.LONG
    and columns.get("fare_amount") == catalog.ColumnTypeName.DECIMAL
    and columns.get("is_shared") == catalog.ColumnTypeName.BOOLEAN,
    columns,
)
check("tables.get table_type", trips.table_type == catalog.TableType.MANAGED, trips.table_type)
check("tables.get full_name", trips.full_name == "main.default.trips", trips.full_name)
expect_raises("missing table is NotFound", NotFound, lambda: w.tables.get("main.default.nope"))
check("tables.exists", w.tables.exists("main.default.trips").table_exists is True)
check("tables.exists of a missing table", w.tables.exists("main.default.nope").table_exists is False)
summaries = [(t.full_name, t.table_type) for t in w.tables.list_summaries("main", table_name_pattern="tri%")]
check("tables.list_summaries", summaries == [("main.default.trips", catalog.TableType.MANAGED)], summaries)

made_catalog = w.catalogs.create(name="sdk_check", comment="from the sdk")
check("catalogs.create", made_catalog.name == "sdk_check" and made_catalog.comment == "from the sdk", made_catalog)
# The service answers 409 CATALOG_ALREADY_EXISTS / SCHEMA_ALREADY_EXISTS (reference §1), codes the SDK has no
# class for, so it raises their HTTP class, ResourceConflict (the parent of ResourceAlreadyExists).
err = expect_raises(
    "a duplicate catalog is a ResourceConflict", ResourceConflict, lambda: w.catalogs.create(name="main")
)
check("with the Unity Catalog code", err.error_code == "CATALOG_ALREADY_EXISTS", err.error_code)
made_schema = w.schemas.create(name="paging", catalog_name="sdk_check")
check("schemas.create", made_schema.full_name == "sdk_check.paging", made_schema)
err = expect_raises(
    "a duplicate schema is a ResourceConflict",
    ResourceConflict,
    lambda: w.schemas.create(name="paging", catalog_name="sdk_check"),
)
check("with the schema code", err.error_code == "SCHEMA_ALREADY_EXISTS", err.error_code)
WH = "5a1f0c0ffee00001"
WH_STOPPED = "5a1f0c0ffee00002"
for i in range(5):
    w.statement_execution.execute_statement(f"CREATE TABLE sdk_check.paging.t{i} (id BIGINT)", WH, wait_timeout="30s")
paged_tables = [t.name for t in w.tables.list("sdk_check", "paging", max_results=2)]
check("tables.list pages with max_results=2", paged_tables == [f"t{i}" for i in range(5)], paged_tables)
all_tables = [t.name for t in w.tables.list("sdk_check", "paging")]
check("tables.list with the server page size", len(all_tables) == 5, all_tables)
expect_raises(
    "deleting a catalog with contents is refused",
    BadRequest,
    lambda: w.catalogs.delete("sdk_check"),
)
w.schemas.delete("sdk_check.paging", force=True)
expect_raises("deleted schema is gone", NotFound, lambda: w.schemas.get("sdk_check.paging"))
w.catalogs.delete("sdk_check", force=True)
expect_raises("deleted catalog is gone", NotFound, lambda: w.catalogs.get("sdk_check"))

volumes = {v.name for v in w.volumes.list("main", "default")}
check("volumes.list", "landing" in volumes, volumes)
vol = w.volumes.create("main", "default", "sdk_check_vol", catalog.VolumeType.MANAGED, comment="scratch")
check("volumes.create", vol.full_name == "main.default.sdk_check_vol" and vol.volume_type == catalog.VolumeType.MANAGED)
check("volumes.read", w.volumes.read("main.default.sdk_check_vol").comment == "scratch")
expect_raises(
    "a duplicate volume is ResourceAlreadyExists",
    ResourceAlreadyExists,
    lambda: w.volumes.create("main", "default", "sdk_check_vol", catalog.VolumeType.MANAGED),
)
w.volumes.delete("main.default.sdk_check_vol")
expect_raises("deleted volume is NotFound", NotFound, lambda: w.volumes.read("main.default.sdk_check_vol"))
functions = list(w.functions.list("main", "default"))
check("functions.list", all(f.full_name.startswith("main.default.") for f in functions), functions)
expect_raises("missing function is NotFound", NotFound, lambda: w.functions.get("main.default.nope"))

# SQL warehouses and their waiters.
warehouses = {wh.id: wh for wh in w.warehouses.list()}
check("warehouses.list", {WH, WH_STOPPED} <= set(warehouses), list(warehouses))
check("warehouses.list states", warehouses[WH].state == sql.State.RUNNING, warehouses[WH].state)
stopped_wh = w.warehouses.get(WH_STOPPED)
check("warehouses.get", stopped_wh.state == sql.State.STOPPED and stopped_wh.name == "Reporting Warehouse", stopped_wh)
expect_raises("missing warehouse is NotFound", NotFound, lambda: w.warehouses.get("0000000000000000"))
set_transition_ms(200)
started_wh = w.warehouses.start(WH_STOPPED).result()
check("warehouses.start(...).result() waits for RUNNING", started_wh.state == sql.State.RUNNING, started_wh.state)
stopped_again = w.warehouses.stop(WH_STOPPED).result()
check("warehouses.stop(...).result() waits for STOPPED", stopped_again.state == sql.State.STOPPED, stopped_again.state)
set_transition_ms(0)
new_wh = w.warehouses.create(
    name="sdk-check-wh", cluster_size="2X-Small", max_num_clusters=1, auto_stop_mins=10
).result()
check("warehouses.create(...).result()", new_wh.state == sql.State.RUNNING and new_wh.name == "sdk-check-wh", new_wh)
w.warehouses.edit(new_wh.id, name="sdk-check-wh2", cluster_size="Small", max_num_clusters=1, auto_stop_mins=10)
edited = w.warehouses.get(new_wh.id)
check("warehouses.edit", edited.name == "sdk-check-wh2" and edited.cluster_size == "Small", edited)
w.warehouses.delete(new_wh.id)
expect_raises("deleted warehouse is gone", NotFound, lambda: w.warehouses.get(new_wh.id))

# Statement Execution: typed results, parameters, chunks, polling, cancel, errors, DDL and DML.
SUCCEEDED = sql.StatementState.SUCCEEDED
res = w.statement_execution.execute_statement(
    "SELECT trip_id, fare_amount, payment_type, is_shared FROM main.default.trips ORDER BY trip_id LIMIT 3",
    WH,
    wait_timeout="30s",
)
check("execute_statement succeeds", res.status.state == SUCCEEDED, res.status)
types = [(c.name, c.type_name) for c in res.manifest.schema.columns]
check(
    "manifest schema types the columns",
    types
    == [
        ("trip_id", sql.ColumnInfoTypeName.LONG),
        ("fare_amount", sql.ColumnInfoTypeName.DECIMAL),
        ("payment_type", sql.ColumnInfoTypeName.STRING),
        ("is_shared", sql.ColumnInfoTypeName.BOOLEAN),
    ],
    types,
)
check("result rows are strings", [r[0] for r in res.result.data_array] == ["1", "2", "3"], res.result.data_array)
check("row counts", res.manifest.total_row_count == 3 and res.result.row_count == 3, res.manifest)
res = w.statement_execution.execute_statement(
    "SELECT count(*) AS n FROM main.default.trips WHERE payment_type = :kind AND trip_id <= :upto",
    WH,
    wait_timeout="30s",
    parameters=[
        sql.StatementParameterListItem(name="kind", value="cash"),
        sql.StatementParameterListItem(name="upto", value="10", type="INT"),
    ],
)
check("named parameters", res.result.data_array == [["5"]], res.result)
res = w.statement_execution.execute_statement(
    "SELECT a.trip_id * 10000 + b.trip_id * 100 + c.trip_id AS k FROM main.default.trips a"
    " CROSS JOIN main.default.trips b CROSS JOIN main.default.trips c WHERE c.trip_id <= 3 ORDER BY k",
    WH,
    wait_timeout="30s",
)
check("a big result comes in chunks", res.manifest.total_chunk_count == 2 and res.manifest.total_row_count == 1200)
check("the first chunk is inline", len(res.result.data_array) == 1000 and res.result.next_chunk_index == 1, res.result)
chunk = w.statement_execution.get_statement_result_chunk_n(res.statement_id, 1)
check("get_statement_result_chunk_n", chunk.chunk_index == 1 and len(chunk.data_array) == 200, chunk.row_offset)
check("the last chunk ends the chain", chunk.next_chunk_index is None and chunk.row_offset == 1000)
ordered = [int(r[0]) for r in res.result.data_array + chunk.data_array]
check("chunks keep the order", ordered == sorted(ordered) and len(set(ordered)) == 1200)
expect_raises(
    "a chunk past the end is an error",
    BadRequest,
    lambda: w.statement_execution.get_statement_result_chunk_n(res.statement_id, 5),
)

set_transition_ms(300)
pending = w.statement_execution.execute_statement("SELECT 42 AS answer", WH, wait_timeout="0s")
check(
    "wait_timeout=0s answers before the end",
    pending.status.state in (sql.StatementState.PENDING, sql.StatementState.RUNNING),
    pending.status,
)
deadline = time.time() + 10
polled = w.statement_execution.get_statement(pending.statement_id)
while polled.status.state != SUCCEEDED and time.time() < deadline:
    time.sleep(0.1)
    polled = w.statement_execution.get_statement(pending.statement_id)
check("get_statement polls to SUCCEEDED", polled.status.state == SUCCEEDED and polled.result.data_array == [["42"]])
to_cancel = w.statement_execution.execute_statement("SELECT 1", WH, wait_timeout="0s")
w.statement_execution.cancel_execution(to_cancel.statement_id)
canceled = w.statement_execution.get_statement(to_cancel.statement_id)
check("cancel_execution", canceled.status.state == sql.StatementState.CANCELED, canceled.status)
set_transition_ms(0)
expect_raises(
    "missing statement is NotFound",
    NotFound,
    lambda: w.statement_execution.get_statement("01ef0000-0000-0000-0000-000000000000"),
)

failed = w.statement_execution.execute_statement("SELECT * FROM main.default.nope", WH, wait_timeout="30s")
check("a SQL error is FAILED", failed.status.state == sql.StatementState.FAILED, failed.status)
check("with status.error", failed.status.error and "nope" in failed.status.error.message, failed.status.error)

ddl = w.statement_execution.execute_statement(
    "CREATE TABLE main.default.sdk_check_events (id BIGINT, name STRING, amount DOUBLE)", WH, wait_timeout="30s"
)
check("CREATE TABLE", ddl.status.state == SUCCEEDED, ddl.status)
ins = w.statement_execution.execute_statement(
    "INSERT INTO sdk_check_events VALUES (1, 'a', 1.5), (2, :name, 2.5)",
    WH,
    catalog="main",
    schema="default",
    wait_timeout="30s",
    parameters=[sql.StatementParameterListItem(name="name", value="b")],
)
check("INSERT", ins.status.state == SUCCEEDED, ins.status)
check("INSERT reports num_affected_rows", ins.result.data_array == [["2", "2"]], ins.result)
sel = w.statement_execution.execute_statement(
    "SELECT name, amount FROM main.default.sdk_check_events ORDER BY id", WH, wait_timeout="30s"
)
check("SELECT what was inserted", sel.result.data_array == [["a", "1.5"], ["b", "2.5"]], sel.result)
events_table = w.tables.get("main.default.sdk_check_events")
check(
    "a table made with SQL is in Unity Catalog",
    [(c.name, c.type_name) for c in events_table.columns]
    == [
        ("id", catalog.ColumnTypeName.LONG),
        ("name", catalog.ColumnTypeName.STRING),
        ("amount", catalog.ColumnTypeName.DOUBLE),
    ],
    events_table.columns,
)
w.tables.delete("main.default.sdk_check_events")
gone = w.statement_execution.execute_statement("SELECT * FROM main.default.sdk_check_events", WH, wait_timeout="30s")
check("a table dropped in Unity Catalog is gone from SQL", gone.status.state == sql.StatementState.FAILED)
on_stopped = w.statement_execution.execute_statement("SELECT 1", WH_STOPPED, wait_timeout="30s")
check("a statement starts a stopped warehouse", on_stopped.status.state == SUCCEEDED, on_stopped.status)
check("which is then running", w.warehouses.get(WH_STOPPED).state == sql.State.RUNNING)

recorded_uc = json.load(urllib.request.urlopen(f"{host}/emulator/requests"))
recorded_uc = recorded_uc.get("requests", recorded_uc) if isinstance(recorded_uc, dict) else recorded_uc
catalog_queries = [r.get("query", "") for r in recorded_uc if r["path"] == "/api/2.1/unity-catalog/catalogs"]
check("catalogs.list sent max_results=0", any("max_results=0" in q for q in catalog_queries), catalog_queries)


# The SDK's own pagination loops asked for follow-up pages (the emulator records every request).
recorded = json.load(urllib.request.urlopen(f"{host}/emulator/requests"))
recorded = recorded.get("requests", recorded) if isinstance(recorded, dict) else recorded
followed = {(r["path"], k) for r in recorded for k in ("page_token=", "next_page_token=") if k in r.get("query", "")}
for path, key in [
    ("/api/2.2/jobs/list", "page_token="),
    ("/api/2.2/jobs/get", "page_token="),
    ("/api/2.2/jobs/runs/list", "page_token="),
    ("/api/2.2/jobs/runs/get", "page_token="),
    ("/api/2.0/repos", "next_page_token="),
    ("/api/2.0/pipelines", "page_token="),
    (f"/api/2.0/pipelines/{HEALTHY}/events", "page_token="),
    (f"/api/2.0/fs/directories{VOL}", "page_token="),
    ("/api/2.1/unity-catalog/tables", "page_token="),
]:
    check(f"the SDK followed {key}... on {path}", (path, key) in followed, sorted(followed))

print(f"all {passed} checks passed in {time.time() - started:.1f}s")
