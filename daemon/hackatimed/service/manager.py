"""Talking to the user's service manager: `systemctl --user` on Linux, `launchctl` on macOS.

Where the unit file lives, how one of its commands is run (telling a manager that cannot be
reached from a command that failed), and what `status` and `doctor` read back about the service.
Every command goes through an injected `Runner`, so tests record them instead.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Literal

from hackatimed.errors import HackatimedError

ServicePlatform = Literal["systemd", "launchd"]
Runner = Callable[[Sequence[str]], CompletedProcess[str]]

UNIT_NAME = "hackatimed.service"
LAUNCHD_LABEL = "com.hackclub.hackatimed"
LAUNCHD_TEMPLATE = f"{LAUNCHD_LABEL}.plist"
SYSTEMCTL = ("systemctl", "--user")


@dataclass(frozen=True, slots=True)
class Command:
    argv: tuple[str, ...]
    # False for a stop that is expected to fail when nothing is loaded yet.
    check: bool = True


@dataclass(frozen=True, slots=True)
class ServiceState:
    """What `status` and `doctor` say about the service. None: could not be told."""

    platform: ServicePlatform
    unit_path: Path
    installed: bool
    enabled: bool | None
    running: bool | None
    pid: int | None = None
    # Why enabled/running are unknown, with what to do; None when they are known.
    problem: str | None = None


def service_platform(platform: str = sys.platform) -> ServicePlatform:
    """The service manager for a `sys.platform` value (or a manager's own name)."""
    if platform == "systemd" or platform.startswith("linux"):
        return "systemd"
    if platform in ("launchd", "darwin"):
        return "launchd"
    raise HackatimedError(
        f"install-service knows systemd (Linux) and launchd (macOS), not {platform!r}. "
        "Start `hackatimed run` from your session's autostart instead."
    )


def unit_path(*, platform: str, home: Path) -> Path:
    if service_platform(platform) == "systemd":
        return home / ".config" / "systemd" / "user" / UNIT_NAME
    return home / "Library" / "LaunchAgents" / LAUNCHD_TEMPLATE


def service_state(*, platform: str, home: Path, run: Runner) -> ServiceState:
    kind = service_platform(platform)
    path = unit_path(platform=kind, home=home)
    installed = path.is_file()
    argv: tuple[str, ...]
    if kind == "systemd":
        argv = (*SYSTEMCTL, "show", "--property=UnitFileState,ActiveState,MainPID", UNIT_NAME)
    else:
        argv = ("launchctl", "list", LAUNCHD_LABEL)
    try:
        done = run(argv)
    except OSError as exc:
        problem = f"could not run {argv[0]} ({exc.strerror or exc}); {_fix_for(kind, '')}"
        return ServiceState(kind, path, installed, None, None, problem=problem)
    if kind == "systemd":
        return _systemd_state(path, installed, done)
    return _launchd_state(path, installed, done)


def run_command(argv: Sequence[str]) -> CompletedProcess[str]:
    """The real `run`: output captured, a bounded wait, never raising on a non-zero exit."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60)


def _systemd_state(path: Path, installed: bool, done: CompletedProcess[str]) -> ServiceState:
    if done.returncode != 0:
        problem = f"systemctl --user show failed: {_tail(done)}; {_fix_for('systemd', done.stderr)}"
        return ServiceState("systemd", path, installed, None, None, problem=problem)
    props = dict(line.partition("=")[::2] for line in done.stdout.splitlines() if "=" in line)
    pid = int(props.get("MainPID", "0") or 0)
    return ServiceState(
        "systemd",
        path,
        installed,
        enabled=props.get("UnitFileState") in ("enabled", "enabled-runtime", "linked"),
        running=props.get("ActiveState") in ("active", "reloading"),
        pid=pid or None,
    )


def _launchd_state(path: Path, installed: bool, done: CompletedProcess[str]) -> ServiceState:
    # `launchctl list LABEL` fails when the agent is not loaded, and shows "PID" = N while
    # it runs. A loaded agent is the launchd form of an enabled one.
    if done.returncode != 0:
        return ServiceState("launchd", path, installed, enabled=False, running=False)
    match = re.search(r'"PID"\s*=\s*(\d+)', done.stdout)
    pid = int(match.group(1)) if match else None
    return ServiceState("launchd", path, installed, enabled=True, running=pid is not None, pid=pid)


def run_step(command: Command, run: Runner, platform: ServicePlatform) -> str | None:
    """Run one command; return why the service manager could not be reached, if it could not.

    Any other failure of a checked command raises HackatimedError.
    """
    shown = shlex.join(command.argv)
    try:
        done = run(command.argv)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if platform == "systemd":
            return f"could not run `{shown}` ({reason})"
        if not command.check:
            return None
        raise HackatimedError(
            f"Could not run `{shown}`: {reason}. {_fix_for(platform, '')}"
        ) from exc
    if done.returncode == 0:
        return None
    if platform == "systemd" and _no_manager(done.stderr):
        return f"`{shown}` could not reach your user's service manager ({_tail(done)})"
    if command.check:
        raise HackatimedError(
            f"`{shown}` failed (exit status {done.returncode}): {_tail(done)}. "
            f"{_fix_for(platform, done.stderr)}"
        )
    return None


def _no_manager(stderr: str) -> bool:
    # systemctl's words when no user manager answers: no session bus (sudo, su, a container,
    # SSH without a login session) or no systemd at all.
    text = stderr.lower()
    return (
        "failed to connect to" in text and "bus" in text
    ) or "not been booted with systemd" in text


def _tail(done: CompletedProcess[str]) -> str:
    text = (done.stderr or done.stdout or "").strip()
    return text.splitlines()[-1] if text else "no output"


def _fix_for(platform: ServicePlatform, stderr: str) -> str:
    if platform == "systemd":
        if "bus" in stderr.lower() or "XDG_RUNTIME_DIR" in stderr:
            return (
                "systemctl --user needs your own login session: run it as yourself, not "
                "with sudo; over SSH, `loginctl enable-linger $USER` starts your user "
                "manager."
            )
        return (
            "Check `systemctl --user status hackatimed` and "
            "`journalctl --user -u hackatimed`; without systemd, start `hackatimed run` "
            "from your session's autostart instead."
        )
    return (
        "Check the file with `plutil -lint` and the agent with "
        f"`launchctl print gui/$(id -u)/{LAUNCHD_LABEL}`; if it is loaded already, run "
        "`hackatimed uninstall-service` first."
    )
