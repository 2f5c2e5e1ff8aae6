"""The scenario dataset: size, splits, coverage, unique IDs, clear errors, truth matching the sandbox.

The sandbox's fault catalogue reaches the dataset the way `paramedic eval` hands it over
(`paramedic.eval_sandbox`): the harness itself never imports the sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.domain import RootCause
from evals.dataset import SPLITS, DatasetError, Tag, check_faults, load_dataset, load_scenario, select
from evals.runner import check_truth
from evals.steps import play
from evals.truth import all_truths, fault_records
from paramedic.eval_sandbox import SandboxTestbed, sandbox_faults
from sandbox.cluster import Sandbox
from tests.sample_repo import seeded

FAULTS = sandbox_faults()

GOOD = """\
id: {id}
title: t
description: d
tags: [single_fault]
steps:
  - inject: {{fault: oom, target: shop/deploy/web-api}}
expect:
  detect: true
  faults:
    - {{category: oom, faulty_resource: Deployment shop/web-api}}
  acceptable_fixes: [gitops_pr]
"""


def test_the_dataset_is_big_enough_and_has_both_splits(dataset):
    assert len(dataset) >= 40
    assert {s.split for s in dataset} == set(SPLITS)
    assert all(sum(s.split == split for s in dataset) >= 10 for split in SPLITS)


def test_ids_are_unique_and_the_splits_disjoint(dataset):
    ids = [s.id for s in dataset]
    assert len(ids) == len(set(ids))
    dev = {s.id for s in dataset if s.split == "dev"}
    test = {s.id for s in dataset if s.split == "test"}
    assert dev and test and not dev & test
    assert all(s.id.startswith(f"{s.split}-") for s in dataset)


@pytest.mark.parametrize("split", SPLITS)
def test_every_fault_type_is_covered_in_each_split(dataset, split):
    injected = {step.fault for s in dataset if s.split == split for step in s.injects}
    assert injected == set(FAULTS)


def test_the_dataset_has_the_hard_cases(dataset):
    tags = [t for s in dataset for t in s.tags]
    for tag in Tag:
        if tag is not Tag.GENERATED:  # generated variants live apart (tests/evals/test_generate.py)
            assert tags.count(tag) >= 2, tag
    controls = [s for s in dataset if not s.expect.detect]
    assert len(controls) >= 6 and all(not s.injects for s in controls)
    assert any(s.steps for s in controls), "some controls must be noisy, not just quiet"


def test_select_by_id_and_tag(dataset):
    assert [s.id for s in select(dataset, ids=["dev-oom-web-api"])] == ["dev-oom-web-api"]
    assert all(Tag.CONTROL in s.tags for s in select(dataset, tags=["control"]))
    with pytest.raises(DatasetError, match="no such scenario"):
        select(dataset, ids=["nope"])


def _write(tmp_path: Path, split: str, name: str, text: str) -> Path:
    folder = tmp_path / split
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path):
    s = load_scenario(_write(tmp_path, "dev", "dev-x-one", GOOD.format(id="dev-x-one")), faults=FAULTS)
    assert s.split == "dev" and s.categories == ["oom"]
    assert s.injects[0].target == "shop/deploy/web-api"


def test_targets_are_normalised_and_must_be_deployments(tmp_path):
    short = GOOD.format(id="dev-x-one").replace("shop/deploy/web-api", "shop/web-api")
    scenario = load_scenario(_write(tmp_path, "dev", "dev-x-one", short))
    assert scenario.injects[0].target == "shop/deploy/web-api"
    sts = GOOD.format(id="dev-x-one").replace("shop/deploy/web-api", "shop/sts/web-api")
    with pytest.raises(DatasetError, match="not a Deployment of namespace shop"):
        load_scenario(_write(tmp_path, "dev", "dev-x-one", sts))


def test_without_a_catalogue_the_fault_types_are_not_checked_but_check_faults_does(tmp_path):
    text = GOOD.format(id="dev-x-one").replace("fault: oom", "fault: gremlins")
    scenario = load_scenario(_write(tmp_path, "dev", "dev-x-one", text))  # structure only
    with pytest.raises(DatasetError, match=r"dev-x-one.*unknown fault type 'gremlins'"):
        check_faults([scenario], FAULTS)
    check_faults([scenario], {"gremlins": RootCause.OOM})


def test_unknown_is_not_a_fault_category(tmp_path):
    text = GOOD.format(id="dev-x-one").replace("category: oom", "category: unknown")
    with pytest.raises(DatasetError, match=r"only a hand-written \(fixed_when\) uncatalogued fault"):
        load_scenario(_write(tmp_path, "dev", "dev-x-one", text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: [unclosed\n", "not valid YAML"),
        ("- a list\n", "top level must be a mapping"),
        (
            GOOD.format(id="dev-x-one").replace("fault: oom", "fault: gremlins"),
            "unknown fault type 'gremlins'",
        ),
        (GOOD.format(id="dev-x-one").replace("category: oom", "category: bad_image"), "is category oom"),
        (GOOD.format(id="dev-x-one").replace("title: t\n", ""), "title: Field required"),
        (
            GOOD.format(id="dev-x-one").replace("shop/deploy/web-api}", "other/deploy/web-api}"),
            "not a Deployment of namespace shop",
        ),
        (GOOD.format(id="dev-x-one").replace("detect: true", "detect: false"), "cannot list faults"),
        (GOOD.format(id="dev-x-one") + "surprise: 1\n", "surprise: Extra inputs are not permitted"),
        (GOOD.format(id="dev-x-one") + "split: test\n", "decided by the directory"),
        (GOOD.format(id="dev-other"), "must equal the file name"),
        (GOOD.format(id="dev-x-one").replace("  - inject:", "  - wait: 5\n    inject:"), "exactly one of"),
    ],
)
def test_malformed_files_name_the_file_and_the_problem(tmp_path, text, message):
    path = _write(tmp_path, "dev", "dev-x-one", text)
    with pytest.raises(DatasetError) as info:
        load_scenario(path, faults=FAULTS)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_a_duplicate_id_across_splits_is_refused(tmp_path):
    _write(tmp_path, "dev", "dev-x-one", GOOD.format(id="dev-x-one"))
    _write(tmp_path, "test", "dev-x-one", GOOD.format(id="dev-x-one"))
    with pytest.raises(DatasetError, match="appears in both dev and test"):
        load_dataset(tmp_path)


def test_a_missing_split_directory_is_refused(tmp_path):
    _write(tmp_path, "dev", "dev-x-one", GOOD.format(id="dev-x-one"))
    with pytest.raises(DatasetError, match="no such split directory"):
        load_dataset(tmp_path)


# One test per scenario (ids read at collection), so parallel workers share the fifty sandboxes.
SCENARIO_IDS = [scenario.id for scenario in load_dataset()]


@pytest.mark.slow
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_scenario_plays_and_its_ground_truth_is_what_the_sandbox_injects(by_id, scenario_id, tmp_path):
    """Each scenario's steps play in a stepped sandbox (no API server needed) and the injected
    faults' ground truth equals the scenario's `expect.faults`."""
    scenario = by_id[scenario_id]
    cluster = SandboxTestbed(background=False, serve=False, workdir=seeded(tmp_path)).new_cluster(3)
    cluster.start()
    try:
        cluster.wait_healthy(timeout=30)
        faults = play(cluster, scenario).faults
        check_truth(scenario, faults)
        assert cluster.fixed() == [False] * len(faults), f"{scenario.id}: a fault is fixed before any fix"
        # Hand-written faults (raw commits or manifests): their own fix checks fail before any fix too.
        records = fault_records(cluster, scenario, all_truths(scenario, faults))
        assert not any(r.fixed for r in records), f"{scenario.id}: fixed before any fix"
    finally:
        cluster.stop()


def test_the_dataset_has_scenarios_in_every_split():
    assert {s.split for s in load_dataset()} == set(SPLITS) and len(SCENARIO_IDS) >= 40


def test_a_seeded_work_dir_deploys_the_commit_a_fresh_sandbox_makes(tmp_path):
    """The scenario tests start on a copy of the sample repository (tests/sample_repo.py); a fresh
    sandbox (another seed) makes the same repository: the same head, files and history."""
    fresh = Sandbox(seed=11, background=False, serve=False).start()
    seeded_sb = Sandbox(workdir=seeded(tmp_path), seed=3, background=False, serve=False).start()
    try:
        assert seeded_sb.repo.head() == fresh.repo.head()
        assert seeded_sb.repo.log() == fresh.repo.log()
        assert seeded_sb.repo.files(seeded_sb.repo.head()) == fresh.repo.files(fresh.repo.head())
        assert seeded_sb.healthy() == fresh.healthy()
    finally:
        seeded_sb.stop()
        fresh.stop()
