"""The verification node on an injected clock: healed only when stably healthy (no restarts, 5xx under
the threshold) before the deadline; unhealthy bumps the attempt only within the budget and the breaker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.domain import Diagnosis, RootCause, WorkloadRef
from graph.breaker import BreakerPolicy, CircuitBreaker, InMemoryBreakerStore, target_key
from graph.context import Breakers, VerifyConfig
from graph.nodes.verification import verification
from graph.state import RunOutcome, VerificationRecord, follow_record, initial_state
from tests.graph.contexts import bound, healing_context
from tests.graph.test_metrics import FakePrometheus, _vector
from tests.graph.test_remediation import INCIDENT, TARGET, FakeCluster
from tools.kubernetes import WorkloadStatus
from tools.kubernetes.status import ContainerStatus, PodStatus

START = 1_714_564_800.0  # 2024-05-01T12:00:00Z
CONFIG = VerifyConfig(timeout_seconds=200, poll_seconds=10, settle_seconds=30, stable_seconds=60)


class SimClock:
    """Simulated time: `sleep` advances `now`; every sleep is remembered."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class SpyBreaker(CircuitBreaker):
    """A real breaker that also remembers the successes recorded on it."""

    def __init__(self, limit: int = 5) -> None:
        super().__init__(InMemoryBreakerStore(), BreakerPolicy(limit, 600, 300), lambda: START)
        object.__setattr__(self, "successes", [])

    def record_success(self, key: str):  # type: ignore[no-untyped-def]
        self.successes.append(key)  # type: ignore[attr-defined]
        return super().record_success(key)


def status(ready: bool = True, restarts: int = 0, **extra: Any) -> WorkloadStatus:
    container = ContainerStatus(name="checkout", ready=ready, state="running", restart_count=restarts)
    pod = PodStatus(name="checkout-1", namespace="shop", phase="Running", ready=ready, containers=[container])
    counts = {"desired": 1, "current": 1, "ready": int(ready), "available": int(ready), "updated": 1}
    values: dict[str, Any] = {"kind": "Deployment", "namespace": "shop", "name": "checkout", "pods": [pod]}
    values.update(counts)
    values.update(extra)
    return WorkloadStatus(**values)


@dataclass
class Rig:
    cluster: FakeCluster | None
    sim: SimClock
    breaker: SpyBreaker
    max_attempts: int = 3
    prometheus: Any = None
    config: VerifyConfig = CONFIG

    def node(self):  # type: ignore[no-untyped-def]
        context = healing_context(
            breakers=Breakers(self.breaker, SpyBreaker()),
            cluster=self.cluster,
            prometheus=self.prometheus,
            max_attempts=self.max_attempts,
            verify=self.config,
            clock=self.sim.clock,
            sleep=self.sim.sleep,
        )
        return bound(verification, context)


def rig(statuses: list[WorkloadStatus | None], **extra: Any) -> Rig:
    return Rig(FakeCluster(statuses=statuses), SimClock(), extra.pop("breaker", SpyBreaker()), **extra)


def state(attempt: int = 1, **fields: Any):  # type: ignore[no-untyped-def]
    s = initial_state("run-ver", INCIDENT)
    s["attempt"] = attempt
    s.update(fields)  # type: ignore[typeddict-item]
    return s


def test_stably_healthy_is_healed_and_a_breaker_success() -> None:
    r = rig([status()])
    update = r.node()(state())
    assert update["outcome"] == RunOutcome.HEALED.value
    assert update["outcome_reason"].startswith("recovered after attempt 1: rollout complete, all pods ready")
    [record] = update["verifications"]
    assert record["attempt"] == 1 and record["healthy"] is True
    assert "restarts stable" in record["detail"] and "no Prometheus configured" in record["detail"]
    assert "attempt" not in update
    assert r.breaker.successes == [target_key(TARGET)]  # type: ignore[attr-defined]
    # settle first, then polls until healthy for the whole stable window (0, 10, ..., 60 seconds)
    assert r.sim.sleeps[0] == 30 and r.cluster.status_calls == 7  # type: ignore[union-attr]
    assert r.sim.now - START == 30 + 60


def test_unhealthy_until_the_deadline_asks_for_another_attempt_within_budget() -> None:
    r = rig([status(ready=False)])
    update = r.node()(state(attempt=1))
    [record] = update["verifications"]
    assert record["healthy"] is False and record["detail"].startswith("not recovered after")
    assert "pod checkout-1 is not ready" in record["detail"]
    assert update["attempt"] == 2 and "outcome" not in update
    assert r.breaker.successes == []  # type: ignore[attr-defined]
    waited = r.sim.now - START
    assert 30 + 200 <= waited <= 30 + 200 + CONFIG.poll_seconds, (
        "gives up at the deadline, not before or long after"
    )


def test_unhealthy_on_the_last_attempt_does_not_bump() -> None:
    r = rig([status(ready=False)], max_attempts=2)
    update = r.node()(state(attempt=2))
    assert "attempt" not in update and update["verifications"][0]["healthy"] is False
    assert "outcome" not in update


def test_unhealthy_with_the_breaker_open_does_not_bump() -> None:
    breaker = SpyBreaker(limit=1)
    breaker.record_event(target_key(TARGET))
    assert not breaker.allows(target_key(TARGET))
    r = rig([status(ready=False)], breaker=breaker)
    update = r.node()(state(attempt=1))
    assert "attempt" not in update and update["verifications"][0]["healthy"] is False


