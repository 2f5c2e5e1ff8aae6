"""GitOps in the sandbox: a local Git repository of manifests and an Argo CD-like sync loop.

`ManifestRepo` is the repository (`main` is what runs); `GitOpsSync` applies it to the store and
reports on an `argoproj.io/v1alpha1` `Application`.
"""

from sandbox.gitops.application import APPLICATIONS, AppSpec
from sandbox.gitops.apply import LAST_APPLIED_ANNOTATION, TRACKING_ANNOTATION
from sandbox.gitops.repo import Commit, GitCommandError, ManifestRepo
from sandbox.gitops.report import ResourceResult, SyncReport
from sandbox.gitops.sync import GitOpsSync

__all__ = [
    "APPLICATIONS",
    "LAST_APPLIED_ANNOTATION",
    "TRACKING_ANNOTATION",
    "AppSpec",
    "Commit",
    "GitCommandError",
    "GitOpsSync",
    "ManifestRepo",
    "ResourceResult",
    "SyncReport",
]
