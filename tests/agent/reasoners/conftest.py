"""A scripted investigation toolset for the reasoner tests: the real exit point (validation, scope,
redaction, caps) over canned reads, recording what the model made it read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from tools.investigation import InvestigationTools, NamespaceScope, ToolSpec
from tools.investigation.catalogue import Backends, Limits
from tools.investigation.kube_activity import LogsArgs
from tools.investigation.kube_objects import DescribeArgs
from tools.kubernetes import KubeClient

CRASH_LOG = "fatal: out of memory allocating 64MiB (password=hunter2-Zq8xV3pL9wK)"


Calls = list[tuple[str, dict[str, Any]]]


def scripted_tools(calls: Calls, limits: Limits | None = None) -> InvestigationTools:
    """`k8s_pod_logs` and `k8s_describe` answering canned data for namespace `shop` only."""

    def logs(env: Backends, args: LogsArgs) -> Any:
        calls.append(("k8s_pod_logs", args.model_dump()))
        return {"pod": args.pod, "logs": [{"container": "app", "previous": args.previous, "text": CRASH_LOG}]}

    def describe(env: Backends, args: DescribeArgs) -> Any:
        calls.append(("k8s_describe", args.model_dump()))
        return {"kind": args.kind, "name": args.name, "pods": [{"name": "web-api-1", "restart_count": 7}]}

    no_cluster = cast(KubeClient, object())  # the canned reads never touch it; it marks the backend present
    backends = Backends(no_cluster, None, None, NamespaceScope.of(["shop"]), lambda: datetime.now(UTC),
                        limits or Limits())  # fmt: skip
    specs = [ToolSpec("k8s_pod_logs", "kubernetes", LogsArgs, logs),
             ToolSpec("k8s_describe", "kubernetes", DescribeArgs, describe)]  # fmt: skip
    return InvestigationTools(backends, specs)
