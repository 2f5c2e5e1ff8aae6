"""`paramedic run`: one investigation of one workload on the cluster the kubeconfig points at.

The run goes through the same run service, store and graph as `paramedic serve` (so it is listed,
traced and audited like any other run), in the configured mode: report by default, so nothing
changes unless the settings say `approve` or `autonomous`. The trace is printed as it happens.

Exit codes: 0 healed, recovered or reported; 1 escalated, rejected or failed; 2 bad input (an
unparsable or unknown workload, an unreachable cluster); 4 waiting for an approval (answer it
through the API of `paramedic serve`, which resumes it from its checkpoint) or for a human to merge
its pull request (`paramedic pr merge`; `paramedic serve` follows the pull request and resumes it).
"""

from __future__ import annotations

from rich.console import Console

from agent.cluster import kube_client
from agent.config import Settings
from agent.domain import Incident, Trigger, WorkloadRef
from agent.trace import TraceEvent
from paramedic.cli.demo_view import render_event
from server.healing import HealingStack
from server.runstore import open_run_store
from server.runstore.models import RunStatus
from tools.kubernetes import KubeClient, workload_status

REASON = "manual investigation"
_EXIT = {
    RunStatus.HEALED: 0,
    RunStatus.REPORTED: 0,
    RunStatus.ESCALATED: 1,
    RunStatus.REJECTED: 1,
    RunStatus.FAILED: 1,
    RunStatus.WAITING_APPROVAL: 4,
    RunStatus.WAITING_MERGE: 4,
    RunStatus.RECOVERED: 0,
}


def run_command(settings: Settings, *, namespace: str, workload: str) -> int:
    """Investigate `workload` (`deploy/NAME`) in `namespace`; the exit code (see the module docstring)."""
    console = Console(highlight=False, stderr=False)
    try:
        target = WorkloadRef.parse(workload, default_namespace=namespace)
    except ValueError as exc:
        console.print(f"paramedic run: {exc}", style="red", markup=False)
        return 2
    try:
        kube = kube_client(settings.cluster)
    except Exception as exc:  # no kubeconfig, bad context: the kubernetes client raises many kinds
        console.print(f"paramedic run: cannot reach the cluster: {exc}", style="red", markup=False)
        return 2
    try:
        found = workload_status(kube, target.namespace, target.kind, target.name)
        if not found.ok:
            console.print(f"paramedic run: {target}: {found.error}", style="red", markup=False)
            return 2
        return _investigate(console, settings, kube, target)
    finally:
        kube.close()


def _investigate(console: Console, settings: Settings, kube: KubeClient, target: WorkloadRef) -> int:
    store = open_run_store(settings.resolved_storage_url())
    incident = Incident.new(target, Trigger.MANUAL, REASON, summary=f"paramedic run on {target}")

    def show(event: TraceEvent) -> None:
        render_event(console, event)

    stack = HealingStack(settings, store, kube=kube, watch=False, on_event=show, workers=1)
    # Recovering other runs is `paramedic serve`'s job; this process looks at one workload only.
    stack.start(recover=False)
    try:
        console.print(f"investigating {target} in {settings.mode.value} mode", markup=False)
        run_id, created = stack.runs.submit(incident)
        if not created:
            console.print(f"a run for {target} is already active: {run_id}", markup=False)
        stack.runs.wait_idle()
        record = store.get_run(run_id)
    finally:
        stack.stop()
        store.close()
    console.print(f"run {record.id}: {record.status.value}", style="bold", markup=False)
    if record.error:
        console.print(record.error, style="red", markup=False)
    return _EXIT.get(record.status, 1)
