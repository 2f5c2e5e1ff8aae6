"""The scenario dataset: one YAML file per scenario under `evals/scenarios/<split>/`, validated.

A scenario says which sample apps run, what happens to them (`steps`, `evals.scenario_steps`:
faults injected, raw commits and manifests, log lines, alerts, waits, in order) and what a good
agent does about it (`expect`, `evals.expectations`: detection, the ground truth of every fault,
acceptable fixes, forbidden actions, escalation). The split is the directory a file sits in
(`dev` or `test`), never a random draw. `evals/scenarios/pending/` holds scenarios that need
features the sandbox or the product do not have yet (`needs:`); the default run leaves it out
and `load_folder()` (`paramedic eval --scenarios DIR`) loads it, or any flat folder.

`load_dataset()` raises `DatasetError` naming the offending file (and field) for bad input. Given
the testbed's fault catalogue (`faults=`), it also checks every injected fault type exists and
belongs to the category the scenario expects; `check_faults` does the same for loaded scenarios.
Categories are the product's root causes (`agent.domain.RootCause`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from agent.domain import RootCause
from evals.expectations import CATEGORY_CONTEXT, Expect, ExpectedFault, FixCheck, ForbiddenAction
from evals.scenario_steps import (
    FAULTS_CONTEXT,
    NAMESPACE,
    SAMPLE_APPS,
    AlertStep,
    ApplyStep,
    CommitStep,
    DeleteStep,
    InjectStep,
    LogStep,
    ManifestPatch,
    Step,
    Strict,
    workload,
)

__all__ = [
    "NAMESPACE",
    "PENDING",
    "SAMPLE_APPS",
    "SCENARIOS_DIR",
    "SPLITS",
    "AlertStep",
    "ApplyStep",
    "CommitStep",
    "DatasetError",
    "DeleteStep",
    "Expect",
    "ExpectedFault",
    "FixCheck",
    "ForbiddenAction",
    "InjectStep",
    "LogStep",
    "ManifestPatch",
    "Scenario",
    "Step",
    "Tag",
    "check_faults",
    "load_dataset",
    "load_folder",
    "load_scenario",
    "select",
]  # fmt: skip

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
SPLITS: tuple[str, ...] = ("dev", "test")
PENDING = "pending"  # scenarios waiting for a feature (`needs`); never part of the default run
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
_NEED = re.compile(r"^[a-z0-9_:-]{2,60}$")

# libyaml's safe loader where PyYAML was built with it: a dataset of 500+ scenario files parses in
# a tenth of the pure-Python loader's time (every `paramedic eval` and every test that lists them).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DatasetError(ValueError):
    """A scenario file (or the dataset as a whole) is not valid; the message names the file."""


class Tag(StrEnum):
    """What a scenario exercises."""

    SINGLE_FAULT = "single_fault"
    MULTI_FAULT = "multi_fault"
    CHANGE_CORRELATION = "change_correlation"  # an unrelated commit lands near the bad one
    RED_HERRING = "red_herring"  # noisy unrelated errors
    HOSTILE_LOGS = "hostile_logs"  # log lines that try to steer the agent
    CONTROL = "control"  # healthy (maybe noisy): nothing to detect
    PHYSICS = "physics"  # no commit caused it
    RAW = "raw"  # a fault made by raw commits/manifests, its ground truth written by hand
    ALERT = "alert"  # an Alertmanager alert reaches the agent
    GENERATED = "generated"  # expanded from a template by evals/generate.py


def _catalogue(info: ValidationInfo) -> Mapping[str, RootCause] | None:
    """The fault catalogue the loader was given, if any."""
    return info.context.get(FAULTS_CONTEXT) if isinstance(info.context, dict) else None


class Scenario(Strict):
    """One evaluation scenario."""

    id: str
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    tags: list[Tag] = Field(min_length=1)
    needs: list[str] = Field(
        default_factory=list, description="Features it waits for (pending/ only), e.g. jobs, hpa, pvc."
    )
    workloads: list[str] = Field(default_factory=lambda: list(SAMPLE_APPS))
    steps: list[Step] = Field(default_factory=list)
    expect: Expect
    soak_seconds: float = Field(default=120.0, gt=0, le=3600, description="Simulated seconds healthy.")
    split: str = Field(default="", description="Set by the loader from the directory.")

    @field_validator("id")
    @classmethod
    def _id_format(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lowercase letters, digits and dashes (3-81 characters)")
        return value

    @field_validator("needs")
    @classmethod
    def _need_names(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not _NEED.match(n)]
        if bad:
            raise ValueError(f"needs are short lowercase names (jobs, hpa, category:missing_secret): {bad}")
        return value

    @field_validator("workloads")
    @classmethod
    def _sample_apps(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(SAMPLE_APPS))
        if unknown:
            raise ValueError(f"not sample apps: {unknown}; known: {list(SAMPLE_APPS)}")
        if len(set(value)) != len(value):
            raise ValueError("workloads are listed twice")
        return value

    @model_validator(mode="after")
    def _steps_match_truth(self, info: ValidationInfo) -> Scenario:
        injects, truths = self.injects, self.expect.injected
        if len(injects) != len(truths):
            raise ValueError(
                f"{len(injects)} inject step(s) but {len(truths)} expected fault(s) without fixed_when: "
                "expect.faults lists the ground truth of each inject step, in order (a fault with "
                "fixed_when is written by hand and matches no inject step)"
            )
        faults = _catalogue(info)
        for step, truth in zip(injects, truths, strict=True):
            want = faults.get(step.fault) if faults is not None else None
            if want is not None and truth.category != want.value:
                raise ValueError(f"fault {step.fault} is category {want.value}, not {truth.category}")
        for played in self.steps:
            aimed = played.inject or played.log
            target = aimed.target if aimed is not None else None
            name = workload(target).name if target is not None else None
            if name in SAMPLE_APPS and name not in self.workloads:
                raise ValueError(f"step targets {target}, which is not among the scenario's workloads")
        if (Tag.CONTROL in self.tags) == self.expect.detect:
            raise ValueError("the 'control' tag and 'detect: false' go together")
        if any(f.declared for f in self.expect.faults) and Tag.RAW not in self.tags:
            raise ValueError("a scenario with hand-written faults (fixed_when) is tagged raw")
        if any(s.alert is not None for s in self.steps) != (Tag.ALERT in self.tags):
            raise ValueError("the 'alert' tag and alert steps go together")
        return self

    @property
    def injects(self) -> list[InjectStep]:
        """The inject steps, in order."""
        return [s.inject for s in self.steps if s.inject is not None]

    @property
    def alerts(self) -> list[AlertStep]:
        """The alert steps, in order."""
        return [s.alert for s in self.steps if s.alert is not None]

    @property
    def categories(self) -> list[str]:
        """Root-cause categories of the expected faults (`control` for none)."""
        return [f.category for f in self.expect.faults] or ["control"]


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(scenario)'}: {err['msg']}" for err in exc.errors()
    )


def load_scenario(
    path: Path,
    split: str | None = None,
    *,
    faults: Mapping[str, RootCause] | None = None,
    new_categories: bool = False,
) -> Scenario:
    """One scenario file; DatasetError naming the file (and fields) when it is not valid.

    With `faults` (a testbed's catalogue) the inject steps must name its fault types and expect
    their categories; without, the fault types are not checked. `new_categories` accepts
    categories the product does not have yet (pending scenarios)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)  # safe: no Python objects
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    if "split" in data:
        raise DatasetError(f"{path}: 'split' is decided by the directory, not the file")
    data["split"] = split or path.parent.name
    try:
        scenario = Scenario.model_validate(
            data, context={FAULTS_CONTEXT: faults, CATEGORY_CONTEXT: new_categories}
        )
    except ValidationError as exc:
        raise DatasetError(f"{path}: invalid scenario: {_problems(exc)}") from None
    if scenario.id != path.stem:
        raise DatasetError(f"{path}: id {scenario.id!r} must equal the file name {path.stem!r}")
    return scenario


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such scenario directory")
    stray = sorted(p.name for p in folder.iterdir() if p.suffix == ".yml")
    if stray:
        raise DatasetError(f"{folder}: use the .yaml suffix, not .yml: {stray}")
    return sorted(folder.glob("*.yaml"))


