"""A small GitHub REST server for tests: the endpoints the GitHub provider calls, nothing more.

Git data lives in a real bare repository driven by the git CLI, so shas, trees and diffs are
genuine; pull requests, issues, labels and comments are kept in memory. Every request is
recorded (method, path, query, JSON body, headers) so tests can assert on what PyGithub sent,
and failures can be injected to exercise retries. Served under `/api/v3` like GitHub Enterprise.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.loopback import QuietHandler, serve_on_loopback

PREFIX = "/api/v3"
HTML = "https://github.example.com"


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str  # without the /api/v3 prefix and query
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Injected:
    """A canned failure for the next `count` requests matching method and path pattern."""

    method: str
    pattern: re.Pattern[str]
    status: int
    count: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"message": "Server Error"})


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeGitHub:
    """State and handlers of the fake; `start()` serves it on 127.0.0.1 on a free port."""

    def __init__(
        self, bare_repo: Path, owner_repo: str = "acme/shop-gitops", token: str = "test-token"
    ) -> None:
        self.git_dir = bare_repo
        self.full_name = owner_repo
        self.token = token
        self.requests: list[Recorded] = []
        self.pulls: dict[int, dict[str, Any]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self._failures: list[Injected] = []
        self._next_number = 1
        self._next_id = 1000
        self._lock = threading.Lock()
        self._serving = ExitStack()
        self._url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._url is not None
        return f"{self._url}{PREFIX}"

    @property
    def api(self) -> str:
        return f"{self.base_url}/repos/{self.full_name}"

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

            def do_PUT(self) -> None:
                fake._dispatch(self, "PUT")

            def do_PATCH(self) -> None:
                fake._dispatch(self, "PATCH")

        self._url = self._serving.enter_context(serve_on_loopback(Handler))
        return self

    def stop(self) -> None:
        self._serving.close()

    def fail(self, method: str, pattern: str, status: int, count: int = 1, **kwargs: Any) -> None:
        """Answer the next `count` matching requests with `status` instead of serving them."""
        self._failures.append(Injected(method, re.compile(pattern), status, count, **kwargs))

    def calls(self, method: str | None = None, pattern: str = "") -> list[Recorded]:
        """Recorded requests, filtered by method and a regex on the path."""
        return [
            r for r in self.requests if (method is None or r.method == method) and re.search(pattern, r.path)
        ]

    # -- git -------------------------------------------------------------------------------

    def git(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), *args],
            input=stdin,
            capture_output=True,
            env={
                **os.environ,
                "GIT_AUTHOR_NAME": "GitHub Bot",
                "GIT_AUTHOR_EMAIL": "bot@github.example.com",
                "GIT_COMMITTER_NAME": "GitHub",
                "GIT_COMMITTER_EMAIL": "noreply@github.example.com",
                **(env or {}),
            },
            check=False,
        )
        if proc.returncode != 0:
            raise HttpError(422, proc.stderr.decode().strip())
        return proc.stdout.decode()

    def rev(self, spec: str) -> str | None:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "rev-parse", "--verify", "--quiet", spec],
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() if proc.returncode == 0 else None

    def _commit(self, ref: str) -> str:
        sha = self.rev(f"{ref}^{{commit}}")
        if sha is None:
            raise HttpError(404, "No commit found for SHA: " + ref)
        return sha

    # -- payloads --------------------------------------------------------------------------

    def _user(self, login: str = "paramedic-bot") -> dict[str, Any]:
        return {"login": login, "id": 42, "type": "User", "url": f"{self.base_url}/users/{login}"}

    def _commit_payload(self, sha: str, files: bool) -> dict[str, Any]:
        fmt = "%H%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%T%x00%P%x00%B"
        h, an, ae, ad, cn, ce, cd, tree, parents, message = self.git(
            "show", "-s", f"--format={fmt}", sha
        ).split("\0", 9)

        def iso(value: str) -> str:
            return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        payload: dict[str, Any] = {
            "sha": h,
            "node_id": f"C_{h[:10]}",
            "url": f"{self.api}/commits/{h}",
            "html_url": f"{HTML}/{self.full_name}/commit/{h}",
            "commit": {
                "url": f"{self.api}/git/commits/{h}",
                "author": {"name": an, "email": ae, "date": iso(ad)},
                "committer": {"name": cn, "email": ce, "date": iso(cd)},
                "message": message.rstrip("\n"),
                "tree": {"sha": tree, "url": f"{self.api}/git/trees/{tree}"},
                "comment_count": 0,
            },
            "author": None,
            "committer": None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{self.api}/commits/{p}",
                    "html_url": f"{HTML}/{self.full_name}/commit/{p}",
                }
                for p in parents.split()
            ],
        }
        if files:
            payload["files"] = self._files(h, parents.split()[0] if parents.split() else None)
            payload["stats"] = {
                "additions": sum(f["additions"] for f in payload["files"]),
                "deletions": sum(f["deletions"] for f in payload["files"]),
                "total": sum(f["changes"] for f in payload["files"]),
            }
        return payload

    def _files(self, sha: str, parent: str | None) -> list[dict[str, Any]]:
        trees = [parent, sha] if parent else ["--root", sha]
        raw = self.git("diff-tree", "--no-commit-id", "-r", "-M", "-z", "--raw", *trees)
        fields = [f for f in raw.split("\0") if f]
        files = []
        i = 0
        statuses = {"A": "added", "M": "modified", "D": "removed", "R": "renamed"}
        while i < len(fields):
            meta = fields[i].split()
            code = meta[4][0]
            if code == "R":
                old, new = fields[i + 1], fields[i + 2]
                i += 3
            else:
                old = new = fields[i + 1]
                i += 2
            patch = self.git(
                "diff", "--no-color", *(trees if parent else [self._empty_tree(), sha]), "--", old, new
            )
            hunks = patch[patch.find("@@") :] if "@@" in patch else ""
            added = sum(1 for line in hunks.splitlines() if line.startswith("+"))
            removed = sum(1 for line in hunks.splitlines() if line.startswith("-"))
            entry = {
                "sha": meta[3] if code != "D" else meta[2],
                "filename": new,
                "status": statuses.get(code, "modified"),
                "additions": added,
                "deletions": removed,
                "changes": added + removed,
                "blob_url": f"{HTML}/{self.full_name}/blob/{sha}/{new}",
                "raw_url": f"{HTML}/{self.full_name}/raw/{sha}/{new}",
                "contents_url": f"{self.api}/contents/{new}?ref={sha}",
                "patch": hunks,
            }
            if code == "R":
                entry["previous_filename"] = old
            files.append(entry)
        return files

    def _empty_tree(self) -> str:
        return self.git("hash-object", "-t", "tree", "--stdin", stdin=b"").strip()

    def _ref_payload(self, branch: str) -> dict[str, Any]:
        sha = self.rev(f"refs/heads/{branch}")
        if sha is None:
            raise HttpError(404, "Not Found")
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{branch}",
            "url": f"{self.api}/git/refs/heads/{branch}",
            "object": {"type": "commit", "sha": sha, "url": f"{self.api}/git/commits/{sha}"},
        }

    def _git_commit_payload(self, sha: str) -> dict[str, Any]:
        full = self._commit_payload(sha, files=False)
        return {
            "sha": sha,
            "node_id": full["node_id"],
            "url": f"{self.api}/git/commits/{sha}",
            "html_url": full["html_url"],
            "author": full["commit"]["author"],
            "committer": full["commit"]["committer"],
            "message": full["commit"]["message"],
            "tree": full["commit"]["tree"],
            "parents": [
                {"sha": p["sha"], "url": f"{self.api}/git/commits/{p['sha']}"} for p in full["parents"]
            ],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        }

    def _tree_payload(self, tree: str, recursive: bool) -> dict[str, Any]:
        args = ["ls-tree", "-l", "-z"] + (["-r"] if recursive else []) + [tree]
        entries = []
        for line in self.git(*args).split("\0"):
            if not line:
                continue
            meta, path = line.split("\t", 1)
            mode, kind, sha, size = meta.split()
            entry = {
                "path": path,
                "mode": mode,
                "type": kind,
                "sha": sha,
                "url": f"{self.api}/git/{kind}s/{sha}",
            }
            if kind == "blob":
                entry["size"] = int(size)
            entries.append(entry)
        return {"sha": tree, "url": f"{self.api}/git/trees/{tree}", "tree": entries, "truncated": False}

    def _content_payload(self, path: str, ref: str) -> dict[str, Any] | list[dict[str, Any]]:
        commit = self._commit(ref)
        listing = self.git("ls-tree", "-l", commit, "--", path).strip()
        if not listing:
            raise HttpError(404, "Not Found")
        meta, _ = listing.split("\t", 1)
        _, kind, sha, size = meta.split()
        if kind == "tree":
            children = self._tree_payload(sha, recursive=False)["tree"]
            return [
                self._content_entry(f"{path}/{c['path']}", c["sha"], c.get("size", 0), c["type"])
                for c in children
            ]
        data = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "cat-file", "blob", sha], capture_output=True, check=True
        ).stdout
        entry = self._content_entry(path, sha, int(size), "blob")
        entry |= {"encoding": "base64", "content": base64.encodebytes(data).decode()}
        return entry

    def _content_entry(self, path: str, sha: str, size: int, kind: str) -> dict[str, Any]:
        return {
            "type": "file" if kind == "blob" else "dir",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": size,
            "url": f"{self.api}/contents/{path}",
            "html_url": f"{HTML}/{self.full_name}/blob/main/{path}",
            "git_url": f"{self.api}/git/blobs/{sha}",
            "download_url": None,
        }

    def _labels(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "id": abs(hash(n)) % 10**8,
                "name": n,
                "color": "ededed",
                "default": False,
                "url": f"{self.api}/labels/{n}",
            }
            for n in names
        ]

    def _pull_payload(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        issue = self.issues[number]
        head_sha = self.rev(f"refs/heads/{pull['head']}") or pull.get("head_sha")
        return {
            "id": 5000 + number,
            "node_id": f"PR_{number}",
            "number": number,
            "url": f"{self.api}/pulls/{number}",
            "html_url": f"{HTML}/{self.full_name}/pull/{number}",
            "issue_url": f"{self.api}/issues/{number}",
            "state": pull["state"],
            "locked": False,
            "title": issue["title"],
            "body": issue["body"],
            "user": self._user(),
            "labels": self._labels(issue["labels"]),
            "created_at": pull["created_at"],
            "updated_at": pull["created_at"],
            "merged": pull["merged"],
            "merged_at": pull.get("merged_at"),
            "merge_commit_sha": pull.get("merge_commit_sha"),
            "merged_by": self._user() if pull["merged"] else None,
            "mergeable": True,
            "draft": False,
            "head": {
                "label": f"acme:{pull['head']}",
                "ref": pull["head"],
                "sha": head_sha,
                "user": self._user(),
            },
            "base": {
                "label": f"acme:{pull['base']}",
                "ref": pull["base"],
                "sha": self.rev(f"refs/heads/{pull['base']}"),
            },
        }

    def _issue_payload(self, number: int) -> dict[str, Any]:
        issue = self.issues[number]
        payload = {
            "id": 9000 + number,
            "node_id": f"I_{number}",
            "number": number,
            "url": f"{self.api}/issues/{number}",
            "html_url": f"{HTML}/{self.full_name}/issues/{number}",
            "state": issue["state"],
            "title": issue["title"],
            "body": issue["body"],
            "user": self._user(),
            "labels": self._labels(issue["labels"]),
        }
        if number in self.pulls:
            payload["pull_request"] = {"url": f"{self.api}/pulls/{number}"}
        return payload

    # -- handlers --------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any]]]]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        return [
            ("GET", rf"{repo}/git/refs?/heads/(?P<branch>.+)", self._get_ref),
            ("POST", rf"{repo}/git/refs", self._create_ref),
            ("PATCH", rf"{repo}/git/refs/heads/(?P<branch>.+)", self._update_ref),
            ("GET", rf"{repo}/git/commits/(?P<sha>[0-9a-f]{{40}})", self._get_git_commit),
            ("POST", rf"{repo}/git/commits", self._create_git_commit),
            ("GET", rf"{repo}/git/trees/(?P<sha>[^/]+)", self._get_tree),
            ("POST", rf"{repo}/git/trees", self._create_tree),
            ("GET", rf"{repo}/contents/(?P<path>.+)", self._get_contents),
            ("PUT", rf"{repo}/contents/(?P<path>.+)", self._put_contents),
            ("GET", rf"{repo}/commits/(?P<sha>[^/]+)", self._get_commit),
            ("GET", rf"{repo}/commits", self._list_commits),
            ("GET", rf"{repo}/pulls", self._list_pulls),
            ("POST", rf"{repo}/pulls", self._create_pull),
            ("GET", rf"{repo}/pulls/(?P<number>\d+)", self._get_pull),
            ("PUT", rf"{repo}/pulls/(?P<number>\d+)/merge", self._merge_pull),
            ("PATCH", rf"{repo}/pulls/(?P<number>\d+)", self._edit_pull),
            ("GET", rf"{repo}/pulls/(?P<number>\d+)/files", self._pull_files),
            ("GET", rf"{repo}/issues/(?P<number>\d+)", self._get_issue),
            ("POST", rf"{repo}/issues/(?P<number>\d+)/comments", self._create_comment),
            ("POST", rf"{repo}/issues/(?P<number>\d+)/labels", self._add_labels),
        ]

    def _dispatch(self, handler: QuietHandler, method: str) -> None:
        url = urlsplit(handler.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        raw = handler.read_body()
        body = json.loads(raw) if raw else None
        if path.startswith(PREFIX):
            path = path[len(PREFIX) :]
        with self._lock:
            self.requests.append(Recorded(method, path, query, body, dict(handler.headers.items())))
            status, payload, headers = self._serve(handler, method, path, query, body)
        handler.reply(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _serve(
        self, handler: QuietHandler, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        for failure in self._failures:
            if failure.count > 0 and failure.method == method and failure.pattern.search(path):
                failure.count -= 1
                return failure.status, failure.body, failure.headers
        auth = handler.headers.get("Authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return (
                401,
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                {},
            )
        for route_method, pattern, fn in self._routes():
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                if f"{match['owner']}/{match['name']}" != self.full_name:
                    return 404, {"message": "Not Found"}, {}
                params = {k: v for k, v in match.groupdict().items() if k not in ("owner", "name")}
                try:
                    status, payload = fn(query=query, body=body, **params)
                except HttpError as exc:
                    return (
                        exc.status,
                        {"message": exc.message, "documentation_url": "https://docs.github.com/rest"},
                        {},
                    )
                return status, payload, {}
        return 404, {"message": "Not Found"}, {}

    def _get_ref(self, branch: str, **_: Any) -> tuple[int, Any]:
        return 200, self._ref_payload(branch)

    def _create_ref(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        ref, sha = body["ref"], body["sha"]
        if not ref.startswith("refs/heads/"):
            raise HttpError(422, "Reference name must start with refs/heads/")
        if self.rev(ref) is not None:
            raise HttpError(422, "Reference already exists")
        self._commit(sha)
        self.git("update-ref", ref, sha, "")
        return 201, self._ref_payload(ref[len("refs/heads/") :])

    def _update_ref(self, branch: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        old = self.rev(f"refs/heads/{branch}")
        if old is None:
            raise HttpError(422, "Reference does not exist")
        new = self._commit(body["sha"])
        is_ff = (
            subprocess.run(
                ["git", "--git-dir", str(self.git_dir), "merge-base", "--is-ancestor", old, new], check=False
            ).returncode
            == 0
        )
        if not is_ff and not body.get("force"):
            raise HttpError(422, "Update is not a fast forward")
        self.git("update-ref", f"refs/heads/{branch}", new, old)
        return 200, self._ref_payload(branch)

    def _get_git_commit(self, sha: str, **_: Any) -> tuple[int, Any]:
        return 200, self._git_commit_payload(self._commit(sha))

    def _create_git_commit(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        args = ["commit-tree", body["tree"]]
        for parent in body.get("parents", []):
            args += ["-p", self._commit(parent)]
        sha = self.git(*args, stdin=body["message"].encode()).strip()
        return 201, self._git_commit_payload(sha)

    def _get_tree(self, sha: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        tree = self.rev(f"{sha}^{{tree}}")
        if tree is None:
            raise HttpError(404, "Not Found")
        return 200, self._tree_payload(tree, recursive=query.get("recursive") not in (None, "0", "false"))

    def _with_index(self, base_tree: str | None, entries: list[dict[str, Any]]) -> str:
        fd, index = tempfile.mkstemp()
        os.close(fd)
        os.unlink(index)
        env = {"GIT_INDEX_FILE": index}
        try:
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            for entry in entries:
                if entry.get("sha", "") is None:
                    self.git("update-index", "--force-remove", "--", entry["path"], env=env)
                    continue
                sha = entry.get("sha")
                if "content" in entry:
                    sha = self.git("hash-object", "-w", "--stdin", stdin=entry["content"].encode()).strip()
                self.git(
                    "update-index", "--add", "--cacheinfo", f"{entry['mode']},{sha},{entry['path']}", env=env
                )
            return self.git("write-tree", env=env).strip()
        finally:
            if os.path.exists(index):
                os.unlink(index)

    def _create_tree(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        tree = self._with_index(body.get("base_tree"), body["tree"])
        return 201, self._tree_payload(tree, recursive=False)

    def _get_contents(self, path: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        return 200, self._content_payload(path, query.get("ref", "main"))

    def _put_contents(self, path: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        branch = body.get("branch", "main")
        old = self.rev(f"refs/heads/{branch}")
        if old is None:
            raise HttpError(404, f"Branch {branch} not found")
        current = self.git("ls-tree", old, "--", path).split()
        if current and body.get("sha") != current[2]:
            raise HttpError(409, f"{path} does not match {body.get('sha')}")
        content = base64.b64decode(body["content"])
        blob = self.git("hash-object", "-w", "--stdin", stdin=content).strip()
        mode = current[0] if current else "100644"
        tree = self._with_index(f"{old}^{{tree}}", [{"path": path, "mode": mode, "sha": blob}])
        sha = self.git("commit-tree", tree, "-p", old, stdin=body["message"].encode()).strip()
        self.git("update-ref", f"refs/heads/{branch}", sha, old)
        content_payload = self._content_payload(path, sha)
        return 200, {"content": content_payload, "commit": self._git_commit_payload(sha)}

    def _get_commit(self, sha: str, **_: Any) -> tuple[int, Any]:
        return 200, self._commit_payload(self._commit(sha), files=True)

    def _list_commits(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        args = ["log", "--format=%H", self._commit(query.get("sha", "main"))]
        if "since" in query:
            args.insert(1, f"--since={query['since']}")
        if "until" in query:
            args.insert(1, f"--until={query['until']}")
        if "path" in query:
            args += ["--", query["path"]]
        shas = self.git(*args).split()
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        return 200, [
            self._commit_payload(s, files=False) for s in shas[(page - 1) * per_page : page * per_page]
        ]

    def _list_pulls(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        state = query.get("state", "open")
        numbers = sorted(self.pulls, reverse=True)
        chosen = [n for n in numbers if state == "all" or self.pulls[n]["state"] == state]
        return 200, [self._pull_payload(n) for n in chosen]

    def _create_pull(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        head, base = body["head"], body["base"]
        for branch in (head, base):
            if self.rev(f"refs/heads/{branch}") is None:
                raise HttpError(422, f"Validation Failed: no branch {branch}")
        if any(p["head"] == head and p["state"] == "open" for p in self.pulls.values()):
            raise HttpError(422, f"A pull request already exists for acme:{head}.")
        number = self._next_number
        self._next_number += 1
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.issues[number] = {
            "title": body["title"],
            "body": body.get("body"),
            "labels": [],
            "state": "open",
        }
        self.pulls[number] = {"head": head, "base": base, "state": "open", "merged": False, "created_at": now}
        return 201, self._pull_payload(number)

    def _pull(self, number: str) -> int:
        if int(number) not in self.pulls:
            raise HttpError(404, "Not Found")
        return int(number)

    def _get_pull(self, number: str, **_: Any) -> tuple[int, Any]:
        return 200, self._pull_payload(self._pull(number))

    def _merge_pull(self, number: str, body: dict[str, Any] | None, **_: Any) -> tuple[int, Any]:
        n = self._pull(number)
        pull = self.pulls[n]
        body = body or {}
        if pull["state"] != "open":
            raise HttpError(405, "Pull Request is not mergeable")
        head, base = self.rev(f"refs/heads/{pull['head']}"), self.rev(f"refs/heads/{pull['base']}")
        assert head and base
        if body.get("sha") and body["sha"] != head:
            raise HttpError(409, "Head branch was modified. Review and try the merge again.")
        proc = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "merge-tree", "--write-tree", base, head],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise HttpError(405, "Pull Request is not mergeable")
        tree = proc.stdout.splitlines()[0]
        title = body.get("commit_title") or f"Merge pull request #{n} from acme/{pull['head']}"
        message = title + ("\n\n" + body["commit_message"] if body.get("commit_message") else "")
        sha = self.git("commit-tree", tree, "-p", base, "-p", head, stdin=message.encode()).strip()
        self.git("update-ref", f"refs/heads/{pull['base']}", sha, base)
        pull |= {"state": "closed", "merged": True, "merge_commit_sha": sha, "head_sha": head}
        pull["merged_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.issues[n]["state"] = "closed"
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def _edit_pull(self, number: str, body: dict[str, Any] | None, **_: Any) -> tuple[int, Any]:
        n = self._pull(number)
        state = (body or {}).get("state")
        if state in ("open", "closed") and not self.pulls[n]["merged"]:
            self.pulls[n]["state"] = state
            self.issues[n]["state"] = state
        return 200, self._pull_payload(n)

    def _pull_files(self, number: str, **_: Any) -> tuple[int, Any]:
        n = self._pull(number)
        pull = self.pulls[n]
        head = self.rev(f"refs/heads/{pull['head']}") or pull.get("head_sha")
        base = self.rev(f"refs/heads/{pull['base']}")
        names = self.git("diff", "--name-only", f"{base}...{head}").split()
        files = []
        for name in names:
            patch = self.git("diff", f"{base}...{head}", "--", name)
            files.append({"sha": "0" * 40, "filename": name, "status": "modified",
                          "additions": 1, "deletions": 1, "changes": 2,
                          "patch": patch[patch.find("@@"):] if "@@" in patch else ""})  # fmt: skip
        return 200, files

    def _issue(self, number: str) -> int:
        if int(number) not in self.issues:
            raise HttpError(404, "Not Found")
        return int(number)

    def _get_issue(self, number: str, **_: Any) -> tuple[int, Any]:
        return 200, self._issue_payload(self._issue(number))

    def _create_comment(self, number: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        n = self._issue(number)
        self._next_id += 1
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        comment = {
            "id": self._next_id,
            "node_id": f"IC_{self._next_id}",
            "url": f"{self.api}/issues/comments/{self._next_id}",
            "html_url": f"{HTML}/{self.full_name}/issues/{n}#issuecomment-{self._next_id}",
            "issue_url": f"{self.api}/issues/{n}",
            "body": body["body"],
            "user": self._user(),
            "created_at": now,
            "updated_at": now,
        }
        self.comments.append(comment)
        return 201, comment

    def _add_labels(self, number: str, body: Any, **_: Any) -> tuple[int, Any]:
        n = self._issue(number)
        names = body["labels"] if isinstance(body, dict) else body
        labels = self.issues[n]["labels"]
        labels.extend(name for name in names if name not in labels)
        return 200, self._labels(labels)

    def add_issue(self, title: str, body: str = "") -> int:
        """Create a plain issue (not a pull request) and answer its number."""
        with self._lock:
            number = self._next_number
            self._next_number += 1
            self.issues[number] = {"title": title, "body": body, "labels": [], "state": "open"}
            return number
