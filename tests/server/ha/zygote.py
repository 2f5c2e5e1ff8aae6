"""A pre-imported `paramedic` that forks the HA tests' replicas instead of starting interpreters.

A replica started as `python -m paramedic.cli.main serve` spent ~6 CPU-s importing (FastAPI,
LangGraph and LangSmith, the Kubernetes client's generated API classes, which a new leader's
watcher and first run load) before it did anything these tests look at; each test starts two.
The zygote imports all that once, with no thread running, and forks each replica from that
state. A replica is still its own process, with its own environment, port, log and exit status,
that runs the console script's entry point (`paramedic.cli.main.main`) with `serve` and exits
the way that script does; a SIGKILL kills it alone. The real start-up of `paramedic serve` stays
covered by tests/paramedic/cli/test_serve.py, which starts the command itself.

Run as `python -m tests.server.ha.zygote`; JSON lines on stdin, one answer line each on stdout:
`{"spawn": [argv...], "env": {...}, "log": path}` -> `{"pid": n}` (stdout and stderr to `log`);
`{"poll": pid}` -> `{"returncode": n or null}` (reaps it; negative: killed by that signal).
At end of input it kills the replicas still running, reaps them and exits.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

# What a replica imports at start-up, as a leader (the watcher's and the tools' API classes) and
# on its first run against PostgreSQL; a module missing here is only imported by the replica.
PRELOAD = (
    "paramedic.cli.main",
    "paramedic.cli.serve",
    "server.runstore.postgres",
    "langgraph.checkpoint.postgres",
    "agent.reasoners.rules",
    "uvloop",
)
KUBERNETES_APIS = (
    "CoreV1Api",
    "AppsV1Api",
    "BatchV1Api",
    "CustomObjectsApi",
    "AutoscalingV2Api",
    "NetworkingV1Api",
    "CoordinationV1Api",
    "VersionApi",
)


class ForkedProcess:
    """A replica forked by the zygote: the part of `subprocess.Popen` the tests use."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self._zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Its exit status once it has exited (reaped by the zygote), else None."""
        if self.returncode is None:
            self.returncode = self._zygote.ask({"poll": self.pid})["returncode"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for it to exit; `subprocess.TimeoutExpired` after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"replica {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        # Not reaped yet, so the pid is still ours (a zombie's pid is not handed out again).
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The zygote process, started by a fixture and stopped (reaped) by it."""

    def __init__(self, log: Path) -> None:
        with log.open("w") as errors:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.server.ha.zygote"],
                cwd=Path(__file__).resolve().parents[3],  # the checkout: where `tests` imports from
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self._log = log
        # One request and its answer at a time: a test's threads (a poll beside a kill) would
        # otherwise read each other's answers off the one pipe.
        self._lock = threading.Lock()
        self.ask({"hello": True})  # answered once the imports are done

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request to the zygote and return its answer; RuntimeError when it has died."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            with self._lock:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                answer = self._proc.stdout.readline()
        except BrokenPipeError:
            answer = ""
        if not answer:
            raise RuntimeError(f"the zygote died; its log ends:\n{self._log.read_text()[-3000:]}")
        reply: dict[str, Any] = json.loads(answer)
        return reply

    def spawn(self, argv: list[str], env: dict[str, str], log: Path) -> ForkedProcess:
        """Fork a process that runs `paramedic <argv>` with `env`, its output going to `log`."""
        return ForkedProcess(self, self.ask({"spawn": argv, "env": env, "log": str(log)})["pid"])

    def close(self) -> None:
        """Stop the zygote (it kills and reaps what still runs) and reap it."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)


# -- the zygote process -----------------------------------------------------------------------


def _replica(request: dict[str, Any], answers: IO[str]) -> None:
    """In the forked child: become `paramedic <argv>` as a fresh process would; never returns."""
    answers.close()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a TextIOWrapper here
    os.environ.clear()
    os.environ.update(request["env"])
    from paramedic.cli.main import __file__ as script
    from paramedic.cli.main import main

    sys.argv = [script, *request["spawn"]]
    sys.modules["__main__"].__package__ = "paramedic.cli"  # click names the program from it
    main()  # typer exits (SystemExit) with the command's code, which ends this process
    sys.exit(0)


def _serve() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    from kubernetes import client as k8s

    for api in KUBERNETES_APIS:
        getattr(k8s, api)  # the client imports an API class (and its models) on first access
    if threading.active_count() != 1:
        raise SystemExit(f"zygote: threads running after the imports, cannot fork: {threading.enumerate()}")
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a stray print goes to the log, not into the answers
    children: dict[int, int | None] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if "spawn" in request:
            pid = os.fork()
            if pid == 0:
                _replica(request, answers)
            children[pid] = None
            answer: dict[str, Any] = {"pid": pid}
        elif "poll" in request:
            pid = request["poll"]
            if children.get(pid) is None:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    children[pid] = os.waitstatus_to_exitcode(status)
            answer = {"returncode": children[pid]}
        else:
            answer = {"ready": os.getpid()}
        answers.write(json.dumps(answer) + "\n")
    for pid, code in children.items():
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    _serve()
