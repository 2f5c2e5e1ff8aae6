"""Pull requests and comments for the local provider, kept as JSON files in the repository's git dir.

A plain Git repository has no pull requests; these records give the local provider the same
workflow as GitHub (open, find by fingerprint, comment, merge) and survive process restarts.
Writes are atomic (write then rename); numbers are claimed with exclusive file creation.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from tools.gitops.records import Comment, PullRequest


class PullStore:
    """The records under `<git dir>/paramedic/`."""

    def __init__(self, root: Path) -> None:
        self._pulls = root / "pulls"
        self._comments = root / "comments"

    def _pull_path(self, number: int) -> Path:
        return self._pulls / f"{number}.json"

    @staticmethod
    def _write(path: Path, data: Any) -> None:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    def create(self, pull: PullRequest) -> PullRequest:
        """Store a new pull request under the next free number (the given number is ignored)."""
        self._pulls.mkdir(parents=True, exist_ok=True)
        number = max((p.number for p in self.all()), default=0) + 1
        while True:
            try:
                fd = os.open(self._pull_path(number), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                number += 1
                continue
            os.close(fd)
            break
        stored = replace(pull, number=number, url=pull.url.format(number=number))
        self._write(self._pull_path(number), asdict(stored))
        return stored

    def update(self, pull: PullRequest) -> None:
        """Overwrite an existing record."""
        self._write(self._pull_path(pull.number), asdict(pull))

    def get(self, number: int) -> PullRequest | None:
        """One record, or None."""
        path = self._pull_path(number)
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
        if not text.strip():  # a number claimed by a writer that has not finished
            return None
        data = json.loads(text)
        data["labels"] = tuple(data.get("labels", ()))
        return PullRequest(**data)

    def all(self) -> list[PullRequest]:
        """Every record, by number."""
        if not self._pulls.is_dir():
            return []
        numbers = sorted(int(p.stem) for p in self._pulls.glob("*.json") if p.stem.isdigit())
        pulls = []
        for number in numbers:
            pull = self.get(number)
            if pull is not None:
                pulls.append(pull)
        return pulls

    def add_comment(self, number: int, body: str) -> Comment:
        """Append a comment to issue/pull `number`."""
        self._comments.mkdir(parents=True, exist_ok=True)
        path = self._comments / f"{number}.json"
        existing = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
        comment = Comment(id=number * 100_000 + len(existing) + 1, issue_number=number, body=body)
        self._write(path, [*existing, asdict(comment)])
        return comment

    def comments(self, number: int) -> list[Comment]:
        """The comments on issue/pull `number`, oldest first."""
        path = self._comments / f"{number}.json"
        if not path.is_file():
            return []
        return [Comment(**c) for c in json.loads(path.read_text(encoding="utf-8"))]