def _unique(scenarios: list[Scenario]) -> list[Scenario]:
    seen: dict[str, str] = {}
    for s in scenarios:
        if s.id in seen:
            raise DatasetError(f"scenario id {s.id!r} appears in both {seen[s.id]} and {s.split}")
        seen[s.id] = s.split
    return scenarios


def load_dataset(
    root: Path = SCENARIOS_DIR,
    splits: Iterable[str] = SPLITS,
    *,
    faults: Mapping[str, RootCause] | None = None,
) -> list[Scenario]:
    """Every scenario of the given splits, sorted by split then id; IDs must be unique.

    `faults`: check the fault types against this catalogue (see `load_scenario`)."""
    scenarios: list[Scenario] = []
    for split in splits:
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; expected one of {SPLITS}")
        if not (root / split).is_dir():
            raise DatasetError(f"{root / split}: no such split directory")
        scenarios.extend(load_scenario(p, split, faults=faults) for p in _files(root / split))
    return _unique(scenarios)


def load_folder(
    folder: Path, *, faults: Mapping[str, RootCause] | None = None, new_categories: bool = False
) -> list[Scenario]:
    """Every scenario of one flat folder (no dev/test sub-folders), sorted by id; the split is the
    folder's name. Sub-folders are not read. `new_categories`: see `load_scenario`."""
    return _unique(
        [load_scenario(p, folder.name, faults=faults, new_categories=new_categories) for p in _files(folder)]
    )


def select(
    scenarios: Iterable[Scenario], ids: Iterable[str] = (), tags: Iterable[str] = ()
) -> list[Scenario]:
    """A subset by id and/or tag (both empty: all); unknown ids are an error."""
    pool = list(scenarios)
    wanted_ids, wanted_tags = set(ids), set(tags)
    missing = wanted_ids - {s.id for s in pool}
    if missing:
        raise DatasetError(f"no such scenario(s): {sorted(missing)}")
    return [
        s
        for s in pool
        if (not wanted_ids or s.id in wanted_ids) and (not wanted_tags or wanted_tags & set(s.tags))
    ]


def check_faults(scenarios: Iterable[Scenario], faults: Mapping[str, RootCause]) -> None:
    """DatasetError unless every inject step names a fault type of `faults` and expects its category,
    and every expected category is one the product has."""
    for scenario in scenarios:
        try:
            Scenario.model_validate(scenario.model_dump(mode="json"), context={FAULTS_CONTEXT: faults})
        except ValidationError as exc:
            raise DatasetError(f"scenario {scenario.id} ({scenario.split}): {_problems(exc)}") from None
