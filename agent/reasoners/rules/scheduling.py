"""What the scheduler says when a pod cannot be placed: read by `unschedulable` (the workload asks
for too much) and `node_pressure` (the nodes are tainted for pressure)."""

from __future__ import annotations

import re

FAILED_SCHEDULING = re.compile(r"\d+/\d+ nodes are available|didn't match|had untolerated taint|Insufficient")
INSUFFICIENT = re.compile(r"Insufficient (memory|cpu|ephemeral-storage|nvidia\.com/gpu)")
PRESSURE_TAINT = re.compile(r"node\.kubernetes\.io/(memory|disk|pid)-pressure")
# The scheduler waiting on the pod's volumes: a claim missing, unbound (no class or provisioner binds it)
# or bound where no node can reach it. The fix is in storage, not in the pod's placement or sizing.
STORAGE = re.compile(
    r"unbound immediate PersistentVolumeClaims"
    r"|persistentvolumeclaim \"[^\"]+\" (?:not found|is being deleted)"
    r"|volume node affinity conflict|didn't find available persistent volumes to bind",
    re.IGNORECASE,
)
