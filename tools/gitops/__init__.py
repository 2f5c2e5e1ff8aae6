"""GitOps: read a manifest repository, patch manifests faithfully, and propose fixes as pull requests.

`GitOpsRepo` is the interface; `LocalGitRepo` (a repository on disk, the default) and
`GitHubRepo` (PyGithub, GitHub.com or Enterprise) implement it.
"""
