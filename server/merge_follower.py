"""Following the pull requests runs wait on: one look per waiting run, a resume once the wait ends.

A run whose pull request waits for a human is parked at the `merge_gate` interrupt (status
`waiting_merge`); nothing holds a worker for it. `MergeFollower.follow` is called every few
seconds by the healing stack's sweeper (and at once after a merge or close from the dashboard or
the CLI): for each waiting run it reads the interrupt's `MergeWaitRequest` from the checkpoint,
takes one look (`graph.merge_watch.observe`: the pull request, the deadline, the workload) and,
when the wait is over, hands the answer to `resume` (the run service resumes the run from its
checkpoint). What it remembers between looks (since when the workload has been healthy) is in
memory only: after a restart the workload must simply stay healthy for the stable window again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from graph.merge_watch import MergeWaitRequest, Watching, observe
from graph.runner import HealingApp, pending_merge

log = logging.getLogger(__name__)

Resume = Callable[[str, dict[str, Any]], bool]  # (run id, answer) -> whether the run was resumed


class MergeFollower:
    """Looks at the pull requests of waiting runs and resumes the runs whose wait is over."""

    def __init__(self, app: HealingApp, resume: Resume) -> None:
        self._app = app
        self._resume = resume
        self._lock = threading.Lock()
        self._memory: dict[str, Watching] = {}
        self._looking: set[str] = set()  # one look at a time per run (sweeper and nudges race)

    def follow(self, run_ids: Iterable[str]) -> list[tuple[str, str]]:
        """One look at each waiting run; the (run id, how its wait ended) of the runs resumed."""
        waiting = list(run_ids)
        with self._lock:  # forget runs that are no longer waiting
            for gone in set(self._memory) - set(waiting):
                del self._memory[gone]
        ended: list[tuple[str, str]] = []
        for run_id in waiting:
            status = self.look(run_id)
            if status is not None:
                ended.append((run_id, status))
        return ended

    def look(self, run_id: str) -> str | None:
        """One look at one waiting run; how its wait ended when it was resumed, else None."""
        with self._lock:
            if run_id in self._looking:
                return None
            self._looking.add(run_id)
            memory = self._memory.setdefault(run_id, Watching())
        try:
            payload = pending_merge(self._app, run_id)
            if payload is None:
                return None
            try:
                request = MergeWaitRequest.model_validate(payload)
            except ValidationError:
                log.exception("run %s waits on a malformed merge request; resuming it to escalate", run_id)
                return "invalid" if self._resume(run_id, {"status": "invalid"}) else None
            answer = observe(self._app.context, request, memory)
            if answer is None:
                return None
            if not self._resume(run_id, answer.model_dump(mode="json")):
                return None
            with self._lock:
                self._memory.pop(run_id, None)
            return answer.status
        finally:
            with self._lock:
                self._looking.discard(run_id)
