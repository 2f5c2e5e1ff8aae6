"""Programs that use memory on purpose: stress, stress-ng, dd (its block buffer and tmpfs targets).

Allocation is fast (about 1 GiB/s per worker); the container's memory limit is enforced by the
process model, which kills everything with OOMKilled (137) the moment the limit is crossed.
"""

from __future__ import annotations

import re

from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.process import INF, Sleep
from sandbox.shell.utils.core import parse_duration

ALLOC_RATE = float(1 << 30)  # bytes per second a worker touches
SHM_BYTES = 64 * (1 << 20)  # /dev/shm in a pod: the runtime's default 64Mi tmpfs


def parse_bytes(text: str, limit: float = 0.0) -> float | None:
    """`256M`, `1g`, `512k`, `1024`, `80%` (of the memory limit) -> bytes."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([bkmgtBKMGT%]?)[bB]?", text.strip())
    if not m:
        return None
    n, unit = float(m.group(1)), m.group(2).lower()
    if unit == "%":
        return n / 100 * limit if limit else None
    return n * {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit]


def _options(argv: list[str]) -> dict[str, str]:
    out, args = {}, list(argv[1:])
    while args:
        a = args.pop(0)
        if a.startswith("--") and "=" in a:
            k, _, v = a.partition("=")
            out[k] = v
        elif a.startswith("-"):
            out[a] = args.pop(0) if args and not args[0].startswith("-") else ""
    return out


def _stress(call: Call) -> Gen:
    """stress / stress-ng: `--vm N --vm-bytes B [--vm-hang|--vm-keep] [--timeout T] [--cpu N]`."""
    opts = _options(call.argv)
    ng = call.name == "stress-ng"
    proc = call.sh.container.proc
    workers = int(opts.get("--vm", opts.get("-m", "0")) or 0)
    cpus = int(opts.get("--cpu", opts.get("-c", "0")) or 0)
    per = parse_bytes(opts.get("--vm-bytes", "256M"), proc.memory_limit) or 256 * float(1 << 20)
    timeout = parse_duration(opts.get("--timeout", opts.get("-t", "")).rstrip("s") or "inf") or INF
    if not workers and not cpus and not any(k in opts for k in ("--io", "-i", "--hdd", "-d")):
        call.io.error(
            "stress-ng: error: no stressor specified"
            if ng
            else "`stress' imposes certain types of compute stress on your system"
        )
        return 1
    if ng:
        if timeout != INF:
            call.io.error(f"stress-ng: info:  [1] setting to a {int(timeout)} secs run per stressor")
        hogs = ", ".join(x for x in (f"{cpus} cpu" if cpus else "", f"{workers} vm" if workers else "") if x)
        call.io.error(f"stress-ng: info:  [1] dispatching hogs: {hogs}")
    else:
        call.io.out.write(f"stress: info: [1] dispatching hogs: {cpus} cpu, 0 io, {workers} vm, 0 hdd\n")
    total = workers * per
    if total:
        fill = min(timeout, total / (ALLOC_RATE * max(workers, 1)))
        yield Sleep(fill, grow=ALLOC_RATE * max(workers, 1))
    remaining = max(0.0, timeout - (total / (ALLOC_RATE * max(workers, 1)) if total else 0.0))
    yield Sleep(remaining)
    proc.allocate(-total)
    if ng:
        call.io.error(f"stress-ng: info:  [1] successful run completed in {timeout:.2f} secs")
    else:
        call.io.out.write(f"stress: info: [1] successful run completed in {int(timeout)}s\n")
    return 0


def _dd(call: Call) -> Gen:
    opts = dict(a.split("=", 1) for a in call.argv[1:] if "=" in a)
    proc, fs = call.sh.container.proc, call.sh.container.fs
    bs = parse_bytes(opts.get("bs", "512")) or 512.0
    count = float(opts["count"]) if opts.get("count", "").isdigit() else INF
    source, target = opts.get("if", "-"), opts.get("of", "-")
    if source not in ("/dev/zero", "/dev/urandom", "/dev/random", "-"):
        try:
            count = min(count, max(1.0, len(fs.read(call.path(source))) / bs))
        except Exception:
            call.io.error(f"dd: can't open '{source}': No such file or directory")
            return 1
    total = bs * count
    proc.allocate(bs)  # the block buffer
    path = call.path(target) if target != "-" else ""
    in_memory = any(path.startswith(m + "/") for m in getattr(fs, "memory_mounts", ()))
    if path.startswith("/dev/shm/") and total > SHM_BYTES:
        yield Sleep(SHM_BYTES / ALLOC_RATE, grow=ALLOC_RATE)
        call.io.error(f"dd: error writing '{target}': No space left on device")
        return 1
    if in_memory or path.startswith("/dev/shm/"):
        if total == INF:
            while True:
                yield Sleep(60.0, grow=ALLOC_RATE)
        yield Sleep(total / ALLOC_RATE, grow=ALLOC_RATE)
    elif total == INF:
        yield Sleep(INF)
    else:
        yield Sleep(total / (4 * ALLOC_RATE))
    proc.allocate(-bs)
    records = int(count)
    call.io.error(f"{records}+0 records in")
    call.io.error(f"{records}+0 records out")
    call.io.error(f"{int(total)} bytes ({total / (1 << 20):.1f}MB) copied, 0.25 seconds, 4.0GB/s")
    return 0


COMMANDS: dict[str, Command] = {"stress": _stress, "stress-ng": _stress, "dd": _dd}
