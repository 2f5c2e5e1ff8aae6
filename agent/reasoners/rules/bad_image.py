"""bad_image: image pulls failing (ImagePullBackOff, ErrImagePull, "Failed to pull image …: not found").

Signature: pull failures (a container waiting on ImagePullBackOff/ErrImagePull, or pull-failure
events) AND a container waiting on its image now. Pull-failure events while every container runs
are past trouble (partial).

The fix reverts the commit still in effect that changed the image, else rolls back to the revision
the workload last worked on, restating its image.
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules import fields, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite

_IMAGE_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
_PULL_EVENT = re.compile(
    r"Failed to pull image|Back-off pulling image|ErrImagePull|ImagePullBackOff|InvalidImageName"
    r"|manifest unknown|pull access denied",
    re.IGNORECASE,
)
_PULL_NOT_FOUND = re.compile(r"not found|manifest unknown|does not exist|invalid reference format", re.I)
_IMAGE_LINE = re.compile(r"^\s*(?:-\s*)?image:\s*\S")


def bad_image(ctx: RuleContext) -> Finding | None:
    """Image pulls failing: ImagePullBackOff/ErrImagePull, 'Failed to pull image …: not found'."""
    view = ctx.view
    waiting = [c for c in view.containers if c.reasons & _IMAGE_REASONS]
    events = view.events_matching(_PULL_EVENT, ("Failed", "BackOff", "InspectFailed", "ErrImagePull"))
    if not waiting and not events:
        return None
    missing = () if waiting else ("a container waiting on its image now",)
    specific = any(_PULL_NOT_FOUND.search(e.message) for e in events) or any(
        _PULL_NOT_FOUND.search(c.messages) for c in waiting
    )
    confidence = (0.8 if waiting else 0.7) + (0.1 if specific else 0.0)
    container = next((c.name for c in waiting if c.name), None) or ctx.only_container()
    remediation, fix_ids = remedies.revert_or_rollback(ctx, _IMAGE_LINE, "image", container, ("image",))
    image = (view.container_spec(container) or {}).get("image") if container else None
    return Finding(
        rule="bad_image",
        category=RootCause.BAD_IMAGE,
        confidence=confidence,
        explanation=f"The image {image or 'of the workload'} cannot be pulled"
        + (" (the tag or repository does not exist)." if specific else "."),
        faulty_resource=ctx.workload,
        faulty_field=fields.image(container) if container else None,
        remediation=remediation,
        cited=cite(waiting, events, fix_ids),
        missing=missing,
    )
