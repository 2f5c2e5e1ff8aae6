"""A container's status recognised in bare STATUS text (kubelet wording), for items without data.

`status: waiting CrashLoopBackOff, last terminated OOMKilled exit code 137, restarts 4` reads as a
container waiting in CrashLoopBackOff, last terminated OOMKilled with exit code 137, restarted 4 times.
"""

from __future__ import annotations

import re

from agent.domain import EvidenceItem
from agent.reasoners.rules.observations import ContainerObs

_WAITING_REASONS = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerCreating",
)
_TERMINATED_REASONS = ("OOMKilled", "StartError", "ContainerCannotRun", "Error", "Completed")
_EXIT_CODE = re.compile(r"exit(?:ed)?[ _]?(?:code|status)[\s:=]*(\d{1,3})", re.IGNORECASE)
_RESTARTS = re.compile(r"restart(?:s|Count|_count)?[\s:=]+(\d+)", re.IGNORECASE)


def _first_reason(text: str, reasons: tuple[str, ...]) -> str:
    return next((r for r in reasons if r in text), "")


def container_from_text(item: EvidenceItem) -> ContainerObs:
    """The (unnamed) container a STATUS item's text describes."""
    text = item.text
    exit_code = _EXIT_CODE.search(text)
    restarts = _RESTARTS.search(text)
    return ContainerObs(
        item_id=item.id,
        pod=item.source,
        name="",
        waiting_reason=_first_reason(text, _WAITING_REASONS),
        waiting_message=text,
        last_terminated_reason=_first_reason(text, _TERMINATED_REASONS),
        exit_code=int(exit_code.group(1)) if exit_code else None,
        restart_count=int(restarts.group(1)) if restarts else 0,
    )
