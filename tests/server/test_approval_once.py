"""Exactly-once approval, on SQLite and on PostgreSQL: of many concurrent answers to one waiting run,
one resumes it and every other is refused with the status the run is in; the store's compare-and-set
decides, so two replicas sharing the store cannot both resume it either."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.domain import WorkloadRef
from server import run_service
from server.app import create_app
from server.context import ServerContext
from server.run_service import RunNotWaiting, RunService, RunServiceOptions
from server.runstore import NewRun, NotWaitingError, RunStatus, RunStore, UnknownRunError, open_run_store
from tests.agent import evidence_samples as samples
from tests.server.test_run_service import _app

TOKEN = "approval-race-token"
WEB = WorkloadRef(namespace="shop", name="web-api")
CONTENDERS = 8


@pytest.fixture
def store(storage_url: str) -> Iterator[RunStore]:
    with open_run_store(storage_url, poll_interval=0.05) as opened:
        yield opened


def _race(contenders: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run `attempt(i)` in `contenders` threads released together; each one's result or exception."""
    start = threading.Barrier(contenders)
    results: list[Any] = [None] * contenders

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = attempt(i)
        except Exception as exc:  # the refusals are the point; collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_the_store_lets_exactly_one_answer_claim_a_waiting_run(store: RunStore) -> None:
    store.create_run(
        NewRun(id="r1", fingerprint="fp", target=WEB, mode="approve", provider="rules",
               status=RunStatus.WAITING_APPROVAL)
    )  # fmt: skip
    results = _race(CONTENDERS, lambda _: store.claim_answer("r1"))
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and won[0].status is RunStatus.RUNNING
    assert len(lost) == CONTENDERS - 1 and all(isinstance(e, NotWaitingError) for e in lost)
    assert {e.status for e in lost} == {"running"} and all("is running" in str(e) for e in lost)
    with pytest.raises(UnknownRunError):
        store.claim_answer("nope")


def test_concurrent_answers_through_the_run_service_resume_the_run_once(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    resumes: list[str] = []
    real_resume = run_service.resume_run

    def counting_resume(*args: Any, **kwargs: Any) -> Any:
        resumes.append(args[1])
        return real_resume(*args, **kwargs)

    monkeypatch.setattr(run_service, "resume_run", counting_resume)
    # two services over one store: two replicas sharing the database
    services = [
        RunService(_app(ask=True), store, RunServiceOptions(mode="approve", provider="rules"))
        for _ in range(2)
    ]
    run_id, _ = services[0].submit(samples.incident())
    assert services[0].wait_idle(20)
    assert store.get_run(run_id).status is RunStatus.WAITING_APPROVAL
    # the second replica's graph must know the interrupt too: it shares the checkpoints in production
    services[1]._app = services[0]._app

    def answer(i: int) -> str:
        return services[i % 2].answer(run_id, {"approved": i % 3 != 0, "by": f"op{i}"})

    results = _race(CONTENDERS, answer)
    assert [r for r in results if not isinstance(r, Exception)] == ["running"]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == CONTENDERS - 1 and all(isinstance(e, RunNotWaiting) for e in refused)
    assert all("not waiting for an approval" in str(e) for e in refused)
    # An answer won on the replica that does not own the run waits in the store for the owner; each
    # replica's keeper takes its answers (here, by hand): the run resumes once, on its owner.
    for service in services:
        service.take_answers()
    for service in services:
        assert service.wait_idle(20)
        service.close()
    assert resumes == [run_id], "resumed exactly once"
    assert store.get_run(run_id).status in (RunStatus.HEALED, RunStatus.REJECTED)


def test_concurrent_approve_and_reject_requests_get_one_200_and_409s_naming_the_status(
    store: RunStore, tmp_path: Path
) -> None:
    service = RunService(_app(ask=True), store, RunServiceOptions(mode="approve", provider="rules"))
    run_id, _ = service.submit(samples.incident())
    assert service.wait_idle(20)
    settings = Settings(data_dir=tmp_path, server={"token": TOKEN})
    app = create_app(ServerContext(store=store, settings=settings, runs=service))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(app) as client:

        def post(i: int) -> tuple[int, dict[str, Any]]:
            verb = "approve" if i % 2 else "reject"
            response = client.post(f"/api/v1/runs/{run_id}/{verb}", json={"by": f"op{i}"}, headers=auth)
            return response.status_code, response.json()

        results = _race(CONTENDERS, post)
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * (CONTENDERS - 1), results
    for code, body in results:
        if code == 409:
            assert body["status"] != "waiting_approval"
            assert f"is {body['status']}, not waiting for approval" in body["detail"]
    assert service.wait_idle(20)
    service.close()
