"""The scenario dataset: one YAML file per scenario under `evals/scenarios/<split>/`, validated.

A scenario says which sample apps run, what happens to them (`steps`: faults injected, unrelated
commits, log lines, waits, in order) and what a good agent does about it (`expect`: detection,
the ground truth of every injected fault, acceptable fixes, forbidden actions, escalation).
The split is the directory a file sits in (`dev` or `test`), never a random draw.

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
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent.domain import ActionType, RootCause, WorkloadRef

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
SPLITS: tuple[str, ...] = ("dev", "test")
SAMPLE_APPS: tuple[str, ...] = ("web-api", "worker", "joke-service", "postgres", "redis")
NAMESPACE = "shop"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
_RESOURCE = re.compile(r"^[A-Z][A-Za-z]+ ([a-z0-9-]+/)?[a-z0-9][a-z0-9.-]*$")
# Ground truth may leave the name open where the sandbox decides it (`Node *`: the target's node).
_TRUTH_RESOURCE = re.compile(r"^[A-Z][A-Za-z]+ (\*|([a-z0-9-]+/)?[a-z0-9][a-z0-9.-]*)$")
# Verbs a ground-truth `Forbidden` uses (sandbox/faults/truth.py), plus delete.
FORBIDDEN_VERBS = ("delete", "scale", "patch", "restart", "rollback", "revert_commit")
_FAULTS = "faults"  # the validation-context key of the fault catalogue (fault type -> RootCause)


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _catalogue(info: ValidationInfo) -> Mapping[str, RootCause] | None:
    """The fault catalogue the loader was given, if any."""
    return info.context.get(_FAULTS) if isinstance(info.context, dict) else None


def _workload(text: str) -> WorkloadRef:
    try:
        return WorkloadRef.parse(text)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def _target(text: str) -> str:
    target = _workload(text)
    if target.kind != "Deployment" or target.namespace != NAMESPACE or target.name not in SAMPLE_APPS:
        raise ValueError(f"{text!r} is not a sample app (expected {NAMESPACE}/deploy/<one of {SAMPLE_APPS}>)")
    return f"{target.namespace}/deploy/{target.name}"


class InjectStep(_Strict):
    """Inject a catalogue fault (`via: git` commits it to main, so the commit is the cause)."""

    fault: str
    target: str
    via: Literal["git", "cluster"] = "git"

    @field_validator("fault")
    @classmethod
    def _known_fault(cls, value: str, info: ValidationInfo) -> str:
        faults = _catalogue(info)
        if faults is not None and value not in faults:
            raise ValueError(f"unknown fault type {value!r}; known: {', '.join(sorted(faults))}")
        return value

    @field_validator("target")
    @classmethod
    def _sample_target(cls, value: str) -> str:
        return _target(value)


class ManifestPatch(_Strict):
    """A strategic-merge patch of one manifest in the GitOps repository."""

    resource: str = Field(pattern=_RESOURCE.pattern)
    patch: dict[str, Any] = Field(min_length=1)


class CommitStep(_Strict):
    """An unrelated commit to main (a red herring for change correlation): a manifest patch or files."""

    message: str = Field(min_length=1)
    patches: list[ManifestPatch] | None = Field(default=None, min_length=1)
    files: dict[str, str | None] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_change(self) -> CommitStep:
        if (self.patches is None) == (self.files is None):
            raise ValueError("a commit step needs exactly one of 'patches' or 'files'")
        return self


class LogStep(_Strict):
    """Lines appended to the current log of every pod of a workload (noise, or hostile text)."""

    target: str
    lines: list[str] = Field(min_length=1)
    container: str | None = None

    @field_validator("target")
    @classmethod
    def _sample_target(cls, value: str) -> str:
        return _target(value)


class Step(_Strict):
    """Exactly one of: inject, commit, log, wait (simulated seconds)."""

    inject: InjectStep | None = None
    commit: CommitStep | None = None
    log: LogStep | None = None
    wait: float | None = Field(default=None, gt=0, le=3600)

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        given = [k for k in ("inject", "commit", "log", "wait") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a step is exactly one of inject, commit, log, wait (got {given or 'none'})")
        return self


class ExpectedFault(_Strict):
    """The ground truth of one injected fault, in the order of the inject steps."""

    category: RootCause
    faulty_resource: str = Field(pattern=_TRUTH_RESOURCE.pattern)
    faulty_field: str | None = None

    @field_validator("category")
    @classmethod
    def _a_fault_category(cls, value: RootCause) -> RootCause:
        if value == RootCause.UNKNOWN:
            raise ValueError("'unknown' is the reasoners' answer when unsure, not a fault's category")
        return value


class ForbiddenAction(_Strict):
    """An action that must not happen (on top of what the sandbox's ground truth forbids)."""

    action: Literal["delete", "scale", "patch", "restart", "rollback", "revert_commit"]
    resource: str = Field(pattern=_RESOURCE.pattern)
    field: str | None = None
    reason: str = Field(min_length=1)


class Expect(_Strict):
    """What a good agent does."""

    detect: bool
    faults: list[ExpectedFault] = Field(default_factory=list)
    acceptable_fixes: list[ActionType] = Field(default_factory=list)
    forbidden: list[ForbiddenAction] = Field(default_factory=list)
    affected: list[str] = Field(
        default_factory=list,
        description="Workloads the fault also hurts (dependants): an incident there is neither TP nor FP.",
    )
    escalate: bool | None = Field(default=None, description="None: either is acceptable.")
    explanation: str | None = Field(default=None, description="Reference root-cause text for the judge.")

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.detect and not self.faults:
            raise ValueError("detect: true needs the ground truth of at least one fault in 'faults'")
        if not self.detect and self.faults:
            raise ValueError("detect: false (a control) cannot list faults")
        if self.detect and not self.acceptable_fixes and self.escalate is not True:
            raise ValueError("a fault with no acceptable fix must expect escalation (escalate: true)")
        return self


class Scenario(_Strict):
    """One evaluation scenario."""

    id: str
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    tags: list[Tag] = Field(min_length=1)
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
        injects = self.injects
        if len(injects) != len(self.expect.faults):
            raise ValueError(
                f"{len(injects)} inject step(s) but {len(self.expect.faults)} expected fault(s): "
                "expect.faults lists the ground truth of each inject step, in order"
            )
        faults = _catalogue(info)
        for step, truth in zip(injects, self.expect.faults, strict=True):
            want = faults.get(step.fault) if faults is not None else None
            if want is not None and truth.category != want:
                raise ValueError(f"fault {step.fault} is category {want.value}, not {truth.category.value}")
        for step in self.steps:
            target = (step.inject or step.log).target if (step.inject or step.log) else None
            if target is not None and _workload(target).name not in self.workloads:
                raise ValueError(f"step targets {target}, which is not among the scenario's workloads")
        if (Tag.CONTROL in self.tags) == self.expect.detect:
            raise ValueError("the 'control' tag and 'detect: false' go together")
        return self

    @property
    def injects(self) -> list[InjectStep]:
        """The inject steps, in order."""
        return [s.inject for s in self.steps if s.inject is not None]

    @property
    def categories(self) -> list[str]:
        """Root-cause categories of the injected faults (`control` for none)."""
        return [f.category.value for f in self.expect.faults] or ["control"]


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(scenario)'}: {err['msg']}" for err in exc.errors()
    )


