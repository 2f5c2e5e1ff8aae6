"""Per-incident LLM figures and the hybrid's arbitration tally (pure, no sandbox)."""

from __future__ import annotations

from agent.domain import RootCause, Usage
from evals.aggregate import aggregate
from evals.llm_scores import ArbitrationTally, llm_figures
from evals.outcome import Arbitration, DetectedIncident, FaultRecord, Investigation
from evals.scorers import ScenarioScore, normalise_resource

WEB_API = "Deployment shop/web-api"
OOM = FaultRecord(fault_type="oom", target="shop/deploy/web-api", category=RootCause.OOM,
                  faulty_resource=WEB_API, symptom_workload=WEB_API)  # fmt: skip


def investigation(workload: str, usage: Usage, *arbitrations: Arbitration) -> Investigation:
    return Investigation(
        incident=DetectedIncident(workload=workload), usage=usage, arbitrations=list(arbitrations)
    )


def test_only_incidents_a_model_was_asked_about_count_and_each_side_is_judged_against_the_truth() -> None:
    asked = investigation(
        "Deployment shop/web-api",
        Usage(model_calls=3, input_tokens=9000, tool_calls=2, max_prompt_tokens=4100),
        Arbitration(chosen="rules", rules=RootCause.OOM, llm=RootCause.DEPENDENCY_DOWN),
        Arbitration(chosen="llm", rules=RootCause.UNKNOWN, llm=RootCause.OOM),
    )
    rules_only = investigation("Deployment shop/worker", Usage())
    figures = llm_figures([asked, rules_only], [OOM], normalise_resource)
    assert figures.prompt_tokens == [4100] and figures.tool_calls == [2]
    first, second = figures.arbitrations
    assert (first.rules_right, first.llm_right, first.chosen_right) == (True, False, True)
    assert (second.rules_right, second.llm_right, second.chosen_right) == (False, True, True)

    control = llm_figures(
        [investigation("Deployment shop/web-api", Usage(model_calls=1, max_prompt_tokens=900),
                       Arbitration(chosen="llm", rules=RootCause.UNKNOWN, llm=RootCause.OOM))],
        [], normalise_resource,
    )  # fmt: skip
    (wrong,) = control.arbitrations
    assert wrong.rules_right and not wrong.chosen_right, "nothing was wrong: unknown was right"


def test_the_aggregate_gives_medians_per_incident_and_the_tally() -> None:
    def scored(name: str, prompts: list[int], calls: list[int]) -> ScenarioScore:
        figures = llm_figures(
            [investigation(f"Deployment shop/{name}-{i}", Usage(model_calls=1, max_prompt_tokens=p,
                                                                tool_calls=c))
             for i, (p, c) in enumerate(zip(prompts, calls, strict=True))], [], normalise_resource,
        )  # fmt: skip
        return ScenarioScore(scenario_id=name, split="dev", categories=["oom"], tags=[], expected_detect=True,
                             llm=figures)  # fmt: skip

    overall = aggregate([scored("a", [3000, 5000], [1, 3]), scored("b", [7000], [6])])
    assert overall.prompt_tokens_per_incident.p50 == 5000 and overall.prompt_tokens_per_incident.n == 3
    assert overall.tool_calls_per_incident.p50 == 3 and overall.tool_calls_per_incident.max == 6
    assert overall.arbitration == ArbitrationTally()


def test_the_eval_agent_reads_the_hybrid_choice_from_the_trace() -> None:
    from agent import trace as run_trace
    from agent.reasoners.base import TraceKind, TraceRecord
    from paramedic.eval_agent import _arbitration

    detail = {"chosen": "llm", "rules": "unknown", "llm": "oom", "cited_fetched": ["tool:1"]}
    chose = TraceRecord(kind=TraceKind.FALLBACK, reasoner="hybrid", summary="llm: backed", detail=detail)
    parsed = _arbitration(run_trace.from_reasoner_record("r", "analyst", chose))
    assert parsed is not None and (parsed.chosen, parsed.rules, parsed.llm) == (
        "llm",
        RootCause.UNKNOWN,
        RootCause.OOM,
    )
    confident = TraceRecord(
        kind=TraceKind.FALLBACK, reasoner="hybrid", summary="rules clear", detail={"chosen": "rules"}
    )
    assert _arbitration(run_trace.from_reasoner_record("r", "analyst", confident)) is None, (
        "the model was not asked"
    )
