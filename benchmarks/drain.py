"""Draining a big queue through the real pipeline: outbox -> sender -> HTTP -> fake server.

    python benchmarks/drain.py              # the table in benchmarks/README.md (about 17 min)
    python benchmarks/drain.py --quick      # small sizes, one run each: does it work?

Each run fills an outbox file with realistic heartbeats (`to_json(Heartbeat(...))`), starts the
fake server as its own process (`tests/fakeserver.py --no-record`), then a draining process, and
measures from outside: heartbeats per second, the drainer's peak RSS (psutil, sampled every 50 ms,
and the kernel's ru_maxrss from wait4), its CPU time, and the requests the fake counted.

The drainer is `hackatimed sync` when that command works (it runs the daemon's own Sender with
its default client-side rate limit of 2 requests/s), or else a small driver in this file that runs
`Sender.drain()`; the driver also runs the rows with the rate limit lifted (pipeline capacity).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from hackatimed import __version__
from hackatimed.activity.editor import heartbeat_user_agent, user_agent
from hackatimed.clock import SystemClock
from hackatimed.config.load import ApiKey
from hackatimed.delivery.api import HackatimeClient
from hackatimed.delivery.outbox import OUTBOX_FILE, Outbox
from hackatimed.delivery.sender import Sender
from hackatimed.delivery.wire import to_json
from hackatimed.heartbeat import Heartbeat

KEY = "6f1f0e51-0000-4000-8000-00000000d4a1"
FAKE = Path(__file__).resolve().parent.parent / "tests" / "fakeserver.py"
DEFAULT_RATE = 2.0  # the daemon's: Sender(max_requests_per_second=2.0, burst=2)
LIFTED_RATE = 1e9  # no wait ever comes out of the token bucket
FILL_CHUNK = 1000
SAMPLE_SECONDS = 0.05
POLL_EVERY = 2  # ask the fake for its counts every 2nd sample (10 Hz)


@dataclass(frozen=True, slots=True)
class Case:
    rows: int
    batch: int
    rate: float
    via: str  # "sync" or "driver"

    @property
    def label(self) -> str:
        limit = f"{self.rate:g} req/s" if self.rate < LIFTED_RATE else "lifted"
        return f"{self.rows:,} rows, batch {self.batch}, limit {limit}, {self.via}"


@dataclass(frozen=True, slots=True)
class Run:
    wall_s: float  # the drainer's exec to its exit
    steady_s: float  # first heartbeat seen at the fake to the last (10 Hz polling)
    per_s: float  # rows / wall_s
    steady_per_s: float
    requests: int
    stored: int
    peak_rss_sampled_mb: float
    peak_rss_kernel_mb: float
    cpu_s: float  # the drainer's user + system time
    fake_cpu_s: float


def heartbeat(i: int, start: float) -> tuple[float, str]:
    """One heartbeat as the daemon makes it: every field, distinct entity and time."""
    project = f"project-{i % 7}"
    hb = Heartbeat(
        entity=f"/home/student/code/{project}/src/module_{i % 311}/file_{i}.py",
        time=start + i * 0.5,
        category="coding",
        is_write=True,
        user_agent=heartbeat_user_agent(__version__, "vim"),
        project=project,
        branch="feature/outbox",
        language="Python",
        lines=120 + i % 50,
        lineno=17 + i % 40,
        cursorpos=4,
        line_additions=1 + i % 3,
        line_deletions=i % 2,
        project_root_count=5,
        dependencies=("aiohttp", "pytest"),
        machine="laptop",
        editor="vim",
        operating_system="linux",
    )
    return hb.time, to_json(hb)


def fill(data_dir: Path, rows: int) -> None:
    start = time.time() - rows * 0.5 - 3600
    with Outbox(data_dir / OUTBOX_FILE, clock=SystemClock(), max_queued=rows) as outbox:
        for first in range(0, rows, FILL_CHUNK):
            outbox.add([heartbeat(i, start) for i in range(first, min(rows, first + FILL_CHUNK))])


def sync_works() -> bool:
    cmd = [sys.executable, "-m", "hackatimed", "sync", "--help"]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


# ---- the draining process ---------------------------------------------------------------


def drain_child(data_dir: Path, url: str, batch: int, rate: float) -> None:
    """`Sender.drain()` as `hackatimed sync` runs it, with a chosen rate limit."""
    key = ApiKey(sys.stdin.readline().strip())  # never in argv, which other users can read
    clock = SystemClock()
    outbox = Outbox(data_dir / OUTBOX_FILE, clock=clock)
    client = HackatimeClient(url, key, timeout_seconds=30, user_agent=user_agent(__version__))
    sender = Sender(
        outbox,
        client,
        clock=clock,
        batch_size=batch,
        flush_interval_seconds=10,
        max_requests_per_second=rate,
        burst=2,
    )

    async def drain() -> dict[str, Any]:
        async with client:
            result = await sender.drain()
        return {"sent": result.sent, "remaining": result.remaining, "error": result.error}

    try:
        print(json.dumps(asyncio.run(drain())))
    finally:
        outbox.close()


def drainer_command(case: Case, tmp: Path, url: str) -> tuple[list[str], bytes]:
    """The command line and its stdin."""
    data = tmp / "data"
    if case.via == "driver":
        cmd = [sys.executable, __file__, "--child", str(data), url, str(case.batch)]
        return [*cmd, repr(case.rate)], f"{KEY}\n".encode()
    config = tmp / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\nkey = "{KEY}"\n\n'
        f"[heartbeats]\nbatch_size = {case.batch}\n\n"
        f'[storage]\ndata_dir = "{data}"\nmax_queued = {max(case.rows, 1000)}\n',
        encoding="utf-8",
    )
    config.chmod(0o600)
    return [sys.executable, "-m", "hackatimed", "sync", "--json", "--config", str(config)], b""


# ---- one run, measured from outside --------------------------------------------------------


def fake_state(url: str) -> dict[str, int]:
    """The fake's counts: `{"requests": N, "heartbeats": N}`."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=10)
    try:
        conn.request("GET", "/_fake/state")
        state: dict[str, int] = json.load(conn.getresponse())
    finally:
        conn.close()
    return state