def load_scenario(
    path: Path, split: str | None = None, *, faults: Mapping[str, RootCause] | None = None
) -> Scenario:
    """One scenario file; DatasetError naming the file (and fields) when it is not valid.

    With `faults` (a testbed's catalogue) the inject steps must name its fault types and expect
    their categories; without, the fault types are not checked."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        scenario = Scenario.model_validate(data, context={_FAULTS: faults})
    except ValidationError as exc:
        raise DatasetError(f"{path}: invalid scenario: {_problems(exc)}") from None
    if scenario.id != path.stem:
        raise DatasetError(f"{path}: id {scenario.id!r} must equal the file name {path.stem!r}")
    return scenario


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
        folder = root / split
        if not folder.is_dir():
            raise DatasetError(f"{folder}: no such split directory")
        stray = sorted(p.name for p in folder.iterdir() if p.suffix == ".yml")
        if stray:
            raise DatasetError(f"{folder}: use the .yaml suffix, not .yml: {stray}")
        scenarios.extend(load_scenario(p, split, faults=faults) for p in sorted(folder.glob("*.yaml")))
    seen: dict[str, str] = {}
    for s in scenarios:
        if s.id in seen:
            raise DatasetError(f"scenario id {s.id!r} appears in both {seen[s.id]} and {s.split}")
        seen[s.id] = s.split
    return scenarios


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
    """DatasetError unless every inject step names a fault type of `faults` and expects its category."""
    for scenario in scenarios:
        try:
            Scenario.model_validate(scenario.model_dump(mode="json"), context={_FAULTS: faults})
        except ValidationError as exc:
            raise DatasetError(f"scenario {scenario.id} ({scenario.split}): {_problems(exc)}") from None
