"""The chat agent's read-only tools over the run store and the cluster: schemas and answers.

Each tool validates its arguments, reads a bounded amount and returns plain JSON plus the
records it returned (so the answer can cite them). No tool can write: the agent is given these
and nothing else. The cluster tools (a workload's status, its recent events) read through
`tools.kubernetes`, and only when the service has a cluster (`ToolEnv.kube`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.chat import facts
from server.chat.models import Citation
from server.runstore import RunStatus, RunStore
from tools.kubernetes import KubeClient, workload_events, workload_status

PAYLOAD_LIMIT = 2_000  # characters of one trace event's payload shown to the model


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListRuns(_Args):
    """Healing runs, newest first, optionally narrowed to a namespace, a workload name or a status."""

    namespace: str | None = Field(default=None, max_length=253)
    workload: str | None = Field(default=None, max_length=253, description="The workload's name.")
    status: RunStatus | None = None
    limit: int = Field(default=20, ge=1, le=50)


class GetRun(_Args):
    """One run: target, status, diagnosis, decision, actions, verification, error."""

    run_id: str = Field(min_length=1, max_length=200)


class GetTrace(_Args):
    """A run's reasoning trace in order: event id, seq, time, type, node, summary and payload."""

    run_id: str = Field(min_length=1, max_length=200)
    after_seq: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=100)


class AuditLog(_Args):
    """The audit log of changes Paramedic made, newest last, optionally for one run or recent hours."""

    run_id: str | None = Field(default=None, max_length=200)
    since_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    limit: int = Field(default=50, ge=1, le=100)


class WorkloadStatusArgs(_Args):
    """A workload's live status from the cluster: replicas, conditions, each pod and container."""

    namespace: str = Field(min_length=1, max_length=253)
    name: str = Field(min_length=1, max_length=253)
    kind: Literal["Deployment", "StatefulSet", "DaemonSet"] = "Deployment"


class WorkloadEventsArgs(WorkloadStatusArgs):
    """Recent Kubernetes events of a workload, its ReplicaSets and pods, newest first."""

    limit: int = Field(default=20, ge=1, le=50)


@dataclass(frozen=True)
class ToolEnv:
    """What the tools read: the run store, and the cluster when the service has one."""

    store: RunStore
    kube: KubeClient | None = None


@dataclass
class ChatToolOutput:
    """What a chat tool gave back: JSON for the model, and the records it contained (to cite).

    Not a `tools.result.ToolResult`: there is no status here, a failure is JSON the model reads.
    """

    data: Any
    cites: list[Citation] = field(default_factory=list)

    def text(self) -> str:
        return json.dumps(self.data, sort_keys=True, default=str)


@dataclass(frozen=True)
class Tool:
    """A tool's name, argument schema and implementation."""

    name: str
    args: type[_Args]
    run: Callable[[ToolEnv, Any], ChatToolOutput]

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style function spec `bind_tools` accepts."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": (self.args.__doc__ or "").strip(),
                "parameters": self.args.model_json_schema(),
            },
        }


def _run_summary(run: Any) -> dict[str, Any]:
    diagnosis = run.diagnosis if isinstance(run.diagnosis, dict) else {}
    return {
        "id": run.id, "target": str(run.target), "status": run.status.value,
        "created_at": run.created_at.isoformat(), "incident_id": run.incident_id,
        "category": diagnosis.get("category"), "confidence": diagnosis.get("confidence"),
    }  # fmt: skip


def _list_runs(store: RunStore, args: ListRuns) -> ChatToolOutput:
    page = store.list_runs(
        namespace=args.namespace, workload=args.workload, status=args.status, limit=args.limit
    )
    runs = [_run_summary(r) for r in page.items]
    return ChatToolOutput(runs, [Citation(kind="run", id=r["id"], label=r["target"]) for r in runs])


def _get_run(store: RunStore, args: GetRun) -> ChatToolOutput:
    run = facts.get_run(store, args.run_id)
    if run is None:
        return ChatToolOutput({"error": f"no run with id {args.run_id!r}"})
    cites = [Citation(kind="run", id=run.id, label=str(run.target))]
    if run.incident_id:
        cites.append(Citation(kind="incident", id=run.incident_id))
    return ChatToolOutput(run.model_dump(mode="json"), cites)


