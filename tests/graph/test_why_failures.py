"""The failures issue 17 names, through the whole healing graph (analyst, auditor, decision and on):
each run ends with the right fix proposed and acted on, or with an escalation, never a confident
wrong answer and never a change that changes nothing."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agent.config import Mode
from agent.domain import (
    Diagnosis,
    Evidence,
    Incident,
    RevertCommit,
    RootCause,
    Trigger,
    WorkloadRef,
)
from agent.reasoners.base import Reasoner, ReasonerResult
from agent.reasoners.rules import RulesReasoner
from graph.builder import compile_graph
from graph.context import DecisionConfig
from graph.runner import HealingApp, start_run
from graph.state import HealingState, RunOutcome
from tests.agent import evidence_samples as s
from tests.graph.contexts import healing_context
from tests.incidents import make_incident
from tools.gitops.records import PullRequest
from tools.result import ToolResult, ToolStatus


class NoOpenPullRequests:
    """A GitOps repository as the auditor reads it: no pull request open for the incident yet."""

    def find_open_pull_request(self, fingerprint: str) -> ToolResult[PullRequest | None]:
        return ToolResult("git.find_open_pull_request", ToolStatus.OK, data=None)


def _run(
    evidence: Evidence,
    reason: str = "CrashLoopBackOff",
    trigger: Trigger = Trigger.WATCHER,
    reasoner: Reasoner | None = None,
) -> HealingState:
    """One run in approve mode with `evidence` gathered: it stops to ask a human before any change (so
    the test needs no cluster), or ends when there is nothing to change."""

    def gather(target: WorkloadRef, sink: Any) -> Evidence:
        return evidence

    context = healing_context(
        gather=gather,
        decision=DecisionConfig(mode=Mode.APPROVE),
        repo=NoOpenPullRequests(),
        reasoner=reasoner or RulesReasoner(),
    )
    app = HealingApp(compile_graph(InMemorySaver()), context)
    incident = make_incident(s.TARGET, reason, id="inc-17", trigger=trigger)
    result = start_run(app, "run-17", incident)
    assert result.stop in ("completed", "interrupted"), result.stop
    return result.state


def _diagnosis(state: HealingState) -> dict[str, Any]:
    return state["diagnoses"][-1]["diagnosis"]


def _container_patch(diagnosis: dict[str, Any]) -> dict[str, Any]:
    return diagnosis["remediation"]["patch"]["spec"]["template"]["spec"]["containers"][0]


def test_a_missing_secret_is_called_so_and_the_reference_restored() -> None:
    state = _run(s.missing_secret(), reason="CreateContainerConfigError")
    d = _diagnosis(state)
    assert d["category"] == "missing_secret"
    assert d["faulty_field"] == "spec.template.spec.containers[app].env[DB_PASSWORD]"
    assert d["remediation"]["action"] == "gitops_pr"
    assert _container_patch(d)["env"][0]["value"] == "from-vault-sidecar"
    assert state["decision"]["route"] == "ask", state["decision"]["rationale"]


def test_a_memory_limit_cut_over_two_commits_is_restored_in_one_change() -> None:
    state = _run(s.memory_cut_over_two_commits(), reason="OOMKilled")
    d = _diagnosis(state)
    assert d["category"] == "oom"
    assert d["faulty_field"] == "spec.template.spec.containers[app].resources.limits.memory"
    assert d["remediation"]["action"] == "gitops_pr", "not a revert of the newest cut alone"
    assert _container_patch(d)["resources"]["limits"]["memory"] == "512Mi"
    assert state["decision"]["route"] == "ask", state["decision"]["rationale"]


def test_a_broken_readiness_probe_is_restored_from_the_revision_that_serves() -> None:
    state = _run(s.readiness_probe_with_history(), reason="NotReady")
    d = _diagnosis(state)
    assert d["category"] == "readiness_probe"
    assert d["faulty_field"] == "spec.template.spec.containers[app].readinessProbe.httpGet.path"
    assert _container_patch(d)["readinessProbe"] == {"httpGet": {"path": "/ready"}}
    assert "rollout:3" in d["cited_evidence"]


def test_an_unsatisfiable_node_selector_is_escalated_with_the_nodes_labels() -> None:
    state = _run(s.unsatisfiable_selector({"accelerator": "nvidia-a100"}), reason="FailedScheduling")
    d = _diagnosis(state)
    assert d["category"] == "unschedulable"
    assert d["faulty_field"] == "spec.template.spec.nodeSelector.accelerator"
    assert d["remediation"]["action"] == "notify"
    told = [a for a in state["actions"] if a["action"] == "notify" and a["result"]["status"] != "error"]
    assert told, "the run ends telling a human: never neither an action nor an escalation"


def test_a_near_miss_node_selector_repair_is_proposed_and_put_before_a_human() -> None:
    state = _run(s.unsatisfiable_selector({"disktype": "SSD"}), reason="FailedScheduling")
    d = _diagnosis(state)
    assert d["remediation"]["patch"] == {
        "spec": {"template": {"spec": {"nodeSelector": {"disktype": "ssd"}}}}
    }
    # nodeSelector is outside the default field allow-list (moving pods between node pools is an
    # operator's call), so the repair is escalated with the patch rather than made.
    decision = state["decision"]
    assert decision["route"] == "escalate" and "nodeSelector" in decision["rationale"]
    assert state["outcome"] == RunOutcome.ESCALATED.value


def test_an_alert_about_a_healthy_workload_is_escalated_as_unknown() -> None:
    state = _run(s.healthy_after_a_blip(), reason="KubePodNotReady", trigger=Trigger.ALERT)
    d = _diagnosis(state)
    assert d["category"] == "unknown" and d["confidence"] < 0.5
    assert d["remediation"]["action"] in ("none", "notify")
    assert not [a for a in state["actions"] if a.get("phase") == "remediation"], "nothing was changed"
    assert state["outcome"] in (RunOutcome.ESCALATED.value, RunOutcome.REPORTED.value)
    assert state["decision"]["route"] == "escalate"


class RevertsTheRevert:
    """A reasoner (an LLM, say) that blames the newest commit touching the limit: the revert of the cut."""

    name = "scripted"

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        diagnosis = Diagnosis(
            category=RootCause.OOM,
            explanation="the newest commit changed the memory limit",
            faulty_resource="Deployment shop/web-api",
            faulty_field="spec.template.spec.containers[app].resources.limits.memory",
            confidence=0.9,
            remediation=RevertCommit(commit="3" * 40, rationale="it changed the memory limit"),
        )
        return ReasonerResult(diagnosis=diagnosis, reasoner=self.name)


def test_reverting_a_revert_is_a_no_op_escalated_never_executed() -> None:
    revert = s.commit(
        "3" * 40,
        f'Revert "cut memory"\n\nThis reverts commit {"1" * 40}.',
        "-            memory: 128Mi\n+            memory: 256Mi\n",
        ["apps/web-api/deployment.yaml"],
    )
    evidence = s.oom_killed(revert, s.memory_cut("1" * 40, "256Mi", "128Mi", "cut memory"), limit="256Mi")
    state = _run(evidence, reason="OOMKilled", reasoner=RevertsTheRevert())
    decision = state["decision"]
    assert decision["route"] == "escalate" and "itself a revert" in decision["inputs"]["no_op"]
    assert not [a for a in state["actions"] if a.get("phase") == "remediation"], "a no-op is never executed"
    assert state["outcome"] == RunOutcome.ESCALATED.value
