"""Generated scenario variants: deterministic, checked in as generated, valid, enough per category."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.dataset import SPLITS, Tag, check_faults, load_dataset, load_folder
from evals.generate import GENERATED_DIR, generate, render, templates
from evals.runner import check_truth
from evals.steps import play
from paramedic.eval_sandbox import SandboxTestbed, sandbox_faults

FAULTS = sandbox_faults()
HAND_WRITTEN = load_dataset()
GENERATED = load_dataset(GENERATED_DIR)


def test_the_checked_in_variants_are_exactly_what_the_generator_writes():
    docs = generate(HAND_WRITTEN)
    for split in SPLITS:
        on_disk = {p.stem: p.read_text(encoding="utf-8") for p in (GENERATED_DIR / split).glob("*.yaml")}
        assert on_disk == {stem: render(doc) for stem, doc in docs[split].items()}, (
            "evals/scenarios/generated is stale: python -m evals.generate"
        )


def test_the_generator_is_deterministic_and_the_seed_matters():
    assert generate(HAND_WRITTEN) == generate(HAND_WRITTEN)
    assert generate(HAND_WRITTEN, seed=1) != generate(HAND_WRITTEN)


def test_at_least_thirty_scenarios_per_catalogue_category_and_controls_across_splits():
    counts = Counter(c for s in HAND_WRITTEN + GENERATED for c in s.categories)
    for category in {*FAULTS.values()}:
        assert counts[category.value] >= 30, category
    assert counts["control"] >= 30


def test_variants_stay_in_their_templates_split_and_are_tagged():
    by_id = {s.id: s for s in HAND_WRITTEN}
    for fault, group in templates(HAND_WRITTEN).items():
        assert all(by_id[t.id].injects[0].fault == fault for t in group)
    for s in GENERATED:
        assert s.id.startswith(f"{s.split}-gen-") and Tag.GENERATED in s.tags
        assert not s.expect.detect or s.expect.faults
    check_faults(GENERATED, FAULTS)


def test_variants_differ_in_noise_and_wording():
    per_template = Counter(tuple(sorted(t.value for t in s.tags)) for s in GENERATED if s.expect.detect)
    assert len(per_template) >= 6  # noise kinds x change correlation, not one shape repeated
    messages = {s.injects[0].message for s in GENERATED if s.injects}
    assert len(messages) >= 20


def test_a_generated_split_loads_as_a_flat_folder():
    flat = load_folder(GENERATED_DIR / "test", faults=FAULTS)
    assert {s.split for s in flat} == {"test"} and len(flat) == sum(s.split == "test" for s in GENERATED)


# One variant per category and split: the generator's step shapes all play in a real (stepped) sandbox.
_SAMPLE = sorted({(s.split, s.categories[0]): s.id for s in GENERATED}.values())


@pytest.mark.slow
@pytest.mark.parametrize("scenario_id", _SAMPLE)
def test_a_sample_of_variants_plays_and_its_truth_matches_the_sandbox(scenario_id):
    scenario = next(s for s in GENERATED if s.id == scenario_id)
    cluster = SandboxTestbed(background=False, serve=False).new_cluster(3)
    cluster.start()
    try:
        cluster.wait_healthy(timeout=30)
        faults = play(cluster, scenario).faults
        check_truth(scenario, faults)
        assert cluster.fixed() == [False] * len(faults)
    finally:
        cluster.stop()