def _get_trace(store: RunStore, args: GetTrace) -> ChatToolOutput:
    if facts.get_run(store, args.run_id) is None:
        return ChatToolOutput({"error": f"no run with id {args.run_id!r}"})
    events = store.events(args.run_id, after_seq=args.after_seq, limit=args.limit)
    shown = []
    for event in events:
        payload = json.dumps(event.payload, sort_keys=True, default=str)
        shown.append(
            {
                "id": event.id, "seq": event.seq, "ts": event.ts.isoformat(), "type": event.type.value,
                "node": event.node, "summary": event.summary,
                "payload": payload if len(payload) <= PAYLOAD_LIMIT else payload[:PAYLOAD_LIMIT] + " [...]",
            }
        )  # fmt: skip
    cites = [
        Citation(kind="event", id=str(e.id), run_id=args.run_id, label=f"seq {e.seq} {e.type.value}")
        for e in events
        if e.id is not None
    ]
    return ChatToolOutput(shown, cites)


def _audit_log(store: RunStore, args: AuditLog) -> ChatToolOutput:
    entries = facts.audit_entries(store, run_id=args.run_id)
    if args.since_hours is not None:
        since = datetime.now(UTC) - timedelta(hours=args.since_hours)
        entries = [e for e in entries if e.ts >= since]
    entries = entries[-args.limit :]
    data = [e.model_dump(mode="json") for e in entries]
    cites = [Citation(kind="audit", id=str(e.id), run_id=e.run_id, label=e.what[:200]) for e in entries]
    # An answer about changes usually names the runs that made them rather than the entry ids.
    cites += [Citation(kind="run", id=run_id) for run_id in dict.fromkeys(e.run_id for e in entries)]
    return ChatToolOutput(data, cites)


_NO_CLUSTER = {"error": "this Paramedic has no cluster connection to read from"}


def _workload_status(env: ToolEnv, args: WorkloadStatusArgs) -> ChatToolOutput:
    if env.kube is None:
        return ChatToolOutput(_NO_CLUSTER)
    result = workload_status(env.kube, args.namespace, args.kind, args.name)
    if not result.ok or result.data is None:
        return ChatToolOutput({"error": f"{args.kind} {args.namespace}/{args.name}: {result.error}"})
    return ChatToolOutput(result.data.model_dump(mode="json"))


def _workload_events(env: ToolEnv, args: WorkloadEventsArgs) -> ChatToolOutput:
    if env.kube is None:
        return ChatToolOutput(_NO_CLUSTER)
    result = workload_events(env.kube, args.namespace, args.kind, args.name, limit=args.limit)
    if not result.ok or result.data is None:
        return ChatToolOutput({"error": f"{args.kind} {args.namespace}/{args.name}: {result.error}"})
    return ChatToolOutput([e.model_dump(mode="json") for e in result.data])


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("list_runs", ListRuns, lambda env, a: _list_runs(env.store, a)),
        Tool("get_run", GetRun, lambda env, a: _get_run(env.store, a)),
        Tool("get_trace", GetTrace, lambda env, a: _get_trace(env.store, a)),
        Tool("audit_log", AuditLog, lambda env, a: _audit_log(env.store, a)),
        Tool("workload_status", WorkloadStatusArgs, _workload_status),
        Tool("workload_events", WorkloadEventsArgs, _workload_events),
    )
}


def run_chat_tool(
    store: RunStore, name: str, arguments: Any, *, kube: KubeClient | None = None
) -> ChatToolOutput:
    """Run tool `name`; an unknown tool or bad arguments come back as an error for the model."""
    tool = TOOLS.get(name)
    if tool is None:
        return ChatToolOutput({"error": f"unknown tool {name!r}; the tools are {sorted(TOOLS)}"})
    try:
        args = tool.args.model_validate(arguments if isinstance(arguments, dict) else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(arguments)'}: {e['msg']}" for e in exc.errors()
        )
        return ChatToolOutput({"error": f"invalid arguments for {name}: {problems}"})
    return tool.run(ToolEnv(store, kube), args)