def start_fake() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, str(FAKE), "--port", "0", "--key", KEY, "--no-record"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if proc.stdout is None:
        raise RuntimeError("no pipe from the fake server")
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError(f"the fake server did not start: {url!r}")
    return proc, url


def run_once(case: Case) -> Run:
    with tempfile.TemporaryDirectory(prefix="hackatimed-drain-") as name:
        tmp = Path(name)
        fill(tmp / "data", case.rows)
        fake, url = start_fake()
        try:
            run = measure(case, tmp, url, rows=case.rows)
            fake_cpu = psutil.Process(fake.pid).cpu_times()
            return replace(run, fake_cpu_s=fake_cpu.user + fake_cpu.system)
        finally:
            fake.terminate()
            fake.wait(10)
            if fake.stdout is not None:
                fake.stdout.close()


def measure(case: Case, tmp: Path, url: str, *, rows: int) -> Run:
    cmd, stdin = drainer_command(case, tmp, url)
    env = {**os.environ, "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp / ".config")}
    env = {k: v for k, v in env.items() if not k.startswith(("HACKATIME", "WAKATIME"))}
    out, err = tmp / "drainer.out", tmp / "drainer.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, env=env)
        if proc.stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        watched = psutil.Process(proc.pid)
        peak, first_seen, last_seen, first_count, tick = 0, None, None, 0, 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                ended = time.perf_counter()
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            with contextlib.suppress(psutil.NoSuchProcess):
                peak = max(peak, watched.memory_info().rss)
            tick += 1
            if tick % POLL_EVERY == 0 and last_seen is None:
                stored = fake_state(url)["heartbeats"]
                now = time.perf_counter()
                if stored and first_seen is None:
                    first_seen, first_count = now, stored
                if stored >= rows:
                    last_seen = now
            time.sleep(SAMPLE_SECONDS)
    state = fake_state(url)
    if proc.returncode != 0 or state["heartbeats"] != rows:
        raise RuntimeError(
            f"{case.label}: exit {proc.returncode}, {state['heartbeats']} of {rows} arrived\n"
            + out.read_text()
            + err.read_text()[-2000:]
        )
    wall = ended - began
    steady_start = first_seen if first_seen is not None else began
    steady = (last_seen if last_seen is not None else ended) - steady_start
    return Run(
        wall_s=wall,
        steady_s=steady,
        per_s=rows / wall,
        steady_per_s=(rows - first_count) / steady if steady > 0 else float("nan"),
        requests=state["requests"],
        stored=state["heartbeats"],
        peak_rss_sampled_mb=peak / (1 << 20),
        peak_rss_kernel_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        cpu_s=usage.ru_utime + usage.ru_stime,
        fake_cpu_s=0.0,
    )


# ---- the table --------------------------------------------------------------------------------


def median_run(runs: list[Run]) -> Run:
    fields = asdict(runs[0]).keys()
    medians = {f: statistics.median(getattr(r, f) for r in runs) for f in fields}
    medians["requests"] = int(medians["requests"])
    medians["stored"] = int(medians["stored"])
    return Run(**medians)


def cases(quick: bool, via_limited: str, limited_rows: int) -> list[Case]:
    if quick:
        return [
            Case(2_000, 100, DEFAULT_RATE, via_limited),
            Case(2_000, 100, LIFTED_RATE, "driver"),
            Case(10_000, 100, LIFTED_RATE, "driver"),
        ]
    limited = [Case(limited_rows, batch, DEFAULT_RATE, via_limited) for batch in (25, 100)]
    lifted = [
        Case(rows, batch, LIFTED_RATE, "driver")
        for batch in (25, 100)
        for rows in (10_000, 100_000)
    ]
    return limited + lifted


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at the start {load}"
    )


