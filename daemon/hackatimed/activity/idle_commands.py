"""Idle sources that ask a command: the subprocess plumbing, the cache, and the parsers of each
command's answer (pure, tested on recorded output).

A D-Bus method is asked through `gdbus` (GLib) or `busctl` (systemd): `session_bus_sources` makes
one source for each, and the chooser keeps whichever answers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hackatimed.clock import Clock

COMMAND_TIMEOUT_SECONDS = 1.0
CACHE_SECONDS = 2.0


# -- parsing the answers (pure, tested on recorded output) ------------------------------------

_IOREG_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')
_GDBUS_UINT = re.compile(r"^\(\s*(?:u?int(?:16|32|64)\s+)?(\d+)\s*,?\s*\)$")
_BUSCTL_UINT = re.compile(r"^[qutnix]\s+(\d+)$")


def parse_ioreg(text: str) -> float | None:
    """`ioreg -c IOHIDSystem`: the first HIDIdleTime, in ns, as seconds."""
    m = _IOREG_IDLE.search(text)
    return int(m.group(1)) / 1e9 if m else None


def parse_gdbus_uint(text: str) -> int | None:
    """`gdbus call` printing one integer: `(uint64 1234,)`."""
    m = _GDBUS_UINT.match(text.strip())
    return int(m.group(1)) if m else None


def parse_busctl_uint(text: str) -> int | None:
    """`busctl call` printing one integer: `t 1234`."""
    m = _BUSCTL_UINT.match(text.strip())
    return int(m.group(1)) if m else None


def parse_loginctl(text: str, *, now: float) -> float | None:
    """`loginctl show-session ID -p IdleHint -p IdleSinceHint`, against the wall clock `now`.

    Not idle reads as 0 s; idle, as the time since the hint was set (a lower bound: the desktop
    sets it some minutes after the last input).
    """
    props = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    hint = props.get("IdleHint")
    if hint == "no":
        return 0.0
    if hint != "yes":
        return None
    try:
        since_us = int(props.get("IdleSinceHint", ""))
    except ValueError:
        return None
    return max(0.0, now - since_us / 1e6) if since_us > 0 else None


# -- sources that run a command ---------------------------------------------------------------

CommandRunner = Callable[[Sequence[str], Mapping[str, str]], str | None]


def run_command(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """stdout of a command that succeeded within the timeout; None for any failure, quietly."""
    exe = shutil.which(argv[0], path=env.get("PATH", os.defpath))
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, *argv[1:]],
            env={**env, "LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


class CommandIdleSource:
    """Asks a command, parses its answer, and reuses the answer for `cache_seconds`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        parse: Callable[[str], float | None],
        *,
        env: Mapping[str, str],
        clock: Clock,
        run: CommandRunner = run_command,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self._parse = parse
        self._env = env
        self._clock = clock
        self._run = run
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._asked_at: float | None = None
        self._answer: float | None = None

    def idle_seconds(self) -> float | None:
        with self._lock:
            now = self._clock.monotonic()
            if self._asked_at is None or now - self._asked_at >= self._cache_seconds:
                out = self._run(self.argv, self._env)
                self._answer = self._parse(out) if out is not None else None
                self._asked_at = now
            if self._answer is None:
                return None
            # No input since the answer, or the answer is stale anyway: idle time grows with it.
            return self._answer + (now - self._asked_at)


def _gdbus_call(dest: str, path: str, method: str) -> list[str]:
    return ["gdbus", "call", "--session", "--dest", dest, "--object-path", path, "--method", method]


def _busctl_call(dest: str, path: str, method: str) -> list[str]:
    interface, _, member = method.rpartition(".")
    return ["busctl", "--user", "call", dest, path, interface, member]


def session_bus_sources(
    name: str,
    dest: str,
    path: str,
    method: str,
    to_seconds: float,
    **kw: Any,
) -> list[CommandIdleSource]:
    def scaled(parse: Callable[[str], int | None]) -> Callable[[str], float | None]:
        def parse_scaled(text: str) -> float | None:
            value = parse(text)
            return value * to_seconds if value is not None else None

        return parse_scaled

    return [
        CommandIdleSource(name, _gdbus_call(dest, path, method), scaled(parse_gdbus_uint), **kw),
        CommandIdleSource(name, _busctl_call(dest, path, method), scaled(parse_busctl_uint), **kw),
    ]