def test_a_rising_restart_count_restarts_the_stable_window() -> None:
    # polls at 0,10,20 fine; at 30 a restart; stable again from 40; healed at 40 + 60 = 100
    r = rig([status(), status(), status(), status(restarts=1), status(restarts=1)])
    update = r.node()(state())
    assert update["outcome"] == RunOutcome.HEALED.value
    assert r.cluster.status_calls == 11  # type: ignore[union-attr]
    assert r.sim.now - START == 30 + 100


def test_restarts_rising_all_the_time_never_heal() -> None:
    r = rig([status(restarts=n) for n in range(40)])
    update = r.node()(state())
    [record] = update["verifications"]
    assert record["healthy"] is False and "restart count rose in checkout-1" in record["detail"]


def test_a_5xx_ratio_over_the_threshold_keeps_it_unhealthy() -> None:
    prometheus = FakePrometheus(http_5xx_ratio=_vector(({}, 0.25)))
    r = rig([status()], prometheus=prometheus)
    update = r.node()(state())
    [record] = update["verifications"]
    assert record["healthy"] is False and "outcome" not in update
    assert "the 5xx ratio is 25.0% (> 5%)" in record["detail"]
    assert "http_5xx_ratio" in prometheus.asked


def test_a_5xx_ratio_under_the_threshold_is_healed() -> None:
    r = rig([status()], prometheus=FakePrometheus(http_5xx_ratio=_vector(({}, 0.01))))
    update = r.node()(state())
    assert (
        update["outcome"] == RunOutcome.HEALED.value
        and "5xx ratio 1.0%" in update["verifications"][0]["detail"]
    )


def test_prometheus_failing_does_not_block_a_healthy_verdict() -> None:
    r = rig([status()], prometheus=FakePrometheus())
    update = r.node()(state())
    assert update["outcome"] == RunOutcome.HEALED.value
    assert "Prometheus did not answer" in update["verifications"][0]["detail"]


def test_status_unavailable_counts_as_not_recovered() -> None:
    r = rig([None])
    record = r.node()(state())["verifications"][0]
    assert record["healthy"] is False and "status unavailable: API server timed out" in record["detail"]


def test_becoming_healthy_late_still_heals_before_the_deadline() -> None:
    r = rig([status(ready=False)] * 5 + [status()])
    update = r.node()(state())
    assert update["outcome"] == RunOutcome.HEALED.value
    assert r.sim.now - START == 30 + 50 + 60


def test_healthy_too_late_for_the_stable_window_is_not_healed() -> None:
    config = VerifyConfig(timeout_seconds=100, poll_seconds=10, settle_seconds=0, stable_seconds=60)
    r = rig([status(ready=False)] * 6 + [status()], config=config)
    update = r.node()(state())
    assert update["verifications"][0]["healthy"] is False, "healthy from 60s, stable 60s needs 120s > 100s"


def test_a_replay_of_an_attempt_already_judged_does_nothing() -> None:
    r = rig([status()])
    done = VerificationRecord(attempt=1, healthy=False, detail="x", checked_at="t")
    assert r.node()(state(verifications=[done])) == {}
    assert r.cluster.status_calls == 0 and r.sim.sleeps == []  # type: ignore[union-attr]


def test_no_cluster_is_not_recovered() -> None:
    r = Rig(None, SimClock(), SpyBreaker())
    update = r.node()(state())
    assert (
        update["verifications"][0]["healthy"] is False
        and "no cluster configured" in update["verifications"][0]["detail"]
    )


POSTGRES = WorkloadRef(namespace="shop", name="postgres")


class PerTarget(FakeCluster):
    """Answers each workload's statuses in turn (the last one repeats), and remembers who was asked."""

    def __init__(self, statuses: dict[str, list[WorkloadStatus]]) -> None:
        super().__init__()
        self.by_name = statuses
        self.asked: list[str] = []

    def status(self, target, *, sink=None):  # type: ignore[no-untyped-def]
        self.asked.append(target.name)
        self.statuses = self.by_name[target.name]
        return super().status(target)


def _followed(**fields: Any):  # type: ignore[no-untyped-def]
    blame = Diagnosis(
        category=RootCause.DEPENDENCY_DOWN,
        explanation="no postgres",
        faulty_resource="Deployment shop/postgres",
        confidence=0.9,
    )
    return state(follows=[follow_record(TARGET, POSTGRES, blame)], **fields)


def test_after_a_follow_the_dependency_then_the_victim_must_recover() -> None:
    cluster = PerTarget({"postgres": [status()], "checkout": [status()]})
    r = Rig(cluster, SimClock(), SpyBreaker())
    update = r.node()(_followed())
    assert update["outcome"] == RunOutcome.HEALED.value
    assert cluster.asked[0] == "postgres" and cluster.asked[-1] == "checkout"
    [record] = update["verifications"]
    assert record["detail"].startswith("shop/deployment/postgres: rollout complete")
    assert "; shop/deployment/checkout: rollout complete" in record["detail"]
    # the change was postgres's, so the success is on postgres's breaker
    assert r.breaker.successes == [target_key(POSTGRES)]  # type: ignore[attr-defined]
    # one settle for the change, not a second one for the victim
    assert r.sim.sleeps.count(CONFIG.settle_seconds) == 1


def test_after_a_follow_a_victim_still_failing_is_not_healed() -> None:
    cluster = PerTarget({"postgres": [status()], "checkout": [status(ready=False)]})
    r = Rig(cluster, SimClock(), SpyBreaker())
    update = r.node()(_followed())
    assert "outcome" not in update
    [record] = update["verifications"]
    assert not record["healthy"] and "shop/deployment/checkout: not recovered" in record["detail"]
    assert r.breaker.successes == []  # type: ignore[attr-defined]
