"""Generated scenario variants: deterministic, checked in as generated, valid, enough per category."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest
import yaml

from evals.dataset import SPLITS, Scenario, Tag, check_faults, load_dataset, load_folder
from evals.generate import GENERATED_DIR, generate, render, templates
from evals.runner import check_truth
from evals.steps import play
from paramedic.eval_sandbox import SandboxTestbed, sandbox_faults
from tests.sample_repo import seeded

FAULTS = sandbox_faults()


# The datasets (hundreds of YAML files) are read on first use, not at import: every xdist worker
# collects this module, and only the ones that run its tests should pay for the reading.
@cache
def _hand_written() -> list[Scenario]:
    return load_dataset()


@cache
def _generated() -> list[Scenario]:
    return load_dataset(GENERATED_DIR)


@pytest.fixture
def hand_written() -> list[Scenario]:
    return _hand_written()


@pytest.fixture
def generated() -> list[Scenario]:
    return _generated()


def test_the_checked_in_variants_are_exactly_what_the_generator_writes(hand_written):
    docs = generate(hand_written)
    for split in SPLITS:
        on_disk = {p.stem: p.read_text(encoding="utf-8") for p in (GENERATED_DIR / split).glob("*.yaml")}
        assert on_disk == {stem: render(doc) for stem, doc in docs[split].items()}, (
            "evals/scenarios/generated is stale: python -m evals.generate"
        )


def test_libyamls_emitter_writes_what_the_pure_python_one_writes(hand_written):
    # The checked-in files (test above) were first written by the pure-Python emitter; another seed
    # gives other texts, and a sample of them must not differ either.
    docs = [doc for files in generate(hand_written, seed=1).values() for doc in files.values()][::10]
    assert docs and all(render(doc) == render(doc, yaml.SafeDumper) for doc in docs)


def test_the_generator_is_deterministic_and_the_seed_matters(hand_written):
    assert generate(hand_written) == generate(hand_written)
    assert generate(hand_written, seed=1) != generate(hand_written)


def test_at_least_thirty_scenarios_per_catalogue_category_and_controls_across_splits(hand_written, generated):
    counts = Counter(c for s in hand_written + generated for c in s.categories)
    for category in {*FAULTS.values()}:
        assert counts[category.value] >= 30, category
    assert counts["control"] >= 30


def test_variants_stay_in_their_templates_split_and_are_tagged(hand_written, generated):
    by_id = {s.id: s for s in hand_written}
    for fault, group in templates(hand_written).items():
        assert all(by_id[t.id].injects[0].fault == fault for t in group)
    for s in generated:
        assert s.id.startswith(f"{s.split}-gen-") and Tag.GENERATED in s.tags
        assert not s.expect.detect or s.expect.faults
    check_faults(generated, FAULTS)


def test_variants_differ_in_noise_and_wording(generated):
    per_template = Counter(tuple(sorted(t.value for t in s.tags)) for s in generated if s.expect.detect)
    assert len(per_template) >= 6  # noise kinds x change correlation, not one shape repeated
    messages = {s.injects[0].message for s in generated if s.injects}
    assert len(messages) >= 20


def test_a_generated_split_loads_as_a_flat_folder(generated):
    flat = load_folder(GENERATED_DIR / "test", faults=FAULTS)
    assert {s.split for s in flat} == {"test"} and len(flat) == sum(s.split == "test" for s in generated)


# One variant per category and split: the generator's step shapes all play in a real (stepped) sandbox.
# Parametrized by (split, category) from the catalogue, so collecting needs no scenario file; that
# every pair has a variant is part of the test.
_CATEGORIES = sorted({c.value for c in FAULTS.values()} | {"control"})


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("category", _CATEGORIES)
def test_a_sample_of_variants_plays_and_its_truth_matches_the_sandbox(split, category, generated, tmp_path):
    variants = [s for s in generated if (s.split, s.categories[0]) == (split, category)]
    assert variants, f"no generated {split} variant of {category}"
    scenario = variants[-1]
    cluster = SandboxTestbed(background=False, serve=False, workdir=seeded(tmp_path)).new_cluster(3)
    cluster.start()
    try:
        cluster.wait_healthy(timeout=30)
        faults = play(cluster, scenario).faults
        check_truth(scenario, faults)
        assert cluster.fixed() == [False] * len(faults)
    finally:
        cluster.stop()
