"""GitOps: the manifest repository and the Argo CD-like sync loop, against a real store and real git."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from sandbox.apps import CHECKSUM_ANNOTATION, config_checksum, sample_files
from sandbox.gitops import APPLICATIONS, LAST_APPLIED_ANNOTATION, TRACKING_ANNOTATION, AppSpec, GitOpsSync
from sandbox.gitops.apply import compare, last_applied, merge3, prepare
from sandbox.gitops.manifests import parse_file, parse_tree
from sandbox.gitops.repo import GitCommandError, ManifestRepo
from sandbox.resources import CONFIGMAPS, CRDS, DEPLOYMENTS, NAMESPACES, PODS, SERVICES, Registry
from sandbox.store import ApiError, Store

FIXED_NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    return Store(clock=lambda: FIXED_NOW)


@pytest.fixture
def registry() -> Registry:
    return Registry.with_builtins()


@pytest.fixture
def repo(tmp_path: Path) -> ManifestRepo:
    repo = ManifestRepo(tmp_path / "repo", clock=lambda: FIXED_NOW)
    repo.init(sample_files())
    return repo


@pytest.fixture
def sync(store: Store, registry: Registry, repo: ManifestRepo) -> GitOpsSync:
    spec = AppSpec(repo_url=f"file://{repo.path}", destination_namespace="shop")
    return GitOpsSync(store, registry, repo, spec, clock=lambda: FIXED_NOW)


def app_status(store: Store) -> dict:
    return store.get(APPLICATIONS, "argocd", "sandbox-apps")["status"]


def commit_text(repo: ManifestRepo, path: str, old: str, new: str, message: str = "change") -> str:
    text = repo.read(path)
    assert text is not None and old in text, f"{old!r} not in {path}"
    return repo.commit({path: text.replace(old, new)}, message)


# -- the repository ---------------------------------------------------------------------------


def test_repo_commits_on_main_with_the_clock_date_and_keeps_a_clean_worktree_in_step(
    repo: ManifestRepo,
) -> None:
    first = repo.head()
    sha = commit_text(
        repo, "apps/web-api/deployment.yaml", "replicas: 2", "replicas: 3", "web-api: 3 replicas"
    )
    assert sha != first and repo.head() == sha
    newest = repo.log(limit=1)[0]
    assert newest.sha == sha and newest.message == "web-api: 3 replicas"
    assert newest.date == FIXED_NOW
    assert "replicas: 3" in (repo.path / "apps/web-api/deployment.yaml").read_text()
    status = subprocess.run(
        ["git", "-C", str(repo.path), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.stdout == ""


def test_repo_commit_deletes_files_and_refuses_empty_commits(repo: ManifestRepo) -> None:
    repo.commit({"apps/joke-service/service.yaml": None}, "drop the joke service's service")
    assert repo.read("apps/joke-service/service.yaml") is None
    assert "apps/joke-service/service.yaml" not in repo.files(repo.head(), "apps")
    with pytest.raises(ValueError):
        repo.commit({"apps/namespace.yaml": repo.read("apps/namespace.yaml")}, "nothing")


def _git(repo: ManifestRepo, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo.path), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_head_reads_the_branch_as_git_resolves_it_loose_packed_or_shadowed_by_a_tag(
    repo: ManifestRepo,
) -> None:
    first = repo.head()
    assert first == _git(repo, "rev-parse", "refs/heads/main")
    second = commit_text(repo, "apps/web-api/deployment.yaml", "replicas: 2", "replicas: 3")
    for ref in (None, "main", "refs/heads/main", "HEAD", f"{second}~1", "main~1"):
        expected = _git(repo, "rev-parse", f"{ref or 'main'}^{{commit}}")
        assert repo.head(ref) == expected, ref
    _git(repo, "tag", "main", first)  # a tag named like the branch: git's lookup order takes the tag
    assert repo.head("main") == first and repo.head() == second
    _git(repo, "tag", "-d", "main")
    _git(repo, "pack-refs", "--all")  # no loose file left: git answers
    assert not (repo.path / ".git/refs/heads/main").exists()
    assert repo.head() == second and repo.head("main") == second
    third = commit_text(repo, "apps/web-api/deployment.yaml", "replicas: 3", "replicas: 4")
    assert repo.head() == third == _git(repo, "rev-parse", "main")


def test_reads_after_commits_match_what_a_fresh_reader_and_git_see(repo: ManifestRepo) -> None:
    """Reads are kept by commit sha and carried over to the commits made here: they must be what
    git itself holds, for the folder read, the whole tree and single files, deletions included."""
    assert repo.files(repo.head(), "apps") and repo.files(repo.head())  # both reads cached
    sha = repo.commit(
        {
            "apps/web-api/deployment.yaml": "kind: Deployment\n",
            "apps/redis/service.yaml": None,
            "apps/new/thing.yaml": "a: 1\n",
            "top.txt": "outside the folder\n",
        },
        "mixed change",
    )
    fresh = ManifestRepo(repo.path)
    for under in ("apps", "apps/", ""):
        assert repo.files(sha, under) == fresh.files(sha, under), under
    assert _git(repo, "show", f"{sha}:apps/new/thing.yaml") == "a: 1"
    assert repo.read("apps/new/thing.yaml") == "a: 1\n" and repo.read("top.txt") == "outside the folder\n"
    assert repo.read("apps/redis/service.yaml") is None and repo.read("nope.yaml") is None
    assert repo.read("apps/redis/service.yaml", _git(repo, "rev-parse", "HEAD~1")) is not None
    with pytest.raises(GitCommandError):
        repo.read("apps")  # a folder is not a file, as `git cat-file blob` says


def test_commit_refuses_a_file_in_place_of_a_folder_and_the_identity_is_gits(repo: ManifestRepo) -> None:
    head = repo.head()
    for change in ({"apps/web-api": "x"}, {"apps/namespace.yaml/x": "y"}):
        with pytest.raises(GitCommandError):
            repo.commit(change, "a path conflict")
    assert repo.head() == head
    # Removal first, then the file in the folder's place: in the caller's order, as git allows it.
    repo.commit(
        {"apps/redis/deployment.yaml": None, "apps/redis/service.yaml": None, "apps/redis": "r"}, "flat"
    )
    assert repo.read("apps/redis") == "r"
    assert _git(repo, "config", "user.name") == "Sandbox GitOps"
    assert _git(repo, "config", "user.email") == "gitops@sandbox.local"
    odd = ManifestRepo(repo.path.parent / "odd", author=('Ann "Q" \\ Dev', "ann@example.com"))
    odd.init({"a.txt": "a"})
    assert _git(odd, "config", "user.name") == 'Ann "Q" \\ Dev'
    assert _git(odd, "log", "-1", "--format=%an") == 'Ann "Q" \\ Dev'


def test_sample_config_checksums_match_their_configmaps() -> None:
    manifests, problems = parse_tree({p: t.encode() for p, t in sample_files().items()})
    assert problems == []
    configmaps = {m.name: m.obj["data"] for m in manifests if m.kind == "ConfigMap"}
    checked = 0
    for m in manifests:
        if m.kind != "Deployment":
            continue
        annotations = m.obj["spec"]["template"]["metadata"].get("annotations") or {}
        if CHECKSUM_ANNOTATION in annotations:
            refs = {
                e["valueFrom"]["configMapKeyRef"]["name"]
                for c in m.obj["spec"]["template"]["spec"]["containers"]
                for e in c.get("env", [])
                if "valueFrom" in e
            }
            (name,) = refs
            assert annotations[CHECKSUM_ANNOTATION] == config_checksum(configmaps[name])
            checked += 1
    assert checked == 2


# -- parsing and merging ----------------------------------------------------------------------


def test_parse_reports_bad_yaml_and_incomplete_objects_without_raising() -> None:
    good, problems = parse_file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert [m.name for m in good] == ["x"] and problems == []
    _, problems = parse_file("b.yaml", "kind: [unclosed\n")
    assert len(problems) == 1 and "error converting YAML" in problems[0].message
    _, problems = parse_file("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
    assert "metadata.name is required" in problems[0].message
    _, problems = parse_file("d.yaml", "- just\n- a list\n")
    assert "expected a Kubernetes object" in problems[0].message
    # the error names where the YAML breaks, with the line (the pure loader's wording)
    _, problems = parse_file("e.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n bad: 1\n")
    assert "line 5" in problems[0].message and "bad: 1" in problems[0].message, problems[0].message
    # multi-document files, empty documents and YAML 1.1 scalars come out as PyYAML's safe loader has them
    text = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {on: yes, n: 010}\n---\n---\n" * 2
    )
    docs, problems = parse_file("f.yaml", text)
    assert not problems and [m.obj for m in docs] == [d for d in yaml.safe_load_all(text) if d]
    assert [m.index for m in docs] == [0, 3] and docs[0].obj["data"] == {True: True, "n": 8}


def test_compare_counts_what_the_server_defaults_as_in_sync_and_a_refusal_as_drift(
    sync: GitOpsSync, store: Store
) -> None:
    sync.sync_once()
    live = store.get(DEPLOYMENTS, "shop", "web-api")
    desired = prepare(last_applied(live), DEPLOYMENTS, "shop")  # what Git says
    # The API server defaults a field Git leaves out (this store, with no admission, did not).
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    store.update(DEPLOYMENTS, live)
    assert compare(store, DEPLOYMENTS, desired, "sandbox-apps").action == "update"

    def default_pull_policy(rt: object, obj: dict) -> dict:
        for c in obj["spec"]["template"]["spec"]["containers"]:
            c.setdefault("imagePullPolicy", "IfNotPresent")
        return obj

    def refuse(rt: object, obj: dict) -> dict:
        raise ApiError(422, "Invalid", "no")

    assert compare(store, DEPLOYMENTS, desired, "sandbox-apps", default_pull_policy).action == "none"
    assert compare(store, DEPLOYMENTS, desired, "sandbox-apps", refuse).action == "update"


def test_merge3_keeps_foreign_fields_removes_dropped_ones_and_lets_git_win() -> None:
    live = {"a": 1, "b": {"x": 1, "y": 2, "foreign": True}, "gone": 5, "list": [1, 2, 3]}
    last = {"a": 1, "b": {"x": 1, "y": 2}, "gone": 5, "list": [1, 2]}
    desired = {"a": 2, "b": {"x": 1}, "list": [1]}
    assert merge3(live, last, desired) == {"a": 2, "b": {"x": 1, "foreign": True}, "list": [1]}


# -- syncing ----------------------------------------------------------------------------------


def test_first_sync_creates_everything_tracked_and_reports_synced(sync: GitOpsSync, store: Store) -> None:
    report = sync.sync_once()
    assert report.synced and report.operation_phase == "Succeeded"
    assert store.find(CRDS, "", "applications.argoproj.io") is not None
    assert store.find(NAMESPACES, "", "shop") is not None
    deployment = store.get(DEPLOYMENTS, "shop", "web-api")
    annotations = deployment["metadata"]["annotations"]
    assert annotations[TRACKING_ANNOTATION] == "sandbox-apps:apps/Deployment:shop/web-api"
    assert LAST_APPLIED_ANNOTATION in annotations
    assert deployment["spec"]["replicas"] == 2
    assert store.get(CONFIGMAPS, "shop", "web-api-config")["data"]["POOL_SIZE"] == "10"
    status = app_status(store)
    assert status["sync"] == {**status["sync"], "status": "Synced", "revision": sync.repo.head()}
    assert status["operationState"]["phase"] == "Succeeded"
    assert status["history"][0]["revision"] == sync.repo.head()
    assert "ghcr.io/paramedic-demo/web-api:1.5.0" in status["summary"]["images"]
    kinds = {(r["kind"], r["name"]) for r in status["resources"]}
    assert ("Deployment", "web-api") in kinds and ("Service", "postgres") in kinds
    # Deployments without a controller never report progress: Argo CD calls that Progressing.
    assert status["health"]["status"] == "Progressing"


def test_a_second_pass_with_nothing_changed_writes_nothing(sync: GitOpsSync, store: Store) -> None:
    sync.sync_once()
    rv = store.resource_version
    report = sync.sync_once()
    assert report.synced and report.operation_phase is None
    assert store.resource_version == rv


def test_self_heal_reverts_drift_in_git_owned_fields_only(sync: GitOpsSync, store: Store) -> None:
    sync.sync_once()
    live = store.get(DEPLOYMENTS, "shop", "web-api")
    live["spec"]["replicas"] = 0
    live["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = (
        "2025-06-02T09:00:00Z"
    )
    store.update(DEPLOYMENTS, live)
    cm = store.get(CONFIGMAPS, "shop", "web-api-config")
    del cm["data"]["DATABASE_URL"]
    store.update(CONFIGMAPS, cm)
    drifted = sync.sync_once()
    assert drifted.operation_phase == "Succeeded" and drifted.synced
    healed = store.get(DEPLOYMENTS, "shop", "web-api")
    assert healed["spec"]["replicas"] == 2
    # A rollout restart is not Git's business, as with kubectl apply's three-way merge.
    assert "kubectl.kubernetes.io/restartedAt" in healed["spec"]["template"]["metadata"]["annotations"]
    assert "DATABASE_URL" in store.get(CONFIGMAPS, "shop", "web-api-config")["data"]


def test_deleted_objects_are_recreated(sync: GitOpsSync, store: Store) -> None:
    sync.sync_once()
    store.delete(SERVICES, "shop", "web-api")
    assert sync.sync_once().synced
    assert store.find(SERVICES, "shop", "web-api") is not None


def test_without_self_heal_drift_is_reported_not_reverted_but_new_commits_still_deploy(
    sync: GitOpsSync, store: Store
) -> None:
    sync.sync_once()
    app = store.get(APPLICATIONS, "argocd", "sandbox-apps")
    app["spec"]["syncPolicy"]["automated"]["selfHeal"] = False
    store.update(APPLICATIONS, app)
    live = store.get(DEPLOYMENTS, "shop", "worker")
    live["spec"]["replicas"] = 5
    store.update(DEPLOYMENTS, live)
    report = sync.sync_once()
    assert not report.synced and report.operation_phase is None
    assert store.get(DEPLOYMENTS, "shop", "worker")["spec"]["replicas"] == 5
    out = [r for r in app_status(store)["resources"] if r["status"] == "OutOfSync"]
    assert [(r["kind"], r["name"]) for r in out] == [("Deployment", "worker")]
    commit_text(sync.repo, "apps/worker/deployment.yaml", "replicas: 1", "replicas: 2")
    assert sync.sync_once().synced
    assert store.get(DEPLOYMENTS, "shop", "worker")["spec"]["replicas"] == 2


def test_a_commit_is_applied_and_fields_removed_in_git_leave_the_cluster(
    sync: GitOpsSync, store: Store
) -> None:
    sync.sync_once()
    sha = commit_text(
        sync.repo,
        "apps/joke-service/deployment.yaml",
        '          args: ["--port=8080", "--category=programming"]\n',
        "",
    )
    report = sync.sync_once()
    assert report.synced and report.revision == sha
    container = store.get(DEPLOYMENTS, "shop", "joke-service")["spec"]["template"]["spec"]["containers"][0]
    assert "args" not in container
    assert app_status(store)["sync"]["revision"] == sha
    assert [h["revision"] for h in app_status(store)["history"]][-1] == sha


def test_prune_deletes_only_objects_the_sync_created(sync: GitOpsSync, store: Store) -> None:
    sync.sync_once()
    store.create(CONFIGMAPS, {"metadata": {"name": "hand-made", "namespace": "shop"}, "data": {"a": "b"}})
    sync.repo.commit(
        {"apps/joke-service/service.yaml": None, "apps/joke-service/deployment.yaml": None}, "retire"
    )
    report = sync.sync_once()
    assert report.synced
    assert store.find(DEPLOYMENTS, "shop", "joke-service") is None
    assert store.find(SERVICES, "shop", "joke-service") is None
    assert store.find(CONFIGMAPS, "shop", "hand-made") is not None
    pruned = [
        r for r in app_status(store)["operationState"]["syncResult"]["resources"] if r["status"] == "Pruned"
    ]
    assert {r["name"] for r in pruned} == {"joke-service"}


def test_invalid_yaml_is_reported_on_the_application_and_nothing_is_touched(
    sync: GitOpsSync, store: Store
) -> None:
    sync.sync_once()
    before = store.get(DEPLOYMENTS, "shop", "web-api")
    bad = sync.repo.commit(
        {"apps/web-api/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: [oops\n"},
        "broken yaml",
    )
    report = sync.sync_once()
    assert not report.synced and report.operation_phase == "Failed"
    assert "apps/web-api/deployment.yaml" in report.message
    status = app_status(store)
    assert status["sync"]["status"] == "OutOfSync" and status["sync"]["revision"] == bad
    assert status["operationState"]["phase"] == "Failed"
    assert "error converting YAML" in status["operationState"]["message"]
    assert status["conditions"][0]["type"] == "ComparisonError"
    # Nothing pruned or changed: the broken file must not look like a deleted Deployment.
    assert store.get(DEPLOYMENTS, "shop", "web-api") == before
    assert store.find(CONFIGMAPS, "shop", "web-api-config") is not None
    good = sync.repo.commit(
        {"apps/web-api/deployment.yaml": sample_files()["apps/web-api/deployment.yaml"]}, "fix"
    )
    report = sync.sync_once()
    assert report.synced and report.revision == good
    assert "conditions" not in app_status(store)


def test_unknown_kind_fails_alone_and_the_rest_is_applied(sync: GitOpsSync, store: Store) -> None:
    sync.sync_once()
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n"
    commit_text(sync.repo, "apps/worker/deployment.yaml", "replicas: 1", "replicas: 3")
    sync.repo.commit({"apps/widget.yaml": widget}, "add a widget")
    report = sync.sync_once()
    assert report.operation_phase == "Failed" and not report.synced
    assert store.get(DEPLOYMENTS, "shop", "worker")["spec"]["replicas"] == 3
    op = app_status(store)["operationState"]
    assert 'no matches for kind "Widget"' in op["message"]
    failed = [r for r in op["syncResult"]["resources"] if r["status"] == "SyncFailed"]
    assert [r["kind"] for r in failed] == ["Widget"]
    # Retrying an unknown kind every pass would change nothing: the failure is kept, not re-run.
    rv = store.resource_version
    sync.sync_once()
    assert store.resource_version == rv


def test_health_follows_deployment_status_and_failing_pods(sync: GitOpsSync, store: Store) -> None:
    sync.sync_once()
    for dep in store.list(DEPLOYMENTS, "shop")[0]:
        n = dep["spec"].get("replicas", 1)
        generation = dep["metadata"]["generation"]
        counts = {"replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n}
        dep["status"] = {"observedGeneration": generation, **counts}
        store.update(DEPLOYMENTS, dep, status_only=True)
    assert sync.sync_once().health.status == "Healthy"
    assert app_status(store)["health"]["status"] == "Healthy"
    dep = store.get(DEPLOYMENTS, "shop", "web-api")
    dep["status"]["availableReplicas"] = 1
    store.update(DEPLOYMENTS, dep, status_only=True)
    store.create(
        PODS,
        {
            "metadata": {
                "name": "web-api-abc",
                "namespace": "shop",
                "labels": {"app.kubernetes.io/name": "web-api"},
            },
            "spec": {"containers": [{"name": "app", "image": "x"}]},
            "status": {
                "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
            },
        },
    )
    report = sync.sync_once()
    assert report.health.status == "Degraded" and "CrashLoopBackOff" in report.health.message
    web = next(
        r for r in app_status(store)["resources"] if r["name"] == "web-api" and r["kind"] == "Deployment"
    )
    assert web["health"]["status"] == "Degraded"


def test_the_background_loop_heals_drift_by_itself(sync: GitOpsSync, store: Store) -> None:
    sync.start()
    try:
        sync.wait_synced(timeout=10)
        live = store.get(DEPLOYMENTS, "shop", "postgres")
        live["spec"]["replicas"] = 0
        store.update(DEPLOYMENTS, live)
        sync.wait_for(
            lambda r: store.get(DEPLOYMENTS, "shop", "postgres")["spec"]["replicas"] == 1, timeout=10
        )
        sha = commit_text(sync.repo, "apps/redis/deployment.yaml", "replicas: 1", "replicas: 2")
        sync.wait_synced(sha, timeout=10)
        assert store.get(DEPLOYMENTS, "shop", "redis")["spec"]["replicas"] == 2
    finally:
        sync.stop()
    assert not any(t.name == "gitops-sync" for t in __import__("threading").enumerate())


def test_a_waiting_caller_gets_its_pass_without_the_loops_min_gap(
    store: Store, registry: Registry, repo: ManifestRepo
) -> None:
    # The min gap spaces passes the cluster's own events trigger; `sync()` after a commit asks for
    # one and must not sit out the gap (with a 60 s gap the deploy below could not make 10 s).
    spec = AppSpec(repo_url=f"file://{repo.path}", destination_namespace="shop")
    sync = GitOpsSync(store, registry, repo, spec, clock=lambda: FIXED_NOW, poll_interval=60, min_gap=60)
    sync.start()
    try:
        sync.wait_synced(timeout=10)
        sha = commit_text(sync.repo, "apps/redis/deployment.yaml", "replicas: 1", "replicas: 2")
        sync.wait_synced(sha, timeout=10)
        assert store.get(DEPLOYMENTS, "shop", "redis")["spec"]["replicas"] == 2
    finally:
        sync.stop()
