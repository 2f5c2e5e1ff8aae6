"""Evidence packing for the reasoners: log folding and caps, compact renderings of what the tools
answered (already redacted at the boundary, `tools.boundary`)."""

from tools.evidence.log_packing import (
    DEFAULT_MAX_CHARS,
    FoldedLine,
    PackedLog,
    cap_tail,
    fold,
    normalize,
    pack_log,
    sanitize,
)
from tools.evidence.render import (
    WorkloadEvidence,
    pack_pod_logs,
    render_events_text,
    render_logs_text,
    render_status_text,
    render_workload,
)

__all__ = [
    "DEFAULT_MAX_CHARS",
    "FoldedLine",
    "PackedLog",
    "WorkloadEvidence",
    "cap_tail",
    "fold",
    "normalize",
    "pack_log",
    "pack_pod_logs",
    "render_events_text",
    "render_logs_text",
    "render_status_text",
    "render_workload",
    "sanitize",
]