def row(case: Case, runs: list[Run]) -> str:
    m = median_run(runs)
    limit = f"{case.rate:g}/s" if case.rate < LIFTED_RATE else "lifted"
    return (
        f"| {case.rows:,} | {case.batch} | {limit} | {case.via} | {m.per_s:,.0f} |"
        f" {m.steady_per_s:,.0f} | {m.requests:,} | {m.peak_rss_sampled_mb:.1f} |"
        f" {m.peak_rss_kernel_mb:.1f} | {m.cpu_s:.1f} | {m.fake_cpu_s:.1f} |"
    )


HEADER = (
    "| rows | batch | client limit | drainer | hb/s (process wall) | hb/s (first to last"
    " arrival) | requests | peak RSS sampled (MB) | peak RSS kernel (MB) | drainer CPU (s)"
    " | fake server CPU (s) |\n"
    "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--via", choices=("auto", "sync", "driver"), default="auto")
    parser.add_argument(
        "--limited-rows",
        type=int,
        default=10_000,
        help="rows for the rate-limited cases (at 2 requests/s, 100,000 take 8 to 33 minutes)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data, url, batch, rate = args.child
        drain_child(Path(data), url, int(batch), float(rate))
        return
    via = args.via
    if via == "auto":
        via = "sync" if sync_works() else "driver"
    repeat = 1 if args.quick else args.repeat
    print(f"Machine: {machine()}", flush=True)
    print(f"Each row: the median of {repeat} run(s).\n", flush=True)
    lines = [HEADER]
    for case in cases(args.quick, via, args.limited_rows):
        runs = []
        for i in range(repeat):
            run = run_once(case)
            runs.append(run)
            print(
                f"  {case.label} #{i + 1}: {json.dumps(asdict(run))}", file=sys.stderr, flush=True
            )
        lines.append(row(case, runs))
        print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
