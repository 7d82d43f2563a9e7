"""Measuring a running daemon from outside, and the processes the footprint runner drives.

Everything here reads /proc (Linux only): CPU time from /proc/PID/stat (all threads, dead ones
included), wake-ups from every thread's voluntary and involuntary context switches, memory from
/proc/PID/status, inotify watches from /proc/PID/fdinfo (one `inotify wd:` line per watch).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
FAKE_SERVER = REPO / "tests" / "fakeserver.py"
_TICKS = os.sysconf("SC_CLK_TCK")
# daemon.py's line per committed heartbeat: "heartbeat <path> (<project>, <kind>) t=<time>".
_HEARTBEAT = re.compile(r" heartbeat (/.+?) \(")


# -- /proc readers ---------------------------------------------------------------------------


def _stat_cpu(pid: int) -> float:
    """User + system CPU of one process (dead threads included) and of its children that it
    has waited for: fields 14-17 of stat(5)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # starts at field 3
    return sum(int(f) for f in fields[11:15]) / _TICKS


def cpu_seconds(pid: int) -> float:
    """CPU of the daemon and of every process it started (git), ended or still running: what
    running it costs the machine."""
    total = _stat_cpu(pid)
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return total
    for child in children:
        try:
            total += _stat_cpu(child.pid)
        except OSError:  # ended meanwhile: its time is in the parent's children fields now
            continue
    return total


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def rss_mb(pid: int) -> float:
    return status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    return status_kb(pid, "VmHWM") / 1024


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches summed over the live threads: each is the
    process being put to sleep or preempted, so their rate is its wake-up rate."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def watched_inodes(pid: int) -> list[int]:
    """The inode of every folder or file the process has an inotify watch on."""
    inodes: list[int] = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:inotify":
                continue
            text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("inotify wd:"):
                ino = line.split(" ino:", 1)[1].split()[0]
                inodes.append(int(ino, 16))
    return inodes


def watch_count(pid: int) -> int:
    return len(watched_inodes(pid))


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of the counters that are compared across a window."""

    at: float  # monotonic
    cpu: float
    switches: int
    rss: float

    @classmethod
    def take(cls, pid: int) -> Sample:
        return cls(time.monotonic(), cpu_seconds(pid), context_switches(pid), rss_mb(pid))


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / (1 << 30):.0f} GiB",
        "cpu": model,
        "python": platform.python_version(),
        "kernel": f"{platform.system()} {platform.release()}",
    }


# -- the fake server ------------------------------------------------------------------------


class FakeServer:
    """tests/fakeserver.py in its own process, so its work never mixes with the daemon's."""

    def __init__(self, key: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKE_SERVER), "--port", "0", "--key", key, "--no-record"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.close()
            raise RuntimeError(f"the fake server did not start (it said {self.url!r})")
        host_port = self.url.removeprefix("http://").split("/", 1)[0]
        self._port = int(host_port.rsplit(":", 1)[1])
        self._conn: http.client.HTTPConnection | None = None

    def heartbeats(self) -> int:
        """How many heartbeats the server has stored so far."""
        for _attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=5)
            try:
                self._conn.request("GET", "/_fake/state")
                body = self._conn.getresponse().read()
                return int(json.loads(body)["heartbeats"])
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
        raise RuntimeError("the fake server stopped answering")

    def wait_for(self, count: int, *, within: float, poll: float = 0.01) -> float | None:
        """Monotonic time at which at least `count` heartbeats were stored, None on time-out."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.heartbeats() >= count:
                return time.monotonic()
            time.sleep(poll)
        return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# -- the daemon -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    at: float  # monotonic time the runner read it
    text: str


class Daemon:
    """`hackatimed run` as a real process; every log line is kept with the time it was read."""

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str]) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hackatimed", *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.pid = self.proc.pid
        self.lines: list[Line] = []
        self.heartbeats: list[Line] = []  # "heartbeat <path>" lines: each one committed
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream = self.proc.stdout
        if stream is None:
            return
        for raw in stream:
            line = Line(time.monotonic(), raw.rstrip("\n"))
            with self._cond:
                self.lines.append(line)
                if _HEARTBEAT.search(line.text):
                    self.heartbeats.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, test: Callable[[str], bool], *, within: float, start: int = 0) -> Line:
        """The first line from index `start` on that passes `test`."""
        found: list[Line] = []

        def seen() -> bool:
            found[:] = [x for x in self.lines[start:] if test(x.text)][:1]
            return bool(found) or self.proc.poll() is not None

        with self._cond:
            self._cond.wait_for(seen, within)
        if not found:
            raise RuntimeError(f"the daemon did not log it within {within} s:\n{self.output()}")
        return found[0]

    def wait_heartbeats(self, count: int, *, within: float) -> float | None:
        """Monotonic time at which the `count`-th heartbeat line was read, None on time-out."""
        with self._cond:
            self._cond.wait_for(
                lambda: len(self.heartbeats) >= count or self.proc.poll() is not None, within
            )
            return self.heartbeats[count - 1].at if len(self.heartbeats) >= count else None

    def heartbeat_paths(self, since: int = 0) -> list[str]:
        with self._cond:
            lines = self.heartbeats[since:]
        out = []
        for line in lines:
            match = _HEARTBEAT.search(line.text)
            if match:
                out.append(match.group(1))
        return out

    def output(self, last: int = 40) -> str:
        with self._cond:
            return "\n".join(x.text for x in self.lines[-last:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code


def settle_watches(
    pid: int, *, since: float, quiet: float, within: float, poll: float = 0.05
) -> tuple[int, float]:
    """Wait until the watch count has not changed for `quiet` seconds: (count, seconds from
    `since` to the last change)."""
    deadline = time.monotonic() + within
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = watch_count(pid)
        now = time.monotonic()
        if count != last_count:
            last_count, last_change = count, now
        elif count > 0 and now - last_change >= quiet:
            break
        time.sleep(poll)
    return last_count, last_change - since


def settle_cpu(pid: int, *, quiet: float, within: float, poll: float = 0.2) -> float:
    """Wait until the process has used (nearly) no CPU for `quiet` seconds; returns when."""
    deadline = time.monotonic() + within
    last, calm_since = cpu_seconds(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(poll)
        now_cpu, now = cpu_seconds(pid), time.monotonic()
        if now_cpu - last > 0.02 * poll + 0.011:  # more than a tick beyond a trickle
            calm_since = now
        last = now_cpu
        if now - calm_since >= quiet:
            break
    return time.monotonic()
