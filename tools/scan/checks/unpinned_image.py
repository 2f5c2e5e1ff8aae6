"""Images by `latest` or no tag at all: what runs changes under you, and a rollback cannot go back."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, container_finding
from tools.scan.objects import Obj, all_containers, dicts, namespace_of
from tools.scan.objects import dig as _dig
from tools.scan.snapshot import Snapshot

ID = "unpinned-image"
TITLE = "Image tag is latest or missing"


def unpinned(image: str) -> bool:
    """Whether an image reference floats: no digest and a `latest` or missing tag."""
    if "@sha256:" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def _running_digest(snapshot: Snapshot, workload: Obj, container: str) -> str | None:
    """The digest a running pod of the workload resolved the image to, if any (to pin it)."""
    selector = _dig(workload, "spec", "selector")
    for pod in snapshot.pods_matching(namespace_of(workload), selector):
        for status in dicts(_dig(pod, "status", "containerStatuses")):
            image_id = str(status.get("imageID") or "")
            if status.get("name") == container and "@sha256:" in image_id:
                return image_id.split("://", 1)[-1]
    return None


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per container whose image floats; the patch pins the digest running now when known."""
    for workload in snapshot.workloads:
        for container in all_containers(workload):
            image = str(container.get("image") or "")
            if not image or not unpinned(image):
                continue
            name = str(container.get("name") or "")
            digest = _running_digest(snapshot, workload, name)
            base = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            pinned = digest or f"{base}:<version>"
            yield container_finding(
                ID,
                Severity.MEDIUM,
                workload,
                name,
                f"container {name} runs {image}: the tag floats, so a restart may run other code "
                "and a rollback cannot return to what ran",
                {"image": pinned},
            )
