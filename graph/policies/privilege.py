"""No privilege escalation: the patch fields that would widen what a workload may do.

These checks hold whatever the field allow-list says, so widening the allow-list (say, to
let patches add volumes) can never let a patch run a container as root, on the host's
network, under another service account, or reading a secret the workload did not read before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph.policies.patch import walk

# Any key below, anywhere in a patch, with any value (null deletes a hardening setting).
_SENSITIVE: dict[str, str] = {
    "securityContext": "changes a securityContext",
    "privileged": "requests a privileged container",
    "allowPrivilegeEscalation": "allows privilege escalation",
    "capabilities": "changes Linux capabilities",
    "runAsUser": "changes the user a container runs as",
    "runAsGroup": "changes the group a container runs as",
    "runAsNonRoot": "changes runAsNonRoot",
    "procMount": "changes procMount",
    "seLinuxOptions": "changes SELinux options",
    "seccompProfile": "changes the seccomp profile",
    "appArmorProfile": "changes the AppArmor profile",
    "hostNetwork": "uses the host network",
    "hostPID": "uses the host PID namespace",
    "hostIPC": "uses the host IPC namespace",
    "hostUsers": "changes user-namespace isolation",
    "hostPath": "mounts a hostPath volume",
    "hostPort": "binds a host port",
    "serviceAccountName": "changes the service account",
    "serviceAccount": "changes the service account",
    "automountServiceAccountToken": "changes service-account token mounting",
    "projected": "mounts a projected volume (can carry service-account tokens)",
}
_TRUE_IS_WORSE = frozenset({"privileged", "allowPrivilegeEscalation", "hostNetwork", "hostPID", "hostIPC"})


def _secret_names(tree: Any) -> dict[str, list[str]]:
    """Secret names referenced by env secretKeyRef, envFrom secretRef and secret volumes, by path."""
    found: dict[str, list[str]] = {}
    for parent, key, value in walk(tree):
        if key in ("secretKeyRef", "secretRef") and isinstance(value, Mapping):
            found.setdefault(str(value.get("name")), []).append(f"{parent}.{key}")
        elif key == "secret" and isinstance(value, Mapping):
            found.setdefault(str(value.get("secretName")), []).append(f"{parent}.{key}")
    return found


def privilege_problems(patch: Mapping[str, Any], manifest: Mapping[str, Any] | None) -> list[str]:
    """Every way the patch would escalate privileges, as human-readable reasons."""
    problems: list[str] = []
    for parent, key, value in walk(patch):
        path = f"{parent}.{key}" if parent else key
        if key in _SENSITIVE:
            problem = _SENSITIVE[key]
            if key in ("runAsUser", "runAsGroup") and value == 0:
                problem = "runs a container as root (uid/gid 0)"
            elif value is True and key in _TRUE_IS_WORSE:
                problem += " (set to true)"
            problems.append(f"{problem}: {path}")
    known = set(_secret_names(manifest)) if manifest is not None else set()
    for name, paths in sorted(_secret_names(patch).items()):
        if name not in known:
            where = "" if manifest is not None else " (current manifest unknown)"
            problems.append(f"reads secret {name!r} the workload did not already use{where}: {paths[0]}")
    return list(dict.fromkeys(problems))
